// peerlite store (internal): a thin RAII layer over one SQLite connection and its cached
// prepared statements. Not part of the store's contract; used by the store's .cpp files only.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <memory>
#include <peerlite/status.hpp>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>

namespace peerlite::store {

/// A prepared statement. Text and blob binds are NOT copied: keep them alive until reset().
class statement {
 public:
  explicit statement(sqlite3_stmt* s = nullptr) : stmt_(s) {}
  statement(statement&& o) noexcept : stmt_(o.stmt_) { o.stmt_ = nullptr; }
  statement& operator=(statement&&) = delete;
  ~statement() { sqlite3_finalize(stmt_); }

  void bind(int i, std::string_view text) {
    sqlite3_bind_text(stmt_, i, text.data(), static_cast<int>(text.size()), SQLITE_STATIC);
  }
  void bind_blob(int i, std::string_view bytes) {
    sqlite3_bind_blob(stmt_, i, bytes.data(), static_cast<int>(bytes.size()), SQLITE_STATIC);
  }
  void bind(int i, int64_t v) { sqlite3_bind_int64(stmt_, i, v); }
  void bind_null(int i) { sqlite3_bind_null(stmt_, i); }

  /// SQLITE_ROW, SQLITE_DONE or an error code. Retries shared-cache lock waits.
  int step();
  void reset() {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
  }

  std::string_view text(int col) const {
    auto* p = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, col));
    return p ? std::string_view(p, sqlite3_column_bytes(stmt_, col)) : std::string_view{};
  }
  std::string_view blob(int col) const {
    auto* p = static_cast<const char*>(sqlite3_column_blob(stmt_, col));
    return p ? std::string_view(p, sqlite3_column_bytes(stmt_, col)) : std::string_view{};
  }
  int64_t integer(int col) const { return sqlite3_column_int64(stmt_, col); }
  bool is_null(int col) const { return sqlite3_column_type(stmt_, col) == SQLITE_NULL; }
  int column_count() const { return sqlite3_column_count(stmt_); }

 private:
  sqlite3_stmt* stmt_;
};

/// `sql` with every whole-word occurrence of each `from` (not part of a longer identifier, not
/// inside a '...' literal) replaced by its `to`.
std::string replace_words(std::string_view sql,
                          std::span<const std::pair<std::string_view, std::string_view>> words);

/// `sql` as it reads for collection `c`: the tables docs and remote_revs become docs_c and
/// remote_revs_c (unchanged for the default collection 0).
std::string collection_sql(std::string_view sql, int64_t c);

/// One SQLite handle with a statement cache keyed by the SQL literal's address and the
/// collection it was prepared for.
class connection {
 public:
  connection(sqlite3* db, std::string label, bool read_only)
      : db_(db), label_(std::move(label)), read_only_(read_only) {}
  ~connection();
  connection(const connection&) = delete;
  connection& operator=(const connection&) = delete;

  /// Opens `uri` (a path or a file: URI) with SQLite flags. Errors carry `label`.
  static expected<std::unique_ptr<connection>> open(const std::string& uri, std::string label,
                                                    int flags, bool read_only);

  /// The cached statement for this SQL literal in the current collection (its text rewritten
  /// by collection_sql() once, when first prepared), reset and ready to bind. nullptr on a
  /// prepare error (see last_error()).
  statement* prepare(const char* sql);

  /// The collection whose tables prepare() targets from now on (0 = the default). Switching
  /// is free: each collection keeps its own cached statements.
  void set_collection(int64_t c) { collection_ = c; }
  int64_t collection() const { return collection_; }
  /// Finalizes the cached statements of collection `c` (before its tables are dropped).
  void evict_collection(int64_t c);

  /// Runs SQL without results (may hold several statements).
  status exec(const char* sql);

  /// A status for the latest SQLite failure, prefixed by the label and `what`.
  error last_error(std::string_view what) const;
  error error_for(int rc, std::string_view what) const;

  /// Runs a single-value query (e.g. a PRAGMA) and returns its integer.
  expected<int64_t> query_int(const char* sql);

  sqlite3* handle() { return db_; }
  const std::string& label() const { return label_; }
  bool read_only() const { return read_only_; }
  int& tx_depth() { return tx_depth_; }

 private:
  sqlite3* db_;
  std::string label_;
  bool read_only_;
  int tx_depth_ = 0;
  int64_t collection_ = 0;
  struct key {
    const char* sql;
    int64_t collection;
    bool operator==(const key&) const = default;
  };
  struct key_hash {
    size_t operator()(const key& k) const {
      return std::hash<const char*>{}(k.sql) ^
             (static_cast<size_t>(k.collection) * 0x9e3779b97f4a7c15u);
    }
  };
  std::unordered_map<key, statement, key_hash> cache_;
};

/// A transaction on a connection unless one is already open (then it joins it). Commit()
/// ends it; destruction without commit rolls back.
class transaction {
 public:
  /// `write` takes the write lock at once (BEGIN IMMEDIATE).
  transaction(connection& c, bool write);
  ~transaction();
  const status& begun() const { return begun_; }
  status commit();

 private:
  connection& conn_;
  bool owner_ = false;
  bool done_ = false;
  status begun_;
};

}  // namespace peerlite::store
