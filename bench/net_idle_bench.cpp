// idle_conn_memory: what one idle connected peer costs the hub. Starts `peerlite serve` (the
// sibling tools/peerlite, or $PEERLITE_CLI) as its own process, connects N continuous
// push-and-pull replicators over WebSocket from this process, waits until they are all IDLE,
// and reports the hub's RSS growth per connection (target: <= 64 KiB). N = --docs / 10
// (10,000 with the default 100,000).
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <regex>
#include <stdexcept>
#include <thread>

#include "adapters/tcp/io_runtime.hpp"
#include "adapters/websocket/net_endpoint.hpp"
#include "bench/bench.hpp"
#include "peerlite/database.hpp"
#include "peerlite/replicator.hpp"

namespace peerlite::bench {
namespace {

/// Longest the peers may take to connect and settle at IDLE.
constexpr std::chrono::seconds kSettleTimeout{600};
/// Longest the hub may take to start listening.
constexpr std::chrono::seconds kHubStartTimeout{15};

std::string cli_path() {
  if (const char* p = getenv("PEERLITE_CLI")) return p;
  auto self = std::filesystem::read_symlink("/proc/self/exe");
  return (self.parent_path().parent_path() / "tools" / "peerlite").string();
}

long rss_kib(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
  return 0;
}

std::string read_all(const std::string& path) {
  std::ifstream in(path);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

pid_t start_hub(const context& ctx, const std::string& log) {
  std::vector<std::string> args{cli_path(), "serve",           "--db", ctx.dir + "/hub.sqlite",
                                "--listen", "ws://127.0.0.1:0"};
  pid_t pid = fork();
  if (pid == 0) {
    freopen(log.c_str(), "w", stdout);
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    execv(argv[0], argv.data());
    _exit(127);
  }
  return pid;
}

std::string wait_for_url(const std::string& log) {
  auto end = std::chrono::steady_clock::now() + kHubStartTimeout;
  std::smatch m;
  while (std::chrono::steady_clock::now() < end) {
    auto text = read_all(log);
    if (std::regex_search(text, m, std::regex("(ws://[0-9.:]+/hub)"))) return m[1];
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  throw std::runtime_error("hub did not start: " + read_all(log));
}

result run_idle(const context& ctx) {
  size_t peers = std::max<size_t>(1, ctx.docs / 10);
  auto log = ctx.dir + "/hub.log";
  pid_t hub = start_hub(ctx, log);
  auto url = wait_for_url(log);
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
  size_t hub_fds = 0;
  for (auto& e : std::filesystem::directory_iterator("/proc/" + std::to_string(hub) + "/fd")) {
    (void)e;
    ++hub_fds;
  }
  size_t settled = idle.load();
  for (auto& r : reps) r->stop();
  reps.clear();
  kill(hub, SIGTERM);
  waitpid(hub, nullptr, 0);
  if (settled < peers)
    throw std::runtime_error(std::to_string(settled) + "/" + std::to_string(peers) +
                             " peers reached IDLE");
  char note[200];
  std::snprintf(note, sizeof note,
                "%zu idle peers: hub RSS %ld -> %ld KiB = %.1f KiB/connection; hub holds %zu fds",
                peers, before, after, double(after - before) / peers, hub_fds);
  return {static_cast<double>(peers), secs, note};
}

const bool registered_idle =
    add_case({"idle_conn_memory",
              "docs/10 continuous ws:// peers held IDLE by a `peerlite serve` hub", run_idle});

}  // namespace
}  // namespace peerlite::bench
