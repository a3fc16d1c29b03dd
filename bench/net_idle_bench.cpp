// idle_conn_memory: what one idle connected peer costs the hub. Starts `peerlite serve` (the
// sibling tools/peerlite, or $PEERLITE_CLI) as its own process, connects N continuous
// push-and-pull replicators over WebSocket from this process, waits until they are all IDLE,
// and reports the hub's RSS growth per connection (target: <= 64 KiB). N = --docs / 10
// (10,000 with the default 100,000).
#include <atomic>
#include <stdexcept>
#include <thread>

#include "adapters/tcp/io_runtime.hpp"
#include "adapters/websocket/net_endpoint.hpp"
#include "bench/bench.hpp"
#include "bench/serve_process.hpp"
#include "peerlite/database.hpp"
#include "peerlite/replicator.hpp"

namespace peerlite::bench {
namespace {

/// Longest the peers may take to connect and settle at IDLE.
constexpr std::chrono::seconds kSettleTimeout{600};

result run_idle(const context& ctx) {
  size_t peers = std::max<size_t>(1, ctx.docs / 10);
  /// The peers live here, the hub in its own process: each process has its own fd limit.
  raise_open_files_limit();
  serve_process hub_process(ctx.dir + "/hub.sqlite", ctx.dir + "/hub.log");
  auto url = hub_process.url();
  pid_t hub = hub_process.pid();
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  long before = rss_kib(hub);
  auto db = database::open(ctx.dir + "/peer.sqlite");
  if (!db) throw std::runtime_error(db.err().message);
  net::io_runtime io(1);
  std::atomic<size_t> idle{0};
  std::vector<std::unique_ptr<replicator>> reps;
  ctx.progress("connecting " + std::to_string(peers) + " idle peers to " + url);
  stopwatch watch;
  for (size_t i = 0; i < peers; ++i) {
    auto ep = net::make_endpoint(io, url);
    if (!ep) throw std::runtime_error(ep.err().message);
    ep->uid = "idle-peer-" + std::to_string(i);
    replicator_config cfg;
    cfg.db = *db;
    cfg.target = std::move(*ep);
    cfg.continuous = true;
    reps.push_back(std::make_unique<replicator>(cfg));
    auto seen = std::make_shared<std::atomic<bool>>(false);
    reps.back()->add_change_listener([&idle, seen](const replicator_status& s) {
      if (s.activity == activity_level::idle && !seen->exchange(true)) ++idle;
    });
    reps.back()->start();
  }
  auto end = std::chrono::steady_clock::now() + kSettleTimeout;
  while (idle.load() < peers && std::chrono::steady_clock::now() < end)
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  double secs = watch.seconds();
  std::this_thread::sleep_for(std::chrono::seconds(2));
  long after = rss_kib(hub);
  size_t hub_fds = open_fds(hub), peer_fds = open_fds(getpid());
  size_t settled = idle.load();
  for (auto& r : reps) r->stop();
  reps.clear();
  hub_process.stop();
  if (settled < peers)
    throw std::runtime_error(std::to_string(settled) + "/" + std::to_string(peers) +
                             " peers reached IDLE");
  char note[200];
  std::snprintf(note, sizeof note,
                "%zu idle peers: hub RSS %ld -> %ld KiB = %.1f KiB/connection; hub holds %zu fds, "
                "the peers' process %zu",
                peers, before, after, double(after - before) / peers, hub_fds, peer_fds);
  return {static_cast<double>(peers), secs, note};
}

const bool registered_idle =
    add_case({"idle_conn_memory",
              "docs/10 continuous ws:// peers held IDLE by a `peerlite serve` hub", run_idle});

}  // namespace
}  // namespace peerlite::bench
