// Where a store test keeps its database: one test source runs on either backend. ctest runs
// each such test twice, the second time with PEERLITE_TEST_STORE=postgresql: then a
// throwaway PostgreSQL cluster (pg_cluster.hpp) starts once per test process, and every
// database the test asks for is a fresh database in it.
#pragma once

#include <atomic>
#include <cstdlib>
#include <map>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>

#include "pg_cluster.hpp"
#include "store/sql.hpp"
#include "temp_dir.hpp"

namespace peerlite::test {

/// True when this run stores in PostgreSQL.
inline bool on_postgresql() {
  const char* v = std::getenv("PEERLITE_TEST_STORE");
  return v && std::string(v) == "postgresql";
}

/// The cluster of this process, started at first use, stopped at exit.
inline pg_cluster& shared_cluster() {
  static std::mutex mx;
  static std::unique_ptr<pg_cluster> cluster;
  std::lock_guard lk(mx);
  if (!cluster) {
    std::string why;
    cluster = pg_cluster::start(&why);
    if (!cluster) throw std::runtime_error("cannot start a PostgreSQL cluster: " + why);
  }
  return *cluster;
}

/// A new, empty database location named after `name`: a file in `dir` for SQLite, a fresh
/// PostgreSQL database (URL) otherwise.
inline std::string fresh_location(const temp_dir& dir, const std::string& name) {
  if (!on_postgresql()) return dir.file(name + ".db");
  static std::atomic<int> counter{0};
  std::string db = "t" + std::to_string(++counter);
  std::string why;
  auto& c = shared_cluster();
  if (!c.create_database(db, &why)) throw std::runtime_error("create database: " + why);
  return c.url(db);
}

/// Where the test's `path` (a file, or ":memory:") lives on this run's backend: the path
/// itself on SQLite; on PostgreSQL a fresh database per distinct file (the same one each time
/// the test reopens that file) and per ":memory:" open.
inline std::string location_for(const std::string& path) {
  if (!on_postgresql()) return path;
  static std::mutex mx;
  static std::map<std::string, std::string> urls;
  static temp_dir unused;
  if (path == ":memory:") return fresh_location(unused, "mem");
  std::lock_guard lk(mx);
  auto it = urls.find(path);
  if (it == urls.end()) it = urls.emplace(path, fresh_location(unused, "file")).first;
  return it->second;
}

/// One integer from a PostgreSQL database through its own libpq session, the way a test reads
/// an SQLite file through a raw handle (-1 when there is no row). `sql` may name SQLite's
/// catalog, sqlite_master(name, tbl_name): it reads PostgreSQL's tables and indexes instead.
inline int64_t pg_int(const std::string& url, const std::string& sql) {
  const std::pair<std::string_view, std::string_view> catalog[] = {
      {"sqlite_master",
       "(SELECT tablename AS name, tablename AS tbl_name FROM pg_tables "
       "WHERE schemaname = current_schema() UNION ALL SELECT indexname, tablename "
       "FROM pg_indexes WHERE schemaname = current_schema()) AS sqlite_master"}};
  std::string text = store::replace_words(sql, catalog);
  PGconn* c = PQconnectdb(url.c_str());
  if (PQstatus(c) != CONNECTION_OK) {
    std::string why = PQerrorMessage(c);
    PQfinish(c);
    throw std::runtime_error("connect: " + why);
  }
  PGresult* r = PQexec(c, text.c_str());
  int64_t v = -1;
  if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) > 0 && !PQgetisnull(r, 0, 0))
    v = std::strtoll(PQgetvalue(r, 0, 0), nullptr, 10);
  std::string err = PQresultStatus(r) == PGRES_TUPLES_OK ? "" : PQresultErrorMessage(r);
  PQclear(r);
  PQfinish(c);
  if (!err.empty()) throw std::runtime_error(text + ": " + err);
  return v;
}

}  // namespace peerlite::test
