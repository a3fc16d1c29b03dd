// peerlite store (internal): the SQL layer (store/sql.hpp) over a PostgreSQL session (libpq),
// so that several hubs on several machines can share one database.
//
// The store's statements are written once, in SQLite's dialect (store/schema.hpp); a
// pg_connection prepares each in PostgreSQL's: `?N` parameters become `$N`, and the statements
// whose SQL differs (upserts, the schema catalog, typed meta values, RETURNING ids) have their
// own text in pg.cpp's dialect table, looked up by the SQLite text.
//
// Sequences across hubs. Every write transaction takes one advisory lock per database
// (pg_advisory_xact_lock) right after BEGIN and holds it to COMMIT, so writers, whichever hub
// they run on, take turns the way SQLite's single writer does. Sequence numbers are assigned
// under that lock (meta.last_seq, read and written in the same transaction), so they commit in
// increasing order: a reader that has seen sequence N has seen every sequence below N, and a
// change feed read by `seq > N` never skips a change that commits late with a lower number
// (Sync Gateway's "skipped sequences" cannot arise). The cost is one writer at a time per
// database; group commit (one transaction per batch of incoming revisions) keeps that cheap,
// and everything else a hub does (WebSocket, BLIP, JSON, reads) runs in parallel across hubs.
//
// Wake-up across hubs. Each write transaction also sends pg_notify on the database's channel
// ("peerlite_<lock key>"), which PostgreSQL delivers when (and only if) it commits. A hub's
// watch connection LISTENs on it (listen_for_commits), so a continuous peer on hub A hears of a
// write that arrived at hub B within a round trip; when that connection drops, the watch polls
// data_version until it can listen again.
//
// Values travel in binary: bytea and text columns arrive as their raw bytes, integers as
// big-endian, so bodies and revision trees are never hex-encoded or parsed.
#pragma once

#include <libpq-fe.h>

#include <chrono>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "store/sql.hpp"

namespace peerlite::store {

/// Waits between attempts to reconnect a lost session: the first, doubling up to the last.
inline constexpr std::chrono::milliseconds kPgReconnectFirst{100};
inline constexpr std::chrono::milliseconds kPgReconnectMax{5000};
/// Longest a connection attempt may take (libpq's connect_timeout, unless the URL sets one).
inline constexpr std::chrono::seconds kPgConnectTimeout{5};
/// Longest one statement may run on the server (statement_timeout, set on every session).
/// The longest real ones are a group commit's inserts and a wait for another hub's write
/// lock, well under a second; a statement past this fails instead of holding the db actor.
inline constexpr std::chrono::seconds kPgStatementTimeout{60};
/// A server that stops answering over TCP (a partition, a host gone without a reset) is given
/// up after this much unacknowledged data (libpq's tcp_user_timeout) or failed keepalives
/// (idle 5 s, then 3 probes 2 s apart), unless the URL sets them. Unix sockets ignore both.
inline constexpr std::chrono::milliseconds kPgTcpUserTimeout{15000};

class pg_connection;

class pg_statement final : public statement {
 public:
  pg_statement(pg_connection& conn, std::string name, std::string text, int params,
               bool returns_id);
  ~pg_statement() override;

  void bind(int i, std::string_view text) override;
  void bind_blob(int i, std::string_view bytes) override;
  void bind(int i, int64_t v) override;
  void bind_null(int i) override;

  /// Runs the statement on the first call; then walks its rows.
  int step() override;
  void reset() override;

  std::string_view text(int col) const override;
  std::string_view blob(int col) const override { return text(col); }
  int64_t integer(int col) const override;
  bool is_null(int col) const override;
  int column_count() const override;

  const std::string& name() const { return name_; }

 private:
  void ensure(int i);

  pg_connection& conn_;
  std::string name_;
  std::string text_;         ///< to prepare it again on a new session
  uint64_t generation_ = 0;  ///< the session it was prepared on (pg_connection::generation)
  bool returns_id_;
  std::vector<std::string> values_;
  std::vector<int> formats_;
  std::vector<bool> null_;
  PGresult* res_ = nullptr;
  int row_ = -1;
  /// text() of an integer column formats it here.
  mutable std::string scratch_;
  /// step() is running the statement again on a new session (once; see step()).
  bool retried_ = false;
};

/// One libpq session. Not thread-safe, like every store connection.
class pg_connection final : public connection {
 public:
  pg_connection(PGconn* pg, std::string label, bool read_only, int64_t lock_key);
  ~pg_connection() override;

  /// Connects to `url` (postgresql://...). Errors name `label` and carry libpq's reason.
  static expected<std::unique_ptr<pg_connection>> open(const std::string& url, std::string label,
                                                       bool read_only);

  statement* prepare(const char* sql) override;
  void evict_collection(int64_t c) override;
  status exec(const char* sql) override;
  status begin(bool write) override;
  error last_error(std::string_view what) const override;
  error error_for(int rc, std::string_view what) const override;
  int64_t changes() const override { return changes_; }
  int64_t last_insert_id() const override { return last_id_; }
  /// Reads the whole value (bytea has no incremental reads) and hands it out in chunks.
  status stream_blob(int64_t row, const std::string& digest,
                     const std::function<status(std::string_view)>& sink, size_t chunk) override;

  /// LISTEN on the database's commit channel; PQsocket() or -1.
  int listen_for_commits() override;
  bool drain_commit_notifications(bool& broken) override;

  /// The advisory lock key writers of this database take (see the top of this file).
  int64_t lock_key() const { return lock_key_; }
  void set_lock_key(int64_t k) { lock_key_ = k; }
  /// The notification channel of this database's commits.
  std::string channel() const;

  PGconn* handle() { return pg_; }

  /// Records a failed result (its SQLSTATE and message) and returns the SQLite-style code
  /// the store's callers understand. Takes ownership of `res` (may be null).
  int fail(PGresult* res);
  /// The code for "the session is lost" (usable() said why).
  int fail_lost() const { return last_rc_; }

  /// True when the session is up, reconnecting first when it was lost (outside transactions,
  /// with a backoff from kPgReconnectFirst to kPgReconnectMax between attempts). A lost session
  /// fails the call with a recoverable io_error; the hub answers the peer so, and the peer
  /// retries.
  bool usable();
  /// The last call failed because the server had dropped the session, outside a transaction:
  /// nothing of a transaction was lost, and a statement that changes nothing (a read, a
  /// prepare, a BEGIN) may run again on a new session (usable() reconnects). A pooled session
  /// the server dropped while it sat idle (it restarted) fails its first statement, and only
  /// then does libpq see it is gone.
  bool lost_outside_transaction() const;
  /// Bumped by each reconnect; statements prepared on an older session are prepared again.
  uint64_t generation() const { return generation_; }
  bool prepare_on_server(const std::string& name, const std::string& text);
  void note_changes(int64_t n) { changes_ = n; }
  void note_id(int64_t id) { last_id_ = id; }

 private:
  /// One BEGIN (and, for a write, the writers' lock); begin() retries it once on a lost
  /// session. `lost`: it failed because the session is gone.
  status begin_once(bool write, bool& lost);
  /// The session settings, again after each reconnect.
  status set_up_session();
  /// exec() without the reconnect check.
  status exec_now(const char* sql);

  PGconn* pg_;
  int64_t lock_key_;
  uint64_t generation_ = 0;
  bool listening_ = false;
  int listen_fd_ = -1;
  std::chrono::steady_clock::time_point next_reconnect_{};
  std::chrono::milliseconds backoff_ = kPgReconnectFirst;
  int64_t changes_ = 0;
  int64_t last_id_ = 0;
  std::string last_msg_;
  std::string last_state_;
  int last_rc_ = 0;
  uint64_t next_name_ = 0;
  std::unordered_map<statement_key, std::unique_ptr<pg_statement>, statement_key_hash> cache_;
};

/// `url` with any password removed, for messages and logs.
std::string redact_pg_url(std::string_view url);

/// Creates the schema in an empty database, or checks that it is a peerlite database of a
/// schema this build understands (an empty one is not_found unless `writable` and `create`).
/// Safe when several hubs start at once.
status pg_check_or_create_schema(pg_connection& c, bool writable, bool create);

}  // namespace peerlite::store
