// The connection actor's lifecycle: open, the close handshake (owner-, app- and
// peer-initiated), timeouts, and the single closed_atom to the owner.
#include <fmt/format.h>

#include "actors/connection_state.hpp"
#include "actors/errors.hpp"
#include "actors/runtime.hpp"
#include "actors/timer_service.hpp"

namespace peerlite::actors {

close_info close_info_from_ws(uint16_t code, std::string reason, bool by_peer) {
  namespace cc = protocol::ws::close_code;
  close_info info;
  info.ws_code = code;
  info.by_peer = by_peer;
  info.recoverable = cc::transient(code);
  if (code == cc::normal || code == cc::no_status) {
    info.code = errc::ok;
    info.ws_code = cc::normal;
  } else if (code == cc::abnormal || code == cc::app_transient) {
    info.code = errc::transport_transient;
  } else if (code == cc::app_permanent) {
    info.code = errc::transport_permanent;
  } else if (code == cc::protocol_error || code == cc::unsupported || code == cc::bad_data ||
             code == cc::too_big) {
    info.code = errc::protocol_error;
  } else {
    info.code = errc::disconnected;
  }
  info.message = fmt::format("{}: {}{}{}", by_peer ? "peer closed" : "closed", code,
                             reason.empty() ? "" : " ", reason);
  return info;
}

close_info close_info_from_app(const std::string& what, bool recoverable, bool by_peer) {
  close_info info;
  info.code = recoverable ? errc::transport_transient : errc::transport_permanent;
  info.recoverable = recoverable;
  info.by_peer = by_peer;
  info.ws_code = recoverable ? 4001 : 4002;
  info.message = fmt::format("transport error ({}): {}", recoverable ? "recoverable" : "permanent",
                             what.empty() ? "unspecified" : what);
  return info;
}

namespace detail {

connection_actor completion_target::claim() {
  if (fired.exchange(true)) return {};
  return caf::actor_cast<connection_actor>(actor.lock());
}

std::shared_ptr<completion_target> make_target(self_ptr self) {
  return std::make_shared<completion_target>(caf::weak_actor_ptr{self->ctrl()});
}

/// Through the system's timer service, not delayed_send: a pending delayed_send would keep this
/// actor allocated until it is due (up to the 300 s heartbeat), long after the connection closed.
void arm(self_ptr self, timer kind, std::chrono::milliseconds after, uint64_t gen) {
  arm_timer(self->state.timers, self->id(), caf::actor_cast<caf::actor>(self), after,
            static_cast<uint8_t>(kind), gen);
}

namespace {

void fail_pending(self_ptr self, const std::string& why) {
  auto pending = std::move(self->state.pending);
  self->state.pending.clear();
  auto err = make_error(errc::disconnected, fmt::format("disconnected: {}", why));
  for (auto& [number, p] : pending) {
    if (!p.batch) {
      p.rp.deliver(err);
    } else if (p.batch->remaining > 0) {
      p.batch->remaining = 0;  // one error per batch
      p.batch->rp.deliver(err);
    }
  }
}

/// The owner learns exactly once; then the actor (and with it the app's object) goes away.
void finish(self_ptr self) {
  auto& st = self->state;
  if (st.ph == phase::closed) return;
  st.ph = phase::closed;
  if (st.inbox) st.inbox->close();
  if (st.session) st.session->close();
  fail_pending(self, st.info.message);
  self->send(st.owner, closed_atom::value, st.info);
  /// Our pending timers would keep this actor allocated until they are due.
  cancel_timers(st.timers, self->id());
  self->quit();
}

/// Calls the app's close; its completion (any thread, sync or later, or never) ends us.
void close_app(self_ptr self) {
  auto& st = self->state;
  if (st.ph == phase::closing_app || st.ph == phase::closed) return;
  st.ph = phase::closing_app;
  if (st.session) st.session->close();
  std::optional<messaging_error> err;
  if (st.info.code != errc::ok) err = messaging_error{st.info.message, st.info.recoverable};
  arm(self, timer::app_close, kCloseTimeout);
  auto target = make_target(self);
  try {
    st.app->close(std::move(err), [target] {
      if (auto a = target->claim()) caf::anon_send(a, conn_cdone_atom::value);
    });
  } catch (...) {
    finish(self);
  }
}

/// After draining: the WebSocket close handshake, or straight to the app for message streams.
void after_drain(self_ptr self) {
  auto& st = self->state;
  if (st.ws && st.ws->state() == protocol::ws::close_state::open) {
    st.ws->send_close(static_cast<uint16_t>(st.info.ws_code), st.info.message);
    st.ph = phase::closing_ws;
    flush_control(self);
    arm(self, timer::ws_close, kCloseTimeout);
    return;
  }
  close_app(self);
}

}  // namespace

void check_drained(self_ptr self) {
  auto& st = self->state;
  /// A message paused for the peer's ACK counts as queued: a 160 KiB getAttachment reply was
  /// cut off when the close came between its ACKs (conformance active/blob_big_push, 1 run
  /// in 25 under load). kCloseDrainTimeout bounds a peer that never ACKs.
  if (st.ph == phase::draining && st.in_flight == 0 && !st.session->has_unsent())
    after_drain(self);
  else if (st.ph == phase::closing_ws && st.ws->state() == protocol::ws::close_state::closed)
    close_app(self);
}

void begin_close(self_ptr self, close_info info, close_mode mode) {
  auto& st = self->state;
  if (st.ph == phase::closing_app || st.ph == phase::closed) return;
  if (!st.info_set) {
    st.info = std::move(info);
    st.info_set = true;
  }
  fail_pending(self, st.info.message);
  if (mode == close_mode::graceful && st.ph == phase::open) {
    st.ph = phase::draining;
    arm(self, timer::drain, kCloseDrainTimeout);
    check_drained(self);
    return;
  }
  if (mode == close_mode::graceful && st.ph != phase::opening) return;  // already closing
  if (mode == close_mode::abort && st.ws && st.ws->state() == protocol::ws::close_state::open)
    st.ws->send_close(static_cast<uint16_t>(st.info.ws_code), st.info.message);
  if (mode != close_mode::transport_gone) flush_control(self);
  close_app(self);
}

namespace {

void on_opened(self_ptr self, bool ok, const std::string& what, bool recoverable) {
  auto& st = self->state;
  if (st.ph != phase::opening) return;
  if (!ok) {
    st.info = close_info_from_app(what.empty() ? "open failed" : what, recoverable, false);
    st.info_set = true;
    finish(self);
    return;
  }
  st.ph = phase::open;
  self->send(st.owner, connected_atom::value, caf::actor_cast<connection_api>(self));
  if (st.ws && st.options.heartbeat.count() > 0)
    arm(self, timer::heartbeat, st.options.heartbeat, st.heartbeat_gen);
  auto early = std::move(st.early);
  st.early.clear();
  for (auto& bytes : early) on_received(self, std::move(bytes));
  pump(self);
}

/// A PING every `heartbeat` while the peer answers; no PONG for kPongTimeout closes the
/// connection. The next PING used to wait for the PONG timeout (20 s) whatever the heartbeat,
/// so a hub PINGing idle tcp:// peers at half its idle timeout went silent after the first PONG
/// and dropped every idle peer a few seconds later (serve --idle-timeout 5: every 7 s).
void on_heartbeat(self_ptr self, timer kind, uint64_t gen) {
  auto& st = self->state;
  if (!st.ws || kind != timer::heartbeat || gen != st.heartbeat_gen || st.ph != phase::open)
    return;
  auto now = std::chrono::steady_clock::now();
  auto beat = st.options.heartbeat;
  bool pong_due = st.ping_sent_at && st.ws->pongs_received() == st.pongs_at_ping;
  if (pong_due && now - *st.ping_sent_at >= kPongTimeout) {
    auto info =
        close_info_from_ws(protocol::ws::close_code::abnormal, "no PONG to heartbeat", false);
    return begin_close(self, std::move(info), close_mode::transport_gone);
  }
  if (!pong_due && (!st.ping_sent_at || now - *st.ping_sent_at >= beat)) {
    st.pongs_at_ping = st.ws->pongs_received();
    st.ping_sent_at = now;
    st.ws->send_ping();
    flush_control(self);
    pong_due = true;
  }
  /// Next: the next PING's time; while a PONG is due, every heartbeat (a PONG arrives unseen)
  /// up to the PONG deadline.
  auto wake = *st.ping_sent_at + beat;
  if (pong_due) wake = std::min(*st.ping_sent_at + kPongTimeout, now + beat);
  auto after = std::chrono::duration_cast<std::chrono::milliseconds>(wake - now);
  arm(self, timer::heartbeat, std::max(std::chrono::milliseconds(1), after), ++st.heartbeat_gen);
}

void on_timer(self_ptr self, timer kind, uint64_t gen) {
  auto& st = self->state;
  switch (kind) {
    case timer::open:
      if (st.ph == phase::opening)
        begin_close(self, close_info_from_app("open timed out", true, false),
                    close_mode::transport_gone);
      break;
    case timer::drain:
      if (st.ph == phase::draining) after_drain(self);
      break;
    case timer::ws_close:
      if (st.ph == phase::closing_ws) close_app(self);
      break;
    case timer::app_close:
      if (st.ph == phase::closing_app) finish(self);
      break;
    case timer::answer:
      sweep_answers(self);
      break;
    case timer::heartbeat:
    case timer::pong:
      on_heartbeat(self, kind, gen);
      break;
  }
}

void on_app_close(self_ptr self, bool has_error, const std::string& what, bool recoverable) {
  close_info info;
  if (has_error) {
    info = close_info_from_app(what, recoverable, true);
  } else {
    info.code = errc::ok;
    info.by_peer = true;
    info.message = "closed by the app's transport";
  }
  begin_close(self, std::move(info), close_mode::transport_gone);
}

caf::result<protocol::message> on_request(self_ptr self, protocol::message& msg) {
  auto& st = self->state;
  if (st.ph != phase::open && st.ph != phase::opening)
    return make_error(errc::disconnected, "disconnected: the connection is closing");
  msg.type = protocol::message_type::request;
  msg.no_reply = false;
  auto number = st.session->send(std::move(msg));
  if (number == 0) return make_error(errc::disconnected, "disconnected: session closed");
  auto rp = self->make_response_promise<protocol::message>();
  st.pending.emplace(number, pending_reply{rp, nullptr, 0});
  pump(self);
  return rp;
}

caf::result<std::vector<protocol::message>> on_request_batch(self_ptr self,
                                                             std::vector<protocol::message>& msgs) {
  auto& st = self->state;
  if (st.ph != phase::open && st.ph != phase::opening)
    return make_error(errc::disconnected, "disconnected: the connection is closing");
  auto batch = std::make_shared<reply_batch>();
  batch->replies.resize(msgs.size());
  batch->remaining = msgs.size();
  batch->rp = self->make_response_promise<std::vector<protocol::message>>();
  for (size_t i = 0; i < msgs.size(); ++i) {
    msgs[i].type = protocol::message_type::request;
    msgs[i].no_reply = false;
    auto number = st.session->send(std::move(msgs[i]));
    if (number == 0) {
      /// The batch fails once; replies to its requests already queued are then ignored.
      batch->remaining = 0;
      batch->rp.deliver(make_error(errc::disconnected, "disconnected: session closed"));
      return batch->rp;
    }
    st.pending.emplace(number, pending_reply{{}, batch, i});
  }
  if (msgs.empty()) batch->rp.deliver(std::vector<protocol::message>{});
  pump(self);
  return batch->rp;
}

/// Requests routed to a worker that died are answered as failed (the worker cannot).
void on_down(self_ptr self, const caf::down_msg& dm) {
  auto& st = self->state;
  if (dm.source == st.owner.address()) {
    begin_close(self, close_info_from_ws(1001, "owner went away", false), close_mode::graceful);
    return;
  }
  if (!st.route || dm.source != st.route.address()) return;
  st.route = nullptr;
  st.route_profiles.clear();
  std::vector<uint64_t> orphans;
  for (auto& [number, routed] : st.answering)
    if (routed) orphans.push_back(number);
  for (auto number : orphans)
    answer_request(self, number, handler_failed(number, "worker exited"), false);
  pump(self);
}

void start(self_ptr self) {
  auto& st = self->state;
  self->monitor(st.owner);
  self->set_down_handler([self](caf::down_msg& dm) { on_down(self, dm); });
  st.timers = timer_service(self->system());
  st.inbox = std::make_shared<receive_inbox>();
  auto handle = std::make_shared<connection_handle>(connection_handle{
      caf::actor_cast<connection_actor>(self), keep_alive_for(self->system()), st.inbox});
  auto target = make_target(self);
  arm(self, timer::open, kOpenTimeout);
  try {
    st.app->open(replicator_connection{handle},
                 [target](bool ok, std::optional<messaging_error> err) {
                   if (auto a = target->claim())
                     caf::anon_send(a, conn_open_atom::value, ok, err ? err->what : std::string{},
                                    err && err->recoverable);
                 });
  } catch (const std::exception& e) {
    on_opened(self, false, fmt::format("open threw: {}", e.what()), false);
  }
}

}  // namespace

}  // namespace detail

namespace {

using namespace detail;

connection_actor::behavior_type connection_impl(self_ptr self) {
  start(self);
  return {
      [self](request_atom, protocol::message& msg) { return on_request(self, msg); },
      [self](request_atom, std::vector<protocol::message>& msgs) {
        return on_request_batch(self, msgs);
      },
      [self](route_atom, routed_worker& worker, std::vector<std::string>& profiles) {
        auto& st = self->state;
        if (st.route) self->demonitor(st.route.address());
        st.route = std::move(worker);
        st.route_profiles = std::move(profiles);
        if (st.route) self->monitor(st.route);
      },
      [self](answer_atom, std::vector<protocol::message>& replies) {
        for (auto& r : replies) answer_request(self, r.number, std::move(r), false);
        pump(self);
      },
      [self](post_atom, protocol::message& msg) {
        auto& st = self->state;
        if (st.ph != phase::open && st.ph != phase::opening) return;
        msg.type = protocol::message_type::request;
        msg.no_reply = true;
        st.session->send(std::move(msg));
        pump(self);
      },
      [self](close_atom, close_info& info) {
        begin_close(self, std::move(info), close_mode::graceful);
      },
      [self](conn_open_atom, bool ok, std::string& what, bool recoverable) {
        on_opened(self, ok, what, recoverable);
      },
      [self](conn_sent_atom, uint64_t n, bool ok, std::string& what, bool recoverable) {
        on_sent(self, n, ok, what, recoverable);
      },
      [self](conn_recv_atom) { on_doorbell(self); },
      [self](conn_appcl_atom, bool has_error, std::string& what, bool recoverable) {
        on_app_close(self, has_error, what, recoverable);
      },
      [self](conn_cdone_atom) {
        if (self->state.ph == phase::closing_app) finish(self);
      },
      [self](conn_timer_atom, uint8_t kind, uint64_t gen) {
        on_timer(self, static_cast<timer>(kind), gen);
      },
  };
}

/// Everything a connection actor starts from; spawned as an argument, so the state is set
/// before start() runs.
struct connection_args {
  std::shared_ptr<message_endpoint_connection> app;
  protocol_type type;
  role side;
  connection_owner owner;
  connection_options options;
};

connection_actor::behavior_type connection_init(self_ptr self, connection_args args) {
  auto& st = self->state;
  st.app = std::move(args.app);
  st.type = args.type;
  st.side = args.side;
  st.owner = std::move(args.owner);
  st.options = std::move(args.options);
  st.session.emplace(st.options.session);
  if (st.type == protocol_type::byte_stream)
    st.ws.emplace(st.side == role::active ? protocol::ws::role::client : protocol::ws::role::server,
                  protocol::kWsMaxMessage);
  return connection_impl(self);
}

}  // namespace

connection_api spawn_connection(caf::actor_system& sys,
                                std::shared_ptr<message_endpoint_connection> app,
                                protocol_type type, role side, connection_owner owner,
                                connection_options options) {
  return sys.spawn(connection_init, connection_args{std::move(app), type, side, std::move(owner),
                                                    std::move(options)});
}

}  // namespace peerlite::actors
