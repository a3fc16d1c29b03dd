// `peerlite loadtest`: many real peers replicating with one hub at once, with live progress,
// a summary, JSON and HTML output, and k6-style thresholds a CI pipeline can gate on.
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <mutex>

#include "tools/commands.hpp"
#include "tools/loadtest/loadtest.hpp"
#include "tools/serve_support.hpp"

namespace peerlite::tools {
namespace {

/// Exit status when the run completed but a threshold failed (k6 uses 99; a small number is
/// easier to test for in a shell).
constexpr int kExitThresholds = 3;
/// How often the live line redraws on a terminal, and how often a plain line is printed.
constexpr std::chrono::milliseconds kLiveInterval{200};
constexpr std::chrono::seconds kPlainInterval{5};

struct loadtest_cli {
  loadtest::options o;
  std::string mode = "push-and-pull";
  std::string json_path, report_path;
  std::vector<std::string> thresholds;
  bool keep_dir = false;
};

/// A scratch directory for the spawned hub's and on-disk peers' files, removed afterwards.
struct scratch_dir {
  std::string path;
  bool keep = false;
  scratch_dir(const std::string& parent, bool keep_it) : keep(keep_it) {
    std::string tmpl = (std::filesystem::path(parent) / "peerlite-loadtest-XXXXXX").string();
    if (!::mkdtemp(tmpl.data())) fail("loadtest", "cannot make a scratch directory in " + parent);
    path = tmpl;
  }
  ~scratch_dir() {
    std::error_code ec;
    if (!keep) std::filesystem::remove_all(path, ec);
  }
};

class live_line {
 public:
  explicit live_line(bool tty) : tty_(tty) {}
  void tick(const loadtest::sample& x, const loadtest::latency_stats& lat, bool continuous,
            size_t peers) {
    std::lock_guard lk(mx_);
    auto now = std::chrono::steady_clock::now();
    if (now - last_ < (tty_ ? kLiveInterval : kPlainInterval)) return;
    double dt = std::chrono::duration<double>(now - last_).count();
    bool first = last_.time_since_epoch().count() == 0;
    last_ = now;
    uint64_t moved = x.pushed + x.pulled;
    double rate = first || dt <= 0 ? 0 : double(moved - last_moved_) / dt;
    last_moved_ = moved;
    char text[240];
    std::snprintf(text, sizeof text,
                  "%6.1f s  peers %zu/%zu connected, %zu %s  docs %llu pushed %llu pulled "
                  "(%.0f/s)  %s p99 %.2f ms  errors %llu",
                  x.t_s, x.connected, peers, x.finished, continuous ? "stopped" : "done",
                  (unsigned long long)x.pushed, (unsigned long long)x.pulled, rate,
                  continuous ? "propagation" : "converge", lat.p99,
                  (unsigned long long)x.errors);
    if (tty_) {
      std::printf("\r\033[K%s", text);
      std::fflush(stdout);
      dirty_ = true;
    } else {
      log_line(std::string("loadtest: ") + text);
    }
  }
  void event(const std::string& what) {
    std::lock_guard lk(mx_);
    if (tty_ && dirty_) std::printf("\r\033[K");
    dirty_ = false;
    log_line("loadtest: " + what);
  }
  void end() {
    std::lock_guard lk(mx_);
    if (tty_ && dirty_) std::printf("\n");
    dirty_ = false;
  }

 private:
  std::mutex mx_;
  bool tty_;
  bool dirty_ = false;
  std::chrono::steady_clock::time_point last_{};
  uint64_t last_moved_ = 0;
};

void write_file(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
  if (!out.flush()) fail("loadtest", "cannot write " + path);
}

void run_loadtest(loadtest_cli& c) {
  install_stop_signals();
  auto& o = c.o;
  if (c.mode == "push")
    o.mode = loadtest::mode_type::push;
  else if (c.mode == "pull")
    o.mode = loadtest::mode_type::pull;
  else
    o.mode = loadtest::mode_type::push_and_pull;
  if (o.continuous && c.mode != "push-and-pull")
    fail("loadtest", "--continuous peers push and pull; leave --mode out");
  /// Thresholds are checked against the names this run's JSON will have, before it starts.
  std::vector<loadtest::threshold> ts;
  loadtest::figures names_only;
  names_only.opts = o;
  auto known = loadtest::flatten(loadtest::to_json(names_only));
  for (auto& text : c.thresholds) {
    try {
      ts.push_back(loadtest::parse_threshold(text));
    } catch (const std::invalid_argument& e) {
      fail("loadtest", e.what());
    }
    if (!known.count(ts.back().metric)) {
      std::string list;
      for (auto& [k, v] : known) list += (list.empty() ? "" : ", ") + k;
      fail("loadtest", "threshold '" + text + "': no metric '" + ts.back().metric +
                           "' in this run; known: " + list);
    }
  }
  scratch_dir scratch(o.dir.empty() ? std::filesystem::temp_directory_path().string() : o.dir,
                      c.keep_dir);
  o.dir = scratch.path;

  live_line live(stdout_is_tty());
  loadtest::progress_sink sink;
  sink.tick = [&](const loadtest::sample& x, const loadtest::latency_stats& lat) {
    live.tick(x, lat, o.continuous, o.peers);
  };
  sink.event = [&](const std::string& what) { live.event(what); };
  sink.stop_requested = [] { return stop_requested(); };
  loadtest::figures f;
  try {
    f = loadtest::run(o, sink);
  } catch (const std::exception& e) {
    live.end();
    fail("loadtest", e.what());
  }
  live.end();
  auto json = loadtest::to_json(f);
  auto results = loadtest::check(ts, loadtest::flatten(json));
  std::printf("%s", loadtest::summary_text(f, results).c_str());
  std::fflush(stdout);
  if (!c.json_path.empty()) {
    nlohmann::json with = json;
    nlohmann::json tj = nlohmann::json::array();
    for (auto& r : results)
      tj.push_back({{"threshold", r.t.text},
                    {"metric", r.t.metric},
                    {"actual", r.actual ? nlohmann::json(*r.actual) : nlohmann::json()},
                    {"ok", r.ok}});
    with["thresholds"] = tj;
    write_file(c.json_path, with.dump(2) + "\n");
  }
  if (!c.report_path.empty()) write_file(c.report_path, loadtest::html_report(f, results));
  if (!f.failures.empty()) fail("loadtest", "the run failed: " + f.failures.front());
  std::vector<std::string> failed;
  for (auto& r : results)
    if (!r.ok) failed.push_back(r.t.text);
  if (!failed.empty()) {
    std::string list;
    for (auto& t : failed) list += (list.empty() ? "" : ", ") + t;
    std::fprintf(stderr, "peerlite loadtest: threshold failed: %s\n", list.c_str());
    throw CLI::RuntimeError(kExitThresholds);
  }
}

void add_loadtest_command(CLI::App& app) {
  auto c = std::make_shared<loadtest_cli>();
  auto& o = c->o;
  auto* cmd = app.add_subcommand(
      "loadtest", "Load-test a hub: many real peers replicating with it at once, measured");
  cmd->footer(
      "Each simulated peer is a real peerlite replicator with its own database (in memory "
      "unless --on-disk) and its own connection to the target: a peerlite hub, a Couchbase "
      "Lite listener or a Sync Gateway (ws://host:port/db), or a hub this command starts "
      "(--spawn-hub).\n\n"
      "One-shot (the default): each peer pushes --docs documents of its own (push), pulls "
      "--docs shared documents put on the target first (pull), or both, then stops; the run "
      "ends when every peer has converged. --continuous: every peer stays connected and writes "
      "--write-rate docs/s for --duration seconds; each write is stamped and its propagation "
      "latency to every other peer is measured.\n\n"
      "Reported: docs/s each way, bytes on the wire, per-peer connect / first change / "
      "converge times, propagation p50/p95/p99/max, errors by kind, retries, CPU and RSS "
      "(also the hub's with --spawn-hub). --json and --report write them all; --threshold "
      "gates on any of them by its flattened name (see the JSON: p99_propagation_ms, errors, "
      "docs_per_s_total, hub_rss_peak_mib, ...).\n\n"
      "Exit status: 0 when the run completed and every threshold holds; 1 when it failed "
      "(peers did not converge, the target died or stalled, Ctrl-C); 3 when it completed but "
      "a threshold failed.");
  auto* target = cmd->add_option("--target", o.target,
                                 "the hub: ws://HOST:PORT/DB or tcp://HOST:PORT/DB");
  auto* spawn = cmd->add_flag("--spawn-hub", o.spawn_hub,
                              "start a `peerlite serve` on 127.0.0.1 with a fresh database and "
                              "load-test it (its CPU, RSS and open files are reported)");
  target->excludes(spawn);
  cmd->add_option("--peers", o.peers, "simulated peers, each with its own connection")
      ->capture_default_str()
      ->check(CLI::Range(size_t{1}, size_t{100000}));
  cmd->add_option("--ramp-up", o.ramp_up_s, "seconds over which the connects are spread")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 3600.0));
  cmd->add_option("--docs", o.docs, "one-shot: documents per peer (and in the pull set)")
      ->capture_default_str()
      ->check(CLI::Range(size_t{1}, size_t{10000000}));
  auto* size = cmd->add_option("--doc-size", o.doc_size,
                               "mean body size in bytes (each drawn from size/2 to 3*size/2)")
                   ->capture_default_str()
                   ->check(CLI::Range(size_t{16}, size_t{16 << 20}));
  cmd->add_option("--doc-template", o.doc_template,
                  "a JSON object every body is made from (a \"loadtest\" field is added)")
      ->check(CLI::ExistingFile)
      ->excludes(size);
  cmd->add_option("--mode", c->mode, "one-shot direction")
      ->capture_default_str()
      ->check(CLI::IsMember({"push", "pull", "push-and-pull"}));
  cmd->add_flag("--continuous", o.continuous,
                "stay connected, write --write-rate docs/s per peer for --duration s, and "
                "measure propagation");
  cmd->add_option("--duration", o.duration_s, "continuous: seconds of writes")
      ->capture_default_str()
      ->check(CLI::Range(0.1, 86400.0));
  cmd->add_option("--write-rate", o.write_rate, "continuous: docs/s each peer writes")
      ->capture_default_str()
      ->check(CLI::Range(0.001, 100000.0));
  cmd->add_option("--user", o.user, "NAME:PASSWORD for a hub that requires Basic auth (ws://)");
  cmd->add_option("--json", c->json_path, "write every figure as one JSON object to FILE");
  cmd->add_option("--report", c->report_path,
                  "write a self-contained HTML page (charts inline) to FILE");
  cmd->add_option("--threshold", c->thresholds,
                  "METRIC<VALUE (also <=, >, >=, ==, !=), e.g. 'p99_propagation_ms<250' or "
                  "'errors==0'; repeatable; any failing one makes the exit status 3");
  cmd->add_option_function<uint64_t>(
         "--seed", [&o](uint64_t s) { o.seed = s, o.seed_given = true; },
         "makes document IDs, sizes and write schedules reproducible (default: random, "
         "printed in the summary)");
  cmd->add_flag("--on-disk", o.on_disk, "peers' databases as SQLite files instead of in memory");
  cmd->add_option("--dir", o.dir, "where scratch files go (default: the temp directory)")
      ->check(CLI::ExistingDirectory);
  cmd->add_flag("--keep-dir", c->keep_dir, "keep the scratch directory (hub database, logs)");
  cmd->add_option("--stall-timeout", o.stall_timeout_s,
                  "fail the run when nothing moves for this many seconds")
      ->capture_default_str()
      ->check(CLI::Range(1.0, 3600.0));
  cmd->add_option("--timeout", o.timeout_s,
                  "the longest the run may take (default: 600 s one-shot; ramp-up + duration + "
                  "drain + 120 s continuous)")
      ->check(CLI::Range(0.0, 86400.0));
  cmd->add_option("--drain-timeout", o.drain_timeout_s,
                  "continuous: how long to wait after the writes for them to arrive everywhere")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 3600.0));
  cmd->add_option("--io-threads", o.io_threads, "socket threads for the peers' connections")
      ->capture_default_str()
      ->check(CLI::Range(size_t{1}, size_t{64}));
  cmd->callback([c] {
    if (c->o.target.empty() && !c->o.spawn_hub)
      fail("loadtest", "give --target ws://HOST:PORT/DB (or tcp://...) or --spawn-hub");
    run_loadtest(*c);
  });
}

const bool registered = register_commands(35, {"loadtest"}, add_loadtest_command);

}  // namespace
}  // namespace peerlite::tools
