// `peerlite serve`: the hub. Serves one database to any number of peers over WebSocket
// (ws://, our URLEndpointListener) and/or raw TCP (tcp://), one passive replicator each.
#include <malloc.h>
#include <sqlite3.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string_view>
#include <vector>

#include "adapters/tcp/io_runtime.hpp"
#include "adapters/tcp/net_tuning.hpp"
#include "adapters/tcp/process_resources.hpp"
#include "adapters/tcp/url.hpp"
#include "adapters/websocket/ws_credentials.hpp"
#include "peerlite/database.hpp"
#include "peerlite/hub.hpp"
#include "peerlite/message_endpoint_listener.hpp"
#include "store/database.hpp"
#include "tools/admin_server.hpp"
#include "tools/commands.hpp"
#include "tools/serve_support.hpp"

namespace peerlite::tools {
namespace {

/// How often the hub prints its status line.
constexpr std::chrono::seconds kStatusInterval{5};
/// How often the hub looks whether connections have ended (see return_freed_memory).
constexpr std::chrono::milliseconds kTrimCheckInterval{500};
/// How long after connections end, or traffic stops, serve keeps trimming at each check.
constexpr std::chrono::seconds kTrimAfterDrop{5};
/// Longest shutdown waits for every connection to reach STOPPED: the engine's close timeout
/// (5 s) plus slack; after it the hub exits anyway.
constexpr std::chrono::seconds kShutdownTimeout{8};

struct serve_options {
  std::string db, name, user;
  std::string admin;  ///< --admin [HOST:]PORT; empty = no admin server
  std::vector<std::string> listen;
  std::vector<std::string> collections;
  bool read_only = false;
  unsigned idle_timeout_s = static_cast<unsigned>(net::kWsIdleTimeout.count());
  // TLS (wss://, tls://)
  std::string cert, key;
  bool self_signed = false;
  // limits
  unsigned handshake_timeout_s = static_cast<unsigned>(net::kWsHandshakeTimeout.count());
  size_t max_frame_bytes = net::kWsMaxMessage;
  size_t max_unreplied_requests = listener_config{}.max_unreplied_requests;
  size_t max_connections = net::kMaxConnections;
  size_t max_connections_per_address = net::kMaxConnectionsPerAddress;
};

/// serve's own checks of the TLS flags, with its flag names (the hub checks the same).
void check_tls_flags(const serve_options& o) {
  bool wanted = false;
  for (auto& text : o.listen)
    if (auto url = net::parse_url(text); url && url->secure()) wanted = true;
  if (!wanted && (!o.cert.empty() || o.self_signed))
    fail("serve", "--cert/--key/--self-signed need a wss:// or tls:// --listen");
  if (wanted && !o.self_signed && (o.cert.empty() || o.key.empty()))
    fail("serve", "wss:// and tls:// need --cert FILE and --key FILE, or --self-signed");
}

/// Couchbase Lite's rule for a database name in a URL: it starts with a lower-case letter and
/// holds only lower-case letters, digits and _$()+-/ (a CBL peer refuses any other name, e.g.
/// /H1). We also refuse '/': a peerlite URL carries the name as one path segment.
constexpr const char* kNameRule =
    "Couchbase Lite peers only accept database names in URLs that start with a lower-case "
    "letter and hold only a-z, 0-9 and _$()+-";

std::string ascii_lower(std::string s) {
  for (auto& c : s)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return s;
}

/// A valid name close to `name`, to suggest in an error: lower-cased, each run of other
/// characters as one '_', and "db_" in front when it would not start with a letter.
std::string suggested_name(const std::string& name) {
  std::string out;
  for (char c : ascii_lower(name)) {
    if (is_hub_name_char(c))
      out += c;
    else if (out.empty() || out.back() != '_')
      out += '_';
  }
  if (out.empty() || out.front() < 'a' || out.front() > 'z') out = "db_" + out;
  return out;
}

/// The name in the hub's URLs: --name as given, else the file's stem lower-cased (saying so
/// when that changed it: `serve --db H1.sqlite` used to serve /H1 silently, which Couchbase
/// Lite peers cannot reach). Any other invalid name fails with a --name to use instead.
std::string served_name(const serve_options& o) {
  if (!o.name.empty()) {
    if (!is_valid_hub_name(o.name))
      fail("serve",
           "--name " + o.name + ": " + kNameRule + "; try --name " + suggested_name(o.name));
    return o.name;
  }
  auto file = std::filesystem::path(o.db).filename().string();
  auto stem = std::filesystem::path(o.db).stem().string();
  if (store::is_pg_url(o.db)) {
    /// postgresql://user@host:port/dbname?options: served under the PostgreSQL database's name.
    auto rest = o.db.substr(o.db.find("://") + 3);
    auto slash = rest.find('/');
    stem =
        slash == std::string::npos ? "" : rest.substr(slash + 1, rest.find('?', slash) - slash - 1);
    file = "PostgreSQL database '" + stem + "'";
    if (stem.empty())
      fail("serve", "the --db URL names no database (postgresql://HOST/DBNAME); pass --name");
  }
  auto name = ascii_lower(stem);
  if (!is_valid_hub_name(name))
    fail("serve", "cannot name the database in URLs after " + file + " ('" + stem +
                      "'): " + kNameRule + "; pass --name, e.g. --name " + suggested_name(stem));
  /// Not "serving ...": scripts wait for that line to read the URLs.
  if (name != stem)
    log_line(file + " is served as /" + name +
             ": Couchbase Lite peers only accept lower-case database names in URLs "
             "(--name picks another)");
  return name;
}

/// One log line per connection opened, closed or refused.
void log_event(const hub_event& e) {
  switch (e.kind) {
    case hub_event::opened:
      return log_line("opened " + e.transport + " " + e.peer);
    case hub_event::closed:
      return log_line("closed " + e.transport + " " + e.peer + ": " + e.reason);
    case hub_event::refused:
      return log_line("refused " + e.transport + " " + e.peer + ": " + e.reason);
  }
}

void print_status(const hub& h, uint64_t& last_in, uint64_t& last_out,
                  std::chrono::steady_clock::time_point& last) {
  auto now = std::chrono::steady_clock::now();
  auto in = h.docs_in(), out = h.docs_out();
  char text[300];
  /// Memory as two figures: the process's resident set, and the part of the heap SQLite holds
  /// (page caches, schemas, statements), which grows with the database up to the caches' caps
  /// (store/tuning.hpp) rather than with time.
  std::snprintf(
      text, sizeof text,
      "status: %zu connections, in %.0f docs/s, out %.0f docs/s (total in %llu, out %llu), "
      "RSS %.1f MiB, SQLite heap %.1f MiB",
      h.live_connections(), per_second(in - last_in, now - last),
      per_second(out - last_out, now - last), (unsigned long long)in, (unsigned long long)out,
      double(net::rss_kib(getpid())) / 1024, double(sqlite3_memory_used()) / (1024 * 1024));
  log_line(text);
  last_in = in;
  last_out = out;
  last = now;
}

/// After connections end, hands the freed heap back to the system. glibc keeps freed blocks
/// for reuse, so after a burst of 1,000 connections the hub's RSS stayed at its peak
/// (16.7 -> 31.6 MiB in tests/adapters/cli_bad_input_test.cpp) although nothing was live.
/// malloc_trim(0) returns whole free pages from every arena; it runs only for a while after
/// connections ended, so a steady hub pays nothing.
///
/// "Ended" is counted (accepted minus live), not seen as a drop of the live count between two
/// checks: a burst that opens and closes 1,000 connections within one check interval leaves
/// the live count at 0 at both checks, and nothing was trimmed (+10 to +14 MiB for good).
/// Trimmed on every check for kTrimAfterDrop, not once: connection actors and their sockets
/// free their state over the next moments (CAF destroys an actor after its last message, on
/// a worker thread with its own arena), and what one trim comes too early for stayed resident.
///
/// The end of a burst of traffic on connections that stay open counts too: 20 continuous
/// peers catching up at once after a hub restart left 4 to 9 MiB of freed buffers resident
/// (the soak's RssAnon 1.8 -> 10.5 MiB) until some connection happened to close. A hub whose
/// traffic never stops never trims.
struct trim_watch {
  uint64_t ended = 0;    ///< connections ended at the last check
  uint64_t traffic = 0;  ///< docs in + out at the last check
  bool moving = false;   ///< traffic grew between the last two checks
  std::chrono::steady_clock::time_point trim_until{};
};

void return_freed_memory(const hub& h, trim_watch& w) {
  auto now = std::chrono::steady_clock::now();
  auto live = h.live_connections();
  auto accepted = h.accepted_connections();
  uint64_t ended = accepted > live ? accepted - live : 0;
  uint64_t traffic = h.docs_in() + h.docs_out();
  bool moving = traffic != w.traffic;
  if (ended > w.ended || (w.moving && !moving)) w.trim_until = now + kTrimAfterDrop;
  if (now <= w.trim_until) malloc_trim(0);
  w.ended = std::max(w.ended, ended);
  w.traffic = traffic;
  w.moving = moving;
}

void run_serve(const serve_options& o) {
  install_stop_signals();
  auto nofile = raise_open_files_limit();
  auto creds = o.user.empty() ? std::optional<net::credentials>(net::credentials{})
                              : net::parse_user_option(o.user);
  if (!creds) fail("serve", "--user wants NAME:PASSWORD, got '" + o.user + "'");
  check_tls_flags(o);
  auto name = served_name(o);  // before open: a refused name creates no file
  auto db = database::open(o.db);
  if (!db) fail("serve", db.err());
  for (auto& c : o.collections)
    if (auto made = db->create_collection(c); !made) fail("serve", made.err());
  hub_options ho;
  ho.listen = o.listen;
  ho.name = name;
  ho.read_only = o.read_only;
  ho.user = creds->user;
  ho.password = creds->password;
  ho.collections = o.collections;
  ho.cert_file = o.cert;
  ho.key_file = o.key;
  ho.self_signed = o.self_signed;
  ho.idle_timeout = std::chrono::seconds(o.idle_timeout_s);
  ho.handshake_timeout = std::chrono::seconds(o.handshake_timeout_s);
  ho.max_frame_bytes = o.max_frame_bytes;
  ho.max_connections = o.max_connections;
  ho.max_connections_per_address = o.max_connections_per_address;
  ho.max_unreplied_requests = o.max_unreplied_requests;
  ho.on_event = log_event;
  auto started = hub::start(*db, std::move(ho));
  if (!started) fail("serve", started.err());
  auto& h = **started;
  if (auto& c = h.certificate())
    log_line(std::string(c->created ? "made" : "using") + " self-signed TLS certificate " +
             c->cert_file + " (SHA-256 " + c->sha256 + "; clients pin it with --pinned-cert)");
  /// The admin server has its own socket thread, and stops before the hub it reads goes.
  std::unique_ptr<net::io_runtime> admin_io;
  std::unique_ptr<admin_server> admin;
  if (!o.admin.empty()) {
    admin_io = std::make_unique<net::io_runtime>(1);
    admin = start_admin_or_fail(o.admin, *admin_io, h);
  }
  std::string where;
  for (auto& u : h.urls()) where += (where.empty() ? "" : ", ") + u;
  log_line("serving " + db->path() + " at " + where + " (open files limit " +
           std::to_string(nofile) + (o.user.empty() ? "" : ", Basic auth") +
           (o.read_only ? ", read-only" : "") + ")");
  uint64_t last_in = 0, last_out = 0;
  auto last = std::chrono::steady_clock::now();
  trim_watch trims;
  while (!stop_requested()) {
    sleep_unless_stopped(kTrimCheckInterval);
    if (stop_requested()) break;
    return_freed_memory(h, trims);
    if (std::chrono::steady_clock::now() - last >= kStatusInterval)
      print_status(h, last_in, last_out, last);
  }
  h.stop_listening();
  admin.reset();
  admin_io.reset();
  log_line("stopping: closing " + std::to_string(h.live_connections()) + " connections");
  h.close_all();
  bool clean = h.wait_all_stopped(kShutdownTimeout);
  log_line(clean ? "stopped" : "stopped (some connections did not close in time)");
}

void add_serve_command(CLI::App& app) {
  auto o = std::make_shared<serve_options>();
  auto* cmd = app.add_subcommand("serve", "Run a sync hub that peers replicate with");
  cmd->footer(
      "Serves --db to any number of peers (`peerlite sync`, or Couchbase Lite "
      "over WebSocket), one passive replicator per connection. WebSocket peers connect to "
      "ws://HOST:PORT/NAME (the path /NAME/_blipsync); other names get 404. Logs a line per "
      "connection opened/closed/refused and a status line every 5 s. Ctrl-C or SIGTERM closes "
      "every connection and exits 0.");
  cmd->add_option("--db", o->db,
                  "the database to serve: an SQLite file (created if missing) or a "
                  "postgresql://HOST/DBNAME URL, which several hubs may share")
      ->required();
  cmd->add_option("--name", o->name,
                  "the database name in URLs (default: the file's stem, lower-cased); must "
                  "start with a-z and hold only a-z, 0-9 and _$()+- (Couchbase Lite's rule)");
  cmd->add_option("--listen", o->listen,
                  "where to accept peers: ws://127.0.0.1:4984 (WebSocket) and/or "
                  "tcp://127.0.0.1:4985 (raw TCP byte stream), or wss:// / tls:// for the "
                  "same over TLS (needs --cert/--key or --self-signed); port 0 picks a free "
                  "port; repeat for several")
      ->required();
  cmd->add_flag("--readonly", o->read_only, "refuse pushes (peers may only pull)");
  cmd->add_option("--collection", o->collections,
                  "SCOPE.NAME of a collection to serve to collection-aware peers (repeat for "
                  "several; created when missing; _default for the default one). Without it "
                  "every collection in the file is served");
  cmd->add_option("--user", o->user,
                  "NAME:PASSWORD that WebSocket peers must send (HTTP Basic auth; else 401)");
  cmd->add_option("--admin", o->admin,
                  "[HOST:]PORT of a plain-HTTP admin server (off by default): / a live status "
                  "page, /metrics Prometheus metrics, /_status the same as JSON. HOST defaults "
                  "to 127.0.0.1 (no auth: keep it on loopback); port 0 picks a free port; the "
                  "hub logs 'admin at http://HOST:PORT/'");
  cmd->add_option("--idle-timeout", o->idle_timeout_s,
                  "seconds of silence after which a peer is dropped (the hub PINGs at half of "
                  "it; healthy peers answer)")
      ->check(CLI::Range(1u, 86400u));
  auto* cert = cmd->add_option("--cert", o->cert,
                               "wss:// and tls://: the server's certificate chain (PEM, leaf "
                               "first)");
  auto* key =
      cmd->add_option("--key", o->key, "wss:// and tls://: the certificate's private key (PEM)");
  cert->needs(key);
  key->needs(cert);
  cmd->add_flag("--self-signed", o->self_signed,
                "wss:// and tls:// without --cert/--key: make a key and a self-signed "
                "certificate on first start, keep them beside --db (DB.cert.pem, DB.key.pem), "
                "and log the certificate's SHA-256 for clients' --pinned-cert")
      ->excludes(cert)
      ->excludes(key);
  cmd->add_option("--handshake-timeout", o->handshake_timeout_s,
                  "seconds a new connection has to finish its TLS handshake and HTTP upgrade; "
                  "slower ones (half-open, a header a byte a second) are dropped")
      ->check(CLI::Range(1u, 3600u))
      ->capture_default_str();
  cmd->add_option("--max-frame-bytes", o->max_frame_bytes,
                  "largest WebSocket message a peer may send; a bigger one closes its "
                  "connection (one BLIP frame is at most ~16 KiB)")
      ->check(CLI::Range(size_t(64 * 1024), size_t(64) << 20))
      ->capture_default_str();
  cmd->add_option("--max-connections", o->max_connections,
                  "most connections at once; more are refused (HTTP 503 over WebSocket, closed "
                  "over tcp://); 0 = no limit")
      ->capture_default_str();
  cmd->add_option("--max-connections-per-address", o->max_connections_per_address,
                  "most connections at once from one client IP address (HTTP 503 beyond); 0 = "
                  "no limit (the default: fleets behind one NAT share an address)")
      ->capture_default_str();
  cmd->add_option("--max-unreplied-requests", o->max_unreplied_requests,
                  "most requests one peer may have sent that the hub has not answered yet; one "
                  "more closes its connection (a flood); 0 = no limit. A peerlite peer keeps up "
                  "to ~6,000 unanswered, Couchbase Lite ~15")
      ->capture_default_str();
  cmd->callback([o] { run_serve(*o); });
}

const bool registered = register_commands(20, {"serve"}, add_serve_command);

}  // namespace
}  // namespace peerlite::tools
