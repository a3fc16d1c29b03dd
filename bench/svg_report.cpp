// The --report SVG writer (see svg_report.hpp). Plain SVG 1.1: rects, lines, polylines and text
// in a generic font family, so nothing is fetched or run when it is displayed.
#include "bench/svg_report.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>

namespace peerlite::bench::report {

namespace {

/// Page width; everything else is laid out from the top down.
constexpr double kWidth = 1080;
constexpr double kMargin = 20;
constexpr double kLineHeight = 15;  ///< one line of the 12 px text
/// Bar chart: the case name column, the bar area, then the figures column.
constexpr double kNameWidth = 170;
constexpr double kBarWidth = 480;
constexpr double kCaseBarHeight = 12;
constexpr double kBaselineBarHeight = 7;
constexpr double kBarGap = 2;
constexpr double kGroupGap = 10;
/// Curves: two charts per row.
constexpr double kChartWidth = 510;
constexpr double kChartHeight = 260;
constexpr double kPlotLeft = 70, kPlotRight = 45, kPlotTop = 30, kPlotBottom = 45;
constexpr int kYTicks = 5;
/// Points keep this far from the plot's left and right edges, so their labels clear the axis.
constexpr double kPlotInset = 24;
/// Ratios below this get more digits (push_ws is ~0.005x a raw TCP copy).
constexpr double kSmallRatio = 0.1;
/// Notes wrap at this many characters (about the page width at 11 px).
constexpr size_t kWrapColumns = 160;

const char* kCaseColor = "#2b6cb0";
const std::vector<const char*> kBaselineColors = {"#a0aec0", "#ed8936", "#48bb78"};
const char* kFailColor = "#c53030";

std::string esc(const std::string& s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      default: out += c;
    }
  }
  return out;
}

/// 1234567 -> "1.23M", 45600 -> "45.6k", 12.5 -> "12.5".
std::string si(double v) {
  char buf[32];
  double a = std::fabs(v);
  if (a >= 1e9) std::snprintf(buf, sizeof buf, "%.3gG", v / 1e9);
  else if (a >= 1e6) std::snprintf(buf, sizeof buf, "%.3gM", v / 1e6);
  else if (a >= 1e3) std::snprintf(buf, sizeof buf, "%.3gk", v / 1e3);
  else std::snprintf(buf, sizeof buf, "%.3g", v);
  return buf;
}

std::string num(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f", v);
  return buf;
}

struct canvas {
  std::ostringstream body;
  double y = kMargin;  ///< the next free line from the top

  void text(double x, double ty, const std::string& s, int size = 12, const char* anchor = "start",
            const char* extra = "") {
    body << "<text x=\"" << num(x) << "\" y=\"" << num(ty) << "\" font-size=\"" << size
         << "\" text-anchor=\"" << anchor << "\"" << extra << ">" << esc(s) << "</text>\n";
  }
  void rect(double x, double ry, double w, double h, const char* fill) {
    body << "<rect x=\"" << num(x) << "\" y=\"" << num(ry) << "\" width=\"" << num(std::max(w, 0.5))
         << "\" height=\"" << num(h) << "\" fill=\"" << fill << "\"/>\n";
  }
  void line(double x1, double y1, double x2, double y2, const char* stroke, double width = 1) {
    body << "<line x1=\"" << num(x1) << "\" y1=\"" << num(y1) << "\" x2=\"" << num(x2)
         << "\" y2=\"" << num(y2) << "\" stroke=\"" << stroke << "\" stroke-width=\"" << width
         << "\"/>\n";
  }
};

std::vector<std::string> wrap(const std::string& s, size_t columns) {
  std::vector<std::string> out;
  std::istringstream words(s);
  std::string line, w;
  while (words >> w) {
    if (!line.empty() && line.size() + 1 + w.size() > columns) {
      out.push_back(line);
      line = "   ";  // continuation lines are indented
    }
    line += (line.empty() || line == "   " ? "" : " ") + w;
  }
  if (!line.empty()) out.push_back(line);
  return out;
}

/// Decades 10^lo .. 10^hi spanning [min, max] (both > 0).
std::pair<int, int> decades(double min, double max) {
  int lo = static_cast<int>(std::floor(std::log10(min)));
  int hi = static_cast<int>(std::ceil(std::log10(max)));
  if (hi <= lo) hi = lo + 1;
  return {lo, hi};
}

/// The smallest 1, 2 or 5 x 10^k at or above v.
double nice_ceiling(double v) {
  if (v <= 0) return 1;
  double p = std::pow(10, std::floor(std::log10(v)));
  for (double m : {1.0, 2.0, 5.0, 10.0})
    if (m * p >= v) return m * p;
  return 10 * p;
}

void draw_bars(canvas& c, const std::vector<case_row>& cases) {
  double min = 0, max = 0;
  auto see = [&](double v) {
    if (v <= 0) return;
    min = min == 0 ? v : std::min(min, v);
    max = std::max(max, v);
  };
  for (const auto& k : cases) {
    see(k.rate);
    for (const auto& b : k.baselines) see(b.rate);
  }
  c.text(kMargin, c.y + 12, "Each case's rate (dark) beside its baselines' rates, ops/s, log scale",
         14, "start", " font-weight=\"bold\"");
  c.y += 2 * kLineHeight;
  if (max == 0) {
    c.text(kMargin, c.y + 12, "(no case produced a rate)");
    c.y += 2 * kLineHeight;
    return;
  }
  auto [lo, hi] = decades(min, max);
  double x0 = kMargin + kNameWidth;
  auto xof = [&, lo = lo, hi = hi](double v) {
    return x0 + kBarWidth * (std::log10(std::max(v, std::pow(10, lo))) - lo) / (hi - lo);
  };
  // Legend.
  c.rect(x0, c.y, 10, 10, kCaseColor);
  c.text(x0 + 14, c.y + 9, "case", 11);
  const char* legend[] = {"sqlite_raw (every case's baseline)",
                          "the case's own baseline, named in its note"};
  for (size_t i = 0; i < std::size(legend); ++i) {
    double lx = x0 + 60 + 230 * i;
    c.rect(lx, c.y, 10, 10, kBaselineColors[i]);
    c.text(lx + 14, c.y + 9, legend[i], 11);
  }
  c.y += kLineHeight + 4;
  double grid_top = c.y;
  for (const auto& k : cases) {
    double group_top = c.y;
    c.text(kMargin + kNameWidth - 8, c.y + kCaseBarHeight - 2, k.name, 12, "end");
    if (k.failed) {
      c.text(x0 + 4, c.y + kCaseBarHeight - 2, "FAILED: " + k.error.substr(0, 110), 11, "start",
             " fill=\"#c53030\"");
      c.y += kCaseBarHeight + kGroupGap;
      continue;
    }
    c.rect(x0, c.y, xof(k.rate) - x0, kCaseBarHeight, kCaseColor);
    std::string figures = si(k.rate) + "/s";
    c.y += kCaseBarHeight + kBarGap;
    for (size_t i = 0; i < k.baselines.size(); ++i) {
      const auto& b = k.baselines[i];
      c.rect(x0, c.y, xof(b.rate) - x0, kBaselineBarHeight,
             kBaselineColors[std::min(i, kBaselineColors.size() - 1)]);
      char ratio[96];
      double x = b.rate > 0 ? k.rate / b.rate : 0.0;
      std::snprintf(ratio, sizeof ratio, x >= kSmallRatio ? "; %.2fx %s" : "; %.4fx %s", x,
                    b.name.c_str());
      figures += ratio;
      c.y += kBaselineBarHeight + kBarGap;
    }
    c.text(x0 + kBarWidth + 10, group_top + kCaseBarHeight - 2, figures, 11);
    c.y += kGroupGap;
  }
  // Decade grid and axis labels over the bars' height.
  for (int d = lo; d <= hi; ++d) {
    double x = x0 + kBarWidth * (d - lo) / (hi - lo);
    c.line(x, grid_top - 2, x, c.y - kGroupGap / 2, "#e2e8f0");
    c.text(x, c.y + 8, si(std::pow(10, d)), 10, "middle");
  }
  c.y += 2 * kLineHeight;
}

void draw_curve(canvas& c, const curve& k, double left, double top) {
  double pl = left + kPlotLeft, pr = left + kChartWidth - kPlotRight;
  double pt = top + kPlotTop, pb = top + kChartHeight - kPlotBottom;
  c.text(left + kChartWidth / 2, top + 14, k.title, 13, "middle", " font-weight=\"bold\"");
  double xmin = 0, xmax = 0, ymax = 0;
  for (const auto& p : k.points) {
    if (p.x <= 0) continue;
    xmin = xmin == 0 ? p.x : std::min(xmin, p.x);
    xmax = std::max(xmax, p.x);
    if (p.ok) ymax = std::max(ymax, p.y);
  }
  c.line(pl, pb, pr, pb, "#4a5568");
  c.line(pl, pt, pl, pb, "#4a5568");
  if (xmax == 0) return;
  auto [lo, hi] = decades(xmin, xmax);
  double ytop = nice_ceiling(ymax * 1.15);
  double il = pl + kPlotInset, ir = pr - kPlotInset;
  auto xof = [&, lo = lo, hi = hi](double x) {
    return il + (ir - il) * (std::log10(x) - lo) / (hi - lo);
  };
  auto yof = [&](double y) { return pb - (pb - pt) * y / ytop; };
  for (int d = lo; d <= hi; ++d) {
    double x = xof(std::pow(10, d));
    c.line(x, pt, x, pb, "#edf2f7");
    c.text(x, pb + 14, si(std::pow(10, d)), 10, "middle");
  }
  for (int i = 0; i <= kYTicks; ++i) {
    double v = ytop * i / kYTicks, y = yof(v);
    c.line(pl, y, pr, y, "#edf2f7");
    c.text(pl - 4, y + 3, si(v), 10, "end");
  }
  c.text((pl + pr) / 2, pb + 32, k.x_label, 11, "middle");
  c.text(left + 14, (pt + pb) / 2, k.y_label, 11, "middle",
         (" transform=\"rotate(-90 " + num(left + 14) + " " + num((pt + pb) / 2) + ")\"").c_str());
  std::ostringstream poly;
  for (const auto& p : k.points)
    if (p.ok && p.x > 0) poly << num(xof(p.x)) << "," << num(yof(p.y)) << " ";
  c.body << "<polyline fill=\"none\" stroke=\"" << kCaseColor << "\" stroke-width=\"2\" points=\""
         << poly.str() << "\"/>\n";
  for (const auto& p : k.points) {
    if (p.x <= 0) continue;
    double x = xof(p.x);
    if (!p.ok) {
      double y = pb - 8;
      c.line(x - 5, y - 5, x + 5, y + 5, kFailColor, 2);
      c.line(x - 5, y + 5, x + 5, y - 5, kFailColor, 2);
      c.text(x, y - 9, "failed", 10, "middle", " fill=\"#c53030\"");
      continue;
    }
    double y = yof(p.y);
    c.body << "<circle cx=\"" << num(x) << "\" cy=\"" << num(y) << "\" r=\"3.5\" fill=\""
           << kCaseColor << "\"/>\n";
    c.text(x, y - 8, si(p.y), 10, "middle");
    if (!p.label.empty()) c.text(x, y + 14, p.label, 9, "middle", " fill=\"#4a5568\"");
  }
}

}  // namespace

std::vector<baseline> baselines_from_note(const std::string& note, double rate) {
  std::vector<baseline> out;
  std::smatch m;
  static const std::regex raw_tcp("raw loopback TCP copy [0-9.]+ s = ([0-9.]+) docs/s");
  if (std::regex_search(note, m, raw_tcp)) out.push_back({"raw loopback TCP", std::stod(m[1])});
  static const std::regex ratio_to("ratio_to_([a-z_]+) ([0-9.]+)");
  for (auto it = std::sregex_iterator(note.begin(), note.end(), ratio_to);
       it != std::sregex_iterator(); ++it) {
    std::string name = (*it)[1];
    double r = std::stod((*it)[2]);
    if (name == "sqlite_raw" || r <= 0) continue;
    out.push_back({name == "raw_tcp" ? "raw loopback TCP" : name, rate / r});
  }
  return out;
}

std::string write_svg(const std::string& path, const report& r) {
  canvas c;
  c.text(kMargin, c.y + 16, "peerlite-bench", 18, "start", " font-weight=\"bold\"");
  c.y += 26;
  for (const auto& h : r.header) {
    c.text(kMargin, c.y + 11, h, 11, "start", " fill=\"#4a5568\"");
    c.y += kLineHeight - 1;
  }
  c.y += kLineHeight;
  if (!r.cases.empty()) draw_bars(c, r.cases);
  for (size_t i = 0; i < r.curves.size(); i += 2) {
    for (size_t j = i; j < std::min(i + 2, r.curves.size()); ++j)
      draw_curve(c, r.curves[j], kMargin + (j - i) * (kChartWidth + kMargin), c.y);
    c.y += kChartHeight + kMargin;
  }
  for (const auto& n : r.notes)
    for (const auto& l : wrap(n, kWrapColumns)) {
      c.text(kMargin, c.y + 11, l, 11);
      c.y += kLineHeight;
    }
  c.y += kMargin;

  std::error_code ec;
  auto parent = std::filesystem::path(path).parent_path();
  if (!parent.empty()) std::filesystem::create_directories(parent, ec);
  std::ofstream out(path);
  if (!out) return "cannot write " + path;
  out << "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
      << "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" << num(kWidth) << "\" height=\""
      << num(c.y) << "\" viewBox=\"0 0 " << num(kWidth) << " " << num(c.y)
      << "\" font-family=\"Helvetica, Arial, sans-serif\" fill=\"#1a202c\">\n"
      << "<rect width=\"100%\" height=\"100%\" fill=\"#ffffff\"/>\n"
      << c.body.str() << "</svg>\n";
  return out ? "" : "cannot write " + path;
}

}  // namespace peerlite::bench::report
