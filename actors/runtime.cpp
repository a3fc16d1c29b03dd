#include "actors/runtime.hpp"

#include <algorithm>
#include <future>
#include <mutex>
#include <thread>

#include "actors/errors.hpp"
#include "actors/tuning.hpp"

namespace peerlite::actors {

namespace {

thread_local bool tl_system_thread = false;

/// Marks the system's own threads so the deleter can tell where it runs.
class mark_threads : public caf::thread_hook {
 public:
  void init(caf::actor_system&) override {}
  void thread_started() override { tl_system_thread = true; }
  void thread_terminates() override { tl_system_thread = false; }
};

/// actor_system keeps a reference to its config, so both live in one box.
struct system_box {
  caf::actor_system_config cfg;
  std::unique_ptr<caf::actor_system> sys;

  system_box() {
    cfg.add_thread_hook<mark_threads>();
    cfg.add_error_category(kErrorCategory, render_error);
    /// Scheduler sizing. CAF's defaults (max(hw threads, 4) workers; 100 busy polls, then 500
    /// polls with a 50 us sleep each, then a condition-variable wait that times out every 10 ms
    /// to try stealing) keep an idle process waking hundreds of times a second: on a 2-vCPU VM
    /// an idle hub and an idle continuous peer each used 1.1-1.5% of a core (2026-12-05), and
    /// 76% of a hub's samples under 100 empty syncs were in nanosleep (2026-11-26). One worker
    /// per hardware thread (at least kMinSchedulerThreads), kModeratePollAttempts sleeping polls
    /// and a kRelaxedSleep wait are what peerlite runs with; every message from outside the
    /// scheduler (sockets, timers, the app) notifies a sleeping worker, so the longer wait only
    /// delays the stealing of work queued behind a busy worker. When this was first tried
    /// (2026-11-26), full test runs failed 3 times in about 20; the faults are the engine's:
    /// a push-and-pull pusher could read its feed between the puller's commit and the skip
    /// list sent after it, and offer pulled revisions back (since then pulled revisions are
    /// recorded per remote in the commit's own transaction, store::database::insert_batch, and
    /// the feed query leaves them out); a write refused just after the peer vanished could end
    /// a continuous peer's session as permanent instead of OFFLINE (ws_pipe::report_end).
    cfg.set("scheduler.max-threads",
            std::max<size_t>(kMinSchedulerThreads, std::thread::hardware_concurrency()));
    cfg.set("work-stealing.moderate-poll-attempts", kModeratePollAttempts);
    cfg.set("work-stealing.relaxed-sleep-duration", caf::timespan{kRelaxedSleep});
    sys = std::make_unique<caf::actor_system>(cfg);
    /// Leftover actors (a listener nobody closed) must not block shutdown.
    sys->await_actors_before_shutdown(false);
  }
};

/// Destroys the box on a helper thread and waits for it at most kSystemShutdownTimeout; a
/// scheduler stuck in app code is left behind (the process is exiting anyway).
void destroy_bounded(system_box* box) {
  auto done = std::make_shared<std::promise<void>>();
  auto finished = done->get_future();
  std::thread reaper([box, done] {
    delete box;
    done->set_value();
  });
  if (finished.wait_for(kSystemShutdownTimeout) == std::future_status::ready)
    reaper.join();
  else
    reaper.detach();
}

void release_box(system_box* box) {
  /// On a system thread only process exit can drop the last reference (the holder below keeps
  /// one until then); joining ourselves would deadlock, so leave it to the OS.
  if (tl_system_thread) return;
  destroy_bounded(box);
}

/// Owns one reference until static destruction, so handles coming and going never tear the
/// system down mid-process.
struct holder {
  std::mutex mtx;
  std::shared_ptr<caf::actor_system> sys;
  ~holder() {
    std::lock_guard<std::mutex> guard{mtx};
    sys.reset();
  }
};

holder& the_holder() {
  static holder h;
  return h;
}

}  // namespace

std::shared_ptr<caf::actor_system> shared_system() {
  auto& h = the_holder();
  std::lock_guard<std::mutex> guard{h.mtx};
  if (!h.sys) {
    auto box = std::shared_ptr<system_box>(new system_box, release_box);
    h.sys = std::shared_ptr<caf::actor_system>(box, box->sys.get());
  }
  return h.sys;
}

std::shared_ptr<caf::actor_system> keep_alive_for(caf::actor_system& sys) {
  auto& h = the_holder();
  std::lock_guard<std::mutex> guard{h.mtx};
  return h.sys.get() == &sys ? h.sys : nullptr;
}

bool on_system_thread() { return tl_system_thread; }

}  // namespace peerlite::actors
