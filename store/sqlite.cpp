#include "store/sqlite.hpp"

#include <chrono>
#include <thread>

#include "store/tuning.hpp"

namespace peerlite::store {

namespace {

/// SQLite identifiers: ASCII letters, digits, '_' and '$', and any non-ASCII byte.
bool identifier_char(char ch) {
  auto u = static_cast<unsigned char>(ch);
  return u >= 0x80 || (u >= '0' && u <= '9') || (u >= 'A' && u <= 'Z') || (u >= 'a' && u <= 'z') ||
         u == '_' || u == '$';
}

}  // namespace

std::string replace_words(std::string_view sql,
                          std::span<const std::pair<std::string_view, std::string_view>> words) {
  std::string out;
  out.reserve(sql.size() + 16);
  for (size_t i = 0; i < sql.size();) {
    if (sql[i] == '\'') {
      /// A string literal, copied as it is ('' inside one reads as two literals back to back,
      /// which copies the same text).
      size_t end = sql.find('\'', i + 1);
      end = end == std::string_view::npos ? sql.size() : end + 1;
      out.append(sql.substr(i, end - i));
      i = end;
      continue;
    }
    if (!identifier_char(sql[i])) {
      out.push_back(sql[i++]);
      continue;
    }
    size_t end = i;
    while (end < sql.size() && identifier_char(sql[end])) ++end;
    std::string_view word = sql.substr(i, end - i);
    for (const auto& [from, to] : words) {
      if (word == from) {
        word = to;
        break;
      }
    }
    out.append(word);
    i = end;
  }
  return out;
}

std::string collection_sql(std::string_view sql, int64_t c) {
  if (c == 0) return std::string(sql);
  std::string n = std::to_string(c);
  std::string docs = "docs_" + n, remote_revs = "remote_revs_" + n;
  const std::pair<std::string_view, std::string_view> words[] = {{"docs", docs},
                                                                 {"remote_revs", remote_revs}};
  return replace_words(sql, words);
}

int statement::step() {
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

connection::~connection() {
  cache_.clear();  // finalize statements before closing
  sqlite3_close_v2(db_);
}

expected<std::unique_ptr<connection>> connection::open(const std::string& uri, std::string label,
                                                       int flags, bool read_only) {
  sqlite3* db = nullptr;
  int rc = sqlite3_open_v2(uri.c_str(), &db, flags | SQLITE_OPEN_NOMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    std::string msg = db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
    sqlite3_close_v2(db);
    return error{errc::io_error, label + ": cannot open (" + msg + ")"};
  }
  sqlite3_extended_result_codes(db, 1);
  sqlite3_busy_timeout(db, static_cast<int>(kBusyTimeout.count()));
  return std::make_unique<connection>(db, std::move(label), read_only);
}

statement* connection::prepare(const char* sql) {
  key k{sql, collection_};
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
  return &cache_.emplace(k, statement{s}).first->second;
}

void connection::evict_collection(int64_t c) {
  std::erase_if(cache_, [c](const auto& entry) { return entry.first.collection == c; });
}

status connection::exec(const char* sql) {
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

error connection::error_for(int rc, std::string_view what) const {
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

error connection::last_error(std::string_view what) const {
  return error_for(sqlite3_extended_errcode(db_), what);
}

expected<int64_t> connection::query_int(const char* sql) {
  statement* s = prepare(sql);
  if (!s) return last_error("prepare");
  int rc = s->step();
  if (rc != SQLITE_ROW) return error_for(rc, sql);
  int64_t v = s->integer(0);
  s->reset();
  return v;
}

transaction::transaction(connection& c, bool write) : conn_(c) {
  if (c.tx_depth() > 0) return;
  begun_ = c.exec(write ? "BEGIN IMMEDIATE" : "BEGIN");
  if (!begun_.ok()) return;
  owner_ = true;
  ++c.tx_depth();
}

transaction::~transaction() {
  if (owner_ && !done_) {
    conn_.exec("ROLLBACK");
    --conn_.tx_depth();
  }
}

status transaction::commit() {
  if (!owner_ || done_) return {};
  done_ = true;
  --conn_.tx_depth();
  status st = conn_.exec("COMMIT");
  if (!st.ok()) conn_.exec("ROLLBACK");
  return st;
}

}  // namespace peerlite::store
