// Combines the workers' reports into one replicator status, and paces status reports to at
// most one per kStatusInterval (the final one always goes out).
#pragma once

#include <chrono>
#include <map>
#include <optional>

#include "actors/tuning.hpp"
#include "actors/workers.hpp"

namespace peerlite::actors {

struct status_mixer {
  /// The latest report of each worker, by (lane << 1 | is_pusher): a replicator has a pusher
  /// and a puller per collection it replicates (lane = its position; 0 without collections).
  std::map<uint64_t, worker_report> workers;

  void clear() { workers.clear(); }
  void update(const worker_report& w, uint32_t lane = 0) {
    workers[(uint64_t{lane} << 1) | (w.is_pusher ? 1 : 0)] = w;
  }

  /// BUSY if any worker is, else IDLE; progress is the sum. Call while connected.
  replicator_status connected() const {
    replicator_status s;
    s.activity = activity_level::idle;
    for (auto& [key, w] : workers) {
      if (w.activity == activity_level::busy) s.activity = activity_level::busy;
      s.progress.completed += w.completed;
      s.progress.total += w.total;
    }
    return s;
  }
  /// True when every worker that exists is idle (and at least one exists).
  bool all_idle() const {
    for (auto& [key, w] : workers)
      if (w.activity != activity_level::idle) return false;
    return !workers.empty();
  }
  /// The first worker error, if any.
  std::optional<error> failure() const {
    for (auto& [key, w] : workers)
      if (w.err.code != errc::ok) return w.err;
    return std::nullopt;
  }
};

/// Decides when a status may go out.
struct status_pacer {
  std::chrono::steady_clock::time_point last{};
  bool tick_pending = false;
  activity_level level = activity_level::stopped;  ///< the last level reported

  /// True when a report may go now; otherwise the caller schedules one tick (if none is
  /// pending) after delay().
  bool may_send(std::chrono::steady_clock::time_point now) const {
    return now - last >= kStatusInterval;
  }
  std::chrono::milliseconds delay(std::chrono::steady_clock::time_point now) const {
    auto left = kStatusInterval - (now - last);
    return std::chrono::duration_cast<std::chrono::milliseconds>(left) +
           std::chrono::milliseconds(1);
  }
};

}  // namespace peerlite::actors
