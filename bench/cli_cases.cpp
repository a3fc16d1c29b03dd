// The command line as users run it: `peerlite serve` in one process and `peerlite sync` in
// others, timed from the client's start to its exit (the process's start-up, database open,
// replication, close handshake and exit all count).
//
// - cli_push_ws: `peerlite sync --push` of N documents into an empty hub, against push_ws (the
//   same push inside one process, no process start) run in the same case. Target: >= 0.8x.
// - cli_noop: `peerlite sync` (push-and-pull) of a database already in step with its hub,
//   kNoopRuns times; median and p90 wall time. Target: <= 30 ms.
// - cli_20_clients: kClients `peerlite sync --push` processes of their own documents started
//   together against one hub, against one process pushing all of them, in the same case.
//   Target: >= 0.8x. The clients' CPU seconds and context switches come from wait4().
// - idle_cpu: a hub with no traffic, then a continuous peer with nothing to send, each over
//   kIdleWindow: CPU as a share of one core, from the kernel's per-thread run time
//   (/proc/PID/task/*/schedstat, nanoseconds; the 10 ms ticks of /proc/PID/stat are too coarse
//   for 0.1%). Target: <= 0.1% each.
#include <fcntl.h>
#include <poll.h>
#include <sys/syscall.h>
#include <signal.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "bench/bench.hpp"
#include "bench/fixtures.hpp"
#include "bench/serve_process.hpp"
#include "peerlite/database.hpp"

namespace peerlite::bench {
namespace {

/// Longest one `peerlite sync` process may run: 100,000 docs at a tenth of the slowest rate
/// seen, plus start and exit. Past it the process is killed and the case fails.
constexpr std::chrono::seconds kClientTimeout{300};
/// cli_noop's runs (the first, which makes the checkpoint, is not among them).
constexpr int kNoopRuns = 20;
/// cli_20_clients: processes, and documents each pushes (fewer when --docs is small).
constexpr size_t kClients = 20;
constexpr size_t kDocsPerClient = 1000;
/// idle_cpu: how long each process is watched, and how long it is left to settle first.
constexpr std::chrono::seconds kIdleWindow{10};
constexpr std::chrono::seconds kIdleSettle{2};

/// A finished child: wall seconds from fork to reap, its CPU seconds and context switches.
struct exit_info {
  int status = 0;
  double wall = 0;
  double cpu = 0;
  long voluntary_switches = 0, involuntary_switches = 0;
};

/// A `peerlite` child process with its output in `log`.
class cli_process {
 public:
  /// posix_spawn, not fork: glibc starts the child with vfork semantics, so the benchmark's
  /// own size (hundreds of MiB after the push cases) is not copied page table by page table
  /// into every child's start, which fork() added to cli_noop's wall time.
  cli_process(std::vector<std::string> args, const std::string& log) : log_(log) {
    args.insert(args.begin(), cli_path());
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    posix_spawn_file_actions_t io;
    posix_spawn_file_actions_init(&io);
    posix_spawn_file_actions_addopen(&io, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&io, 1, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_adddup2(&io, 1, 2);
    int rc = posix_spawn(&pid_, argv[0], &io, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&io);
    if (rc != 0) {
      pid_ = -1;
      throw std::runtime_error("cannot start " + args[0] + ": " + std::strerror(rc));
    }
  }
  ~cli_process() {
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
  }
  cli_process(const cli_process&) = delete;
  cli_process& operator=(const cli_process&) = delete;

  pid_t pid() const { return pid_; }

  /// Waits for the exit (kClientTimeout, then SIGKILL and a throw). Throws unless it exited 0.
  exit_info wait() {
    exit_info e;
    auto end = std::chrono::steady_clock::now() + kClientTimeout;
    rusage ru{};
    /// Sleeps on a pidfd until the child exits: a 200 us polling loop here made cli_noop
    /// 41 ms against 31 ms under `perf stat` (on two cores the poller took turns with the
    /// client and the hub). Without pidfds (Linux < 5.3), polls every 200 us.
    int pidfd = static_cast<int>(syscall(SYS_pidfd_open, pid_, 0));
    for (;;) {
      pid_t r = wait4(pid_, &e.status, WNOHANG, &ru);
      if (r == pid_) break;
      auto now = std::chrono::steady_clock::now();
      if (now >= end) {
        if (pidfd >= 0) close(pidfd);
        kill(pid_, SIGKILL);
        throw std::runtime_error("peerlite sync did not finish within 300 s: " + log());
      }
      if (pidfd >= 0) {
        pollfd p{pidfd, POLLIN, 0};
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(end - now).count();
        poll(&p, 1, static_cast<int>(std::min<long long>(left + 1, 1000)));
      } else {
        std::this_thread::sleep_for(std::chrono::microseconds(200));
      }
    }
    if (pidfd >= 0) close(pidfd);
    pid_ = -1;
    e.wall = watch_.seconds();
    e.cpu = ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + ru.ru_stime.tv_sec +
            ru.ru_stime.tv_usec / 1e6;
    e.voluntary_switches = ru.ru_nvcsw;
    e.involuntary_switches = ru.ru_nivcsw;
    if (!WIFEXITED(e.status) || WEXITSTATUS(e.status) != 0)
      throw std::runtime_error("peerlite sync failed: " + log());
    return e;
  }

  std::string log() const {
    std::ifstream in(log_);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  }

 private:
  std::string log_;
  pid_t pid_ = -1;
  stopwatch watch_;
};

/// `peerlite sync --db DB --remote URL <mode>`, waited for.
exit_info sync_once(const std::string& db, const std::string& url, const std::string& mode,
                    const std::string& log) {
  cli_process p({"sync", "--db", db, "--remote", url, mode}, log);
  return p.wait();
}

/// Documents in the database file at `path` (opened read-write beside the running hub).
uint64_t count_docs(const std::string& path) {
  auto n = open_db(path).document_count();
  if (!n) throw std::runtime_error(n.err().message);
  return *n;
}

/// Time `pid` (every thread) has run on a CPU, in seconds, from /proc/PID/task/*/schedstat.
double run_time(pid_t pid) {
  namespace fs = std::filesystem;
  double total = 0;
  std::error_code ec;
  for (auto& task : fs::directory_iterator("/proc/" + std::to_string(pid) + "/task", ec)) {
    std::ifstream in(task.path() / "schedstat");
    unsigned long long ns = 0;
    if (in >> ns) total += ns / 1e9;
  }
  return total;
}

/// Share of one core `pid` used over `window`.
double idle_share(pid_t pid, std::chrono::seconds window) {
  double before = run_time(pid);
  stopwatch w;
  std::this_thread::sleep_for(window);
  return (run_time(pid) - before) / w.seconds();
}

result run_cli_push_ws(const context& ctx) {
  ctx.progress("push_ws in process, the baseline");
  double in_process = push_once(ctx, "ws", "baseline");
  auto client = ctx.dir + "/client.sqlite", hub_db = ctx.dir + "/hub.sqlite";
  ctx.progress("filling " + std::to_string(ctx.docs) + " docs");
  fill_db(client, ctx.docs);
  serve_process hub(hub_db, ctx.dir + "/hub.log");
  ctx.progress("peerlite sync --push to " + hub.url());
  auto e = sync_once(client, hub.url(), "--push", ctx.dir + "/sync.log");
  if (auto n = count_docs(hub_db); n != ctx.docs)
    throw std::runtime_error("the hub holds " + std::to_string(n) + " docs");
  double ratio = in_process / e.wall;
  char note[300];
  std::snprintf(note, sizeof note,
                "push_ws in the same run %.3f s = %.0f docs/s; cli/push_ws = %.2fx; client CPU "
                "%.2f s, %ld voluntary switches",
                in_process, ctx.docs / in_process, ratio, e.cpu, e.voluntary_switches);
  result r{double(ctx.docs), e.wall, note};
  r.figures = {{"cli_over_push_ws", ratio}, {"client_cpu_s", e.cpu}};
  return r;
}

result run_cli_noop(const context& ctx) {
  auto client = ctx.dir + "/client.sqlite", hub_db = ctx.dir + "/hub.sqlite";
  fill_db(hub_db, 1000);
  serve_process hub(hub_db, ctx.dir + "/hub.log");
  ctx.progress("first sync (makes the checkpoint)");
  sync_once(client, hub.url(), "--push-and-pull", ctx.dir + "/first.log");
  std::vector<double> ms;
  double cpu = 0;
  ctx.progress(std::to_string(kNoopRuns) + " no-op syncs");
  for (int i = 0; i < kNoopRuns; ++i) {
    auto e = sync_once(client, hub.url(), "--push-and-pull", ctx.dir + "/noop.log");
    ms.push_back(e.wall * 1000);
    cpu += e.cpu;
  }
  if (auto n = count_docs(client); n != 1000)
    throw std::runtime_error("the client holds " + std::to_string(n) + " docs");
  std::sort(ms.begin(), ms.end());
  double total = 0;
  for (double m : ms) total += m / 1000;
  char note[300];
  std::snprintf(note, sizeof note,
                "%d runs: wall ms min %.1f, median %.1f, p90 %.1f, max %.1f; CPU ms per run %.1f",
                kNoopRuns, ms.front(), ms[ms.size() / 2], ms[ms.size() * 9 / 10], ms.back(),
                cpu * 1000 / kNoopRuns);
  result r{double(kNoopRuns), total, note};
  r.figures = {{"median_ms", ms[ms.size() / 2]}, {"p90_ms", ms[ms.size() * 9 / 10]}};
  return r;
}

result run_cli_20_clients(const context& ctx) {
  size_t per = std::max<size_t>(1, std::min(kDocsPerClient, ctx.docs / kClients));
  size_t total = per * kClients;
  // One process pushing all of them: the baseline.
  auto one = ctx.dir + "/one.sqlite";
  fill_db(one, total);
  exit_info alone;
  {
    serve_process hub(ctx.dir + "/hub1.sqlite", ctx.dir + "/hub1.log");
    ctx.progress("one process pushing " + std::to_string(total) + " docs");
    alone = sync_once(one, hub.url(), "--push", ctx.dir + "/one.log");
    if (auto n = count_docs(ctx.dir + "/hub1.sqlite"); n != total)
      throw std::runtime_error("hub 1 holds " + std::to_string(n) + " docs");
  }
  // kClients processes, their own documents each, started together.
  std::vector<std::string> dbs;
  for (size_t c = 0; c < kClients; ++c) {
    dbs.push_back(ctx.dir + "/client" + std::to_string(c) + ".sqlite");
    auto prefix = "c" + std::to_string(c) + "-";
    fill_db(dbs.back(), per, [&prefix](size_t i) { return prefix + sample_id(i); });
  }
  serve_process hub(ctx.dir + "/hub20.sqlite", ctx.dir + "/hub20.log");
  ctx.progress(std::to_string(kClients) + " processes pushing " + std::to_string(per) + " each");
  double hub_cpu0 = run_time(hub.pid());
  stopwatch wall;
  std::vector<std::unique_ptr<cli_process>> procs;
  for (size_t c = 0; c < kClients; ++c)
    procs.push_back(std::make_unique<cli_process>(
        std::vector<std::string>{"sync", "--db", dbs[c], "--remote", hub.url(), "--push"},
        ctx.dir + "/client" + std::to_string(c) + ".log"));
  double cpu = 0;
  long vcsw = 0;
  for (auto& p : procs) {
    auto e = p->wait();
    cpu += e.cpu;
    vcsw += e.voluntary_switches;
  }
  double secs = wall.seconds();
  double hub_cpu = run_time(hub.pid()) - hub_cpu0;
  if (auto n = count_docs(ctx.dir + "/hub20.sqlite"); n != total)
    throw std::runtime_error("hub 20 holds " + std::to_string(n) + " docs");
  double ratio = alone.wall / secs;
  char note[400];
  std::snprintf(note, sizeof note,
                "%zu processes x %zu docs; one process x %zu docs in the same run %.3f s = %.0f "
                "docs/s; %zu/one = %.2fx; clients CPU %.1f s, %ld voluntary switches; hub CPU "
                "%.1f s (one process: client CPU %.2f s)",
                kClients, per, total, alone.wall, total / alone.wall, kClients, ratio, cpu, vcsw,
                hub_cpu, alone.cpu);
  result r{double(total), secs, note};
  r.figures = {{"clients_over_one", ratio}, {"clients_cpu_s", cpu}, {"hub_cpu_s", hub_cpu}};
  return r;
}

result run_idle_cpu(const context& ctx) {
  auto hub_db = ctx.dir + "/hub.sqlite", client = ctx.dir + "/client.sqlite";
  fill_db(hub_db, 100);
  serve_process hub(hub_db, ctx.dir + "/hub.log");
  std::this_thread::sleep_for(kIdleSettle);
  ctx.progress("a hub with no peers, " + std::to_string(kIdleWindow.count()) + " s");
  double hub_alone = idle_share(hub.pid(), kIdleWindow);
  cli_process peer({"sync", "--db", client, "--remote", hub.url(), "--continuous"},
                   ctx.dir + "/peer.log");
  auto caught_up = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (count_docs(client) < 100) {
    if (std::chrono::steady_clock::now() > caught_up)
      throw std::runtime_error("the continuous peer did not catch up: " + peer.log());
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  std::this_thread::sleep_for(kIdleSettle);
  ctx.progress("a continuous peer with nothing to send, " + std::to_string(kIdleWindow.count()) +
               " s");
  double hub0 = run_time(hub.pid()), peer0 = run_time(peer.pid());
  stopwatch w;
  std::this_thread::sleep_for(kIdleWindow);
  double secs = w.seconds();
  double hub_with_peer = (run_time(hub.pid()) - hub0) / secs;
  double peer_idle = (run_time(peer.pid()) - peer0) / secs;
  char note[300];
  std::snprintf(note, sizeof note,
                "share of one core: hub alone %.3f%%, continuous peer %.3f%%, its hub %.3f%% "
                "(%lld s windows)",
                hub_alone * 100, peer_idle * 100, hub_with_peer * 100,
                static_cast<long long>(kIdleWindow.count()));
  result r{1, secs, note};
  r.figures = {{"hub_idle_pct", hub_alone * 100},
               {"peer_idle_pct", peer_idle * 100},
               {"hub_with_peer_idle_pct", hub_with_peer * 100}};
  return r;
}

const bool registered_push = add_case(
    {"cli_push_ws",
     "N docs x ~200 B: `peerlite sync --push` process into a `peerlite serve` process, start to "
     "exit; push_ws baseline in the same run",
     run_cli_push_ws});
const bool registered_noop = add_case(
    {"cli_noop", "`peerlite sync` of a database in step with its hub, start to exit, 20 runs",
     run_cli_noop});
const bool registered_20 = add_case(
    {"cli_20_clients",
     "20 `peerlite sync --push` processes x 1000 docs at once into one hub; one process x 20000 "
     "in the same run",
     run_cli_20_clients});
const bool registered_idle = add_case(
    {"idle_cpu", "CPU of an idle hub and of an idle continuous peer (10 s each)", run_idle_cpu});

}  // namespace
}  // namespace peerlite::bench
