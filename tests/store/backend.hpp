// Where a store test keeps its database: one test source runs on either backend. ctest runs
// each such test twice, the second time with PEERLITE_TEST_STORE=postgresql: then a
// throwaway PostgreSQL cluster (pg_cluster.hpp) starts once per test process, and every
// database the test asks for is a fresh database in it.
#pragma once

#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <vector>

#include <sqlite3.h>

#include "pg_cluster.hpp"
#include "store/database.hpp"
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

/// The URL of a new, empty database in this process's cluster.
inline std::string fresh_pg_database() {
  static std::atomic<int> counter{0};
  std::string db = cat("t", std::to_string(++counter));
  std::string why;
  auto& c = shared_cluster();
  if (!c.create_database(db, &why)) throw std::runtime_error("create database: " + why);
  return c.url(db);
}

/// A new, empty database location named after `name`: the file `dir`/`name``ext` for
/// SQLite, a fresh PostgreSQL database (URL) otherwise.
inline std::string fresh_location(const std::filesystem::path& dir, const std::string& name,
                                  const std::string& ext = ".db") {
  if (!on_postgresql()) return (dir / (name + ext)).string();
  return fresh_pg_database();
}
inline std::string fresh_location(const temp_dir& dir, const std::string& name) {
  return fresh_location(dir.path, name);
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

/// One argument of raw_exec: text, or bytes (a BLOB / bytea).
struct raw_value {
  std::string value;
  bool bytes = false;
};

/// Runs one statement on the database at `location` through its own raw session, outside
/// peerlite's store (a test's way to damage or inspect rows), and returns the rows it changed.
/// `sql` uses ?1, ?2 ... for `args`, as SQLite does; on PostgreSQL they become $1, $2 ...
inline int64_t raw_exec(const std::string& location, const std::string& sql,
                        const std::vector<raw_value>& args = {}) {
  if (!store::is_pg_url(location)) {
    sqlite3* db = nullptr;
    if (sqlite3_open(location.c_str(), &db) != SQLITE_OK) {
      std::string why = sqlite3_errmsg(db);
      sqlite3_close(db);
      throw std::runtime_error("open " + location + ": " + why);
    }
    sqlite3_busy_timeout(db, 5000);
    sqlite3_stmt* s = nullptr;
    std::string err;
    if (sqlite3_prepare_v2(db, sql.c_str(), -1, &s, nullptr) == SQLITE_OK) {
      for (size_t i = 0; i < args.size(); ++i) {
        auto& a = args[i];
        int n = static_cast<int>(i + 1), len = static_cast<int>(a.value.size());
        if (a.bytes)
          sqlite3_bind_blob(s, n, a.value.data(), len, SQLITE_TRANSIENT);
        else
          sqlite3_bind_text(s, n, a.value.data(), len, SQLITE_TRANSIENT);
      }
      if (sqlite3_step(s) != SQLITE_DONE) err = sqlite3_errmsg(db);
    } else {
      err = sqlite3_errmsg(db);
    }
    int64_t changed = sqlite3_changes(db);
    sqlite3_finalize(s);
    sqlite3_close(db);
    if (!err.empty()) throw std::runtime_error(sql + ": " + err);
    return changed;
  }
  std::string text;
  for (size_t i = 0; i < sql.size(); ++i) text += sql[i] == '?' ? '$' : sql[i];
  PGconn* c = PQconnectdb(location.c_str());
  if (PQstatus(c) != CONNECTION_OK) {
    std::string why = PQerrorMessage(c);
    PQfinish(c);
    throw std::runtime_error("connect: " + why);
  }
  std::vector<const char*> values;
  std::vector<int> lengths, formats;
  for (auto& a : args) {
    values.push_back(a.value.data());
    lengths.push_back(static_cast<int>(a.value.size()));
    formats.push_back(a.bytes ? 1 : 0);
  }
  PGresult* r = PQexecParams(c, text.c_str(), static_cast<int>(args.size()), nullptr,
                             values.data(), lengths.data(), formats.data(), 0);
  std::string err = PQresultStatus(r) == PGRES_COMMAND_OK ? "" : PQresultErrorMessage(r);
  int64_t changed = err.empty() ? std::strtoll(PQcmdTuples(r), nullptr, 10) : 0;
  PQclear(r);
  PQfinish(c);
  if (!err.empty()) throw std::runtime_error(text + ": " + err);
  return changed;
}

}  // namespace peerlite::test
