// peerlite-bench --scale: the scale curves (issue: "Per document cost should stay flat and
// memory per peer constant; where a curve bends, the note says why").
//
//   push:  push_ws with 10k, 100k and 1M documents: docs/s, µs/doc and peak RSS at each size.
//   hub:   hub_peers with 1, 10, 100, 1,000 and 10,000 peers (--docs = 100 x peers):
//          aggregate docs/s, and the hub's RSS per peer.
//
// Every point runs in its own child process (this binary re-executed with
// `<case> --docs N --json --no-baseline`), so one point's memory cannot inflate the next and a
// crash or hang costs one point, not the curve: the child's peak RSS is its own VmHWM, and a
// child still running after kScalePointTimeout is killed (with its process group, so a hub it
// started goes too) and its point reported as failed.
#pragma once

#include <cmath>
#include <map>
#include <string>
#include <vector>

#include "bench/svg_report.hpp"

namespace peerlite::bench::scale {

struct options {
  std::string exe;       ///< this binary (re-executed for each point)
  std::string dir;       ///< --dir: where the points' scratch directories go
  bool json = false;     ///< JSON lines instead of tables
  size_t max_docs = 0;   ///< --scale-max-docs: skip points above this many docs (0: none)
  size_t repeat = 1;     ///< --repeat: run each point this many times, keep the fastest
  size_t open_files = 0; ///< the open-files limit in force (set by run())
};

struct point {
  size_t size = 0;  ///< documents pushed, or peers
  size_t docs = 0;  ///< the child's --docs
  bool ok = false;
  std::string error;
  double ops = 0, seconds = 0;
  double rate = 0;           ///< docs/s (aggregate for the hub)
  double micros = 0;         ///< µs per doc
  double peak_rss_kib = 0;   ///< the child's peak RSS (its VmHWM; see scale.cpp)
  double cpu_s = 0;          ///< the child's user + system CPU (setup included)
  /// The hub's RSS per peer (hub), or the peak RSS per added doc in KiB (push; NaN at the
  /// first point, which has no previous one).
  double per_unit_kib = std::nan("");
  std::map<std::string, double> figures;  ///< the case's own figures (hub RSS, CPU, ...)
  std::string note;
};

struct curve {
  std::string name;       ///< "push" or "hub"
  std::string case_name;  ///< "push_ws" or "hub_peers"
  std::vector<point> points;
  std::vector<std::string> bends;  ///< one line per place the curve bends, with the reason
};

/// Runs both curves, printing each table (or JSON lines) as its points finish.
std::vector<curve> run(const options& o);

/// The curves as report charts and notes.
void add_to_report(report::report& r, const std::vector<curve>& curves);

}  // namespace peerlite::bench::scale
