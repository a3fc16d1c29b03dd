// The store's SQL layer over PostgreSQL (see pg.hpp).
#include "store/pg.hpp"

#include "store/libpq.hpp"

#include <endian.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <string_view>

#include "store/database.hpp"
#include "store/schema.hpp"
#include "store/tuning.hpp"

namespace peerlite::store {

namespace {

// Type OIDs of the result columns the store reads (PostgreSQL's pg_type catalog).
constexpr Oid kBoolOid = 16;
constexpr Oid kInt8Oid = 20;
constexpr Oid kInt2Oid = 21;
constexpr Oid kInt4Oid = 23;

/// The schema in PostgreSQL's types: bytea for bodies and trees, bigint for sequences and ids.
/// meta holds text values (integers as their decimal text).
constexpr char kPgSchema[] = R"(
CREATE TABLE docs(
  id TEXT PRIMARY KEY NOT NULL,
  seq BIGINT NOT NULL,
  rev TEXT NOT NULL,
  flags INTEGER NOT NULL,
  body BYTEA NOT NULL,
  tree BYTEA NOT NULL,
  expires BIGINT);
CREATE UNIQUE INDEX docs_seq ON docs(seq);
CREATE INDEX docs_expires ON docs(expires) WHERE expires IS NOT NULL;
CREATE INDEX docs_conflicted ON docs(id) WHERE (flags & 2) = 2;
CREATE TABLE checkpoints(id TEXT PRIMARY KEY NOT NULL, rev TEXT NOT NULL, body TEXT NOT NULL);
CREATE TABLE peer_checkpoints(id TEXT PRIMARY KEY NOT NULL, rev TEXT NOT NULL, body TEXT NOT NULL);
CREATE TABLE meta(key TEXT PRIMARY KEY NOT NULL, value TEXT NOT NULL);
CREATE TABLE remotes(id BIGSERIAL PRIMARY KEY, name TEXT UNIQUE NOT NULL);
CREATE TABLE remote_revs(remote BIGINT NOT NULL, doc TEXT NOT NULL, rev TEXT NOT NULL,
  PRIMARY KEY(remote, doc));
CREATE TABLE blobs(id BIGSERIAL PRIMARY KEY, digest TEXT UNIQUE NOT NULL,
  length BIGINT NOT NULL, type TEXT NOT NULL DEFAULT '', data BYTEA NOT NULL);
CREATE TABLE collections(id BIGINT PRIMARY KEY, scope TEXT NOT NULL, name TEXT NOT NULL,
  UNIQUE(scope, name));
INSERT INTO collections(id, scope, name) VALUES(0, '_default', '_default');
)";

/// The statements whose PostgreSQL text is not the SQLite text with `?N` renamed `$N`.
struct dialect_entry {
  const char* sqlite;
  const char* pg;
  bool returns_id = false;  ///< an INSERT .. RETURNING id, read by last_insert_id()
};

const dialect_entry kDialect[] = {
    {sql::kSetRemoteRev,
     "INSERT INTO remote_revs(remote, doc, rev) VALUES($1, $2, $3) "
     "ON CONFLICT(remote, doc) DO UPDATE SET rev = excluded.rev"},
    {sql::kSetMeta,
     "INSERT INTO meta(key, value) VALUES($1, $2) "
     "ON CONFLICT(key) DO UPDATE SET value = excluded.value"},
    {sql::kSetCheckpoint,
     "INSERT INTO checkpoints(id, rev, body) VALUES($1, $2, $3) "
     "ON CONFLICT(id) DO UPDATE SET rev = excluded.rev, body = excluded.body"},
    {sql::kSetPeerCheckpoint,
     "INSERT INTO peer_checkpoints(id, rev, body) VALUES($1, $2, $3) "
     "ON CONFLICT(id) DO UPDATE SET rev = excluded.rev, body = excluded.body"},
    {sql::kAddRemote, "INSERT INTO remotes(name) VALUES($1) RETURNING id", true},
    {sql::kHasCollectionsTable,
     "SELECT count(*) FROM information_schema.tables "
     "WHERE table_schema = current_schema() AND table_name = 'collections'"},
    {sql::kNextCollectionId,
     "SELECT greatest(coalesce((SELECT max(id) FROM collections), 0), "
     "coalesce((SELECT value::bigint FROM meta WHERE key = $1), 0)) + 1"},
    /// A new collection copies these (renamed by collection_sql) as SQLite copies its catalog.
    {sql::kDefaultTables,
     "SELECT * FROM (VALUES "
     "('docs', 'docs', 'CREATE TABLE docs(id TEXT PRIMARY KEY NOT NULL, seq BIGINT NOT NULL, "
     "rev TEXT NOT NULL, flags INTEGER NOT NULL, body BYTEA NOT NULL, tree BYTEA NOT NULL, "
     "expires BIGINT)'), "
     "('remote_revs', 'remote_revs', 'CREATE TABLE remote_revs(remote BIGINT NOT NULL, "
     "doc TEXT NOT NULL, rev TEXT NOT NULL, PRIMARY KEY(remote, doc))'), "
     "('docs_seq', 'docs', 'CREATE UNIQUE INDEX docs_seq ON docs(seq)'), "
     "('docs_expires', 'docs', 'CREATE INDEX docs_expires ON docs(expires) "
     "WHERE expires IS NOT NULL'), "
     "('docs_conflicted', 'docs', 'CREATE INDEX docs_conflicted ON docs(id) "
     "WHERE (flags & 2) = 2')) AS t(name, tbl_name, sql)"},
    /// What changes when any hub commits to the feed: the sum of every collection's last
    /// sequence (a reader compares it with what it saw last).
    {"PRAGMA data_version",
     "SELECT coalesce(sum(value::bigint), 0)::bigint FROM meta "
     "WHERE key = 'last_seq' OR key LIKE 'last\\_seq\\_%'"},
};

/// The PostgreSQL text of a store statement (see kDialect), and whether it returns an id.
std::pair<std::string, bool> pg_text(const char* sqlite_sql) {
  std::string_view in(sqlite_sql);
  for (const auto& e : kDialect)
    if (in == e.sqlite) return {e.pg, e.returns_id};
  /// ?N -> $N outside string literals.
  std::string out;
  out.reserve(in.size());
  bool quoted = false;
  for (char ch : in) {
    if (ch == '\'') quoted = !quoted;
    out.push_back(!quoted && ch == '?' ? '$' : ch);
  }
  return {out, false};
}

/// How many $N parameters a statement has (the highest N).
int count_params(std::string_view sql) {
  int most = 0;
  bool quoted = false;
  for (size_t i = 0; i < sql.size(); ++i) {
    if (sql[i] == '\'') quoted = !quoted;
    if (quoted || sql[i] != '$') continue;
    int n = 0;
    size_t j = i + 1;
    while (j < sql.size() && sql[j] >= '0' && sql[j] <= '9') n = n * 10 + (sql[j++] - '0');
    most = std::max(most, n);
  }
  return most;
}

int64_t read_be(const char* p, int len) {
  switch (len) {
    case 8: {
      uint64_t v;
      std::memcpy(&v, p, 8);
      return static_cast<int64_t>(be64toh(v));
    }
    case 4: {
      uint32_t v;
      std::memcpy(&v, p, 4);
      return static_cast<int32_t>(be32toh(v));
    }
    case 2: {
      uint16_t v;
      std::memcpy(&v, p, 2);
      return static_cast<int16_t>(be16toh(v));
    }
    case 1:
      return static_cast<unsigned char>(*p);
    default:
      return 0;
  }
}

bool integer_type(Oid t) {
  return t == kInt8Oid || t == kInt4Oid || t == kInt2Oid || t == kBoolOid;
}

}  // namespace

bool is_pg_url(std::string_view path) {
  return path.starts_with("postgresql://") || path.starts_with("postgres://");
}

std::string redact_pg_url(std::string_view url) {
  /// postgresql://user:password@host/db?...&password=...: both passwords go.
  std::string out(url);
  auto scheme = out.find("://");
  if (scheme == std::string::npos) return out;
  auto at = out.find('@', scheme + 3);
  auto slash = out.find('/', scheme + 3);
  if (at != std::string::npos && (slash == std::string::npos || at < slash)) {
    auto colon = out.find(':', scheme + 3);
    if (colon != std::string::npos && colon < at) out.erase(colon, at - colon);
  }
  for (auto q = out.find('?'); q != std::string::npos;) {
    auto end = out.find('&', q + 1);
    auto param = out.substr(q + 1, end == std::string::npos ? std::string::npos : end - q - 1);
    if (param.starts_with("password=")) {
      out.erase(q + 1, end == std::string::npos ? std::string::npos : end - q);
      if (q + 1 >= out.size()) {
        out.pop_back();  // the '?' or '&' before it, now last
        break;
      }
      continue;  // the next parameter now starts right after q
    }
    q = end;
  }
  return out;
}

// --- pg_statement ---

pg_statement::pg_statement(pg_connection& conn, std::string name, std::string text, int params,
                           bool returns_id)
    : conn_(conn),
      name_(std::move(name)),
      text_(std::move(text)),
      generation_(conn.generation()),
      returns_id_(returns_id),
      values_(static_cast<size_t>(params)),
      formats_(static_cast<size_t>(params), 0),
      null_(static_cast<size_t>(params), true) {}

pg_statement::~pg_statement() { pq().PQclear(res_); }

void pg_statement::ensure(int i) {
  if (static_cast<size_t>(i) > values_.size()) {
    values_.resize(static_cast<size_t>(i));
    formats_.resize(static_cast<size_t>(i), 0);
    null_.resize(static_cast<size_t>(i), true);
  }
}

void pg_statement::bind(int i, std::string_view text) {
  ensure(i);
  values_[i - 1].assign(text);
  formats_[i - 1] = 0;
  null_[i - 1] = false;
}

void pg_statement::bind_blob(int i, std::string_view bytes) {
  ensure(i);
  values_[i - 1].assign(bytes);
  formats_[i - 1] = 1;  // raw bytes: bytea's binary form
  null_[i - 1] = false;
}

void pg_statement::bind(int i, int64_t v) {
  ensure(i);
  values_[i - 1] = std::to_string(v);
  formats_[i - 1] = 0;
  null_[i - 1] = false;
}

void pg_statement::bind_null(int i) {
  ensure(i);
  null_[i - 1] = true;
}

int pg_statement::step() {
  if (res_) {
    if (++row_ < pq().PQntuples(res_)) return SQLITE_ROW;
    return SQLITE_DONE;
  }
  if (!conn_.usable()) return conn_.fail_lost();
  if (generation_ != conn_.generation()) {
    /// The session was opened again since this statement was prepared.
    if (!conn_.prepare_on_server(name_, text_)) return SQLITE_IOERR;
    generation_ = conn_.generation();
  }
  size_t n = values_.size();
  std::vector<const char*> ptrs(n);
  std::vector<int> lengths(n);
  for (size_t i = 0; i < n; ++i) {
    ptrs[i] = null_[i] ? nullptr : values_[i].data();
    lengths[i] = static_cast<int>(values_[i].size());
  }
  PGresult* r = pq().PQexecPrepared(conn_.handle(), name_.c_str(), static_cast<int>(n), ptrs.data(),
                               lengths.data(), formats_.data(), /*resultFormat=*/1);
  auto st = pq().PQresultStatus(r);
  if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK) {
    /// A read on a session the server dropped runs again, once (lost_outside_transaction):
    /// after an outage each stale reader cost a hub one 503 (a pusher's rev answered "retry
    /// later" while the ones beside it went through: adapters_cli_pg_hubs_test). Writes do
    /// not: one may have committed before its reply was lost.
    if (conn_.read_only() && !retried_ && conn_.lost_outside_transaction()) {
      pq().PQclear(r);
      retried_ = true;
      int rc = step();
      retried_ = false;
      return rc;
    }
    return conn_.fail(r);
  }
  const char* affected = pq().PQcmdTuples(r);
  conn_.note_changes(affected && *affected ? std::strtoll(affected, nullptr, 10) : 0);
  res_ = r;
  row_ = -1;
  if (returns_id_) {
    if (pq().PQntuples(r) > 0) conn_.note_id(read_be(pq().PQgetvalue(r, 0, 0), pq().PQgetlength(r, 0, 0)));
    return SQLITE_DONE;
  }
  if (st == PGRES_COMMAND_OK) return SQLITE_DONE;
  return step();
}

void pg_statement::reset() {
  pq().PQclear(res_);
  res_ = nullptr;
  row_ = -1;
  std::fill(null_.begin(), null_.end(), true);
}

std::string_view pg_statement::text(int col) const {
  if (pq().PQgetisnull(res_, row_, col)) return {};
  const char* p = pq().PQgetvalue(res_, row_, col);
  int len = pq().PQgetlength(res_, row_, col);
  if (integer_type(pq().PQftype(res_, col))) {
    scratch_ = std::to_string(read_be(p, len));
    return scratch_;
  }
  return {p, static_cast<size_t>(len)};
}

int64_t pg_statement::integer(int col) const {
  if (pq().PQgetisnull(res_, row_, col)) return 0;
  const char* p = pq().PQgetvalue(res_, row_, col);
  int len = pq().PQgetlength(res_, row_, col);
  if (integer_type(pq().PQftype(res_, col))) return read_be(p, len);
  /// A text value holding a number (meta's values).
  return std::strtoll(std::string(p, static_cast<size_t>(len)).c_str(), nullptr, 10);
}

bool pg_statement::is_null(int col) const { return pq().PQgetisnull(res_, row_, col) != 0; }

int pg_statement::column_count() const { return res_ ? pq().PQnfields(res_) : 0; }

// --- pg_connection ---

pg_connection::pg_connection(PGconn* pg, std::string label, bool read_only, int64_t lock_key)
    : connection(std::move(label), read_only), pg_(pg), lock_key_(lock_key) {}

pg_connection::~pg_connection() {
  cache_.clear();
  pq().PQfinish(pg_);
}

expected<std::unique_ptr<pg_connection>> pg_connection::open(const std::string& url,
                                                             std::string label, bool read_only) {
  std::string missing;
  if (!load_libpq(&missing)) return error{errc::io_error, label + ": " + missing};
  /// A host that does not answer must not hold a hub (or a reconnect) for the kernel's TCP
  /// timeout: libpq waits forever unless told.
  std::string target = url;
  auto add = [&target](const std::string& key, const std::string& value) {
    if (target.find(key + "=") != std::string::npos) return;  // the URL's own choice wins
    target += (target.find('?') == std::string::npos ? "?" : "&") + key + "=" + value;
  };
  add("connect_timeout", std::to_string(kPgConnectTimeout.count()));
  add("tcp_user_timeout", std::to_string(kPgTcpUserTimeout.count()));
  add("keepalives_idle", "5");
  add("keepalives_interval", "2");
  add("keepalives_count", "3");
  PGconn* pg = pq().PQconnectdb(target.c_str());
  if (!pg) return error{errc::io_error, label + ": cannot connect (out of memory)"};
  if (pq().PQstatus(pg) != CONNECTION_OK) {
    std::string why = pq().PQerrorMessage(pg);
    while (!why.empty() && (why.back() == '\n' || why.back() == ' ')) why.pop_back();
    pq().PQfinish(pg);
    return error{errc::io_error, label + ": cannot connect (" + why + ")"};
  }
  auto c = std::make_unique<pg_connection>(pg, std::move(label), read_only, 0);
  if (auto st = c->set_up_session(); !st.ok()) return st.err();
  return c;
}

status pg_connection::set_up_session() {
  /// Notices (e.g. "relation already exists, skipping") are not for the user.
  pq().PQsetNoticeProcessor(
      pg_, [](void*, const char*) {}, nullptr);
  if (auto st = exec_now("SET client_min_messages = warning"); !st.ok()) return st;
  std::string timeout =
      "SET statement_timeout = " + std::to_string(kPgStatementTimeout.count() * 1000);
  if (auto st = exec_now(timeout.c_str()); !st.ok()) return st;
  if (read_only_) {
    if (auto st = exec_now("SET default_transaction_read_only = on"); !st.ok()) return st;
  }
  if (listening_) {
    std::string listen = "LISTEN \"" + channel() + "\"";
    if (auto st = exec_now(listen.c_str()); !st.ok()) return st;
  }
  return {};
}

bool pg_connection::usable() {
  if (pq().PQstatus(pg_) == CONNECTION_OK) return true;
  /// Inside a transaction the lost session took the transaction with it: that call fails,
  /// and the next one (outside) reconnects.
  auto now = std::chrono::steady_clock::now();
  if (tx_depth_ == 0 && now >= next_reconnect_) {
    pq().PQreset(pg_);
    if (pq().PQstatus(pg_) == CONNECTION_OK && set_up_session().ok()) {
      ++generation_;  // every prepared statement must be prepared again on the new session
      backoff_ = kPgReconnectFirst;
      return true;
    }
    next_reconnect_ = now + backoff_;
    backoff_ = std::min(backoff_ * 2, kPgReconnectMax);
  }
  last_state_ = "08006";
  last_msg_ = "the connection to PostgreSQL is lost (reconnecting)";
  last_rc_ = SQLITE_IOERR;
  return false;
}

statement* pg_connection::prepare(const char* sql) {
  statement_key k{sql, collection_};
  auto it = cache_.find(k);
  if (it != cache_.end()) {
    it->second->reset();
    return it->second.get();
  }
  auto [text, returns_id] = pg_text(sql);
  text = collection_sql(text, collection_);
  std::string name = "s" + std::to_string(++next_name_);
  bool prepared = usable() && prepare_on_server(name, text);
  if (!prepared && lost_outside_transaction()) prepared = usable() && prepare_on_server(name, text);
  if (!prepared) return nullptr;
  auto s = std::make_unique<pg_statement>(*this, name, text, count_params(text), returns_id);
  return cache_.emplace(k, std::move(s)).first->second.get();
}

bool pg_connection::prepare_on_server(const std::string& name, const std::string& text) {
  PGresult* r = pq().PQprepare(pg_, name.c_str(), text.c_str(), 0, nullptr);
  if (pq().PQresultStatus(r) != PGRES_COMMAND_OK) {
    fail(r);
    last_msg_ += " (in: " + text + ")";
    return false;
  }
  pq().PQclear(r);
  return true;
}

void pg_connection::evict_collection(int64_t c) {
  for (auto it = cache_.begin(); it != cache_.end();) {
    if (it->first.collection == c) {
      /// The server keeps prepared statements until deallocated.
      pq().PQclear(pq().PQexec(pg_, ("DEALLOCATE " + it->second->name()).c_str()));
      it = cache_.erase(it);
    } else {
      ++it;
    }
  }
}

status pg_connection::exec(const char* sql) {
  if (!usable()) return error_for(last_rc_, sql);
  return exec_now(sql);
}

status pg_connection::exec_now(const char* sql) {
  PGresult* r = pq().PQexec(pg_, sql);
  auto st = pq().PQresultStatus(r);
  if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
    int rc = fail(r);
    return error_for(rc, sql);
  }
  pq().PQclear(r);
  return {};
}

bool pg_connection::lost_outside_transaction() const {
  return tx_depth_ == 0 && pq().PQstatus(pg_) == CONNECTION_BAD;
}

status pg_connection::begin(bool write) {
  bool lost = false;
  auto st = begin_once(write, lost);
  /// Nothing ran in the transaction yet: a BEGIN on a dropped session begins again on a new
  /// one. (`lost` is taken before anything reconnects: a ROLLBACK after the failed BEGIN used
  /// to reconnect first, so the session looked fine here and the group commit failed with 503
  /// after an outage.)
  if (!st.ok() && lost) st = begin_once(write, lost);
  return st;
}

status pg_connection::begin_once(bool write, bool& lost) {
  auto failed = [&](status st) {
    lost = lost_outside_transaction();
    /// A lost session took its transaction with it: nothing to roll back.
    if (!lost) exec_now("ROLLBACK");
    return st;
  };
  if (!write || read_only_) {
    if (auto st = exec("BEGIN ISOLATION LEVEL REPEATABLE READ"); !st.ok()) return failed(st);
    return {};
  }
  /// The writers' lock, and the notification the commit will deliver to every hub: sent with
  /// the BEGIN as one simple query, one round trip (a write transaction is ~8 of them).
  std::string begin = "BEGIN; SELECT pg_advisory_xact_lock(" + std::to_string(lock_key_) +
                      "), pg_notify('" + channel() + "', '')";
  if (auto st = exec(begin.c_str()); !st.ok()) return failed(st);
  return {};
}

std::string pg_connection::channel() const { return "peerlite_" + std::to_string(lock_key_); }

int pg_connection::listen_for_commits() {
  if (!usable()) return -1;
  std::string listen = "LISTEN \"" + channel() + "\"";
  if (!exec(listen.c_str()).ok()) return -1;
  listening_ = true;
  return listen_fd_ = pq().PQsocket(pg_);
}

bool pg_connection::drain_commit_notifications(bool& broken) {
  broken = false;
  /// A reconnect (see usable) listens again, but on a new socket the caller does not poll.
  if (pq().PQstatus(pg_) != CONNECTION_OK || pq().PQsocket(pg_) != listen_fd_ || !pq().PQconsumeInput(pg_)) {
    broken = true;
    return false;
  }
  bool any = false;
  while (PGnotify* n = pq().PQnotifies(pg_)) {
    any = true;
    pq().PQfreemem(n);
  }
  return any;
}

int pg_connection::fail(PGresult* res) {
  const char* state = res ? pq().PQresultErrorField(res, PG_DIAG_SQLSTATE) : nullptr;
  last_state_ = state ? state : "";
  const char* msg = res ? pq().PQresultErrorMessage(res) : nullptr;
  last_msg_ = msg && *msg ? msg : pq().PQerrorMessage(pg_);
  while (!last_msg_.empty() && (last_msg_.back() == '\n' || last_msg_.back() == ' '))
    last_msg_.pop_back();
  pq().PQclear(res);
  if (last_state_ == "23505") return last_rc_ = SQLITE_CONSTRAINT;
  if (last_state_ == "25006") return last_rc_ = SQLITE_READONLY;
  if (last_state_ == "42P01" || last_state_ == "42703") return last_rc_ = SQLITE_ERROR;
  return last_rc_ = SQLITE_IOERR;
}

error pg_connection::error_for(int rc, std::string_view what) const {
  /// A lost session, a server shutting down or not accepting connections yet: the caller
  /// may retry once it is back (SQLSTATE classes 08 and 57P).
  if (pq().PQstatus(pg_) != CONNECTION_OK || last_state_.starts_with("08") ||
      last_state_.starts_with("57P"))
    return {errc::unavailable, label_ + ": " + std::string(what) + ": " + last_msg_};
  switch (rc & 0xFF) {
    case SQLITE_READONLY:
      return {errc::read_only, label_ + ": the database is read-only"};
    default:
      return {errc::io_error, label_ + ": " + std::string(what) + ": " + last_msg_};
  }
}

error pg_connection::last_error(std::string_view what) const {
  return error_for(last_rc_ ? last_rc_ : SQLITE_IOERR, what);
}

status pg_connection::stream_blob(int64_t row, const std::string& digest,
                                  const std::function<status(std::string_view)>& sink,
                                  size_t chunk) {
  static constexpr char kBlobById[] = "SELECT data FROM blobs WHERE id = ?1";
  statement* s = prepare(kBlobById);
  if (!s) return last_error("prepare");
  s->bind(1, row);
  int rc = s->step();
  if (rc != SQLITE_ROW) {
    s->reset();
    if (rc == SQLITE_DONE) return error{errc::not_found, label_ + ": no blob " + digest};
    return error_for(rc, "read blob " + digest);
  }
  std::string_view data = s->blob(0);
  status result;
  for (size_t at = 0; at < data.size() && result.ok(); at += chunk)
    result = sink(data.substr(at, chunk));
  if (data.empty() && result.ok()) result = sink({});
  s->reset();
  return result;
}

// --- schema ---

namespace {

/// The advisory lock key of the whole database while its schema is created: a constant, so
/// that two hubs starting at once on an empty database take turns.
constexpr int64_t kSchemaLockKey = kApplicationId;

expected<std::string> meta_value(pg_connection& c, const char* key) {
  statement* s = c.prepare(sql::kGetMeta);
  if (!s) return c.last_error("prepare");
  s->bind(1, std::string_view(key));
  int rc = s->step();
  std::string v = rc == SQLITE_ROW ? std::string(s->text(0)) : "";
  s->reset();
  if (rc != SQLITE_ROW && rc != SQLITE_DONE) return c.error_for(rc, "read meta");
  if (rc == SQLITE_DONE) return error{errc::not_found, key};
  return v;
}

/// Each database's writers share one lock key, derived from its private UUID.
int64_t lock_key_of(const std::string& private_uuid) {
  uint64_t k = 0;
  for (size_t i = 0; i < 16 && i < private_uuid.size(); ++i) {
    char ch = private_uuid[i];
    k = (k << 4) | static_cast<uint64_t>(ch <= '9' ? ch - '0' : ch - 'a' + 10);
  }
  return static_cast<int64_t>(k);
}

}  // namespace

/// Whether the database holds peerlite's schema yet.
constexpr char kHasMeta[] =
    "SELECT count(*) FROM information_schema.tables WHERE table_schema = current_schema() "
    "AND table_name = 'meta'";

status pg_check_or_create_schema(pg_connection& c, bool writable, bool create) {
  auto has_meta = c.query_int(kHasMeta);
  if (!has_meta) return has_meta.err();
  if (*has_meta == 0) {
    if (!writable || !create)
      return error{errc::not_found, c.label() + ": no peerlite database there yet"};
    c.set_lock_key(kSchemaLockKey);
    transaction tx(c, true);
    if (!tx.begun().ok()) return tx.begun();
    /// Another hub may have created it while this one waited for the lock.
    auto again = c.query_int(kHasMeta);
    if (!again) return again.err();
    if (*again == 0) {
      auto tables = c.query_int(
          "SELECT count(*) FROM information_schema.tables WHERE table_schema = current_schema()");
      if (!tables) return tables.err();
      if (*tables != 0) return error{errc::not_a_database, c.label() + ": not a peerlite database"};
      if (auto st = c.exec(kPgSchema); !st.ok()) return st;
      const std::pair<const char*, std::string> rows[] = {
          {"application_id", std::to_string(kApplicationId)},
          {"schema_version", std::to_string(kSchemaVersion)},
          {"private_uuid", random_hex_uuid()},
          {"public_uuid", random_hex_uuid()}};
      for (const auto& [key, value] : rows) {
        statement* s = c.prepare(sql::kSetMeta);
        if (!s) return c.last_error("prepare");
        s->bind(1, std::string_view(key));
        s->bind(2, std::string_view(value));
        int rc = s->step();
        s->reset();
        if (rc != SQLITE_DONE) return c.error_for(rc, "create database");
      }
    }
    if (auto st = tx.commit(); !st.ok()) return st;
  }
  auto app = meta_value(c, "application_id");
  if (!app || *app != std::to_string(kApplicationId))
    return error{errc::not_a_database, c.label() + ": not a peerlite database"};
  auto version = meta_value(c, "schema_version");
  if (!version) return error{errc::not_a_database, c.label() + ": not a peerlite database"};
  if (std::strtoll(version->c_str(), nullptr, 10) > kSchemaVersion)
    return error{errc::not_a_database, c.label() + ": schema version " + *version +
                                           " is newer than " + std::to_string(kSchemaVersion) +
                                           " (this peerlite is too old for it)"};
  auto uuid = meta_value(c, "private_uuid");
  if (!uuid) return uuid.err();
  c.set_lock_key(lock_key_of(*uuid));
  return {};
}

}  // namespace peerlite::store
