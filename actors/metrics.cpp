// The engine's process-wide metrics (see metrics.hpp): fixed-bucket histograms of relaxed
// atomic counters.
#include "actors/metrics.hpp"

#include <algorithm>
#include <atomic>

namespace peerlite::metrics {
namespace {

/// A histogram with N finite bounds: N + 1 buckets (the last is +Inf), each counting the
/// observations that fell in it alone; snapshot() makes them cumulative. The sum is kept as
/// an integer in `sum_unit`s so that it can be a relaxed fetch_add.
template <std::size_t N>
class histogram {
 public:
  histogram(const std::array<double, N>& bounds, double sum_unit)
      : bounds_(bounds), sum_unit_(sum_unit) {}

  void observe(double value, uint64_t value_in_units) {
    auto slot = std::lower_bound(bounds_.begin(), bounds_.end(), value) - bounds_.begin();
    buckets_[slot].fetch_add(1, std::memory_order_relaxed);
    sum_.fetch_add(value_in_units, std::memory_order_relaxed);
  }

  histogram_snapshot read() const {
    histogram_snapshot out;
    out.bounds.assign(bounds_.begin(), bounds_.end());
    uint64_t running = 0;
    for (std::size_t i = 0; i < N; ++i) {
      running += buckets_[i].load(std::memory_order_relaxed);
      out.cumulative.push_back(running);
    }
    out.count = running + buckets_[N].load(std::memory_order_relaxed);
    out.sum = static_cast<double>(sum_.load(std::memory_order_relaxed)) * sum_unit_;
    return out;
  }

 private:
  const std::array<double, N>& bounds_;
  const double sum_unit_;
  std::array<std::atomic<uint64_t>, N + 1> buckets_{};
  std::atomic<uint64_t> sum_{0};
};

/// The commit latency sum is kept in nanoseconds (2^64 ns is 584 years of commits).
constexpr double kSecondsPerNanosecond = 1e-9;
/// Revisions are whole numbers already.
constexpr double kOneRevision = 1.0;

struct registry {
  histogram<kCommitSecondsBounds.size()> commit_seconds{kCommitSecondsBounds,
                                                        kSecondsPerNanosecond};
  histogram<kGroupCommitRevisionsBounds.size()> group_commit_revisions{kGroupCommitRevisionsBounds,
                                                                       kOneRevision};
  std::atomic<uint64_t> failed_commits{0};
};

/// Constructed on first use (the first commit or snapshot), never destroyed before exit.
registry& process_registry() {
  static registry r;
  return r;
}

}  // namespace

void record_group_commit(std::chrono::steady_clock::duration took, std::size_t revisions,
                         bool committed) {
  auto& r = process_registry();
  auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(took).count();
  r.commit_seconds.observe(static_cast<double>(ns) * kSecondsPerNanosecond,
                           static_cast<uint64_t>(std::max<int64_t>(ns, 0)));
  if (committed)
    r.group_commit_revisions.observe(static_cast<double>(revisions), revisions);
  else
    r.failed_commits.fetch_add(1, std::memory_order_relaxed);
}

engine_snapshot snapshot() {
  auto& r = process_registry();
  return {r.commit_seconds.read(), r.group_commit_revisions.read(),
          r.failed_commits.load(std::memory_order_relaxed)};
}

}  // namespace peerlite::metrics
