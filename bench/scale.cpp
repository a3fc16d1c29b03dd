// peerlite-bench --scale (see scale.hpp): runs each point in a child process and prints the
// curves' tables, then one line per place a curve bends with the figures that explain it.
//
// Definitions:
// - docs/s, µs/doc: the case's own timed figures (push_ws: one-shot push of N docs; hub_peers:
//   docs moved by all peers together / wall time from the first start() to the last STOPPED).
// - peak RSS: the child's own VmHWM, which it prints in its JSON line as it finishes. Not
//   wait4's ru_maxrss: Linux records the forked image's high-water mark at exec, so ru_maxrss
//   is at least this runner's RSS when it forked (712 MiB after a run of the cases, for a
//   10k-doc push that peaks at ~30 MiB); ru_maxrss is only the fallback when the line lacks
//   the field. push_ws runs hub and peer in the one process, so its peak holds both sides;
//   hub_peers' child holds the peers, and its hub (another process) is reported apart.
// - push "B/doc added": (peak RSS - the previous point's peak RSS) / (docs - the previous
//   point's docs): what each extra document costs in memory; ~0 when memory does not grow
//   with the size of the push.
// - hub "CPU µs/doc": the hub's and the peers' process's CPU seconds during the timed run,
//   together, per doc moved (2 cores: at most 2 CPU seconds per second).
// - hub "KiB/peer": (the hub's VmHWM - its VmRSS before any peer connected) / peers: the hub's
//   memory per peer at its peak, the hub's fixed footprint (runtime, threads, empty database)
//   left out. The hub is a `peerlite serve` process (hub_peers' figures, read from /proc).
// - A bend: a neighbouring pair of points where µs/doc, or the hub's KiB/peer, moves by more
//   than kBendRatio, or the push's peak RSS grows by more than kBendRatio; the line names the
//   likely reason from the figures measured at both points (fixed per-run cost, CPU per doc,
//   waiting, memory growth).
#include "bench/scale.hpp"

#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdarg>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <thread>

#include "actors/tuning.hpp"
#include "adapters/tcp/process_resources.hpp"
#include "store/tuning.hpp"

namespace peerlite::bench::scale {

namespace {

/// Sizes of the push curve (documents) and the hub curve (peers), from the issue.
const std::vector<size_t> kPushSizes = {10'000, 100'000, 1'000'000};
const std::vector<size_t> kHubPeers = {1, 10, 100, 1'000, 10'000};
/// hub_peers gives each peer 100 documents of its own: --docs = peers x this.
constexpr size_t kHubDocsPerPeer = 100;
/// Longest one point's child may run, setup included: the 1M-doc push fills 1M docs and pushes
/// them (~1 min at the rates seen); 10,000 peers prepare 10,000 databases and then have
/// hub_peers' own 300 s to converge. Four times the slowest seen, so it trips only when stuck.
constexpr std::chrono::seconds kScalePointTimeout{1800};
/// How often the parent looks whether the child has exited.
constexpr std::chrono::milliseconds kPollInterval{200};
/// Neighbouring points whose figure differs by more than this factor are a bend.
constexpr double kBendRatio = 1.5;
/// Most a run's fixed cost (connect, handshakes, checkpoints, close) can be: a whole 1-peer
/// hub_peers run, 200 docs included, takes ~0.03 s. A bend implying more is not setup.
constexpr double kMaxSetupSeconds = 0.5;
/// Open-files limit the points want: 10,000 peers hold a socket and a database (file, WAL,
/// shared-memory index) each in the peers' process, and the hub a socket each plus its
/// readers. Raised as far as the process may (root may raise the hard limit); children and the
/// hubs they start inherit it.
constexpr rlim_t kWantedOpenFiles = 262'144;

constexpr double kKiBPerMiB = 1024;

/// Open files the hub_peers child holds per peer, measured (6,064 at 1,000 peers, sampled from
/// /proc/<pid>/fd during the run): the peer's socket, its database's writer (file + WAL), a
/// reader (file + WAL) and the shared-memory index. The hub holds ~1 per peer (1,020 at 1,000).
constexpr size_t kPeerProcessFilesPerPeer = 6;
/// A document's share of the database file (~200 B body, id, rev, indexes): 1M docs fill
/// 338 MiB.
constexpr double kDbBytesPerDoc = 355;
/// The most page cache one push_ws process can hold: two databases (source and target), each
/// with a writer and up to kMaxIdleReaders readers (store/tuning.hpp, actors/tuning.hpp).
constexpr double kPushCacheCapKiB =
    2 * (store::kCacheSizeKiB + double(actors::kMaxIdleReaders) * store::kReaderCacheSizeKiB);

/// Raises RLIMIT_NOFILE towards kWantedOpenFiles (hard limit too, where permitted). Returns the
/// soft limit now in force.
uint64_t raise_open_files() {
  rlimit lim{};
  if (getrlimit(RLIMIT_NOFILE, &lim) == 0 && lim.rlim_max < kWantedOpenFiles) {
    rlimit want{kWantedOpenFiles, kWantedOpenFiles};
    setrlimit(RLIMIT_NOFILE, &want);  // fails without CAP_SYS_RESOURCE; then the hard limit
  }
  return net::raise_open_files_limit();
}

/// Runs `exe case --docs N --json --no-baseline --dir D` in its own process group; fills the
/// point from the case's JSON line and the child's rusage.
void run_point(const options& o, const std::string& case_name, point& p) {
  std::string scratch = (std::filesystem::path(o.dir) / "peerlite-scale-XXXXXX").string();
  if (!::mkdtemp(scratch.data())) {
    p.error = "cannot create a scratch directory in " + o.dir;
    return;
  }
  std::string out_path = scratch + "/out.jsonl";
  std::vector<std::string> args{o.exe,  case_name, "--docs", std::to_string(p.docs),
                                "--json", "--no-baseline", "--dir", scratch};
  pid_t pid = fork();
  if (pid == 0) {
    setpgid(0, 0);
    if (!freopen(out_path.c_str(), "w", stdout)) _exit(126);
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    execv(argv[0], argv.data());
    _exit(127);
  }
  if (pid < 0) {
    p.error = "fork failed";
    return;
  }
  setpgid(pid, pid);  // also here, so the group exists before any kill below
  auto deadline = std::chrono::steady_clock::now() + kScalePointTimeout;
  int status = 0;
  rusage ru{};
  bool timed_out = false;
  while (wait4(pid, &status, WNOHANG, &ru) == 0) {
    if (std::chrono::steady_clock::now() >= deadline) {
      kill(-pid, SIGKILL);
      wait4(pid, &status, 0, &ru);
      timed_out = true;
      break;
    }
    std::this_thread::sleep_for(kPollInterval);
  }
  kill(-pid, SIGKILL);  // whatever the child left behind in its group (a hub it started)
  p.peak_rss_kib = static_cast<double>(ru.ru_maxrss);
  p.cpu_s = ru.ru_utime.tv_sec + ru.ru_stime.tv_sec +
            (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;

  std::ifstream in(out_path);
  for (std::string line; std::getline(in, line);) {
    auto j = nlohmann::json::parse(line, nullptr, false);
    if (j.is_discarded() || !j.is_object() || j.value("name", "") != case_name) continue;
    if (j.contains("error")) {
      p.error = j["error"].get<std::string>();
      continue;
    }
    p.ops = j.value("ops", 0.0);
    p.seconds = j.value("seconds", 0.0);
    p.note = j.value("note", "");
    p.peak_rss_kib = j.value("process_peak_rss_kib", p.peak_rss_kib);
    if (j.contains("figures"))
      for (auto& [k, v] : j["figures"].items()) p.figures[k] = v.get<double>();
    p.ok = p.seconds > 0 && p.ops > 0;
  }
  std::error_code ec;
  std::filesystem::remove_all(scratch, ec);
  if (timed_out) {
    p.ok = false;
    p.error = "killed after kScalePointTimeout (" +
              std::to_string(kScalePointTimeout.count()) + " s)";
  } else if (!p.ok && p.error.empty()) {
    p.error = WIFSIGNALED(status) ? "child killed by signal " + std::to_string(WTERMSIG(status))
                                  : "child exited with status " +
                                        std::to_string(WEXITSTATUS(status)) + " and no result";
  }
  if (p.ok) {
    p.rate = p.ops / p.seconds;
    p.micros = p.seconds * 1e6 / p.ops;
  }
}

double fig(const point& p, const std::string& name) {
  auto it = p.figures.find(name);
  return it == p.figures.end() ? 0 : it->second;
}

std::string fmt(const char* f, ...) __attribute__((format(printf, 1, 2)));
std::string fmt(const char* f, ...) {
  char buf[600];
  va_list ap;
  va_start(ap, f);
  std::vsnprintf(buf, sizeof buf, f, ap);
  va_end(ap);
  return buf;
}

bool moved(double a, double b) {
  return a > 0 && b > 0 && (b / a > kBendRatio || a / b > kBendRatio);
}

/// Why µs/doc moved between neighbours a and b (b the larger).
std::string cost_reason(const curve& c, const point& a, const point& b) {
  if (b.micros < a.micros) {
    // t = fixed + per_doc x docs through both points.
    double per_doc = (b.seconds - a.seconds) / (b.ops - a.ops);
    double fixed = a.seconds - per_doc * a.ops;
    if (fixed <= kMaxSetupSeconds)
      return fmt("a fixed cost of ~%.3f s per run (connect, WebSocket + BLIP handshake, "
                 "checkpoint round trips, close%s) weighs %.0f%% of the smaller run and %.0f%% of "
                 "the larger; the marginal cost is %.1f µs/doc",
                 fixed, c.name == "hub" ? ", starting every replicator at once" : "",
                 100 * fixed / a.seconds, 100 * fixed / b.seconds, per_doc * 1e6);
    return fmt("more than setup explains (the two points imply a fixed %.2f s; a whole 1-peer "
               "hub run takes ~0.03 s): the per-doc cost itself fell. Likely the longer run keeps "
               "the pipeline full, so the receiving side's group commits take bigger batches "
               "(store_insert_100 vs store_insert: 100 vs 10,000 revs per transaction), and "
               "the load other processes put on the shared cores differed between the points "
               "(child CPU per doc, fill included: %.1f -> %.1f µs)",
               fixed, a.cpu_s * 1e6 / a.docs, b.cpu_s * 1e6 / b.docs);
  }
  if (c.name == "hub") {
    double cpu_a = (fig(a, "hub_cpu_s") + fig(a, "peers_cpu_s")) * 1e6 / a.ops;
    double cpu_b = (fig(b, "hub_cpu_s") + fig(b, "peers_cpu_s")) * 1e6 / b.ops;
    std::string split = fmt("CPU µs/doc hub %.1f -> %.1f, peers %.1f -> %.1f",
                            fig(a, "hub_cpu_s") * 1e6 / a.ops, fig(b, "hub_cpu_s") * 1e6 / b.ops,
                            fig(a, "peers_cpu_s") * 1e6 / a.ops,
                            fig(b, "peers_cpu_s") * 1e6 / b.ops);
    if (cpu_b > cpu_a * (1 + (kBendRatio - 1) / 2))
      return "more CPU per doc (" + split + ") with more peers: per-connection work (sockets, "
             "actors, checkpoints) grows faster than the docs";
    return "CPU per doc stayed flat (" + split + "), so the extra wall time is waiting " +
           fmt("(converge p99 %.2f -> %.2f s)", fig(a, "converge_p99_s"),
               fig(b, "converge_p99_s"));
  }
  return fmt("peak RSS %.0f -> %.0f MiB; child CPU per doc (fill included) %.1f -> %.1f µs",
             a.peak_rss_kib / kKiBPerMiB, b.peak_rss_kib / kKiBPerMiB, a.cpu_s * 1e6 / a.docs,
             b.cpu_s * 1e6 / b.docs);
}

/// Why the hub's KiB/peer moved between neighbours a and b.
std::string memory_reason(const point& a, const point& b) {
  if (b.per_unit_kib < a.per_unit_kib)
    return fmt("the hub's one-off growth when the first peers arrive (worker threads' malloc "
               "arenas and stacks, a reader connection, the first database pages read: %.0f KiB "
               "at %zu peer(s)) is shared by more peers",
               a.per_unit_kib * a.size, a.size);
  return fmt("hub fds per peer %.2f -> %.2f, hub peak %.0f -> %.0f MiB",
             fig(a, "hub_fds") / a.size, fig(b, "hub_fds") / b.size,
             fig(a, "hub_rss_peak_kib") / kKiBPerMiB, fig(b, "hub_rss_peak_kib") / kKiBPerMiB);
}

/// Why push_ws's peak RSS grew between neighbours a and b. The page caches explain growth only
/// while the smaller point's databases are smaller than one database's caches (a writer's and
/// kMaxIdleReaders readers'): past that they can be full already, and what grows is held per
/// pushed document (a 3M-doc push peaked at 143 MiB against 97 MiB at 1M).
std::string push_memory_reason(const point& a, const point& b) {
  double db_a = a.docs * kDbBytesPerDoc / (1 << 20), db_b = b.docs * kDbBytesPerDoc / (1 << 20);
  double per_db_cap_mib = kPushCacheCapKiB / 2 / kKiBPerMiB;
  if (db_a < per_db_cap_mib)
    return fmt("the SQLite page caches fill as the databases outgrow them (~%.0f -> ~%.0f MiB "
               "per database; per database a writer's cache of %lld MiB and up to %zu readers' "
               "of %lld MiB each: at most %.0f MiB for the two)",
               db_a, db_b, (long long)(store::kCacheSizeKiB / 1024), actors::kMaxIdleReaders,
               (long long)(store::kReaderCacheSizeKiB / 1024), kPushCacheCapKiB / kKiBPerMiB);
  return fmt("not the page caches (at ~%.0f MiB per database they can already be full, at most "
             "%.0f MiB for the two): memory held per pushed document, or kept by the allocator",
             db_a, kPushCacheCapKiB / kKiBPerMiB);
}

void find_bends(curve& c) {
  const point* prev = nullptr;
  for (const auto& p : c.points) {
    if (!p.ok) continue;
    if (prev) {
      std::string span = fmt("%zu -> %zu %s", prev->size, p.size, c.name == "hub" ? "peers" : "docs");
      if (moved(prev->micros, p.micros))
        c.bends.push_back(fmt("%s %s: µs/doc %.2f -> %.2f (%.2fx): ", c.case_name.c_str(),
                              span.c_str(), prev->micros, p.micros, p.micros / prev->micros) +
                          cost_reason(c, *prev, p));
      if (c.name == "hub" && moved(prev->per_unit_kib, p.per_unit_kib))
        c.bends.push_back(fmt("%s %s: hub KiB/peer %.1f -> %.1f (%.2fx): ", c.case_name.c_str(),
                              span.c_str(), prev->per_unit_kib, p.per_unit_kib,
                              p.per_unit_kib / prev->per_unit_kib) +
                          memory_reason(*prev, p));
      if (c.name == "push" && p.peak_rss_kib > prev->peak_rss_kib * kBendRatio)
        c.bends.push_back(fmt("%s %s: peak RSS %.0f -> %.0f MiB (%.2fx), %.0f B per added doc: ",
                              c.case_name.c_str(), span.c_str(), prev->peak_rss_kib / kKiBPerMiB,
                              p.peak_rss_kib / kKiBPerMiB, p.peak_rss_kib / prev->peak_rss_kib,
                              p.per_unit_kib * 1024) +
                          push_memory_reason(*prev, p));
    }
    prev = &p;
  }
}

void print_title(const curve& c) {
  if (c.name == "push") {
    std::printf("\nScale: push_ws (one-shot push of N docs over ws://, hub and peer in one "
                "process)\n");
    // µ is two bytes in UTF-8: its columns get one more byte to stay aligned.
    std::printf("%10s %10s %10s %8s %13s %12s\n", "docs", "docs/s", "µs/doc", "seconds",
                "peak RSS MiB", "B/doc added");
  } else {
    std::printf("\nScale: hub_peers (P peers x 100 pushed + 100 pulled, one `peerlite serve` "
                "hub)\n");
    std::printf("%7s %11s %10s %10s %8s %13s %15s %13s %12s %12s\n", "peers", "docs moved",
                "agg docs/s", "µs/doc", "seconds", "CPU µs/doc", "bench peak MiB",
                "hub peak MiB", "hub KiB/peer", "converge p99");
  }
  std::fflush(stdout);
}

void print_point(const curve& c, const point& p, bool json) {
  if (json) {
    nlohmann::json j{{"scale", c.name}, {"case", c.case_name}, {"size", p.size},
                     {"docs", p.docs},  {"ok", p.ok}};
    if (p.ok) {
      j.update({{"ops", p.ops}, {"seconds", p.seconds}, {"docs_per_s", p.rate},
                {"micros_per_doc", p.micros}, {"peak_rss_kib", p.peak_rss_kib},
                {c.name == "hub" ? "hub_kib_per_peer" : "bytes_per_added_doc",
                 c.name == "hub" ? p.per_unit_kib : p.per_unit_kib * 1024},
                {"figures", p.figures}, {"note", p.note}});
    } else {
      j["error"] = p.error;
    }
    std::printf("%s\n", j.dump().c_str());
  } else if (!p.ok) {
    std::printf("%*zu  FAILED: %s\n", c.name == "push" ? 10 : 7, p.size, p.error.c_str());
  } else if (c.name == "push") {
    std::printf("%10zu %10.0f %9.2f %8.2f %13.1f %12s\n", p.size, p.rate, p.micros, p.seconds,
                p.peak_rss_kib / kKiBPerMiB,
                std::isnan(p.per_unit_kib) ? "-" : fmt("%.0f", p.per_unit_kib * 1024).c_str());
  } else {
    std::printf("%7zu %11.0f %10.0f %9.2f %8.2f %12.1f %15.1f %13.1f %12.1f %10.2f s\n", p.size,
                p.ops, p.rate, p.micros, p.seconds,
                (fig(p, "hub_cpu_s") + fig(p, "peers_cpu_s")) * 1e6 / p.ops,
                p.peak_rss_kib / kKiBPerMiB,
                fig(p, "hub_rss_peak_kib") / kKiBPerMiB, p.per_unit_kib,
                fig(p, "converge_p99_s"));
  }
  std::fflush(stdout);
}

void run_curve(const options& o, curve& c, const std::vector<size_t>& sizes) {
  if (!o.json) print_title(c);
  const point* prev_ok = nullptr;
  for (size_t size : sizes) {
    point p;
    p.size = size;
    p.docs = c.name == "hub" ? size * kHubDocsPerPeer : size;
    if (o.max_docs && p.docs > o.max_docs) continue;
    std::fprintf(stderr, "... scale %s: %zu %s\n", c.case_name.c_str(), size,
                 c.name == "hub" ? "peers" : "docs");
    run_point(o, c.case_name, p);
    for (size_t i = 1; i < o.repeat; ++i) {  // --repeat: keep the fastest run of the point
      point again;
      again.size = p.size;
      again.docs = p.docs;
      run_point(o, c.case_name, again);
      if (again.ok && (!p.ok || again.seconds < p.seconds)) p = again;
    }
    if (!p.ok && c.name == "hub" && p.size * kPeerProcessFilesPerPeer > o.open_files)
      p.error += fmt(" [the peers' process needs ~%zu open files per peer (socket; the "
                     "database's file, WAL and shared-memory index for its writer and a reader), "
                     "~%zu for %zu peers; the limit here is %zu and could not be raised]",
                     kPeerProcessFilesPerPeer, p.size * kPeerProcessFilesPerPeer, p.size,
                     o.open_files);
    if (p.ok && c.name == "hub") {
      double peers = fig(p, "peers") > 0 ? fig(p, "peers") : double(size);
      p.per_unit_kib = (fig(p, "hub_rss_peak_kib") - fig(p, "hub_rss_idle_kib")) / peers;
    } else if (p.ok && prev_ok) {
      p.per_unit_kib = (p.peak_rss_kib - prev_ok->peak_rss_kib) / double(p.docs - prev_ok->docs);
    }
    c.points.push_back(p);
    print_point(c, c.points.back(), o.json);
    if (c.points.back().ok) prev_ok = &c.points.back();
  }
  find_bends(c);
  for (const auto& b : c.bends) {
    if (o.json)
      std::printf("%s\n", nlohmann::json{{"scale", c.name}, {"bend", b}}.dump().c_str());
    else
      std::printf("bend: %s\n", b.c_str());
  }
  std::fflush(stdout);
}

}  // namespace

std::vector<curve> run(const options& given) {
  options o = given;
  uint64_t nofile = raise_open_files();
  o.open_files = nofile;
  if (!o.json) std::printf("Open files: %llu (limit for the points and their hubs)\n",
                           (unsigned long long)nofile);
  std::vector<curve> curves(2);
  curves[0].name = "push";
  curves[0].case_name = "push_ws";
  curves[0].points.reserve(kPushSizes.size());
  curves[1].name = "hub";
  curves[1].case_name = "hub_peers";
  curves[1].points.reserve(kHubPeers.size());
  run_curve(o, curves[0], kPushSizes);
  run_curve(o, curves[1], kHubPeers);
  return curves;
}

void add_to_report(report::report& r, const std::vector<curve>& curves) {
  for (const auto& c : curves) {
    bool hub = c.name == "hub";
    report::curve rate{hub ? "hub_peers: aggregate docs/s by peers" : "push_ws: docs/s by docs pushed",
                       hub ? "peers (log)" : "documents pushed (log)", "docs/s", {}};
    report::curve mem{hub ? "hub_peers: hub RSS per peer at peak (KiB)"
                          : "push_ws: peak RSS (MiB), hub and peer in one process",
                      hub ? "peers (log)" : "documents pushed (log)",
                      hub ? "KiB per peer" : "MiB", {}};
    for (const auto& p : c.points) {
      rate.points.push_back({double(p.size), p.ok, p.rate,
                             p.ok ? fmt("%.1f µs/doc", p.micros) : ""});
      if (hub)
        mem.points.push_back({double(p.size), p.ok, p.per_unit_kib,
                              p.ok ? fmt("hub peak %.0f MiB", fig(p, "hub_rss_peak_kib") / kKiBPerMiB)
                                   : ""});
      else
        mem.points.push_back({double(p.size), p.ok, p.peak_rss_kib / kKiBPerMiB, ""});
    }
    r.curves.push_back(std::move(rate));
    r.curves.push_back(std::move(mem));
    for (const auto& p : c.points)
      if (!p.ok) r.notes.push_back(c.case_name + " at " + std::to_string(p.size) +
                                   (hub ? " peers" : " docs") + " FAILED: " + p.error);
    for (const auto& b : c.bends) r.notes.push_back("bend: " + b);
  }
}

}  // namespace peerlite::bench::scale
