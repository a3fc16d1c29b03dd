// Status pacing shared by the pusher and the puller (DESIGN.md: status flows upward).
#pragma once

#include <chrono>
#include <optional>

#include "actors/tuning.hpp"
#include "actors/type_ids.hpp"
#include "actors/workers.hpp"

namespace peerlite::actors {

/// Starts a worker's status report. Paced to one every kWorkerReportInterval unless `now`
/// (activity changes and the final report): a paced call schedules one tick and yields nullopt.
/// Queued document events go to the parent first, so they never trail the status they explain.
template <class Self>
std::optional<worker_report> begin_report(Self self, bool now, bool is_pusher) {
  auto& st = self->state;
  auto t = std::chrono::steady_clock::now();
  if (!now && t - st.last_report < kWorkerReportInterval) {
    if (!st.report_scheduled) {
      st.report_scheduled = true;
      self->delayed_send(self, kWorkerReportInterval, tick_atom::value);
    }
    return std::nullopt;
  }
  st.last_report = t;
  if (!st.events.empty())
    caf::anon_send(st.cfg.parent, doc_events_atom::value, uint64_t{st.cfg.lane},
                   std::move(st.events));
  st.events.clear();
  worker_report w;
  w.is_pusher = is_pusher;
  w.lane = st.cfg.lane;
  w.activity = st.failed ? activity_level::stopped : st.activity;
  w.completed = st.completed;
  w.total = st.total;
  w.err = st.err;
  return w;
}

}  // namespace peerlite::actors
