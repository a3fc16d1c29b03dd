// The engine's process-wide metrics: what the db actor's group commits of peer revisions cost
// and how big they are. `peerlite serve --admin` exports them as the Prometheus histograms
// peerlite_commit_seconds and peerlite_group_commit_revisions (tools/admin_server.cpp).
//
// Recording is the hot path: one record_group_commit() per group commit (not per revision),
// a handful of relaxed atomic adds with no lock and no allocation. The buckets are fixed at
// compile time, so a histogram is a plain array of counters.
//
// Thread safety: record_group_commit() and snapshot() may be called from any thread at any
// time. A snapshot is not one atomic picture: a commit recorded while it is taken may show in
// its buckets and not yet in its sum. Its count is the sum of its buckets, so count and the
// +Inf bucket always agree, as Prometheus requires.
#pragma once

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace peerlite::metrics {

/// Upper bounds (seconds) of the commit latency buckets: from a small commit on a fast disk
/// (~0.5 ms) to a group of kGroupCommitMaxRevs revisions on a slow one (seconds); a +Inf
/// bucket follows.
constexpr std::array<double, 14> kCommitSecondsBounds{
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0};

/// Upper bounds (revisions) of the group size buckets: a single revision of a quiet
/// continuous peer up to the db actor's cap of 20,000 (kGroupCommitMaxRevs, actors/tuning.hpp);
/// a +Inf bucket follows.
constexpr std::array<double, 12> kGroupCommitRevisionsBounds{1,   2,   5,   10,   20,   50,
                                                             100, 200, 500, 1000, 5000, 20000};

/// One histogram as read: cumulative counts per bound ("le"), then count (the +Inf bucket)
/// and sum, in the histogram's unit (seconds or revisions).
struct histogram_snapshot {
  std::vector<double> bounds;
  std::vector<uint64_t> cumulative;  ///< cumulative[i] = observations <= bounds[i]
  uint64_t count = 0;
  double sum = 0;
};

struct engine_snapshot {
  /// Wall time of each group commit transaction (BEGIN .. COMMIT), successful or not.
  histogram_snapshot commit_seconds;
  /// Revisions written by each successful group commit.
  histogram_snapshot group_commit_revisions;
  /// Group commits whose transaction failed (nothing of them was written).
  uint64_t failed_commits = 0;
};

/// Records one group commit: its transaction took `took`; `revisions` were written when
/// `committed`, none otherwise.
void record_group_commit(std::chrono::steady_clock::duration took, std::size_t revisions,
                         bool committed);

/// The totals since the process started.
engine_snapshot snapshot();

}  // namespace peerlite::metrics
