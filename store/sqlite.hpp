// peerlite store (internal): the SQL layer (store/sql.hpp) over one SQLite connection and its
// cached prepared statements.
#pragma once

#include <sqlite3.h>

#include <unordered_map>

#include "store/sql.hpp"

namespace peerlite::store {

class sqlite_statement final : public statement {
 public:
  explicit sqlite_statement(sqlite3_stmt* s = nullptr) : stmt_(s) {}
  sqlite_statement(sqlite_statement&& o) noexcept : stmt_(o.stmt_) { o.stmt_ = nullptr; }
  sqlite_statement& operator=(sqlite_statement&&) = delete;
  ~sqlite_statement() override { sqlite3_finalize(stmt_); }

  void bind(int i, std::string_view text) override {
    sqlite3_bind_text(stmt_, i, text.data(), static_cast<int>(text.size()), SQLITE_STATIC);
  }
  void bind_blob(int i, std::string_view bytes) override {
    sqlite3_bind_blob(stmt_, i, bytes.data(), static_cast<int>(bytes.size()), SQLITE_STATIC);
  }
  void bind(int i, int64_t v) override { sqlite3_bind_int64(stmt_, i, v); }
  void bind_null(int i) override { sqlite3_bind_null(stmt_, i); }

  /// Retries shared-cache lock waits.
  int step() override;
  void reset() override {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
  }

  std::string_view text(int col) const override {
    auto* p = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, col));
    return p ? std::string_view(p, sqlite3_column_bytes(stmt_, col)) : std::string_view{};
  }
  std::string_view blob(int col) const override {
    auto* p = static_cast<const char*>(sqlite3_column_blob(stmt_, col));
    return p ? std::string_view(p, sqlite3_column_bytes(stmt_, col)) : std::string_view{};
  }
  int64_t integer(int col) const override { return sqlite3_column_int64(stmt_, col); }
  bool is_null(int col) const override { return sqlite3_column_type(stmt_, col) == SQLITE_NULL; }
  int column_count() const override { return sqlite3_column_count(stmt_); }

 private:
  sqlite3_stmt* stmt_;
};

/// One SQLite handle with its statement cache.
class sqlite_connection final : public connection {
 public:
  sqlite_connection(sqlite3* db, std::string label, bool read_only)
      : connection(std::move(label), read_only), db_(db) {}
  ~sqlite_connection() override;

  /// Opens `uri` (a path or a file: URI) with SQLite flags. Errors carry `label`.
  static expected<std::unique_ptr<sqlite_connection>> open(const std::string& uri,
                                                           std::string label, int flags,
                                                           bool read_only);

  statement* prepare(const char* sql) override;
  void evict_collection(int64_t c) override;
  status exec(const char* sql) override;
  status begin(bool write) override { return exec(write ? "BEGIN IMMEDIATE" : "BEGIN"); }
  error last_error(std::string_view what) const override;
  error error_for(int rc, std::string_view what) const override;
  int64_t changes() const override { return sqlite3_changes(db_); }
  int64_t last_insert_id() const override { return sqlite3_last_insert_rowid(db_); }
  /// SQLite's incremental blob I/O: only one chunk is in memory at a time.
  status stream_blob(int64_t row, const std::string& digest,
                     const std::function<status(std::string_view)>& sink, size_t chunk) override;

  sqlite3* handle() { return db_; }

 private:
  sqlite3* db_;
  std::unordered_map<statement_key, sqlite_statement, statement_key_hash> cache_;
};

}  // namespace peerlite::store
