// peerlite-bench: runs sqlite_raw plus the selected cases and prints db_bench lines.
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

void print_header(const std::vector<const bench_case*>& run, size_t docs, size_t repeat) {
  utsname u{};
  uname(&u);
  long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGE_SIZE);
  std::time_t now = std::time(nullptr);
  char date[64];
  std::strftime(date, sizeof date, "%Y-%m-%d %H:%M:%S UTC", std::gmtime(&now));
  std::printf("Date:       %s\n", date);
  std::printf("CPU:        %ld x %s\n", sysconf(_SC_NPROCESSORS_ONLN), cpu_model().c_str());
  std::printf("Memory:     %.1f GiB\n", double(pages) * double(page) / (1 << 30));
  std::printf("Kernel:     %s %s\n", u.sysname, u.release);
  std::printf("SQLite:     %s\n", sqlite3_libversion());
  std::printf("Docs:       %zu per case; fastest of %zu run(s)\n", docs, repeat);
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

/// Runs a case once in a fresh scratch directory.
result run_once(const bench_case& c, size_t docs, const std::string& dir, const std::string& tag) {
  scratch s(dir);
  context ctx{docs, s.path.string()};
  ctx.progress("running " + c.name + tag);
  return c.run(ctx);
}

/// With --repeat N the cases run round-robin N times (so a burst of load elsewhere hits every
/// case alike) and each keeps its fastest run.
std::vector<result> run_rounds(const std::vector<const bench_case*>& run, size_t docs,
                               const std::string& dir, size_t repeat) {
  std::vector<result> best(run.size());
  for (size_t round = 0; round < repeat; ++round) {
    std::string tag = " (round " + std::to_string(round + 1) + "/" + std::to_string(repeat) + ")";
    for (size_t i = 0; i < run.size(); ++i) {
      result r = run_once(*run[i], docs, dir, tag);
      if (round == 0 || r.seconds < best[i].seconds) best[i] = r;
    }
  }
  return best;
}

double rate_of(const result& r) { return r.seconds > 0 ? r.ops / r.seconds : 0; }

void print_line(const bench_case& c, const result& r, double baseline_rate, bool json) {
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
                     {"note", r.note}};
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

const std::vector<bench_case>& cases() { return registry(); }

int run_main(int argc, char** argv) {
  CLI::App app{
      "peerlite-bench: db_bench-style measurements; sqlite_raw always runs as the "
      "baseline for every ratio"};
  std::vector<std::string> names;
  size_t docs = 100000;
  size_t repeat = 1;
  bool json = false, list = false;
  std::string dir = std::filesystem::temp_directory_path().string();
  app.add_option("cases", names, "Cases to run (default: all); sqlite_raw is always added");
  app.add_option("--docs", docs, "Documents per case")
      ->check(CLI::Range(size_t{1000}, size_t{10000000}));
  app.add_option("--dir", dir, "Where scratch databases go")->check(CLI::ExistingDirectory);
  app.add_option("--repeat", repeat,
                 "Run all cases round-robin N times; report each one's fastest run")
      ->check(CLI::Range(size_t{1}, size_t{20}));
  app.add_flag("--json", json, "One JSON object per case instead of text lines");
  app.add_flag("--list", list, "List the cases and exit");
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
  for (const auto& c : cases()) {
    bool chosen = names.empty() || c.name == "sqlite_raw" ||
                  std::find(names.begin(), names.end(), c.name) != names.end();
    if (chosen) run.push_back(&c);
  }
  for (const auto& n : names) {
    if (std::none_of(cases().begin(), cases().end(), [&](auto& c) { return c.name == n; })) {
      std::fprintf(stderr, "peerlite-bench: unknown case \"%s\" (see --list)\n", n.c_str());
      return 2;
    }
  }
  if (!json) print_header(run, docs, repeat);
  if (repeat == 1) {  // stream each line as its case finishes
    double baseline = 0;
    for (const auto* c : run) {
      result r = run_once(*c, docs, dir, "");
      if (c->name == "sqlite_raw") baseline = rate_of(r);
      print_line(*c, r, baseline, json);
    }
    return 0;
  }
  auto best = run_rounds(run, docs, dir, repeat);
  double baseline = run.front()->name == "sqlite_raw" ? rate_of(best.front()) : 0;
  for (size_t i = 0; i < run.size(); ++i) print_line(*run[i], best[i], baseline, json);
  return 0;
}

}  // namespace peerlite::bench

int main(int argc, char** argv) { return peerlite::bench::run_main(argc, argv); }
