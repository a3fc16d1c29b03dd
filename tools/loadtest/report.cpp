// peerlite loadtest: the summary table and the HTML report (inline SVG, nothing fetched).
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <sstream>

#include "tools/loadtest/loadtest.hpp"

namespace peerlite::loadtest {

namespace {

std::string fmt(const char* format, double v) {
  char text[64];
  std::snprintf(text, sizeof text, format, v);
  return text;
}

std::string count(uint64_t n) { return std::to_string(n); }

std::string bytes_text(uint64_t n) {
  if (n >= (1ull << 30)) return fmt("%.2f GiB", double(n) / double(1ull << 30));
  if (n >= (1ull << 20)) return fmt("%.1f MiB", double(n) / double(1ull << 20));
  if (n >= 1024) return fmt("%.1f KiB", double(n) / 1024);
  return std::to_string(n) + " B";
}

std::string stats_row(const latency_stats& s) {
  if (s.count == 0) return "-";
  return "p50 " + fmt("%.2f", s.p50) + "  p95 " + fmt("%.2f", s.p95) + "  p99 " +
         fmt("%.2f", s.p99) + "  max " + fmt("%.2f", s.max) + " ms  (n=" + count(s.count) + ")";
}

/// The table's rows, shared by the text summary and the HTML page.
std::vector<std::pair<std::string, std::string>> rows(const figures& f) {
  const auto& o = f.opts;
  double secs = f.elapsed_s > 0 ? f.elapsed_s : 1;
  std::vector<std::pair<std::string, std::string>> r;
  r.push_back({"target", f.target});
  r.push_back({"workload",
               (o.continuous ? std::string("continuous push-and-pull, ") + fmt("%g", o.write_rate) +
                                   " writes/s per peer for " + fmt("%g", o.duration_s) + " s"
                             : std::string("one-shot ") + to_string(o.mode) + ", " +
                                   count(o.docs) + " docs per peer") +
                   ", seed " + count(f.seed)});
  r.push_back({"peers", count(o.peers) + " (" + count(f.peers_connected) + " connected, " +
                            count(f.peers_converged) + (o.continuous ? " caught up, " : " converged, ") +
                            count(f.peers_failed) + " failed)"});
  r.push_back({"elapsed", fmt("%.2f s", f.elapsed_s)});
  r.push_back({"docs pushed", count(f.pushed) + " (" + fmt("%.0f", f.pushed / secs) + " docs/s)"});
  r.push_back({"docs pulled", count(f.pulled) + " (" + fmt("%.0f", f.pulled / secs) + " docs/s)"});
  if (o.continuous)
    r.push_back({"docs written", count(f.written) + " of " + count(f.writes_due) +
                                     " the schedule asked for"});
  r.push_back({"bytes", bytes_text(f.bytes_sent) + " sent, " + bytes_text(f.bytes_received) +
                            " received"});
  r.push_back({"connect", stats_row(f.connect)});
  r.push_back({"first change", stats_row(f.first_change)});
  r.push_back({o.continuous ? "caught up" : "converge", stats_row(f.converge)});
  if (o.continuous) {
    r.push_back({"propagation", stats_row(f.propagation)});
    r.push_back({"to every peer", stats_row(f.propagation_all)});
    r.push_back({"arrivals", count(f.arrivals_seen) + " of " + count(f.arrivals_expected)});
  }
  std::string errs = count(f.errors());
  if (!f.errors_by_kind.empty()) {
    errs += " (";
    bool first = true;
    for (auto& [k, v] : f.errors_by_kind) {
      errs += (first ? "" : ", ") + k + " " + count(v);
      first = false;
    }
    errs += ")";
  }
  r.push_back({"errors", errs});
  r.push_back({"retries", count(f.retries) + ", disconnects " + count(f.disconnects)});
  r.push_back({"loadtest", fmt("CPU %.1f s", f.cpu_s) + ", peak RSS " +
                               fmt("%.1f MiB", double(f.rss_peak_kib) / 1024)});
  if (o.spawn_hub) {
    std::string hub;
    if (f.hub_cpu_s) hub += fmt("CPU %.1f s, ", *f.hub_cpu_s);
    if (f.hub_rss_peak_kib) hub += fmt("peak RSS %.1f MiB, ", double(*f.hub_rss_peak_kib) / 1024);
    if (f.hub_open_files) hub += count(*f.hub_open_files) + " open files, ";
    if (f.hub_docs) hub += count(*f.hub_docs) + " docs after the run";
    r.push_back({"hub", hub.empty() ? "-" : hub});
  }
  return r;
}

std::string escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '&': out += "&amp;"; break;
      case '"': out += "&quot;"; break;
      default: out += c;
    }
  }
  return out;
}

/// Chart geometry (SVG user units).
constexpr double kW = 760, kH = 260, kLeft = 60, kRight = 20, kTop = 20, kBottom = 40;

/// A "nice" axis maximum at or above v.
double nice_max(double v) {
  if (v <= 0) return 1;
  double p = std::pow(10, std::floor(std::log10(v)));
  for (double m : {1.0, 1.2, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0, 6.0, 8.0, 10.0})
    if (m * p >= v) return m * p;
  return 10 * p;
}

/// Axes with 5 y ticks; x ticks too unless xmax is 0 (the histogram labels its own bars).
void axes(std::ostringstream& svg, double xmax, double ymax, const std::string& xlabel,
          const std::string& ylabel) {
  double pw = kW - kLeft - kRight, ph = kH - kTop - kBottom;
  svg << "<line x1='" << kLeft << "' y1='" << kTop + ph << "' x2='" << kLeft + pw << "' y2='"
      << kTop + ph << "' stroke='#444'/>";
  svg << "<line x1='" << kLeft << "' y1='" << kTop << "' x2='" << kLeft << "' y2='" << kTop + ph
      << "' stroke='#444'/>";
  for (int i = 0; i <= 4; ++i) {
    double y = kTop + ph - ph * i / 4;
    svg << "<line x1='" << kLeft << "' y1='" << y << "' x2='" << kLeft + pw << "' y2='" << y
        << "' stroke='#ddd'/>";
    svg << "<text x='" << kLeft - 6 << "' y='" << y + 4 << "' text-anchor='end'>"
        << fmt("%g", ymax * i / 4) << "</text>";
    if (xmax <= 0) continue;
    double x = kLeft + pw * i / 4;
    svg << "<text x='" << x << "' y='" << kTop + ph + 16 << "' text-anchor='middle'>"
        << fmt("%g", xmax * i / 4) << "</text>";
  }
  svg << "<text x='" << kLeft + pw / 2 << "' y='" << kH - 4 << "' text-anchor='middle'>"
      << escape(xlabel) << "</text>";
  svg << "<text x='14' y='" << kTop + ph / 2 << "' transform='rotate(-90 14 " << kTop + ph / 2
      << ")' text-anchor='middle'>" << escape(ylabel) << "</text>";
}

/// docs/s pushed and pulled over time, from the timeline's differences.
std::string rate_chart(const figures& f) {
  std::ostringstream svg;
  svg << "<svg xmlns='http://www.w3.org/2000/svg' width='" << kW << "' height='" << kH
      << "' font-family='sans-serif' font-size='11'>";
  std::vector<std::tuple<double, double, double>> pts;  // t, pushed/s, pulled/s
  for (size_t i = 1; i < f.timeline.size(); ++i) {
    auto& a = f.timeline[i - 1];
    auto& b = f.timeline[i];
    double dt = b.t_s - a.t_s;
    if (dt <= 0) continue;
    pts.emplace_back(b.t_s, double(b.pushed - a.pushed) / dt, double(b.pulled - a.pulled) / dt);
  }
  double xmax = nice_max(f.timeline.empty() ? 1 : f.timeline.back().t_s), ymax = 0;
  for (auto& [t, p, q] : pts) ymax = std::max({ymax, p, q});
  ymax = nice_max(ymax);
  axes(svg, xmax, ymax, "seconds", "docs/s");
  double pw = kW - kLeft - kRight, ph = kH - kTop - kBottom;
  auto line = [&](int which, const char* colour) {
    svg << "<polyline fill='none' stroke='" << colour << "' stroke-width='2' points='";
    for (auto& pt : pts) {
      double v = which == 0 ? std::get<1>(pt) : std::get<2>(pt);
      svg << kLeft + pw * std::get<0>(pt) / xmax << "," << kTop + ph - ph * v / ymax << " ";
    }
    svg << "'/>";
  };
  line(0, "#1f77b4");
  line(1, "#ff7f0e");
  svg << "<text x='" << kLeft + 10 << "' y='" << kTop + 4 << "' fill='#1f77b4'>pushed</text>";
  svg << "<text x='" << kLeft + 70 << "' y='" << kTop + 4 << "' fill='#ff7f0e'>pulled</text>";
  svg << "</svg>";
  return svg.str();
}

/// The latency histogram: one bar per non-empty bucket, merged into at most kBars bars.
std::string histogram_chart(const figures& f) {
  constexpr size_t kBars = 60;
  std::ostringstream svg;
  svg << "<svg xmlns='http://www.w3.org/2000/svg' width='" << kW << "' height='" << kH
      << "' font-family='sans-serif' font-size='11'>";
  auto& b = f.histogram_buckets;
  if (b.empty()) {
    svg << "<text x='" << kW / 2 << "' y='" << kH / 2 << "' text-anchor='middle'>no samples</text>";
    return svg.str() + "</svg>";
  }
  size_t per = (b.size() + kBars - 1) / kBars;
  std::vector<std::pair<double, uint64_t>> bars;
  for (size_t i = 0; i < b.size(); i += per) {
    uint64_t n = 0;
    double le = 0;
    for (size_t k = i; k < std::min(b.size(), i + per); ++k) n += b[k].second, le = b[k].first;
    bars.emplace_back(le, n);
  }
  uint64_t top = 0;
  for (auto& [le, n] : bars) top = std::max(top, n);
  double ymax = nice_max(double(top));
  double pw = kW - kLeft - kRight, ph = kH - kTop - kBottom;
  axes(svg, 0, ymax, f.histogram_of + " (bar = upper bound, log-spaced buckets)", "count");
  double bw = pw / double(bars.size());
  for (size_t i = 0; i < bars.size(); ++i) {
    double h = ph * double(bars[i].second) / ymax;
    svg << "<rect x='" << kLeft + bw * i + 1 << "' y='" << kTop + ph - h << "' width='"
        << std::max(1.0, bw - 2) << "' height='" << h << "' fill='#2ca02c'><title>&lt;= "
        << fmt("%.3f", bars[i].first) << " ms: " << bars[i].second << "</title></rect>";
    if (i % std::max<size_t>(1, bars.size() / 8) == 0)
      svg << "<text x='" << kLeft + bw * i + bw / 2 << "' y='" << kTop + ph + 16
          << "' text-anchor='middle'>" << fmt("%.3g", bars[i].first) << "</text>";
  }
  svg << "</svg>";
  return svg.str();
}

}  // namespace

std::string summary_text(const figures& f, const std::vector<threshold_result>& thresholds) {
  std::ostringstream out;
  out << "\npeerlite loadtest summary\n";
  for (auto& [k, v] : rows(f)) out << "  " << k << std::string(16 - std::min<size_t>(15, k.size()), ' ') << v << "\n";
  for (auto& t : thresholds)
    out << "  threshold       " << (t.ok ? "ok     " : "FAILED ") << t.t.text << " (actual "
        << (t.actual ? fmt("%g", *t.actual) : std::string("not measured")) << ")\n";
  for (auto& why : f.failures) out << "  run failed      " << why << "\n";
  return out.str();
}

std::string html_report(const figures& f, const std::vector<threshold_result>& thresholds) {
  std::ostringstream h;
  h << "<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'>"
    << "<title>peerlite loadtest " << escape(f.started_at) << "</title><style>"
    << "body{font-family:sans-serif;margin:24px;color:#222}table{border-collapse:collapse}"
    << "td,th{border:1px solid #ccc;padding:4px 8px;text-align:left}"
    << ".ok{color:#2a7a2a}.bad{color:#b00020;font-weight:bold}</style></head><body>\n";
  h << "<h1>peerlite loadtest</h1><p>" << escape(f.started_at) << ", "
    << (f.failures.empty() ? "<span class='ok'>completed</span>"
                           : "<span class='bad'>failed</span>")
    << "</p>\n<table>";
  for (auto& [k, v] : rows(f)) h << "<tr><th>" << escape(k) << "</th><td>" << escape(v) << "</td></tr>";
  h << "</table>\n";
  for (auto& why : f.failures) h << "<p class='bad'>" << escape(why) << "</p>";
  if (!thresholds.empty()) {
    h << "<h2>Thresholds</h2><table><tr><th>threshold</th><th>actual</th><th>result</th></tr>";
    for (auto& t : thresholds)
      h << "<tr><td>" << escape(t.t.text) << "</td><td>"
        << (t.actual ? fmt("%g", *t.actual) : std::string("not measured")) << "</td><td class='"
        << (t.ok ? "ok'>ok" : "bad'>FAILED") << "</td></tr>";
    h << "</table>\n";
  }
  h << "<h2>Documents per second</h2>" << rate_chart(f) << "\n";
  h << "<h2>Latency histogram: " << escape(f.histogram_of) << "</h2>" << histogram_chart(f)
    << "\n";
  h << "<h2>Errors</h2><table><tr><th>kind</th><th>count</th></tr>";
  if (f.errors_by_kind.empty()) h << "<tr><td colspan='2'>none</td></tr>";
  for (auto& [k, v] : f.errors_by_kind) h << "<tr><td>" << escape(k) << "</td><td>" << v << "</td></tr>";
  h << "<tr><td>retries</td><td>" << f.retries << "</td></tr><tr><td>disconnects</td><td>"
    << f.disconnects << "</td></tr></table>\n</body></html>\n";
  return h.str();
}

}  // namespace peerlite::loadtest
