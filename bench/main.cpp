// peerlite-bench: runs sqlite_raw plus the selected cases and prints db_bench lines; with
// --scale the scale curves (bench/scale.hpp), with --report FILE.svg a chart of whatever ran
// (bench/svg_report.hpp). A case that throws prints a FAILED line and the run goes on (exit
// status 1 at the end).
#include <algorithm>
#include <sqlite3.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>

#include "bench/bench.hpp"
#include "bench/scale.hpp"
#include "bench/svg_report.hpp"

namespace peerlite::bench {

namespace {

std::vector<bench_case>& registry() {
  static std::vector<bench_case> r;
  return r;
}

std::vector<bench_mode>& modes() {
  static std::vector<bench_mode> m;
  return m;
}

std::string cpu_model() {
  std::ifstream in("/proc/cpuinfo");
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("model name", 0) == 0) return line.substr(line.find(':') + 2);
  }
  return "unknown CPU";
}

/// The machine, as the header and the report show it.
std::vector<std::string> machine_lines() {
  utsname u{};
  uname(&u);
  long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGE_SIZE);
  std::time_t now = std::time(nullptr);
  char date[64], buf[256];
  std::strftime(date, sizeof date, "%Y-%m-%d %H:%M:%S UTC", std::gmtime(&now));
  std::vector<std::string> out{std::string("Date:       ") + date};
  std::snprintf(buf, sizeof buf, "CPU:        %ld x %s", sysconf(_SC_NPROCESSORS_ONLN),
                cpu_model().c_str());
  out.push_back(buf);
  std::snprintf(buf, sizeof buf, "Memory:     %.1f GiB", double(pages) * double(page) / (1 << 30));
  out.push_back(buf);
  out.push_back(std::string("Kernel:     ") + u.sysname + " " + u.release);
  out.push_back(std::string("SQLite:     ") + sqlite3_libversion());
  return out;
}

void print_header(const std::vector<std::string>& machine,
                  const std::vector<const bench_case*>& run, size_t docs, size_t repeat) {
  for (const auto& l : machine) std::printf("%s\n", l.c_str());
  if (!run.empty()) std::printf("Docs:       %zu per case; fastest of %zu run(s)\n", docs, repeat);
  for (const auto* c : run)
    std::printf("Case:       %-16s %s\n", c->name.c_str(), c->params.c_str());
  std::printf("------------------------------------------------\n");
  std::fflush(stdout);
}

/// A scratch directory per case, removed after it.
struct scratch {
  std::filesystem::path path;
  explicit scratch(const std::string& base) {
    std::string tmpl = (std::filesystem::path(base) / "peerlite-bench-XXXXXX").string();
    path = ::mkdtemp(tmpl.data());
  }
  ~scratch() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
};

/// A case's run: what it measured, or the exception's text when it threw.
struct outcome {
  result r;
  bool failed = false;
  std::string error = {};
};

/// Runs a case once in a fresh scratch directory. A case that throws comes back failed.
outcome run_once(const bench_case& c, size_t docs, const std::string& dir, const std::string& tag) {
  scratch s(dir);
  context ctx{docs, s.path.string()};
  ctx.progress("running " + c.name + tag);
  try {
    return {c.run(ctx)};
  } catch (const std::exception& e) {
    return {{}, true, e.what()};
  }
}

/// With --repeat N the cases run round-robin N times (so a burst of load elsewhere hits every
/// case alike) and each keeps its fastest run.
/// A failed round makes the case failed.
std::vector<outcome> run_rounds(const std::vector<const bench_case*>& run, size_t docs,
                                const std::string& dir, size_t repeat) {
  std::vector<outcome> best(run.size());
  for (size_t round = 0; round < repeat; ++round) {
    std::string tag = " (round " + std::to_string(round + 1) + "/" + std::to_string(repeat) + ")";
    for (size_t i = 0; i < run.size(); ++i) {
      if (best[i].failed) continue;
      outcome o = run_once(*run[i], docs, dir, tag);
      if (round == 0 || o.failed || o.r.seconds < best[i].r.seconds) best[i] = o;
    }
  }
  return best;
}

/// This process's peak resident set size in KiB (VmHWM: since exec, unlike wait4's ru_maxrss,
/// which also counts the parent image a child was forked from), 0 if unknown. In a run of one
/// case (--scale's child processes) it is that case's peak.
long own_peak_rss_kib() {
  std::ifstream in("/proc/self/status");
  for (std::string line; std::getline(in, line);)
    if (line.rfind("VmHWM:", 0) == 0) return std::stol(line.substr(6));
  return 0;
}

double rate_of(const result& r) { return r.seconds > 0 ? r.ops / r.seconds : 0; }

void print_line(const bench_case& c, const outcome& o, double baseline_rate, bool json) {
  if (o.failed) {
    if (json)
      std::printf("%s\n",
                  nlohmann::json{{"name", c.name}, {"params", c.params}, {"error", o.error}}
                      .dump()
                      .c_str());
    else
      std::printf("%-16s : FAILED: %s\n", c.name.c_str(), o.error.c_str());
    std::fflush(stdout);
    return;
  }
  const result& r = o.r;
  double rate = r.seconds > 0 ? r.ops / r.seconds : 0;
  double micros = r.ops > 0 ? r.seconds * 1e6 / r.ops : 0;
  double ratio = baseline_rate > 0 ? rate / baseline_rate : 0;
  if (json) {
    nlohmann::json j{{"name", c.name},
                     {"params", c.params},
                     {"ops", r.ops},
                     {"seconds", r.seconds},
                     {"micros_per_op", micros},
                     {"docs_per_s", rate},
                     {"ratio_to_sqlite_raw", ratio},
                     {"note", r.note},
                     {"process_peak_rss_kib", own_peak_rss_kib()}};
    if (!r.figures.empty()) j["figures"] = r.figures;
    std::printf("%s\n", j.dump().c_str());
  } else {
    std::printf("%-16s : %10.3f micros/op; %9.0f docs/s; ratio_to_sqlite_raw %.2f%s%s\n",
                c.name.c_str(), micros, rate, ratio, r.note.empty() ? "" : "; ", r.note.c_str());
  }
  std::fflush(stdout);
}

}  // namespace

void context::progress(const std::string& what) const { std::cerr << "... " << what << std::endl; }

void mode_context::progress(const std::string& what) const {
  std::cerr << "... " << what << std::endl;
}

bool add_mode(bench_mode m) {
  modes().push_back(std::move(m));
  return true;
}

bool add_case(bench_case c) {
  auto& r = registry();
  auto at = c.name == "sqlite_raw" ? r.begin() : r.end();
  r.insert(at, std::move(c));
  return true;
}

/// The load tests run after every other case: 10,000 peers leave that many closed sockets and
/// ~4 GiB of freed memory for the kernel to reclaim, and push_tcp, registered after them,
/// measured 12.9k-17.9k docs/s right behind loadtest_10k in two full runs against 66k-69k on
/// its own (so its ratios to push_ws and pull_ws meant nothing).
const std::vector<bench_case>& cases() {
  static const bool ordered = [] {
    std::stable_partition(registry().begin(), registry().end(), [](const bench_case& c) {
      return c.name.rfind("loadtest_", 0) != 0;
    });
    return true;
  }();
  (void)ordered;
  return registry();
}

/// The report's bar for a case: its rate beside sqlite_raw's and the baselines its note names.
report::case_row report_row(const bench_case& c, const outcome& o, double sqlite_rate) {
  report::case_row row{c.name, rate_of(o.r), o.failed, o.error, {}};
  if (o.failed || c.name == "sqlite_raw") return row;
  if (sqlite_rate > 0) row.baselines.push_back({"sqlite_raw", sqlite_rate});
  auto own = report::baselines_from_note(o.r.note, row.rate);
  row.baselines.insert(row.baselines.end(), own.begin(), own.end());
  return row;
}

int run_main(int argc, char** argv) {
  CLI::App app{
      "peerlite-bench: db_bench-style measurements; sqlite_raw always runs as the "
      "baseline for every ratio"};
  std::vector<std::string> names;
  size_t docs = 100000;
  size_t repeat = 1;
  bool json = false, list = false, no_baseline = false, scale_run = false;
  size_t scale_max_docs = 0;
  std::string dir = std::filesystem::temp_directory_path().string(), report_path;
  app.add_option("cases", names,
                 "Cases to run (default: all, or none with --scale); sqlite_raw is always added");
  /// 100 is hub_peers with one peer (100 docs per peer), the smallest point of --scale.
  constexpr size_t kMinDocs = 100, kMaxDocs = 10'000'000;
  app.add_option("--docs", docs, "Documents per case")->check(CLI::Range(kMinDocs, kMaxDocs));
  app.add_option("--dir", dir, "Where scratch databases go")->check(CLI::ExistingDirectory);
  app.add_option("--repeat", repeat,
                 "Run all cases round-robin N times; report each one's fastest run (--scale: "
                 "each point N times, keeping its fastest)")
      ->check(CLI::Range(size_t{1}, size_t{20}));
  app.add_flag("--json", json, "One JSON object per case instead of text lines");
  app.add_flag("--list", list, "List the cases and exit");
  app.add_flag("--no-baseline", no_baseline,
               "Do not add sqlite_raw (--scale's child processes: a point's peak RSS is then its "
               "case's own)");
  app.add_flag("--scale", scale_run,
               "Scale curves: push_ws at 10k/100k/1M docs, hub_peers at 1..10,000 peers, each "
               "point in its own process (after the named cases, if any)");
  app.add_option("--scale-max-docs", scale_max_docs,
                 "With --scale: skip points above this many docs (a quick look)");
  app.add_option("--report", report_path,
                 "Also write an SVG chart of the cases' rates beside their baselines and of the "
                 "scale curves to this file");
  std::vector<bool> chosen_modes(modes().size(), false);
  for (size_t i = 0; i < modes().size(); ++i)
    app.add_flag_callback(modes()[i].flag, [&chosen_modes, i] { chosen_modes[i] = true; },
                          modes()[i].help);
  CLI11_PARSE(app, argc, argv);
  for (size_t i = 0; i < modes().size(); ++i)
    if (chosen_modes[i]) return modes()[i].run(mode_context{docs, dir, json});
  if (list) {
    for (const auto& c : cases()) std::printf("%-16s %s\n", c.name.c_str(), c.params.c_str());
    return 0;
  }
  std::vector<const bench_case*> run;
  bool all = names.empty() && !scale_run;
  for (const auto& c : cases()) {
    bool chosen = c.name == "sqlite_raw"
                      ? !no_baseline && (all || !names.empty())
                      : all || std::find(names.begin(), names.end(), c.name) != names.end();
    if (chosen) run.push_back(&c);
  }
  for (const auto& n : names) {
    if (std::none_of(cases().begin(), cases().end(), [&](auto& c) { return c.name == n; })) {
      std::fprintf(stderr, "peerlite-bench: unknown case \"%s\" (see --list)\n", n.c_str());
      return 2;
    }
  }
  auto machine = machine_lines();
  if (!json) print_header(machine, run, docs, repeat);
  std::vector<outcome> outcomes;
  if (repeat == 1) {  // stream each line as its case finishes
    double baseline = 0;
    for (const auto* c : run) {
      outcome o = run_once(*c, docs, dir, "");
      if (c->name == "sqlite_raw" && !o.failed) baseline = rate_of(o.r);
      print_line(*c, o, baseline, json);
      outcomes.push_back(std::move(o));
    }
  } else {
    outcomes = run_rounds(run, docs, dir, repeat);
    double baseline = !run.empty() && run.front()->name == "sqlite_raw" && !outcomes.front().failed
                          ? rate_of(outcomes.front().r)
                          : 0;
    for (size_t i = 0; i < run.size(); ++i) print_line(*run[i], outcomes[i], baseline, json);
  }
  bool failed = std::any_of(outcomes.begin(), outcomes.end(), [](auto& o) { return o.failed; });

  std::vector<scale::curve> curves;
  if (scale_run) {
    scale::options so{std::filesystem::read_symlink("/proc/self/exe").string(), dir, json,
                      scale_max_docs, repeat};
    curves = scale::run(so);
    for (const auto& c : curves)
      for (const auto& p : c.points) failed = failed || !p.ok;
  }

  if (!report_path.empty()) {
    report::report rep;
    rep.header = machine;
    std::string command = "Command:    peerlite-bench";
    for (int i = 1; i < argc; ++i) command += std::string(" ") + argv[i];
    rep.header.push_back(command);
    if (!run.empty())
      rep.header.push_back("Docs:       " + std::to_string(docs) + " per case; fastest of " +
                           std::to_string(repeat) + " run(s)");
    double sqlite_rate = 0;
    for (size_t i = 0; i < run.size(); ++i)
      if (run[i]->name == "sqlite_raw" && !outcomes[i].failed) sqlite_rate = rate_of(outcomes[i].r);
    for (size_t i = 0; i < run.size(); ++i)
      rep.cases.push_back(report_row(*run[i], outcomes[i], sqlite_rate));
    scale::add_to_report(rep, curves);
    if (auto err = report::write_svg(report_path, rep); !err.empty()) {
      std::fprintf(stderr, "peerlite-bench: %s\n", err.c_str());
      return 1;
    }
    std::fprintf(stderr, "... wrote %s\n", report_path.c_str());
  }
  return failed ? 1 : 0;
}

}  // namespace peerlite::bench

int main(int argc, char** argv) { return peerlite::bench::run_main(argc, argv); }
