#include "store/sqlite.hpp"

#include <chrono>
#include <thread>

#include "store/tuning.hpp"

namespace peerlite::store {

int sqlite_statement::step() {
  int rc = sqlite3_step(stmt_);
  if ((rc & 0xFF) != SQLITE_LOCKED) return rc;
  /// Shared-cache (":memory:") connections report table locks at once instead of waiting.
  auto deadline = std::chrono::steady_clock::now() + kBusyTimeout;
  while ((rc & 0xFF) == SQLITE_LOCKED && std::chrono::steady_clock::now() < deadline) {
    sqlite3_reset(stmt_);
    std::this_thread::sleep_for(kLockedRetryPause);
    rc = sqlite3_step(stmt_);
  }
  return rc;
}

sqlite_connection::~sqlite_connection() {
  cache_.clear();  // finalize statements before closing
  sqlite3_close_v2(db_);
}

expected<std::unique_ptr<sqlite_connection>> sqlite_connection::open(const std::string& uri,
                                                                     std::string label, int flags,
                                                                     bool read_only) {
  sqlite3* db = nullptr;
  int rc = sqlite3_open_v2(uri.c_str(), &db, flags | SQLITE_OPEN_NOMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    std::string msg = db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
    sqlite3_close_v2(db);
    return error{errc::io_error, label + ": cannot open (" + msg + ")"};
  }
  sqlite3_extended_result_codes(db, 1);
  sqlite3_busy_timeout(db, static_cast<int>(kBusyTimeout.count()));
  return std::make_unique<sqlite_connection>(db, std::move(label), read_only);
}

statement* sqlite_connection::prepare(const char* sql) {
  statement_key k{sql, collection_};
  auto it = cache_.find(k);
  if (it != cache_.end()) {
    it->second.reset();
    return &it->second;
  }
  std::string text = collection_sql(sql, collection_);
  sqlite3_stmt* s = nullptr;
  if (sqlite3_prepare_v3(db_, text.c_str(), -1, SQLITE_PREPARE_PERSISTENT, &s, nullptr) !=
      SQLITE_OK) {
    return nullptr;
  }
  return &cache_.emplace(k, sqlite_statement{s}).first->second;
}

void sqlite_connection::evict_collection(int64_t c) {
  std::erase_if(cache_, [c](const auto& entry) { return entry.first.collection == c; });
}

status sqlite_connection::exec(const char* sql) {
  char* msg = nullptr;
  int rc = sqlite3_exec(db_, sql, nullptr, nullptr, &msg);
  for (auto until = std::chrono::steady_clock::now() + kBusyTimeout;
       (rc & 0xFF) == SQLITE_LOCKED && std::chrono::steady_clock::now() < until;) {
    sqlite3_free(msg);
    msg = nullptr;
    std::this_thread::sleep_for(kLockedRetryPause);
    rc = sqlite3_exec(db_, sql, nullptr, nullptr, &msg);
  }
  sqlite3_free(msg);
  if (rc != SQLITE_OK) return error_for(rc, sql);
  return {};
}

error sqlite_connection::error_for(int rc, std::string_view what) const {
  std::string msg = label_ + ": " + std::string(what) + ": " + sqlite3_errmsg(db_);
  switch (rc & 0xFF) {
    case SQLITE_READONLY:
      return {errc::read_only, label_ + ": the database is read-only"};
    case SQLITE_NOTADB:
      return {errc::not_a_database, label_ + ": not a peerlite database"};
    default:
      return {errc::io_error, std::move(msg)};
  }
}

error sqlite_connection::last_error(std::string_view what) const {
  return error_for(sqlite3_extended_errcode(db_), what);
}

status sqlite_connection::stream_blob(int64_t row, const std::string& digest,
                                      const std::function<status(std::string_view)>& sink,
                                      size_t chunk) {
  sqlite3_blob* handle = nullptr;
  int rc = sqlite3_blob_open(db_, "main", "blobs", "data", row, 0, &handle);
  if (rc != SQLITE_OK) {
    sqlite3_blob_close(handle);
    return error_for(rc, "open blob " + digest);
  }
  int total = sqlite3_blob_bytes(handle);
  std::string buf;
  status result;
  for (int at = 0; at < total && result.ok();) {
    int n = static_cast<int>(std::min<size_t>(chunk, static_cast<size_t>(total - at)));
    buf.resize(static_cast<size_t>(n));
    rc = sqlite3_blob_read(handle, buf.data(), n, at);
    if (rc != SQLITE_OK) {
      result = error_for(rc, "read blob " + digest);
      break;
    }
    at += n;
    result = sink(buf);
  }
  sqlite3_blob_close(handle);
  if (total == 0 && result.ok()) result = sink({});
  return result;
}

}  // namespace peerlite::store
