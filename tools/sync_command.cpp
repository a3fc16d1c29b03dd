// `peerlite sync`: the active peer. Replicates a local database with a remote one over the
// built-in WebSocket or TCP adapter, once or continuously, with progress on the way.
#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <memory>
#include <mutex>

#include "adapters/tcp/io_runtime.hpp"
#include "adapters/websocket/net_endpoint.hpp"
#include "peerlite/database.hpp"
#include "peerlite/replicator.hpp"
#include "store/database.hpp"
#include "tools/commands.hpp"
#include "tools/serve_support.hpp"

namespace peerlite::tools {
namespace {

/// How often progress is redrawn on a terminal.
constexpr std::chrono::milliseconds kBarInterval{200};
/// How often a plain progress line is printed when stdout is not a terminal.
constexpr std::chrono::seconds kPlainInterval{2};

struct sync_options {
  std::string db, remote, user;
  net::tls_client_options tls;
  std::vector<std::string> collections;
  bool push = false, pull = false, push_and_pull = false, continuous = false, reset = false;
};

/// Collects status and document events from peerlite's threads; the main thread prints.
class sync_watch {
 public:
  explicit sync_watch(bool tty) : tty_(tty) {}

  void on_status(const replicator_status& s) {
    std::lock_guard lk(mx_);
    status_ = s;
    if (s.activity == activity_level::stopped && !stopped_) {
      stopped_ = true;
      stopped_at_ = std::chrono::steady_clock::now();
      cv_.notify_all();
    }
    if (s.activity == activity_level::offline && s.err.code != errc::ok) {
      pending_lines_.push_back("offline: " + s.err.message + " (will retry)");
      cv_.notify_all();
    }
  }
  void on_docs(const std::vector<replicated_document>& docs) {
    std::lock_guard lk(mx_);
    for (auto& d : docs) {
      if (d.err.code != errc::ok)
        ++failed_;
      else if (d.direction == replication_direction::push)
        ++pushed_;
      else
        ++pulled_;
    }
  }
  bool stopped() {
    std::lock_guard lk(mx_);
    return stopped_;
  }
  /// Waits until the replicator stops, a line is waiting to be printed, a stop signal
  /// arrives (wake()) or `d` passes.
  void wait(std::chrono::milliseconds d) {
    std::unique_lock lk(mx_);
    cv_.wait_for(lk, d, [&] { return stopped_ || !pending_lines_.empty() || stop_requested(); });
  }
  /// Wakes wait() (a stop signal arrived).
  void wake() {
    std::lock_guard lk(mx_);
    cv_.notify_all();
  }
  /// How long the main loop may sleep: the bar's redraw interval on a terminal; otherwise
  /// until the next plain line is due, so an idle continuous peer does not wake 5 times a second.
  std::chrono::milliseconds next_wait() {
    if (tty_) return kBarInterval;
    std::lock_guard lk(mx_);
    auto due = last_plain_ + kPlainInterval - std::chrono::steady_clock::now();
    return std::clamp(std::chrono::duration_cast<std::chrono::milliseconds>(due), kBarInterval,
                      std::chrono::milliseconds(kPlainInterval));
  }
  replicator_status final_status() {
    std::lock_guard lk(mx_);
    return status_;
  }

  /// Redraws the bar (terminal) or prints a line every kPlainInterval (otherwise).
  void show(bool force = false) {
    std::lock_guard lk(mx_);
    for (auto& l : pending_lines_) {
      if (tty_) std::printf("\r\033[K");
      log_line(l);
    }
    pending_lines_.clear();
    auto now = std::chrono::steady_clock::now();
    if (!tty_ && !force && now - last_plain_ < kPlainInterval) return;
    last_plain_ = now;
    auto& p = status_.progress;
    double rate = per_second(pushed_ + pulled_, now - started_);
    char text[160];
    std::snprintf(text, sizeof text, "%-10s %llu/%llu docs (%llu pushed, %llu pulled) %.0f docs/s",
                  to_string(status_.activity), (unsigned long long)p.completed,
                  (unsigned long long)p.total, (unsigned long long)pushed_,
                  (unsigned long long)pulled_, rate);
    if (tty_) {
      std::printf("\r\033[K%s %s", bar(p).c_str(), text);
      std::fflush(stdout);
    } else {
      log_line(std::string("sync: ") + text);
    }
  }

  std::string summary() {
    std::lock_guard lk(mx_);
    auto elapsed = (stopped_ ? stopped_at_ : std::chrono::steady_clock::now()) - started_;
    char text[200];
    std::snprintf(text, sizeof text,
                  "sync: done: %llu pushed, %llu pulled, %llu failed in %.2f s (%.0f docs/s)",
                  (unsigned long long)pushed_, (unsigned long long)pulled_,
                  (unsigned long long)failed_, std::chrono::duration<double>(elapsed).count(),
                  per_second(pushed_ + pulled_, elapsed));
    return text;
  }
  uint64_t failed() {
    std::lock_guard lk(mx_);
    return failed_;
  }
  bool tty() const { return tty_; }

 private:
  static std::string bar(const replication_progress& p) {
    constexpr int kWidth = 30;
    int filled =
        p.total ? static_cast<int>(kWidth * std::min<double>(1.0, double(p.completed) / p.total))
                : 0;
    return "[" + std::string(filled, '#') + std::string(kWidth - filled, '-') + "]";
  }

  std::mutex mx_;
  std::condition_variable cv_;
  const bool tty_;
  replicator_status status_{activity_level::connecting, {}, {}};
  bool stopped_ = false;
  uint64_t pushed_ = 0, pulled_ = 0, failed_ = 0;
  std::vector<std::string> pending_lines_;
  std::chrono::steady_clock::time_point started_ = std::chrono::steady_clock::now();
  std::chrono::steady_clock::time_point stopped_at_{};
  std::chrono::steady_clock::time_point last_plain_{};
};

replicator_type direction_of(const sync_options& o) {
  if (o.push) return replicator_type::push;
  if (o.pull) return replicator_type::pull;
  return replicator_type::push_and_pull;
}

/// Makes each --collection exist locally (a pull into a new file must have somewhere to put
/// them), before the database opens for replication.
void create_collections(const sync_options& o) {
  if (o.collections.empty()) return;
  auto db = store::database::open(o.db);
  if (!db) fail("sync", db.err());
  for (auto& name : o.collections)
    if (auto id = (*db)->create_collection(name); !id) fail("sync", id.err());
}

void run_sync(const sync_options& o) {
  install_stop_signals();
  create_collections(o);
  auto db = database::open(o.db);
  if (!db) fail("sync", db.err());
  net::credentials creds;
  if (!o.user.empty()) {
    auto c = net::parse_user_option(o.user);
    if (!c) fail("sync", "--user wants NAME:PASSWORD, got '" + o.user + "'");
    creds = *c;
  }
  if (o.tls.insecure)
    log_line(
        "WARNING: --insecure: the server's certificate is not checked, so anyone on the "
        "network path can pose as " +
        o.remote + " and read or change what is synced");
  net::io_runtime io(1);  // declared before the replicator: sockets outlive it
  auto endpoint = net::make_endpoint(io, o.remote, creds, {}, o.tls);
  if (!endpoint) fail("sync", endpoint.err());
  replicator_config cfg;
  cfg.db = *db;
  cfg.target = std::move(*endpoint);
  cfg.type = direction_of(o);
  cfg.continuous = o.continuous;
  for (auto& name : o.collections) cfg.collections.push_back({name, {}, {}, {}, {}});
  sync_watch watch(stdout_is_tty());
  replicator repl(cfg);
  repl.add_change_listener([&](const replicator_status& s) { watch.on_status(s); });
  repl.add_document_listener([&](const auto& docs) { watch.on_docs(docs); });
  on_stop([&watch] { watch.wake(); });
  struct unhook {
    ~unhook() { on_stop({}); }
  } unhook_at_return;
  repl.start(o.reset);
  bool stop_sent = false;
  while (!watch.stopped()) {
    watch.wait(watch.next_wait());
    if (stop_requested() && !stop_sent) {
      stop_sent = true;
      repl.stop();
    }
    if (!watch.stopped()) watch.show();
  }
  watch.show(watch.tty());  /// any pending "offline" lines; the final bar on a terminal
  if (watch.tty()) std::printf("\n");
  auto final = watch.final_status();
  if (final.err.code != errc::ok) fail("sync", o.remote + ": " + final.err.message);
  log_line(watch.summary());
  if (watch.failed() > 0) fail("sync", std::to_string(watch.failed()) + " documents failed");
}

void add_sync_command(CLI::App& app) {
  auto o = std::make_shared<sync_options>();
  auto* cmd =
      app.add_subcommand("sync", "Replicate a database with a remote peer (the active side)");
  cmd->footer(
      "Push, pull or both, once or continuously. One-shot runs exit 0 when everything is "
      "transferred and non-zero with "
      "the error otherwise; --continuous runs until Ctrl-C. Shows a progress bar on a "
      "terminal, plain lines otherwise. Recoverable network errors (refused, reset, timeout) "
      "are retried with backoff; others (wrong password, no such database) stop at once.");
  cmd->add_option("--db", o->db,
                  "the local database: an SQLite file (created if missing) or a "
                  "postgresql://HOST/DBNAME URL")
      ->required();
  cmd->add_option("--remote", o->remote,
                  "the peer: ws://host:port/<db> (WebSocket; /_blipsync is added), "
                  "tcp://host:port/<db> (raw TCP byte stream), or wss:// / tls:// for the same "
                  "over TLS (the server's certificate is checked against the system's CAs "
                  "and the host name, unless --ca, --pinned-cert or --insecure)")
      ->required();
  auto* push = cmd->add_flag("--push", o->push, "only send local changes");
  auto* pull = cmd->add_flag("--pull", o->pull, "only fetch remote changes");
  auto* both = cmd->add_flag("--push-and-pull", o->push_and_pull, "both ways (the default)");
  push->excludes(pull)->excludes(both);
  pull->excludes(both);
  cmd->add_flag("--continuous", o->continuous,
                "stay connected and replicate new changes until Ctrl-C");
  cmd->add_flag("--reset", o->reset,
                "ignore the saved checkpoint and compare every document again");
  cmd->add_option("--user", o->user,
                  "NAME:PASSWORD for a hub that requires Basic auth (ws:// or wss://)");
  auto* ca = cmd->add_option("--ca", o->tls.ca_file,
                             "wss:// and tls://: trust the CA certificates in this PEM file "
                             "instead of the system's");
  auto* pin = cmd->add_option(
      "--pinned-cert", o->tls.pinned_sha256,
      "wss:// and tls://: accept only the server certificate with this SHA-256 (64 hex digits, "
      "colons allowed; `peerlite serve --self-signed` prints it); nothing else is checked, as "
      "with Couchbase Lite's pinned server certificate");
  cmd->add_flag("--insecure", o->tls.insecure,
                "wss:// and tls://: check no certificate at all. Traffic is encrypted but the "
                "server is not authenticated: anyone on the path can pose as it. For tests only")
      ->excludes(ca)
      ->excludes(pin);
  ca->excludes(pin);
  cmd->add_option("--collection", o->collections,
                  "SCOPE.NAME of a collection to sync (repeat for several; created locally when "
                  "missing). Without it the default collection syncs, as with a peer that has "
                  "no collections; with it only the collections named (add _default for the "
                  "default one), each with its own checkpoint");
  cmd->callback([o] { run_sync(*o); });
}

const bool registered = register_commands(30, {"sync"}, add_sync_command);

}  // namespace
}  // namespace peerlite::tools
