// peerlite loadtest: the histogram, the JSON of a run, its flattened metric names and the
// thresholds checked against them.
#include <cmath>
#include <stdexcept>

#include "tools/loadtest/loadtest.hpp"

namespace peerlite::loadtest {

namespace {

/// Buckets grow by 2% each: bucket b holds durations in [kMinNs * g^b, kMinNs * g^(b+1)).
constexpr double kGrowth = 1.02;
constexpr double kMinNs = 1000;  ///< 1 us; shorter durations land in bucket 0
constexpr size_t kBuckets = 1400;  ///< 1.02^1400 us is ~17 minutes; longer ones land in the last

size_t bucket_of(int64_t ns) {
  if (ns <= kMinNs) return 0;
  auto b = static_cast<size_t>(std::log(double(ns) / kMinNs) / std::log(kGrowth));
  return std::min(b, kBuckets - 1);
}

double upper_ms(size_t b) { return kMinNs * std::pow(kGrowth, double(b + 1)) / 1e6; }

nlohmann::json stats_json(const latency_stats& s) {
  return {{"count", s.count}, {"p50", s.p50}, {"p95", s.p95},
          {"p99", s.p99},     {"max", s.max}, {"mean", s.mean}};
}

bool is_stats(const nlohmann::json& j) {
  return j.is_object() && j.contains("p50") && j.contains("p99") && j.contains("max");
}

void flatten_into(const nlohmann::json& j, const std::string& prefix,
                  std::map<std::string, double>& out) {
  for (auto it = j.begin(); it != j.end(); ++it) {
    const auto& v = it.value();
    std::string name = prefix.empty() ? it.key() : prefix + "_" + it.key();
    if (is_stats(v)) {
      for (auto s = v.begin(); s != v.end(); ++s)
        if (s.value().is_number()) out[s.key() + "_" + name] = s.value().get<double>();
    } else if (v.is_object() && it.key() != "options") {
      flatten_into(v, name, out);
    } else if (v.is_number()) {
      out[name] = v.get<double>();
    }
  }
}

}  // namespace

histogram::histogram() : counts_(kBuckets) {}

void histogram::record_ns(int64_t ns) {
  ns = std::max<int64_t>(0, ns);
  counts_[bucket_of(ns)].fetch_add(1, std::memory_order_relaxed);
  count_.fetch_add(1, std::memory_order_relaxed);
  sum_ns_.fetch_add(ns, std::memory_order_relaxed);
  int64_t seen = max_ns_.load(std::memory_order_relaxed);
  while (ns > seen && !max_ns_.compare_exchange_weak(seen, ns, std::memory_order_relaxed)) {
  }
}

latency_stats histogram::stats() const {
  latency_stats s;
  s.count = count_.load();
  if (s.count == 0) return s;
  s.max = double(max_ns_.load()) / 1e6;
  s.mean = double(sum_ns_.load()) / double(s.count) / 1e6;
  /// A percentile is the upper bound of the bucket holding that rank (never above the max).
  auto at = [&](double q) {
    uint64_t rank = std::max<uint64_t>(1, uint64_t(std::ceil(q * double(s.count)))), seen = 0;
    for (size_t b = 0; b < kBuckets; ++b) {
      seen += counts_[b].load(std::memory_order_relaxed);
      if (seen >= rank) return std::min(upper_ms(b), s.max);
    }
    return s.max;
  };
  s.p50 = at(0.50);
  s.p95 = at(0.95);
  s.p99 = at(0.99);
  return s;
}

std::vector<std::pair<double, uint64_t>> histogram::buckets() const {
  std::vector<std::pair<double, uint64_t>> out;
  for (size_t b = 0; b < kBuckets; ++b)
    if (auto n = counts_[b].load(std::memory_order_relaxed)) out.emplace_back(upper_ms(b), n);
  return out;
}

nlohmann::json to_json(const figures& f) {
  const auto& o = f.opts;
  double secs = f.elapsed_s > 0 ? f.elapsed_s : 1;
  nlohmann::json j;
  j["schema"] = "peerlite.loadtest/1";
  j["started_at"] = f.started_at;
  j["target"] = f.target;
  j["options"] = {{"mode", o.continuous ? "continuous" : to_string(o.mode)},
                  {"peers", o.peers},
                  {"ramp_up_s", o.ramp_up_s},
                  {"docs_per_peer", o.docs},
                  {"doc_size_bytes", o.doc_size},
                  {"doc_template", o.doc_template},
                  {"duration_s", o.duration_s},
                  {"write_rate_docs_per_s", o.write_rate},
                  {"seed", f.seed},
                  {"on_disk", o.on_disk},
                  {"spawn_hub", o.spawn_hub}};
  j["elapsed_s"] = f.elapsed_s;
  j["completed"] = f.failures.empty();
  j["failures"] = f.failures;
  j["peers"] = {{"total", o.peers},
                {"connected", f.peers_connected},
                {"converged", f.peers_converged},
                {"failed", f.peers_failed}};
  j["docs"] = {{"pushed", f.pushed},
               {"pulled", f.pulled},
               {"written", f.written},
               {"writes_due", f.writes_due},
               {"failed", f.doc_failures}};
  j["docs_per_s"] = {{"pushed", double(f.pushed) / secs},
                     {"pulled", double(f.pulled) / secs},
                     {"total", double(f.pushed + f.pulled) / secs}};
  j["bytes"] = {{"sent", f.bytes_sent}, {"received", f.bytes_received}};
  j["connect_ms"] = stats_json(f.connect);
  j["first_change_ms"] = stats_json(f.first_change);
  j["converge_ms"] = stats_json(f.converge);
  if (o.continuous) {
    j["write_phase_s"] = f.write_phase_s;
    j["propagation_ms"] = stats_json(f.propagation);
    j["propagation_all_ms"] = stats_json(f.propagation_all);
    j["arrivals"] = {{"expected", f.arrivals_expected}, {"seen", f.arrivals_seen}};
  }
  j["errors"] = f.errors();
  j["errors_by_kind"] = f.errors_by_kind;
  j["retries"] = f.retries;
  j["disconnects"] = f.disconnects;
  j["loadtest"] = {{"cpu_s", f.cpu_s}, {"rss_peak_mib", double(f.rss_peak_kib) / 1024}};
  if (o.spawn_hub) {
    nlohmann::json hub = nlohmann::json::object();
    if (f.hub_cpu_s) hub["cpu_s"] = *f.hub_cpu_s;
    if (f.hub_rss_peak_kib) hub["rss_peak_mib"] = double(*f.hub_rss_peak_kib) / 1024;
    if (f.hub_open_files) hub["open_files"] = *f.hub_open_files;
    if (f.hub_docs) hub["docs"] = *f.hub_docs;
    j["hub"] = hub;
  }
  nlohmann::json timeline = nlohmann::json::array();
  for (auto& x : f.timeline)
    timeline.push_back({{"t_s", x.t_s},
                        {"pushed", x.pushed},
                        {"pulled", x.pulled},
                        {"written", x.written},
                        {"connected", x.connected},
                        {"finished", x.finished},
                        {"errors", x.errors},
                        {"bytes_sent", x.bytes_sent},
                        {"bytes_received", x.bytes_received},
                        {"rss_kib", x.rss_kib},
                        {"hub_rss_kib", x.hub_rss_kib}});
  j["timeline"] = timeline;
  nlohmann::json hist = nlohmann::json::array();
  for (auto& [ms, n] : f.histogram_buckets) hist.push_back({{"le_ms", ms}, {"count", n}});
  j["histogram"] = {{"of", f.histogram_of}, {"buckets", hist}};
  return j;
}

std::map<std::string, double> flatten(const nlohmann::json& j) {
  std::map<std::string, double> out;
  nlohmann::json top = j;
  /// The series are not figures a threshold can name.
  top.erase("timeline");
  top.erase("histogram");
  flatten_into(top, "", out);
  return out;
}

threshold parse_threshold(const std::string& text) {
  static const char* kOps[] = {"<=", ">=", "==", "!=", "<", ">"};
  for (const char* op : kOps) {
    auto at = text.find(op);
    if (at == std::string::npos) continue;
    threshold t;
    t.text = text;
    t.op = op;
    auto trim = [](std::string s) {
      auto b = s.find_first_not_of(" \t"), e = s.find_last_not_of(" \t");
      return b == std::string::npos ? std::string() : s.substr(b, e - b + 1);
    };
    t.metric = trim(text.substr(0, at));
    std::string value = trim(text.substr(at + t.op.size()));
    size_t used = 0;
    try {
      t.value = std::stod(value, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (t.metric.empty() || value.empty() || used != value.size())
      throw std::invalid_argument("threshold '" + text + "': want METRIC" + t.op +
                                  "NUMBER, e.g. p99_propagation_ms<250");
    /// Dotted paths name the same metric: propagation_ms.p99 is p99_propagation_ms.
    if (auto dot = t.metric.rfind('.'); dot != std::string::npos) {
      std::string leaf = t.metric.substr(dot + 1), path = t.metric.substr(0, dot);
      for (auto& c : path) c = c == '.' ? '_' : c;
      static const char* kStats[] = {"p50", "p95", "p99", "max", "mean", "count"};
      bool stat = std::find(std::begin(kStats), std::end(kStats), leaf) != std::end(kStats);
      t.metric = stat ? leaf + "_" + path : path + "_" + leaf;
    }
    return t;
  }
  throw std::invalid_argument("threshold '" + text +
                              "': no comparison (use <, <=, >, >=, == or !=)");
}

std::vector<threshold_result> check(const std::vector<threshold>& ts,
                                    const std::map<std::string, double>& metrics) {
  std::vector<threshold_result> out;
  for (auto& t : ts) {
    threshold_result r{t, std::nullopt, false};
    if (auto it = metrics.find(t.metric); it != metrics.end()) {
      double a = it->second;
      r.actual = a;
      if (t.op == "<") r.ok = a < t.value;
      if (t.op == "<=") r.ok = a <= t.value;
      if (t.op == ">") r.ok = a > t.value;
      if (t.op == ">=") r.ok = a >= t.value;
      if (t.op == "==") r.ok = a == t.value;
      if (t.op == "!=") r.ok = a != t.value;
    }
    out.push_back(r);
  }
  return out;
}

}  // namespace peerlite::loadtest
