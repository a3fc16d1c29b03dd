// peerlite store (internal): the SQL layer the store's code is written against, whichever
// database engine holds the data. A `connection` prepares and caches `statement`s, runs
// transactions and reports errors; store/sqlite.hpp implements it over an SQLite file. The
// store's logic (revision trees, the changes feed, checkpoints, collections, blobs) is written
// once, above this layer. Not part of the store's contract; used by the store's .cpp files
// only.
//
// Result codes are SQLite's, whatever the engine: step() returns SQLITE_ROW or SQLITE_DONE,
// anything else is an error that connection::error_for() turns into a status.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <peerlite/status.hpp>
#include <span>
#include <string>
#include <string_view>
#include <utility>

namespace peerlite::store {

/// A prepared statement. Text and blob binds are NOT copied: keep them alive until reset().
class statement {
 public:
  virtual ~statement() = default;

  virtual void bind(int i, std::string_view text) = 0;
  virtual void bind_blob(int i, std::string_view bytes) = 0;
  virtual void bind(int i, int64_t v) = 0;
  virtual void bind_null(int i) = 0;

  /// SQLITE_ROW, SQLITE_DONE or an error code.
  virtual int step() = 0;
  virtual void reset() = 0;

  /// Column values of the current row; views stay valid until the next step() or reset().
  virtual std::string_view text(int col) const = 0;
  virtual std::string_view blob(int col) const = 0;
  virtual int64_t integer(int col) const = 0;
  virtual bool is_null(int col) const = 0;
  virtual int column_count() const = 0;
};

/// `sql` with every whole-word occurrence of each `from` (not part of a longer identifier, not
/// inside a '...' literal) replaced by its `to`.
std::string replace_words(std::string_view sql,
                          std::span<const std::pair<std::string_view, std::string_view>> words);

/// `sql` as it reads for collection `c`: the tables docs and remote_revs become docs_c and
/// remote_revs_c (unchanged for the default collection 0).
std::string collection_sql(std::string_view sql, int64_t c);

/// What a connection caches a statement under: the SQL literal's address and the collection
/// it was prepared for.
struct statement_key {
  const char* sql;
  int64_t collection;
  bool operator==(const statement_key&) const = default;
};
struct statement_key_hash {
  size_t operator()(const statement_key& k) const {
    return std::hash<const char*>{}(k.sql) ^
           (static_cast<size_t>(k.collection) * 0x9e3779b97f4a7c15u);
  }
};

/// 16 random bytes as 32 hex digits: a new database's public and private UUIDs.
std::string random_hex_uuid();

/// One session with the database engine, with a statement cache keyed by the SQL literal's
/// address and the collection it was prepared for.
class connection {
 public:
  connection(std::string label, bool read_only) : label_(std::move(label)), read_only_(read_only) {}
  virtual ~connection() = default;
  connection(const connection&) = delete;
  connection& operator=(const connection&) = delete;

  /// The cached statement for this SQL literal in the current collection (its text rewritten
  /// by collection_sql() once, when first prepared), reset and ready to bind. nullptr on a
  /// prepare error (see last_error()).
  virtual statement* prepare(const char* sql) = 0;

  /// The collection whose tables prepare() targets from now on (0 = the default). Switching
  /// is free: each collection keeps its own cached statements.
  void set_collection(int64_t c) { collection_ = c; }
  int64_t collection() const { return collection_; }
  /// Finalizes the cached statements of collection `c` (before its tables are dropped).
  virtual void evict_collection(int64_t c) = 0;

  /// Runs SQL without results (may hold several statements).
  virtual status exec(const char* sql) = 0;

  /// Starts a transaction; `write` takes the write lock at once.
  virtual status begin(bool write) = 0;

  /// A status for the latest failure, prefixed by the label and `what`.
  virtual error last_error(std::string_view what) const = 0;
  virtual error error_for(int rc, std::string_view what) const = 0;

  /// Rows changed by the last INSERT, UPDATE or DELETE.
  virtual int64_t changes() const = 0;
  /// The id the last INSERT into a table with an integer key gave its row.
  virtual int64_t last_insert_id() const = 0;

  /// Streams the `data` of the blobs row `row` (digest `digest`, for errors) to `sink`, at
  /// most `chunk` bytes at a time. Stops at the first error `sink` returns.
  virtual status stream_blob(int64_t row, const std::string& digest,
                             const std::function<status(std::string_view)>& sink, size_t chunk) = 0;

  /// Commit notifications (PostgreSQL; see reader::listen_for_commits): nothing by default.
  virtual int listen_for_commits() { return -1; }
  virtual bool drain_commit_notifications(bool& broken) {
    broken = true;
    return false;
  }

  /// Runs a single-value query (e.g. a PRAGMA) and returns its integer.
  expected<int64_t> query_int(const char* sql);

  const std::string& label() const { return label_; }
  bool read_only() const { return read_only_; }
  int& tx_depth() { return tx_depth_; }

 protected:
  std::string label_;
  bool read_only_;
  int tx_depth_ = 0;
  int64_t collection_ = 0;
};

/// A transaction on a connection unless one is already open (then it joins it). Commit()
/// ends it; destruction without commit rolls back.
class transaction {
 public:
  /// `write` takes the write lock at once (SQLite: BEGIN IMMEDIATE).
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
