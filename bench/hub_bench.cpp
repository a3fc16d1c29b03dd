// hub_peers: many peers replicating push-and-pull over WebSocket with one `peerlite serve` hub at
// the same time (issue 5 target: >= 50,000 docs/s aggregate).
//
// Definition (P = --docs / 100 peers, 1,000 with the default --docs 100000):
// - Setup, not timed: the hub's database holds 100 shared documents; peer i's own database holds
//   100 documents of its own (ids "p<i>-<k>", ~200-byte bodies). The hub runs as a child process
//   (`peerlite serve`), as users run it: the hub then has its own open-files limit (P sockets
//   plus a SQLite reader per connection) and its own actor threads, and its work is not mixed
//   with the P active replicators' in one process. Both processes share the machine's cores.
// - Each peer runs one one-shot push-and-pull replicator over its own ws:// connection with
//   document_ids = its own 100 ids + the 100 shared ids. Without that filter, a one-shot pull
//   would fetch whatever the other peers had pushed so far, so the work would grow with P^2
//   and depend on timing; with it every peer pushes exactly 100 and pulls exactly 100.
// - A doc moved: one revision a peer's replicator reports as pushed or pulled without error
//   (its document listener). The expected total is 200 x P.
// - The clock starts just before the first start() (all P replicators are built beforehand)
//   and stops when the last peer has reached STOPPED. Aggregate docs/s = docs moved / that time.
// - A peer has converged when its replicator reached STOPPED without error; the time to
//   converge is from the common clock start to that moment (p50/p99 over the P peers). After
//   the run the case checks what convergence promises: every peer holds 200 documents and the
//   hub holds 100 + 100 x P; any shortfall fails the case.
// - Bounded: kHubPeersTimeout; peers not STOPPED by then are stopped and the case fails.
// - Hub memory (for `--scale`'s RSS per peer): the hub's VmRSS once the peers are prepared and
//   before any connects ("idle"), its VmHWM (peak) and VmRSS after the last peer STOPPED, read
//   from /proc before the hub is stopped. They go in the note and, as figures, in --json.
#include <algorithm>
#include <filesystem>
#include <sched.h>
#include <atomic>
#include <condition_variable>
#include <fstream>
#include <sstream>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <utility>

#include "adapters/tcp/io_runtime.hpp"
#include "adapters/websocket/net_endpoint.hpp"
#include "bench/bench.hpp"
#include "bench/fixtures.hpp"
#include "bench/serve_process.hpp"
#include "peerlite/database.hpp"
#include "peerlite/replicator.hpp"
#include "store/database.hpp"
#include "tests/store/pg_cluster.hpp"

namespace peerlite::bench {
namespace {

/// Documents each peer owns, and documents the hub shares with every peer.
constexpr size_t kDocsPerPeer = 100;
constexpr size_t kSharedDocs = 100;
/// Longest all peers together may take to converge: 200,000 docs at a tenth of the target
/// rate is 40 s, so this only trips when something is stuck.
constexpr std::chrono::seconds kHubPeersTimeout{300};

/// Documents prefix0..prefix(n-1) in a new database file (setup, not timed).
void fill(const std::string& path, const std::string& prefix, size_t n) {
  fill_db(path, n, [&prefix](size_t i) { return prefix + std::to_string(i); });
}

std::vector<std::string> ids(const std::string& prefix, size_t n) {
  std::vector<std::string> out;
  for (size_t i = 0; i < n; ++i) out.push_back(prefix + std::to_string(i));
  return out;
}

/// What the peers' listeners report, from peerlite's threads.
struct tally {
  std::atomic<uint64_t> moved{0}, failed{0};
  std::mutex mx;
  std::condition_variable cv;
  std::vector<double> converged;  ///< seconds from the clock start, one per STOPPED peer
  std::vector<std::string> errors;
  size_t early_stops = 0;  ///< STOPPED reports not preceded by another status (see make_peer)
  stopwatch clock;
};

struct peer {
  database db;
  replicator_config cfg;  ///< kept: the phase passes run the same replication again
  std::unique_ptr<replicator> repl;
  /// This peer's pushed and pulled revisions, for the report when it falls short.
  std::shared_ptr<std::atomic<uint64_t>> pushed = std::make_shared<std::atomic<uint64_t>>(0);
  std::shared_ptr<std::atomic<uint64_t>> pulled = std::make_shared<std::atomic<uint64_t>>(0);
  /// Times it went OFFLINE (a recoverable transport error, then a retry).
  std::shared_ptr<std::atomic<uint64_t>> offline = std::make_shared<std::atomic<uint64_t>>(0);
};

/// Peer `i`, its database a new file in `dir`.
peer make_peer(const std::string& dir, size_t i, net::io_runtime& io, const std::string& url,
               tally& t) {
  auto prefix = "p" + std::to_string(i) + "-";
  auto path = dir + "/peer" + std::to_string(i) + ".sqlite";
  fill(path, prefix, kDocsPerPeer);
  auto db = database::open(path);
  if (!db) throw std::runtime_error(db.err().message);
  auto ep = net::make_endpoint(io, url);
  if (!ep) throw std::runtime_error(ep.err().message);
  replicator_config cfg;
  cfg.db = *db;
  cfg.target = std::move(*ep);
  cfg.type = replicator_type::push_and_pull;
  cfg.document_ids = ids(prefix, kDocsPerPeer);
  auto shared = ids("shared-", kSharedDocs);
  cfg.document_ids.insert(cfg.document_ids.end(), shared.begin(), shared.end());
  peer p{*db, cfg, std::make_unique<replicator>(cfg)};
  /// The tokens are dropped: the listeners stay for the replicator's life (t outlives it).
  p.repl->add_document_listener([&t, pushed = p.pushed, pulled = p.pulled](const auto& docs) {
    for (auto& d : docs) {
      (d.err.code == errc::ok ? t.moved : t.failed)++;
      if (d.err.code == errc::ok)
        (d.direction == replication_direction::push ? *pushed : *pulled)++;
    }
  });
  /// Converged = the first STOPPED after a status other than STOPPED. Any other STOPPED is
  /// counted as "early STOPPED": it was a repeated final report (a paced status tick firing
  /// after the stop), fixed in actors/replicator_actor.cpp, so the count should now be 0.
  auto began = std::make_shared<bool>(false);
  p.repl->add_change_listener([&t, offline = p.offline, began](const replicator_status& s) {
    if (s.activity == activity_level::offline) ++*offline;
    if (s.activity != activity_level::stopped) {
      *began = true;
      return;
    }
    std::lock_guard lk(t.mx);
    if (!std::exchange(*began, false)) return void(++t.early_stops);
    t.converged.push_back(t.clock.seconds());
    if (s.err.code != errc::ok) t.errors.push_back(s.err.message);
    t.cv.notify_all();
  });
  return p;
}

/// Peak resident set size of `pid` in KiB (VmHWM), 0 if unknown.
long peak_rss_kib(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("VmHWM:", 0) == 0) return std::stol(line.substr(6));
  return 0;
}

double percentile(std::vector<double> v, double q) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<size_t>(q * (v.size() - 1) + 0.5))];
}

/// Everything convergence promises, checked after the run: throws on any shortfall.
void check_contents(const std::vector<peer>& peers, const std::string& hub_path) {
  for (size_t i = 0; i < peers.size(); ++i) {
    auto n = peers[i].db.document_count();
    if (!n || *n != kDocsPerPeer + kSharedDocs)
      throw std::runtime_error("peer " + std::to_string(i) + " holds " +
                               std::to_string(n ? *n : 0) + " docs after pushing " +
                               std::to_string(peers[i].pushed->load()) + " and pulling " +
                               std::to_string(peers[i].pulled->load()) + ", offline " +
                               std::to_string(peers[i].offline->load()) + " times");
  }
  auto hub = database::open(hub_path);
  if (!hub) throw std::runtime_error(hub.err().message);
  auto n = hub->document_count();
  if (!n || *n != kSharedDocs + kDocsPerPeer * peers.size())
    throw std::runtime_error("hub holds " + std::to_string(n ? *n : 0) + " docs");
}

/// CPU seconds of the hub process and of this one (which runs the peers), together.
double session_cpu(pid_t hub) { return net::cpu_seconds(hub) + net::cpu_seconds(getpid()); }

/// Completions counted from peerlite's threads. Shared with every callback, so one arriving
/// after a wait gave up (and threw) still touches live memory.
struct countdown {
  std::mutex mx;
  std::condition_variable cv;
  size_t done = 0;
  std::vector<std::string> errors;

  void add(std::string error = {}) {
    std::lock_guard lk(mx);
    ++done;
    if (!error.empty()) errors.push_back(std::move(error));
    cv.notify_all();
  }
  /// Waits until `count` completed (kHubPeersTimeout), then starts over; throws `what` with
  /// the count on a timeout, or with the first error.
  void wait(size_t count, const std::string& what) {
    std::unique_lock lk(mx);
    if (!cv.wait_for(lk, kHubPeersTimeout, [&] { return done == count; }))
      throw std::runtime_error(what + ": " + std::to_string(done) + "/" + std::to_string(count) +
                               " in time");
    if (!errors.empty()) throw std::runtime_error(what + ": " + errors.front());
    done = 0;
  }
};

/// Opens `count` WebSocket connections to `url` through peerlite's own adapter (TCP connect and
/// upgrade; the hub answers each with its passive replicator, which then waits for requests),
/// then closes them all (the WebSocket close handshake and both sides' teardown). Returns the
/// CPU seconds of each half. Throws if any connection fails.
std::pair<double, double> open_and_close(net::io_runtime& io, const std::string& url,
                                         size_t count, pid_t hub) {
  auto ep = net::make_endpoint(io, url);
  if (!ep) throw std::runtime_error(ep.err().message);
  std::vector<std::unique_ptr<message_endpoint_connection>> conns;
  for (size_t i = 0; i < count; ++i) conns.push_back(ep->delegate(*ep));
  auto c = std::make_shared<countdown>();
  double cpu0 = session_cpu(hub);
  for (auto& conn : conns)
    conn->open(replicator_connection{}, [c](bool ok, std::optional<messaging_error> err) {
      c->add(ok ? std::string() : err ? err->what : "open failed");
    });
  c->wait(count, "open: connections");
  /// The hub's side of an upgrade finishes after the client's: let it settle before reading.
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  double cpu1 = session_cpu(hub);
  for (auto& conn : conns) conn->close(std::nullopt, [c] { c->add(); });
  c->wait(count, "close: connections");
  conns.clear();
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  return {cpu1 - cpu0, session_cpu(hub) - cpu1};
}

/// Runs every peer's replication again with new replicators (after the timed run: every
/// peer already holds what it should), `reset` ignoring their checkpoints. Returns the CPU
/// seconds it took; `moved` gets the revisions transferred (0 expected: nothing is new).
double run_again(std::vector<peer>& peers, bool reset, pid_t hub, uint64_t& moved) {
  auto c = std::make_shared<countdown>();
  auto revs = std::make_shared<std::atomic<uint64_t>>(0);
  for (auto& p : peers) {
    p.repl = std::make_unique<replicator>(p.cfg);
    /// The tokens are dropped: the listeners stay for the replicator's life (c and revs too).
    p.repl->add_document_listener([revs](const auto& docs) { *revs += docs.size(); });
    auto began = std::make_shared<bool>(false);
    p.repl->add_change_listener([c, began](const replicator_status& s) {
      if (s.activity != activity_level::stopped) return void(*began = true);
      if (std::exchange(*began, false)) c->add(s.err.code == errc::ok ? "" : s.err.message);
    });
  }
  double cpu0 = session_cpu(hub);
  for (auto& p : peers) p.repl->start(reset);
  c->wait(peers.size(), "phase pass: peers stopped");
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  double cpu = session_cpu(hub) - cpu0;
  for (auto& p : peers) p.repl.reset();
  moved = revs->load();
  return cpu;
}

result run_hub_peers(const context& ctx) {
  size_t count = std::max<size_t>(1, ctx.docs / kDocsPerPeer);
  raise_open_files_limit();
  auto hub_db = ctx.dir + "/hub.sqlite";
  fill(hub_db, "shared-", kSharedDocs);
  serve_process hub(hub_db, ctx.dir + "/hub.log");
  net::io_runtime io(1);
  tally t;
  std::vector<peer> peers;
  ctx.progress("preparing " + std::to_string(count) + " peers for " + hub.url());
  for (size_t i = 0; i < count; ++i) peers.push_back(make_peer(ctx.dir, i, io, hub.url(), t));
  ctx.progress("replicating");
  long hub_rss_idle = rss_kib(hub.pid());
  double hub_cpu0 = net::cpu_seconds(hub.pid()), own_cpu0 = net::cpu_seconds(getpid());
  t.clock = stopwatch();
  for (auto& p : peers) p.repl->start();
  std::unique_lock lk(t.mx);
  bool all = t.cv.wait_for(lk, kHubPeersTimeout, [&] { return t.converged.size() == count; });
  double secs = t.clock.seconds();
  auto times = t.converged;
  auto errors = t.errors;
  lk.unlock();
  size_t hub_fds = open_fds(hub.pid());
  long hub_rss_peak = peak_rss_kib(hub.pid()), hub_rss_end = rss_kib(hub.pid());
  double hub_cpu = net::cpu_seconds(hub.pid()) - hub_cpu0;
  double own_cpu = net::cpu_seconds(getpid()) - own_cpu0;
  for (auto& p : peers) p.repl->stop();
  for (auto& p : peers) p.repl.reset();
  if (!all || !errors.empty())
    throw std::runtime_error(std::to_string(times.size()) + "/" + std::to_string(count) +
                             " peers stopped, " + std::to_string(errors.size()) + " with errors" +
                             (errors.empty() ? "" : ", first: " + errors.front()));
  /// Where a session's CPU goes, by difference between passes of the same sessions (each
  /// pass's CPU is the hub's plus this process's, divided by the peers):
  /// - connect+upgrade and close: bare WebSocket connections through peerlite's adapter;
  /// - checkpoint: the same replication again, nothing new (checkpoints read and compared,
  ///   empty change feeds), minus connect+upgrade and close;
  /// - changes: again with the checkpoints reset, so every change is offered and found
  ///   already there, minus the pass before;
  /// - revs: the timed run minus that.
  ctx.progress("phases: bare connections, then the replication twice more (no-op, reset)");
  auto [open_cpu, close_cpu] = open_and_close(io, hub.url(), count, hub.pid());
  uint64_t moved_noop = 0, moved_reset = 0;
  double noop_cpu = run_again(peers, false, hub.pid(), moved_noop);
  double reset_cpu = run_again(peers, true, hub.pid(), moved_reset);
  hub.stop();
  check_contents(peers, hub_db);
  double per = 1000.0 / count;  /// seconds in all -> ms per peer session
  double total_ms = (hub_cpu + own_cpu) * per;
  char phases[300];
  std::snprintf(phases, sizeof phases,
                "; CPU ms per peer session (hub + peer) %.1f: connect+upgrade %.1f, checkpoint "
                "%.1f, changes %.1f, revs %.1f, close %.1f (revisions moved in the no-op and "
                "reset passes: %llu, %llu)",
                total_ms, open_cpu * per, (noop_cpu - open_cpu - close_cpu) * per,
                (reset_cpu - noop_cpu) * per, (hub_cpu + own_cpu - reset_cpu) * per,
                close_cpu * per, (unsigned long long)moved_noop,
                (unsigned long long)moved_reset);
  char note[800];
  std::snprintf(note, sizeof note,
                "%zu peers x (%zu pushed + %zu pulled): %llu docs moved, %llu failed; converge "
                "p50 %.2f s, p99 %.2f s, max %.2f s; CPU s: hub %.1f, peers %.1f; hub fds %zu; "
                "hub RSS KiB idle %ld, peak %ld, end %ld; early STOPPED %zu",
                count, kDocsPerPeer, kSharedDocs, (unsigned long long)t.moved.load(),
                (unsigned long long)t.failed.load(), percentile(times, 0.5),
                percentile(times, 0.99), percentile(times, 1.0), hub_cpu, own_cpu, hub_fds,
                hub_rss_idle, hub_rss_peak, hub_rss_end, t.early_stops);
  result r{static_cast<double>(t.moved.load()), secs, std::string(note) + phases};
  r.figures = {{"peers", double(count)},
               {"hub_rss_idle_kib", double(hub_rss_idle)},
               {"hub_rss_peak_kib", double(hub_rss_peak)},
               {"hub_rss_end_kib", double(hub_rss_end)},
               {"hub_fds", double(hub_fds)},
               {"hub_cpu_s", hub_cpu},
               {"peers_cpu_s", own_cpu},
               {"converge_p50_s", percentile(times, 0.5)},
               {"converge_p99_s", percentile(times, 0.99)},
               {"cpu_ms_per_peer", total_ms},
               {"cpu_ms_connect_upgrade", open_cpu * per},
               {"cpu_ms_checkpoint", (noop_cpu - open_cpu - close_cpu) * per},
               {"cpu_ms_changes", (reset_cpu - noop_cpu) * per},
               {"cpu_ms_revs", (hub_cpu + own_cpu - reset_cpu) * per},
               {"cpu_ms_close", close_cpu * per}};
  return r;
}

// ---- hub_peers_pg: the same workload with hubs sharing a PostgreSQL database ----
//
// Three runs of the timed part of hub_peers, same peer count (--docs / 100), in one process:
// 1. one hub on a SQLite file;
// 2. one hub on a PostgreSQL database;
// 3. two hubs on one PostgreSQL database, peer i on hub i % 2.
// Every hub process is pinned to one core (1 and 2 on core 0, the second hub of 3 on core 1), so
// the runs compare one core's hub with two cores' hubs: the peers (this process) and the
// PostgreSQL server run unpinned on the same cores. The server is a throwaway cluster
// (tests/store/pg_cluster.hpp: initdb in /tmp, a Unix socket only; fsync off, as a test
// cluster). The line's docs/s is run 3; the note gives all three and their ratios.

/// Pins every thread of process `pid` to CPU `cpu`; threads it starts later inherit it.
void pin_process(pid_t pid, int cpu) {
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  std::error_code ec;
  for (auto& e : std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/task", ec))
    ::sched_setaffinity(std::stoi(e.path().filename().string()), sizeof set, &set);
}

/// CPU seconds of the PostgreSQL server so far: its main process, the backends it has reaped
/// (a session's backend exits with it) and the live ones.
double server_cpu(pid_t server) {
  auto fields = [](pid_t pid) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
    std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::vector<std::string> out;
    auto close = stat.rfind(')');  // the command name may contain spaces
    if (close == std::string::npos) return out;
    std::istringstream rest(stat.substr(close + 2));
    for (std::string f; rest >> f;) out.push_back(f);
    return out;  // out[0] is field 3 (state): ppid out[1], utime..cstime out[11..14]
  };
  auto ticks = [](const std::vector<std::string>& f, bool children) {
    if (f.size() < 15) return 0.0;
    double t = std::stod(f[11]) + std::stod(f[12]);
    if (children) t += std::stod(f[13]) + std::stod(f[14]);
    return t;
  };
  double total = ticks(fields(server), true);
  std::error_code ec;
  for (auto& e : std::filesystem::directory_iterator("/proc", ec)) {
    auto name = e.path().filename().string();
    if (name.empty() || !std::isdigit(static_cast<unsigned char>(name[0]))) continue;
    auto f = fields(std::stoi(name));
    if (f.size() > 1 && f[1] == std::to_string(server)) total += ticks(f, false);
  }
  return total / static_cast<double>(sysconf(_SC_CLK_TCK));
}

struct hubs_result {
  double docs_per_s = 0, seconds = 0, hub_cpu = 0, peers_cpu = 0, server_cpu = 0, p99 = 0;
};

/// The timed part of hub_peers against `hubs` `peerlite serve` processes on `hub_db` (a file
/// or a postgresql:// URL holding the shared documents): `count` fresh peers under
/// ctx.dir/`label`. Throws on any shortfall, as hub_peers does.
hubs_result run_against(const context& ctx, const std::string& label, const std::string& hub_db,
                        size_t hubs, size_t count, pid_t server = -1) {
  int cpus = std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
  std::vector<std::unique_ptr<serve_process>> procs;
  for (size_t h = 0; h < hubs; ++h) {
    procs.push_back(std::make_unique<serve_process>(
        hub_db, ctx.dir + "/" + label + "-hub" + std::to_string(h) + ".log"));
    pin_process(procs.back()->pid(), static_cast<int>(h) % cpus);
  }
  auto dir = ctx.dir + "/" + label;
  std::filesystem::create_directories(dir);
  net::io_runtime io(1);
  tally t;
  std::vector<peer> peers;
  ctx.progress(label + ": preparing " + std::to_string(count) + " peers for " +
               std::to_string(hubs) + " hub(s)");
  for (size_t i = 0; i < count; ++i)
    peers.push_back(make_peer(dir, i, io, procs[i % hubs]->url(), t));
  ctx.progress(label + ": replicating");
  auto hub_cpu = [&] {
    double c = 0;
    for (auto& p : procs) c += net::cpu_seconds(p->pid());
    return c;
  };
  double hub_cpu0 = hub_cpu(), own_cpu0 = net::cpu_seconds(getpid());
  double server_cpu0 = server > 0 ? server_cpu(server) : 0;
  t.clock = stopwatch();
  for (auto& p : peers) p.repl->start();
  std::unique_lock lk(t.mx);
  bool all = t.cv.wait_for(lk, kHubPeersTimeout, [&] { return t.converged.size() == count; });
  hubs_result r;
  r.seconds = t.clock.seconds();
  auto times = t.converged;
  auto errors = t.errors;
  lk.unlock();
  r.hub_cpu = hub_cpu() - hub_cpu0;
  r.peers_cpu = net::cpu_seconds(getpid()) - own_cpu0;
  if (server > 0) r.server_cpu = server_cpu(server) - server_cpu0;
  for (auto& p : peers) p.repl->stop();
  for (auto& p : peers) p.repl.reset();
  if (!all || !errors.empty())
    throw std::runtime_error(label + ": " + std::to_string(times.size()) + "/" +
                             std::to_string(count) + " peers stopped, " +
                             std::to_string(errors.size()) + " with errors" +
                             (errors.empty() ? "" : ", first: " + errors.front()));
  for (auto& p : procs) p->stop();
  check_contents(peers, hub_db);
  r.docs_per_s = static_cast<double>(t.moved.load()) / r.seconds;
  r.p99 = percentile(times, 0.99);
  return r;
}

result run_hub_peers_pg(const context& ctx) {
  size_t count = std::max<size_t>(1, ctx.docs / kDocsPerPeer);
  raise_open_files_limit();
  std::string why;
  auto cluster = test::pg_cluster::start(&why);
  if (!cluster)
    throw std::runtime_error("hub_peers_pg needs PostgreSQL's server programs (apt-get install "
                             "postgresql): " + why);
  auto sqlite_hub = ctx.dir + "/hub.sqlite";
  fill(sqlite_hub, "shared-", kSharedDocs);
  /// A PostgreSQL database per run, each holding the shared documents (setup, not timed).
  auto pg_hub = [&](const std::string& name) {
    if (!cluster->create_database(name, &why)) throw std::runtime_error("create database: " + why);
    auto url = cluster->url(name);
    auto db = database::open(url);
    if (!db) throw std::runtime_error(db.err().message);
    for (size_t k = 0; k < kSharedDocs; ++k)
      if (auto put = db->put("shared-" + std::to_string(k), sample_body(k)); !put)
        throw std::runtime_error(put.err().message);
    return url;
  };
  auto sqlite = run_against(ctx, "sqlite", sqlite_hub, 1, count);
  auto one = run_against(ctx, "pg1", pg_hub("one_hub"), 1, count, cluster->server_pid());
  auto two = run_against(ctx, "pg2", pg_hub("two_hubs"), 2, count, cluster->server_pid());
  char note[700];
  std::snprintf(note, sizeof note,
                "%zu peers x (%zu pushed + %zu pulled), each hub pinned to one core; docs/s: "
                "SQLite hub %.0f, one PostgreSQL hub %.0f (%.2fx SQLite), two PostgreSQL hubs "
                "%.0f (%.2fx one); CPU s, hubs %.1f / %.1f / %.1f, peers %.1f / %.1f / %.1f, "
                "PostgreSQL server - / %.1f / %.1f; converge p99 s %.2f / %.2f / %.2f",
                count, kDocsPerPeer, kSharedDocs, sqlite.docs_per_s, one.docs_per_s,
                one.docs_per_s / sqlite.docs_per_s, two.docs_per_s,
                two.docs_per_s / one.docs_per_s, sqlite.hub_cpu, one.hub_cpu, two.hub_cpu,
                sqlite.peers_cpu, one.peers_cpu, two.peers_cpu, one.server_cpu, two.server_cpu,
                sqlite.p99, one.p99, two.p99);
  result r{two.docs_per_s * two.seconds, two.seconds, note};
  r.figures = {{"peers", double(count)},
               {"sqlite_hub_docs_s", sqlite.docs_per_s},
               {"pg_one_hub_docs_s", one.docs_per_s},
               {"pg_two_hubs_docs_s", two.docs_per_s},
               {"two_over_one", two.docs_per_s / one.docs_per_s},
               {"pg_server_cpu_s_one_hub", one.server_cpu},
               {"pg_server_cpu_s_two_hubs", two.server_cpu}};
  return r;
}

const bool registered = add_case(
    {"hub_peers",
     "docs/100 peers x 100 own docs, one-shot push-and-pull (pull 100 shared) over ws:// with "
     "one `peerlite serve` hub",
     run_hub_peers});

const bool registered_pg = add_case(
    {"hub_peers_pg",
     "hub_peers' workload three times: one hub on SQLite, one hub on PostgreSQL, two hubs on "
     "one PostgreSQL database (each hub pinned to its own core)",
     run_hub_peers_pg});

}  // namespace
}  // namespace peerlite::bench
