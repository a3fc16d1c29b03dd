// The throwaway PostgreSQL cluster (pg_cluster.hpp) that store tests run against: it starts,
// serves SQL through its private socket only, survives a stop and start, runs beside another
// one, and leaves no process or directory behind.
#define BOOST_TEST_MODULE pg_cluster
#include "pg_cluster.hpp"

#include <libpq-fe.h>

#include <boost/test/unit_test.hpp>
#include <filesystem>
#include <future>

using peerlite::test::pg_cluster;

namespace {

/// One libpq connection, closed at scope exit.
struct connection {
  PGconn* conn;
  explicit connection(const std::string& url) : conn(PQconnectdb(url.c_str())) {}
  ~connection() { PQfinish(conn); }
  bool ok() const { return PQstatus(conn) == CONNECTION_OK; }
  std::string error() const { return PQerrorMessage(conn); }

  /// Runs one statement; its first row's first column ("" when it returns no rows).
  std::string exec(const std::string& sql) {
    PGresult* res = PQexec(conn, sql.c_str());
    ExecStatusType status = PQresultStatus(res);
    BOOST_REQUIRE_MESSAGE(status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK,
                          sql << ": " << PQresultErrorMessage(res));
    std::string value = PQntuples(res) > 0 ? PQgetvalue(res, 0, 0) : "";
    PQclear(res);
    return value;
  }
};

std::unique_ptr<pg_cluster> start_cluster() {
  std::string why;
  auto cluster = pg_cluster::start(&why);
  BOOST_REQUIRE_MESSAGE(cluster, "pg_cluster::start: " << why);
  return cluster;
}

/// The postmaster's pid, from the cluster's own record of it.
pid_t postmaster_pid(const pg_cluster& c) {
  std::ifstream in(c.dir() + "/data/postmaster.pid");
  long pid = 0;
  in >> pid;
  return static_cast<pid_t>(pid);
}

/// Running, that is: an exited server lingers as a zombie until init reaps it, and that is gone.
bool process_exists(pid_t pid) { return pid > 0 && peerlite::test::pg_detail::process_alive(pid); }

}  // namespace

BOOST_AUTO_TEST_CASE(serves_sql_survives_a_restart_and_cleans_up) {
  auto cluster = start_cluster();
  const std::string dir = cluster->dir();
  BOOST_TEST(std::filesystem::is_directory(dir + "/data"));
  // The socket directory's path is percent-encoded into the URL.
  BOOST_TEST(cluster->url("t1").find("host=%2Ftmp%2F") != std::string::npos);

  std::string why;
  BOOST_REQUIRE_MESSAGE(cluster->create_database("t1", &why), why);
  BOOST_TEST(!cluster->create_database("t1", &why));  // a second time: it exists
  BOOST_TEST(why.find("already exists") != std::string::npos, why);
  {
    connection db(cluster->url("t1"));
    BOOST_REQUIRE_MESSAGE(db.ok(), db.error());
    // Isolation and speed settings are in force: no TCP, no fsync.
    BOOST_TEST(db.exec("SHOW listen_addresses") == "");
    BOOST_TEST(db.exec("SHOW fsync") == "off");
    BOOST_TEST(db.exec("SHOW max_connections") == "400");
    BOOST_TEST(db.exec("SELECT current_user") == "peerlite");
    db.exec("CREATE TABLE docs (id text PRIMARY KEY, body text NOT NULL)");
    db.exec("INSERT INTO docs VALUES ('doc-1', 'hello peerlite')");
    BOOST_TEST(db.exec("SELECT body FROM docs WHERE id = 'doc-1'") == "hello peerlite");
  }

  pid_t first_server = postmaster_pid(*cluster);
  BOOST_REQUIRE(process_exists(first_server));
  BOOST_REQUIRE_MESSAGE(cluster->stop(&why), why);
  BOOST_TEST(!process_exists(first_server));
  {
    connection db(cluster->url("t1"));
    BOOST_TEST(!db.ok());  // nobody listens on the socket now
  }

  BOOST_REQUIRE_MESSAGE(cluster->start_again(&why), why);
  {
    connection db(cluster->url("t1"));
    BOOST_REQUIRE_MESSAGE(db.ok(), db.error());
    BOOST_TEST(db.exec("SELECT body FROM docs WHERE id = 'doc-1'") == "hello peerlite");
    db.exec("INSERT INTO docs VALUES ('doc-2', 'after a restart')");
  }

  // restart() is stop() then start_again(); the rows written since survive it too.
  BOOST_REQUIRE_MESSAGE(cluster->restart(&why), why);
  {
    connection db(cluster->url("t1"));
    BOOST_REQUIRE_MESSAGE(db.ok(), db.error());
    BOOST_TEST(db.exec("SELECT count(*) FROM docs") == "2");
  }

  // Destruction stops the server and removes the whole directory.
  pid_t server = postmaster_pid(*cluster);
  BOOST_REQUIRE(process_exists(server));
  cluster.reset();
  BOOST_TEST(!process_exists(server));
  BOOST_TEST(!std::filesystem::exists(dir));
}

BOOST_AUTO_TEST_CASE(two_clusters_started_at_once_are_independent) {
  // Started concurrently, as two tests running in parallel would.
  auto a_future = std::async(std::launch::async, start_cluster);
  auto b_future = std::async(std::launch::async, start_cluster);
  auto a = a_future.get();
  auto b = b_future.get();
  BOOST_TEST(a->dir() != b->dir());
  BOOST_TEST(a->url("x") != b->url("x"));

  std::string why;
  // The same database and table names in both; each sees only its own row.
  for (auto* c : {a.get(), b.get()}) {
    BOOST_REQUIRE_MESSAGE(c->create_database("shared_name", &why), why);
    connection db(c->url("shared_name"));
    BOOST_REQUIRE_MESSAGE(db.ok(), db.error());
    db.exec("CREATE TABLE t (v text)");
    db.exec("INSERT INTO t VALUES ('" + std::string(c == a.get() ? "a" : "b") + "')");
  }
  for (auto* c : {a.get(), b.get()}) {
    connection db(c->url("shared_name"));
    BOOST_REQUIRE_MESSAGE(db.ok(), db.error());
    BOOST_TEST(db.exec("SELECT string_agg(v, ',') FROM t") == (c == a.get() ? "a" : "b"));
  }

  // Stopping one leaves the other serving.
  BOOST_REQUIRE_MESSAGE(a->stop(&why), why);
  connection to_a(a->url("shared_name"));
  BOOST_TEST(!to_a.ok());
  connection to_b(b->url("shared_name"));
  BOOST_REQUIRE_MESSAGE(to_b.ok(), to_b.error());
  BOOST_TEST(to_b.exec("SELECT v FROM t") == "b");
}
