// Opening a database: path checks, schema check or creation, pragmas, readers.
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <thread>

#include "store/database.hpp"
#include "store/pg.hpp"
#include "store/schema.hpp"
#include "store/sqlite.hpp"
#include "store/tuning.hpp"

namespace peerlite::store {

namespace {

/// What the path is before SQLite sees it.
struct path_facts {
  bool exists = false;
  bool writable = true;
};

expected<path_facts> inspect_path(const std::string& path, const options& opts) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    if (errno != ENOENT) return error{errc::io_error, path + ": " + std::strerror(errno)};
    if (!opts.create_if_missing || opts.read_only) {
      return error{errc::not_found, path + ": no such database file"};
    }
    return path_facts{false, true};
  }
  if (S_ISDIR(st.st_mode)) return error{errc::io_error, path + ": is a directory, not a database"};
  if (!S_ISREG(st.st_mode)) return error{errc::io_error, path + ": not a regular file"};
  /// root passes access(W_OK) on any file: a file without write bits counts as read-only too.
  bool writable = (st.st_mode & 0222) != 0 && ::access(path.c_str(), W_OK) == 0;
  return path_facts{true, writable};
}

/// Creates the schema on an empty file, or checks that the file is a peerlite database of a
/// schema we understand. Touches nothing before the check passes.
status check_or_create_schema(connection& c, bool writable) {
  auto app_id = c.query_int("PRAGMA application_id");
  if (!app_id) return app_id.err();
  auto version = c.query_int("PRAGMA user_version");
  if (!version) return version.err();
  auto tables = c.query_int(sql::kCountTables);
  if (!tables) return tables.err();
  if (*app_id == kApplicationId) {
    if (*version > kSchemaVersion) {
      return error{errc::not_a_database,
                   c.label() + ": schema version " + std::to_string(*version) + " is newer than " +
                       std::to_string(kSchemaVersion) + " (this peerlite is too old for it)"};
    }
    if (*version == kSchemaVersion) {
      if (!writable) return {};
      return c.exec(sql::kCreateConflictedIndex);
    }
    /// An older peerlite file: add what the newer schema has (read-only, it is used as it is;
    /// remote-revision lookups then find nothing).
    if (*version == 1 || *version == 2) {
      if (!writable) return {};
      transaction tx(c, true);
      if (!tx.begun().ok()) return tx.begun();
      if (auto st = c.exec(sql::kSchemaVersion2); !st.ok()) return st;
      if (auto st = c.exec(sql::kSchemaVersion3); !st.ok()) return st;
      if (auto st = c.exec(sql::kCreateConflictedIndex); !st.ok()) return st;
      if (auto st = c.exec("PRAGMA user_version = 3;"); !st.ok()) return st;
      return tx.commit();
    }
  }
  if (*app_id != 0 || *version != 0 || *tables != 0) {
    return error{errc::not_a_database, c.label() + ": not a peerlite database"};
  }
  if (!writable) return error{errc::not_a_database, c.label() + ": empty file, not a database"};
  transaction tx(c, true);
  if (!tx.begun().ok()) return tx.begun();
  if (auto st = c.exec(sql::kCreateSchema); !st.ok()) return st;
  if (auto st = c.exec(sql::kSchemaVersion2); !st.ok()) return st;
  if (auto st = c.exec(sql::kSchemaVersion3); !st.ok()) return st;
  if (auto st = c.exec(sql::kCreateConflictedIndex); !st.ok()) return st;
  std::string pragmas = "PRAGMA application_id = " + std::to_string(kApplicationId) +
                        "; PRAGMA user_version = " + std::to_string(kSchemaVersion) + ";";
  if (auto st = c.exec(pragmas.c_str()); !st.ok()) return st;
  for (const char* key : {"private_uuid", "public_uuid"}) {
    statement* s = c.prepare(sql::kSetMeta);
    std::string uuid = random_hex_uuid();
    s->bind(1, std::string_view(key));
    s->bind(2, std::string_view(uuid));
    int rc = s->step();
    s->reset();
    if (rc != SQLITE_DONE) return c.error_for(rc, "create database");
  }
  return tx.commit();
}

status apply_pragmas(sqlite_connection& c, bool writable, bool in_memory,
                     int64_t cache_kib = kCacheSizeKiB) {
  std::string pragmas = "PRAGMA cache_size = -" + std::to_string(cache_kib) + ";";
  if (writable && !in_memory) pragmas += "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;";
  if (!writable) pragmas += "PRAGMA query_only = 1;";
  /// Switching a file to WAL needs it alone for a moment, and SQLite can answer SQLITE_BUSY
  /// without calling the busy handler (another process that just opened the same new file,
  /// e.g. `peerlite get` polling it while `peerlite sync` creates it). Retry for as long as a
  /// busy lock is waited for anywhere else.
  auto st = c.exec(pragmas.c_str());
  for (auto until = std::chrono::steady_clock::now() + kBusyTimeout;
       !st.ok() && (sqlite3_errcode(c.handle()) & 0xFF) == SQLITE_BUSY &&
       std::chrono::steady_clock::now() < until;) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    st = c.exec(pragmas.c_str());
  }
  return st;
}

std::string memory_uri() {
  static std::atomic<uint64_t> counter{0};
  return "file:peerlite-mem-" + std::to_string(::getpid()) + "-" + std::to_string(++counter) +
         "?mode=memory&cache=shared";
}

/// A file: URI for `path` (percent-encoding what URIs reserve) with `query`.
std::string file_uri(const std::string& path, const char* query) {
  std::string out = "file:";
  for (char ch : path) {
    if (ch == '%' || ch == '?' || ch == '#') {
      char buf[4];
      std::snprintf(buf, sizeof buf, "%%%02X", static_cast<unsigned char>(ch));
      out += buf;
    } else {
      out += ch;
    }
  }
  return out + "?" + query;
}

bool has_wal(const std::string& path) {
  struct stat st {};
  return ::stat((path + "-wal").c_str(), &st) == 0 && st.st_size > 0;
}

/// How to open a file: (uri, flags). A file nobody may write (and without a pending WAL) is
/// opened immutable, so reading it creates no -wal/-shm files beside it.
std::pair<std::string, int> open_target(const std::string& path, bool writable,
                                        bool file_writable) {
  if (path == ":memory:") {
    return {memory_uri(), SQLITE_OPEN_URI | SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE};
  }
  if (writable) return {path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE};
  if (!file_writable && !has_wal(path)) {
    return {file_uri(path, "immutable=1"), SQLITE_OPEN_URI | SQLITE_OPEN_READONLY};
  }
  /// Plain paths are opened without URI parsing so that '?' or '#' in a name stays literal.
  return {path, SQLITE_OPEN_READONLY};
}

}  // namespace

reader::reader(std::unique_ptr<connection> conn, std::string path)
    : conn_(std::move(conn)), path_(std::move(path)) {}

reader::~reader() = default;

status reader::load_meta() {
  for (auto [key, out] :
       {std::pair{"private_uuid", &private_uuid_}, {"public_uuid", &public_uuid_}}) {
    statement* s = conn_->prepare(sql::kGetMeta);
    if (!s) return conn_->last_error("prepare");
    s->bind(1, std::string_view(key));
    int rc = s->step();
    if (rc != SQLITE_ROW) {
      s->reset();
      return conn_->error_for(rc, "read database identity");
    }
    out->assign(s->text(0));
    s->reset();
  }
  return {};
}

database::database(std::unique_ptr<connection> conn, std::string path, options opts)
    : reader(std::move(conn), std::move(path)), opts_(opts) {}

database::~database() = default;

bool database::is_read_only() const { return conn_->read_only(); }

expected<std::unique_ptr<database>> database::open(const std::string& path, options opts) {
  if (is_pg_url(path)) {
    auto conn = pg_connection::open(path, redact_pg_url(path), opts.read_only);
    if (!conn) return conn.err();
    if (auto st = pg_check_or_create_schema(**conn, !opts.read_only, opts.create_if_missing);
        !st.ok())
      return st.err();
    int64_t key = (*conn)->lock_key();
    std::unique_ptr<database> db(new database(std::move(*conn), redact_pg_url(path), opts));
    db->reader_uri_ = path;
    db->pg_lock_key_ = key;
    if (auto st = db->load_meta(); !st.ok()) return st.err();
    return db;
  }
  bool in_memory = path == ":memory:";
  bool file_writable = true;
  if (!in_memory) {
    auto facts = inspect_path(path, opts);
    if (!facts) return facts.err();
    file_writable = facts->writable;
  }
  bool writable = in_memory || (!opts.read_only && file_writable);
  auto [uri, flags] = open_target(path, writable, file_writable);
  auto conn = sqlite_connection::open(uri, path, flags, !writable);
  if (!conn) return conn.err();
  if (auto st = check_or_create_schema(**conn, writable); !st.ok()) return st.err();
  if (auto st = apply_pragmas(**conn, writable, in_memory); !st.ok()) return st.err();
  std::unique_ptr<database> db(new database(std::move(*conn), path, opts));
  db->reader_uri_ = uri;
  db->reader_flags_ = in_memory ? SQLITE_OPEN_URI | SQLITE_OPEN_READWRITE
                                : (flags & SQLITE_OPEN_URI) | SQLITE_OPEN_READONLY;
  if (auto st = db->load_meta(); !st.ok()) return st.err();
  return db;
}

expected<std::unique_ptr<reader>> database::open_reader() {
  if (pg_lock_key_) {
    auto conn = pg_connection::open(reader_uri_, path_, true);
    if (!conn) return conn.err();
    (*conn)->set_lock_key(pg_lock_key_);
    std::unique_ptr<reader> r(new reader(std::move(*conn), path_));
    if (auto st = r->load_meta(); !st.ok()) return st.err();
    return r;
  }
  bool in_memory = path_ == ":memory:";
  auto conn = sqlite_connection::open(reader_uri_, path_, reader_flags_, true);
  if (!conn) return conn.err();
  if (auto st = apply_pragmas(**conn, false, in_memory, kReaderCacheSizeKiB); !st.ok())
    return st.err();
  std::unique_ptr<reader> r(new reader(std::move(*conn), path_));
  if (auto st = r->load_meta(); !st.ok()) return st.err();
  return r;
}

}  // namespace peerlite::store
