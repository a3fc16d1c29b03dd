// peerlite-bench: a tiny registry of benchmark cases (STYLE.md §13).
//
// Each case lives in its own bench/*.cpp and registers itself at static-init time:
//
//   static const bool registered = peerlite::bench::add_case({
//       .name = "push_inproc", .params = "50000 docs, loopback",
//       .run = [](const peerlite::bench::context& ctx) -> peerlite::bench::result { ... }});
//
// The runner always runs `sqlite_raw` first (the ceiling every ratio is measured against),
// then the selected cases in registration order, and prints one db_bench line per case:
//   name : X micros/op; Y docs/s; ratio_to_sqlite_raw Z
// or with --json one JSON object per case. Progress goes to stderr via context::progress.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

namespace peerlite::bench {

/// What every case is given.
struct context {
  size_t docs = 100000;  ///< documents per case (--docs)
  std::string dir;       ///< a fresh scratch directory for this case, removed afterwards
  /// Reports progress on stderr (never on stdout, which carries the results).
  void progress(const std::string& what) const;
};

/// What a case measured: `ops` operations (documents) in `seconds` of timed work.
struct result {
  double ops = 0;
  double seconds = 0;
  std::string note;  ///< extra text appended to the line (e.g. "batch 10000")
  /// Extra named figures for machines (e.g. "hub_rss_peak_kib"): with --json each becomes a
  /// field of the case's line, which is how `--scale` reads a point's hub memory.
  std::map<std::string, double> figures = {};
};

struct bench_case {
  std::string name;    ///< the case's name on the command line and in the output
  std::string params;  ///< printed in the header, e.g. "100000 docs x ~200 B, 10000/txn"
  std::function<result(const context&)> run;
};

/// Registers a case. Returns true so it can initialize a static.
bool add_case(bench_case c);

/// What a whole-run mode is given (see bench_mode).
struct mode_context {
  size_t docs = 100000;  ///< --docs
  std::string dir;       ///< --dir: where the mode makes its own scratch directories
  bool json = false;     ///< --json: machine-readable lines instead of text
  /// Reports progress on stderr.
  void progress(const std::string& what) const;
};

/// A whole-run mode chosen by a flag instead of the case list (e.g. --vs-pouchdb): the runner
/// adds `flag` to its command line and, when it is given, runs `run` instead of the cases and
/// exits with what it returns.
struct bench_mode {
  std::string flag;  ///< "--vs-pouchdb"
  std::string help;
  std::function<int(const mode_context&)> run;
};

/// Registers a mode. Returns true so it can initialize a static.
bool add_mode(bench_mode m);

/// Every registered case, in registration order (sqlite_raw first when present).
const std::vector<bench_case>& cases();

/// Heap allocations (operator new) in this process so far, all threads (bench/alloc_count.cpp).
uint64_t allocations();

/// A deterministic JSON object body of about 200 bytes for document number `i`.
std::string sample_body(size_t i);

/// A document ID for number `i` (zero-padded so IDs sort like numbers).
std::string sample_id(size_t i);

/// Wall-clock stopwatch in seconds.
class stopwatch {
 public:
  stopwatch() : start_(std::chrono::steady_clock::now()) {}
  double seconds() const {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  }

 private:
  std::chrono::steady_clock::time_point start_;
};

}  // namespace peerlite::bench
