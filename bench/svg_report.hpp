// peerlite-bench --report FILE.svg: one self-contained SVG (no scripts, no external fonts or
// URLs, so it renders the same on GitHub, in a browser or in an image viewer) with
//   (a) a bar chart of every case that ran: its rate beside its baselines' rates (sqlite_raw
//       for every case; a case's own baseline too when its note carries one, e.g. push_ws's
//       raw loopback TCP copy of the same bytes), each ratio written beside its bar;
//   (b) the scale curves when --scale ran: y against a log x axis, one small chart per curve.
#pragma once

#include <string>
#include <vector>

namespace peerlite::bench::report {

/// A rate a case is compared with.
struct baseline {
  std::string name;  ///< "sqlite_raw", "raw loopback TCP", ...
  double rate = 0;   ///< in the case's own unit (ops/s)
};

/// One case of a plain run.
struct case_row {
  std::string name;
  double rate = 0;  ///< ops/s (docs/s for the document cases)
  bool failed = false;
  std::string error;
  std::vector<baseline> baselines;
};

/// One point of a scale curve.
struct curve_point {
  double x = 0;  ///< size: documents or peers
  bool ok = false;
  double y = 0;
  std::string label;  ///< written beside the point (e.g. "412 MiB peak")
};

struct curve {
  std::string title;    ///< "push_ws: docs/s by documents pushed"
  std::string x_label;  ///< "documents (log)"
  std::string y_label;  ///< "docs/s"
  std::vector<curve_point> points;
};

struct report {
  std::vector<std::string> header;  ///< machine lines (Date, CPU, Memory, ...)
  std::vector<case_row> cases;
  std::vector<curve> curves;
  std::vector<std::string> notes;  ///< lines under the charts (e.g. where a curve bends)
};

/// The baselines a case's note names besides sqlite_raw: "raw loopback TCP copy ... = N docs/s"
/// (push_tcp, push_ws, pull_ws) and "ratio_to_<name> R" (rate / R in the case's unit; e.g.
/// push_blobs_ws's raw TCP, push_collections_ws's push_ws).
std::vector<baseline> baselines_from_note(const std::string& note, double rate);

/// Writes the SVG to `path` (creating its parent directory). Returns an error text, empty on
/// success.
std::string write_svg(const std::string& path, const report& r);

}  // namespace peerlite::bench::report
