// The cancellable timer service (see timer_service.hpp).
#include "actors/timer_service.hpp"

#include <algorithm>
#include <map>
#include <mutex>
#include <unordered_map>
#include <vector>

#include "actors/connection.hpp"

namespace peerlite::actors {

namespace {

using timer_arm_atom = caf::atom_constant<caf::atom("tmr_arm")>;
using timer_cancel_atom = caf::atom_constant<caf::atom("tmr_cancel")>;
using timer_fire_atom = caf::atom_constant<caf::atom("tmr_fire")>;

using clock_type = std::chrono::steady_clock;

struct pending {
  uint64_t key;
  caf::actor target;
  uint8_t kind;
  uint64_t gen;
};

using due_map = std::multimap<clock_type::time_point, pending>;

struct timer_state {
  due_map due;
  /// Each key's entries in `due`, so cancel costs only that owner's timers.
  std::unordered_map<uint64_t, std::vector<due_map::iterator>> by_key;
  /// The one wake-up in flight; an older one that arrives late is ignored.
  clock_type::time_point wakeup = clock_type::time_point::max();
  static inline const char* name = "peerlite.timers";
};

using timer_self = caf::stateful_actor<timer_state>*;

void schedule(timer_self self, clock_type::time_point at) {
  self->state.wakeup = at;
  auto delay = std::max(at - clock_type::now(), clock_type::duration::zero());
  self->delayed_send(self, delay, timer_fire_atom::value,
                     static_cast<int64_t>(at.time_since_epoch().count()));
}

void forget(timer_state& st, due_map::iterator it) {
  auto k = st.by_key.find(it->second.key);
  if (k == st.by_key.end()) return;
  auto& v = k->second;
  v.erase(std::find(v.begin(), v.end(), it));
  if (v.empty()) st.by_key.erase(k);
}

void fire(timer_self self, int64_t at) {
  auto& st = self->state;
  if (at != static_cast<int64_t>(st.wakeup.time_since_epoch().count())) return;
  st.wakeup = clock_type::time_point::max();
  auto now = clock_type::now();
  while (!st.due.empty() && st.due.begin()->first <= now) {
    auto it = st.due.begin();
    forget(st, it);
    auto p = std::move(it->second);
    st.due.erase(it);
    self->send(p.target, conn_timer_atom::value, p.kind, p.gen);
  }
  if (!st.due.empty()) schedule(self, st.due.begin()->first);
}

caf::behavior timer_impl(timer_self self) {
  return {
      [self](timer_arm_atom, uint64_t key, caf::actor& target, int64_t after_ms, uint8_t kind,
             uint64_t gen) {
        auto& st = self->state;
        auto at = clock_type::now() + std::chrono::milliseconds(after_ms);
        auto it = st.due.emplace(at, pending{key, std::move(target), kind, gen});
        st.by_key[key].push_back(it);
        if (at < st.wakeup) schedule(self, at);
      },
      [self](timer_cancel_atom, uint64_t key) {
        auto& st = self->state;
        auto k = st.by_key.find(key);
        if (k == st.by_key.end()) return;
        for (auto it : k->second) st.due.erase(it);
        st.by_key.erase(k);
      },
      [self](timer_fire_atom, int64_t at) { fire(self, at); },
  };
}

}  // namespace

caf::actor timer_service(caf::actor_system& sys) {
  /// Only a weak reference here: the connections hold the service, and it ends after the last
  /// of them. A strong one (or the system's registry) would destroy it with the system, after
  /// the scheduler has stopped, which CAF 0.17 does not survive.
  static std::mutex mtx;
  static caf::weak_actor_ptr current;
  std::lock_guard<std::mutex> guard{mtx};
  if (auto alive = current.lock(); alive && alive->home_system == &sys)
    return caf::actor_cast<caf::actor>(std::move(alive));
  auto service = sys.spawn<caf::lazy_init>(timer_impl);
  current = caf::actor_cast<caf::weak_actor_ptr>(service);
  return service;
}

void arm_timer(const caf::actor& service, uint64_t key, const caf::actor& target,
               std::chrono::milliseconds after, uint8_t kind, uint64_t gen) {
  caf::anon_send(service, timer_arm_atom::value, key, target, static_cast<int64_t>(after.count()),
                 kind, gen);
}

void cancel_timers(const caf::actor& service, uint64_t key) {
  caf::anon_send(service, timer_cancel_atom::value, key);
}

}  // namespace peerlite::actors
