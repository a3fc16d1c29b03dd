// peerlite loadtest: many real peers replicating with one hub at once, measured.
//
// Each simulated peer is a real peerlite replicator with its own database (in-memory SQLite
// unless on_disk) and its own connection to the target, as N devices would have. The engine
// runs one of two workloads:
//
// - One-shot (mode push, pull or push_and_pull): peer i owns `docs` documents
//   "lt<tag>-p<i>-<k>"; the pull set is `docs` shared documents "lt<tag>-s-<k>" that the engine
//   puts on the target first (setup, not timed). push: each peer pushes its own documents.
//   pull: each peer pulls the shared set. push_and_pull: both. Peers are filtered to those
//   IDs (document_ids), so each peer's work is fixed whatever else the hub holds or the other
//   peers pushed so far. A peer converges when its replicator reaches STOPPED without error.
// - Continuous: every peer runs a continuous push-and-pull replicator of the whole database.
//   Once all peers are connected and caught up, each writes `write_rate` documents a second
//   (seeded exponential gaps) for `duration` seconds. A written document carries its write
//   time (steady clock, ns: the peers share this process's clock); when a peer's replicator
//   reports it pulled, the peer reads the stamp back from its own database and records the
//   propagation latency. The run then drains until every write reached every other peer (or
//   the drain timeout passes).
//
// Everything the run measured is a `figures` value; to_json() gives the JSON the command
// writes, whose flattened names (p99_propagation_ms, errors, ...) thresholds use.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace peerlite::loadtest {

enum class mode_type { push, pull, push_and_pull };

const char* to_string(mode_type m);

struct options {
  /// ws://host:port/db or tcp://host:port/db; empty with spawn_hub.
  std::string target;
  /// Start a `peerlite serve` child process on 127.0.0.1 with a fresh database and use it.
  bool spawn_hub = false;
  /// The `peerlite` executable spawn_hub runs (default: this process's own executable).
  std::string hub_command;
  size_t peers = 10;
  /// Connects are spread evenly over this many seconds (0: all at once).
  double ramp_up_s = 0;
  /// One-shot: documents per peer (and in the shared pull set).
  size_t docs = 10;
  /// Mean body size in bytes; each document's size is drawn from [size/2, 3*size/2].
  size_t doc_size = 200;
  /// A JSON object every body starts from, instead of padding (the loadtest fields are added).
  std::string doc_template;
  mode_type mode = mode_type::push_and_pull;
  bool continuous = false;
  double duration_s = 10;
  /// Continuous: documents each peer writes per second.
  double write_rate = 1;
  std::string user;  ///< NAME:PASSWORD (ws:// Basic auth)
  uint64_t seed = 0;
  bool seed_given = false;
  bool on_disk = false;  ///< peers' databases as files in `dir` instead of in memory
  std::string dir;       ///< scratch directory (the spawned hub's database, on-disk peers)
  /// The run fails when no document moved and no peer finished for this long.
  double stall_timeout_s = 30;
  /// The longest the whole run may take (0: a default from the workload).
  double timeout_s = 0;
  /// Continuous: the longest to wait after the writes for them to reach every peer.
  double drain_timeout_s = 30;
  /// Socket threads for the peers' connections.
  size_t io_threads = 2;
};

/// p50/p95/p99/max over a set of durations, in milliseconds.
struct latency_stats {
  uint64_t count = 0;
  double p50 = 0, p95 = 0, p99 = 0, max = 0, mean = 0;
};

/// A log-scale histogram of durations: 2% wide buckets from 1 us to ~17 min, so percentiles
/// are within 2% whatever the count, in fixed memory. Thread-safe (atomic buckets).
class histogram {
 public:
  histogram();
  void record_ns(int64_t ns);
  latency_stats stats() const;
  /// (upper bound in ms, count) of each non-empty bucket, in order.
  std::vector<std::pair<double, uint64_t>> buckets() const;

 private:
  std::vector<std::atomic<uint64_t>> counts_;
  std::atomic<uint64_t> count_{0};
  std::atomic<int64_t> max_ns_{0};
  std::atomic<int64_t> sum_ns_{0};
};

/// One sample of the run's progress (every sample_interval).
struct sample {
  double t_s = 0;
  uint64_t pushed = 0, pulled = 0, written = 0;
  size_t connected = 0, finished = 0;
  uint64_t errors = 0;
  uint64_t bytes_sent = 0, bytes_received = 0;
  long rss_kib = 0, hub_rss_kib = 0;
};

/// Everything a run measured.
struct figures {
  options opts;
  uint64_t seed = 0;
  std::string target;  ///< the URL the peers used
  std::string started_at;  ///< UTC, ISO 8601
  double elapsed_s = 0;    ///< first connect to last peer finished (or the run's end)
  double write_phase_s = 0;  ///< continuous: the write phase's length
  size_t peers_connected = 0, peers_converged = 0, peers_failed = 0;
  uint64_t pushed = 0, pulled = 0, written = 0, doc_failures = 0;
  /// Continuous: writes the schedule asked for (written falls short when peers cannot keep up).
  uint64_t writes_due = 0;
  /// Continuous: arrivals expected (writes x other peers) and seen.
  uint64_t arrivals_expected = 0, arrivals_seen = 0;
  uint64_t bytes_sent = 0, bytes_received = 0;
  latency_stats connect, first_change, converge, propagation, propagation_all;
  std::map<std::string, uint64_t> errors_by_kind;
  uint64_t retries = 0, disconnects = 0;
  double cpu_s = 0;
  long rss_peak_kib = 0;
  /// Only with spawn_hub.
  std::optional<double> hub_cpu_s;
  std::optional<long> hub_rss_peak_kib;
  std::optional<size_t> hub_open_files;
  std::optional<uint64_t> hub_docs;  ///< live documents on the spawned hub after the run
  std::vector<sample> timeline;
  std::vector<std::pair<double, uint64_t>> histogram_buckets;  ///< propagation or converge
  std::string histogram_of;                                     ///< which one
  std::vector<std::string> failures;  ///< why the run failed (empty: it completed)
  bool interrupted = false;

  uint64_t errors() const;
};

/// Progress reports while the run goes on (the command prints them).
struct progress_sink {
  /// A live figure line, about every 200 ms.
  std::function<void(const sample&, const latency_stats& so_far)> tick;
  /// A phase or event worth a line of its own ("connecting 1000 peers", "hub exited").
  std::function<void(const std::string&)> event;
  /// True when the user asked to stop (Ctrl-C): the run ends and reports what it has.
  std::function<bool()> stop_requested;
};

/// Runs the load test. Throws std::runtime_error for what prevents it from starting (bad
/// options, target URL malformed, hub failed to start); everything after the start is in the
/// figures (failures, errors).
figures run(const options& o, const progress_sink& sink);

/// The JSON of `f` (schema "peerlite.loadtest/1"), every key with its unit.
nlohmann::json to_json(const figures& f);

/// Every numeric leaf of `j` under its flattened name: "propagation_ms": {"p99": x} becomes
/// p99_propagation_ms, "hub": {"cpu_s": x} becomes hub_cpu_s, "errors": n stays errors.
std::map<std::string, double> flatten(const nlohmann::json& j);

/// A threshold "name<value" (also <=, >, >=, ==, !=).
struct threshold {
  std::string text, metric, op;
  double value = 0;
};
/// Parses one threshold; throws std::invalid_argument with what is wrong.
threshold parse_threshold(const std::string& text);
/// The outcome of one threshold on a run's figures.
struct threshold_result {
  threshold t;
  std::optional<double> actual;  ///< nullopt: the metric was not measured in this run
  bool ok = false;
};
std::vector<threshold_result> check(const std::vector<threshold>& ts,
                                    const std::map<std::string, double>& metrics);

/// The summary table printed at the end.
std::string summary_text(const figures& f, const std::vector<threshold_result>& thresholds);

/// One self-contained HTML page: figures, docs/s over time, the latency histogram, errors.
std::string html_report(const figures& f, const std::vector<threshold_result>& thresholds);

}  // namespace peerlite::loadtest
