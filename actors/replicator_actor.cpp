// The active replicator: connect, retry with backoff, status, one-shot completion, stop.
#include <algorithm>

#include "actors/errors.hpp"
#include "actors/replicator_state.hpp"
#include "actors/tuning.hpp"

namespace peerlite::actors {

namespace {

uint32_t max_attempts(const replicator_config& cfg) {
  if (cfg.max_attempts > 0) return cfg.max_attempts;
  return cfg.continuous ? UINT32_MAX : kDefaultMaxAttemptsOneShot;
}

replicator_status current_status(repl_self self) {
  auto& st = self->state;
  replicator_status s = st.mixer.connected();
  switch (st.phase) {
    case repl_phase::stopped:
      s.activity = activity_level::stopped;
      s.err = st.last_error;
      break;
    case repl_phase::offline:
      s.activity = activity_level::offline;
      s.err = st.last_error;
      break;
    case repl_phase::connecting:
      s.activity = activity_level::connecting;
      break;
    case repl_phase::closing:
      s.activity = activity_level::busy;
      break;
    case repl_phase::connected:
      if (!has_workers(st)) s.activity = activity_level::busy;
      break;
  }
  return s;
}

void set_stopped(repl_self self, error err) {
  auto& st = self->state;
  stop_workers(self);
  st.phase = repl_phase::stopped;
  st.last_error = std::move(err);
  st.conn = connection_api{};
  ++st.generation;
  status_changed(self, true);
}

/// Asks the delegate for a new connection and opens it.
void connect(repl_self self) {
  auto& st = self->state;
  auto& cfg = st.shared->config;
  ++st.generation;
  st.phase = repl_phase::connecting;
  st.failure.reset();
  st.close_normally = false;
  st.finishing = false;
  st.mixer.clear();
  status_changed(self);
  std::unique_ptr<message_endpoint_connection> app;
  if (cfg.target.delegate) app = cfg.target.delegate(cfg.target);
  if (!app)
    return set_stopped(self, {errc::transport_permanent,
                              cfg.target.target + ": the endpoint's delegate made no connection"});
  connection_options opts;
  opts.heartbeat = cfg.heartbeat;
  st.conn = spawn_connection(self->system(), std::move(app), cfg.target.protocol, role::active,
                             caf::actor_cast<connection_owner>(self), std::move(opts));
}

std::chrono::milliseconds backoff(const replicator_config& cfg, uint32_t failures) {
  auto wait = cfg.min_attempt_wait_time;
  for (uint32_t i = 1; i < failures && wait < cfg.max_attempt_wait_time; ++i) wait *= 2;
  return std::min(wait, cfg.max_attempt_wait_time);
}

void on_closed(repl_self self, const close_info& info) {
  auto& st = self->state;
  if (self->current_sender() != caf::actor_cast<caf::strong_actor_ptr>(st.conn)) return;
  stop_workers(self);
  st.conn = connection_api{};
  error err{info.code, info.message};
  bool recoverable = info.recoverable;
  if (st.failure && info.code == errc::ok) {
    err = *st.failure;
    recoverable = err.code == errc::timeout || err.code == errc::transport_transient ||
                  err.code == errc::unavailable;
  }
  /// A failure we were already closing for is reported even when stop() came meanwhile.
  if (st.phase == repl_phase::closing || st.stop_requested || err.code == errc::ok)
    return set_stopped(self, st.stop_requested && !st.failure ? error{} : err);
  ++st.failures;
  if (!recoverable || st.failures >= max_attempts(st.shared->config)) return set_stopped(self, err);
  auto wait = backoff(st.shared->config, st.failures);
  st.phase = repl_phase::offline;
  st.last_error = err;
  st.last_error.message += " (will retry in " + std::to_string(wait.count()) + " ms)";
  status_changed(self);
  self->delayed_send(self, wait, retry_atom::value, st.generation);
}

void on_stop(repl_self self) {
  auto& st = self->state;
  st.stop_requested = true;
  switch (st.phase) {
    case repl_phase::stopped:
    case repl_phase::closing:
      return;
    case repl_phase::offline:
      return set_stopped(self, {});
    case repl_phase::connecting:
      self->send(st.conn, close_atom::value, close_info{});
      st.phase = repl_phase::closing;
      break;
    case repl_phase::connected:
      begin_close(self, std::nullopt);
      break;
  }
  self->delayed_send(self, kStopTimeout, stop_atom::value, st.generation);
}

/// One-shot completion: every worker is idle. The pusher re-checks the feed first, since a
/// conflict resolution may have just written a revision to push.
void on_all_idle(repl_self self) {
  auto& st = self->state;
  if (st.shared->config.continuous || st.finishing || st.phase != repl_phase::connected) return;
  st.finishing = true;
  auto finish = [=] {
    if (self->state.mixer.all_idle()) return begin_close(self, std::nullopt);
    self->state.finishing = false;
  };
  std::vector<pusher_actor> pushers;
  for (auto& l : st.lanes)
    if (l.pusher) pushers.push_back(l.pusher);
  if (pushers.empty()) return finish();
  /// Every pusher must say it is caught up; one that is not ends this attempt to finish.
  auto left = std::make_shared<size_t>(pushers.size());
  auto busy = std::make_shared<bool>(false);
  for (auto& p : pushers)
    timed_request(self, p, kPeerRequestTimeout, caught_up_atom::value)
        .then(
            [=](bool idle) {
              *busy = *busy || !idle;
              if (--*left == 0) *busy ? void(self->state.finishing = false) : finish();
            },
            [=](caf::error&) {
              *busy = true;
              if (--*left == 0) self->state.finishing = false;
            });
}

void on_worker(repl_self self, const worker_report& w) {
  auto& st = self->state;
  if (st.phase != repl_phase::connected && st.phase != repl_phase::closing) return;
  auto* l = lane_at(self, w.lane);
  if (!l) return;
  st.mixer.update(w, w.lane);
  if (w.is_pusher) {
    l->current.local = w.local_checkpoint;
    if (l->coll == 0)
      st.shared->local_checkpoint =
          std::max<uint64_t>(st.shared->local_checkpoint, w.local_checkpoint);
  } else {
    l->current.remote = w.remote_checkpoint;
  }
  if (w.activity == activity_level::stopped && w.err.code != errc::ok &&
      st.phase == repl_phase::connected)
    return begin_close(self, w.err);
  if (!(l->current == l->saved)) schedule_checkpoint(self);
  status_changed(self);
  if (st.mixer.all_idle()) {
    save_checkpoint(self);
    on_all_idle(self);
  }
}

/// Tells the pusher what was just pulled, so it does not offer it back to the same peer.
void forward_pulled(repl_self self, uint64_t lane, const std::vector<replicated_document>& events) {
  auto* l = lane_at(self, lane);
  if (!l || !l->pusher) return;
  std::vector<std::string> revs;
  for (auto& e : events)
    if (e.direction == replication_direction::pull && e.err.code == errc::ok) {
      revs.push_back(e.id);
      revs.push_back(e.rev);
    }
  if (!revs.empty()) self->send(l->pusher, skip_atom::value, std::move(revs));
}

}  // namespace

void status_changed(repl_self self, bool final_report) {
  auto& st = self->state;
  auto s = current_status(self);
  /// STOPPED is announced once, by set_stopped: a paced tick that comes due afterwards must not
  /// tell the listeners again (hub_peers saw 44-253 of 1,000 replicators report it twice).
  if (!final_report && s.activity == activity_level::stopped &&
      st.pacer.level == activity_level::stopped) {
    st.shared->set_status(s, false);
    return;
  }
  auto now = std::chrono::steady_clock::now();
  /// Only progress is paced: a new activity level (CONNECTING, OFFLINE, ...) goes out at once.
  bool send_now = final_report || st.pacer.may_send(now) || s.activity != st.pacer.level;
  st.shared->set_status(s, send_now);
  if (send_now) {
    st.pacer.last = now;
    st.pacer.level = s.activity;
  } else if (!st.pacer.tick_pending) {
    st.pacer.tick_pending = true;
    self->delayed_send(self, st.pacer.delay(now), tick_atom::value);
  }
}

void begin_close(repl_self self, std::optional<error> failure) {
  auto& st = self->state;
  if (st.phase != repl_phase::connected) return;
  /// Already closing for a failure: a stop() meanwhile must not erase it.
  if (st.failure) return;
  st.failure = std::move(failure);
  auto close = [=] {
    auto& s = self->state;
    close_info info;
    if (s.failure) {
      info.code = s.failure->code;
      info.message = s.failure->message;
      info.recoverable = s.failure->code == errc::timeout ||
                         s.failure->code == errc::transport_transient ||
                         s.failure->code == errc::unavailable;
      info.ws_code = info.recoverable ? 4001 : 4002;
      /// The replicator still stops with the failure (on_closed keeps s.failure); only the
      /// connection closes as a normal end of session.
      if (s.close_normally) info = close_info{};
    }
    if (s.conn) self->send(s.conn, close_atom::value, info);
  };
  if (!st.failure) st.phase = repl_phase::closing;
  status_changed(self);
  if (st.failure) return close();
  save_checkpoint(self, close);
}

replicator_actor::behavior_type replicator_impl(repl_self self,
                                                std::shared_ptr<replicator_shared> shared) {
  self->state.shared = std::move(shared);
  return {
      [=](start_atom, bool reset) {
        auto& st = self->state;
        if (st.phase != repl_phase::stopped) return;
        st.reset = reset;
        st.stop_requested = false;
        st.failures = 0;
        st.last_error = {};
        connect(self);
      },
      [=](start_atom, uint64_t lane) {
        /// A push-and-pull lane's pusher has its first proposeChanges out: start its puller.
        /// Only the lane's current pusher counts (a report from one of an earlier connection's
        /// workers must not start this connection's puller twice).
        auto* l = lane_at(self, lane);
        if (l && l->puller && l->pusher &&
            self->current_sender() == caf::actor_cast<caf::strong_actor_ptr>(l->pusher))
          self->send(l->puller, start_atom::value);
      },
      [=](stop_atom) { on_stop(self); },
      [=](stop_atom, uint64_t gen) {
        if (gen == self->state.generation && self->state.phase != repl_phase::stopped)
          set_stopped(self, {});
      },
      [=](retry_atom, uint64_t gen) {
        if (gen == self->state.generation && self->state.phase == repl_phase::offline)
          connect(self);
      },
      [=](checkpoint_atom, uint64_t gen) {
        self->state.save_scheduled = false;
        if (gen == self->state.generation) save_checkpoint(self);
      },
      [=](tick_atom) {
        self->state.pacer.tick_pending = false;
        status_changed(self);
      },
      [=](incoming_atom, protocol::message& msg) -> caf::result<protocol::message> {
        auto& st = self->state;
        if (auto blob = serve_blob_request(st.shared->config.db, msg)) {
          for (auto& l : st.lanes)
            if (l.puller) self->send(l.puller, seen_atom::value, msg.number);
          return std::move(*blob);
        }
        /// Several collections: the request goes to the puller of the collection it names,
        /// and the other pullers count its number as arrived (see seen_atom).
        puller_actor target;
        if (st.lanes.size() == 1) {
          target = st.lanes[0].puller;
        } else {
          auto index = msg.property("collection");
          for (auto& l : st.lanes) {
            bool mine = l.index && index == std::to_string(*l.index);
            if (mine)
              target = l.puller;
            else if (l.puller)
              self->send(l.puller, seen_atom::value, msg.number);
          }
        }
        if (target) return self->delegate(target, incoming_atom::value, std::move(msg));
        return protocol::make_error_reply(0, "BLIP", 404,
                                          "no handler for " + std::string(msg.profile()));
      },
      [=](connected_atom, connection_api conn) {
        auto& st = self->state;
        if (st.phase != repl_phase::connecting) return;
        st.conn = std::move(conn);
        st.phase = repl_phase::connected;
        st.failures = 0;
        status_changed(self);
        exchange_checkpoints(self);
      },
      [=](closed_atom, const close_info& info) { on_closed(self, info); },
      [=](worker_status_atom, const worker_report& w) { on_worker(self, w); },
      [=](doc_events_atom, uint64_t lane, std::vector<replicated_document>& events) {
        forward_pulled(self, lane, events);
        /// Workers speak of their own collection only: name it.
        if (auto* l = lane_at(self, lane); l && l->coll != 0) {
          auto full = l->name.find('.') == std::string::npos ? "_default." + l->name : l->name;
          for (auto& e : events) e.collection = full;
        }
        self->state.shared->doc_events(events);
      },
  };
}

replicator_actor spawn_replicator(caf::actor_system& sys, std::shared_ptr<replicator_shared> s) {
  return sys.spawn(replicator_impl, std::move(s));
}

}  // namespace peerlite::actors
