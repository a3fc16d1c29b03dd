// The connection actor's data path: frames out through the app's send() under a write-credit
// bound, bytes in through the session (and WebSocket framing for BYTE_STREAM), and routing of
// decoded messages to the owner or to pending requests.
#include <fmt/format.h>

#include "actors/connection_state.hpp"
#include "actors/errors.hpp"

namespace peerlite::actors::detail {

namespace {

bool sending(phase ph) { return ph == phase::open || ph == phase::draining; }

void protocol_failure(self_ptr self, const status& why) {
  close_info info;
  info.code = errc::protocol_error;
  info.ws_code = why.code() == errc::too_large ? protocol::ws::close_code::too_big
                                               : protocol::ws::close_code::protocol_error;
  info.message = fmt::format("protocol error: {}", why.message());
  begin_close(self, std::move(info), close_mode::abort);
}

void send_reply(self_ptr self, uint64_t number, protocol::message reply) {
  auto& st = self->state;
  if (!sending(st.ph)) return;
  if (reply.type != protocol::message_type::error) reply.type = protocol::message_type::reply;
  reply.number = number;
  reply.no_reply = false;
  st.session->send(std::move(reply));
}

}  // namespace

/// Answers an incoming request once: the owner's or worker's reply, a failure, or the sweep's
/// timeout.
void answer_request(self_ptr self, uint64_t number, protocol::message reply, bool pump_now) {
  auto& st = self->state;
  if (st.answering.erase(number) == 0) return;  // timed out already
  /// Replies come mostly in order: dropping answered entries from the front keeps the
  /// deadline queue as short as the number of requests in progress.
  while (!st.answer_deadlines.empty() && !st.answering.count(st.answer_deadlines.front().first))
    st.answer_deadlines.pop_front();
  send_reply(self, number, std::move(reply));
  if (pump_now) pump(self);
}

protocol::message handler_failed(uint64_t number, const std::string& why) {
  return protocol::make_error_reply(number, protocol::kBlipErrorDomain,
                                    protocol::kBlipHandlerFailed, why);
}

namespace {

bool routed(const connection_state& st, const protocol::message& msg) {
  if (!st.route) return false;
  auto p = msg.profile();
  for (auto& r : st.route_profiles)
    if (r == p) return true;
  return false;
}

/// A peer request goes to the route's worker (batched, see drain_incoming) or to the owner;
/// the answer (or failure) becomes the BLIP reply. The named timeout is
/// kIncomingRequestTimeout, enforced by sweep_answers().
void route_request(self_ptr self, protocol::message&& msg) {
  auto& st = self->state;
  auto number = msg.number;
  bool no_reply = msg.no_reply;
  bool to_worker = routed(st, msg);
  if (!no_reply) {
    st.answering.emplace(number, to_worker);
    st.answer_deadlines.emplace_back(number,
                                     std::chrono::steady_clock::now() + kIncomingRequestTimeout);
    if (!st.answer_sweep_armed) {
      st.answer_sweep_armed = true;
      arm(self, timer::answer, kIncomingRequestTimeout);
    }
  }
  if (to_worker) {
    st.to_route.push_back(std::move(msg));
    return;
  }
  self->request(st.owner, caf::infinite, incoming_atom::value, std::move(msg))
      .then(
          [self, number, no_reply](protocol::message& reply) {
            if (!no_reply) answer_request(self, number, std::move(reply));
          },
          [self, number, no_reply](caf::error& err) {
            if (!no_reply)
              answer_request(self, number, handler_failed(number, to_error(err).message));
          });
}

}  // namespace

void sweep_answers(self_ptr self) {
  auto& st = self->state;
  auto now = std::chrono::steady_clock::now();
  while (!st.answer_deadlines.empty() && st.answer_deadlines.front().second <= now) {
    auto number = st.answer_deadlines.front().first;
    st.answer_deadlines.pop_front();
    answer_request(self, number,
                   handler_failed(number, "timeout: the request handler did not answer"));
  }
  /// Entries already answered stay in the deque until their deadline; skip past them.
  while (!st.answer_deadlines.empty() && !st.answering.count(st.answer_deadlines.front().first))
    st.answer_deadlines.pop_front();
  st.answer_sweep_armed = !st.answer_deadlines.empty();
  if (st.answer_sweep_armed)
    arm(self, timer::answer,
        std::chrono::duration_cast<std::chrono::milliseconds>(st.answer_deadlines.front().second -
                                                              now) +
            std::chrono::milliseconds(1));
}

namespace {

/// A reply to one of our requests: to its promise, or into its batch.
void settle_reply(self_ptr self, protocol::message&& msg) {
  auto& st = self->state;
  auto it = st.pending.find(msg.number);
  if (it == st.pending.end()) return;  // failed already: the connection is closing
  auto p = std::move(it->second);
  st.pending.erase(it);
  if (!p.batch) {
    p.rp.deliver(std::move(msg));
    return;
  }
  auto& b = *p.batch;
  if (b.remaining == 0) return;  // the batch failed already
  b.replies[p.index] = std::move(msg);
  if (--b.remaining == 0) b.rp.deliver(std::move(b.replies));
}

void drain_incoming(self_ptr self) {
  auto& st = self->state;
  auto limit = st.options.max_unreplied_requests;
  while (auto msg = st.session->next_incoming()) {
    if (msg->type != protocol::message_type::request) {
      settle_reply(self, std::move(*msg));
      continue;
    }
    if (limit && !msg->no_reply && st.answering.size() >= limit) {
      st.to_route.clear();  // the connection is going: nothing more is handled
      return protocol_failure(
          self, error{errc::protocol_error,
                      fmt::format("the peer sent more than {} requests we had not answered yet "
                                  "(a flood; the limit is max_unreplied_requests)",
                                  limit)});
    }
    route_request(self, std::move(*msg));
  }
  /// All routed requests of this receive go to the worker in one actor message.
  if (!st.to_route.empty()) {
    self->send(st.route, incoming_atom::value, std::move(st.to_route));
    st.to_route.clear();
  }
}

/// BYTE_STREAM: unwrap WebSocket messages (one BLIP frame each) and notice the peer's CLOSE.
void feed_ws(self_ptr self, const std::string& bytes) {
  auto& st = self->state;
  auto fed = st.ws->feed(bytes);
  while (auto frame = st.ws->next_message()) {
    if (auto s = st.session->receive_frame(*frame); !s.ok()) return protocol_failure(self, s);
  }
  drain_incoming(self);
  if (!fed.ok()) return protocol_failure(self, fed);
  auto state = st.ws->state();
  if (state == protocol::ws::close_state::close_received) {
    auto& pc = *st.ws->peer_close();
    begin_close(self, close_info_from_ws(pc.code, pc.reason, true), close_mode::peer_closed);
  } else if (state == protocol::ws::close_state::closed) {
    check_drained(self);  // our CLOSE was answered
  }
}

}  // namespace

namespace {

/// One chunk from the app through the session; false once the connection is failing or gone.
bool feed(self_ptr self, std::string& bytes) {
  auto& st = self->state;
  if (st.ph == phase::opening) {
    st.early.push_back(std::move(bytes));
    return true;
  }
  if (st.ph == phase::closing_app || st.ph == phase::closed) return false;
  if (st.ws) {
    feed_ws(self, bytes);
    return true;
  }
  if (auto s = st.session->receive_frame(bytes); !s.ok()) {
    protocol_failure(self, s);
    return false;
  }
  return true;
}

}  // namespace

void on_received(self_ptr self, std::string bytes) {
  if (!feed(self, bytes)) return;
  drain_incoming(self);
  pump(self);
}

void on_doorbell(self_ptr self) {
  auto& st = self->state;
  st.inbox->take(st.received);
  bool ok = true;
  for (auto& bytes : st.received)
    if (!(ok = feed(self, bytes))) break;
  st.received.clear();
  if (!ok) return;
  drain_incoming(self);
  pump(self);
}

void send_to_app(self_ptr self, std::string bytes) {
  auto& st = self->state;
  uint64_t n = bytes.size();
  st.in_flight += n;
  auto target = make_target(self);
  target->caller.store(std::this_thread::get_id());
  try {
    st.app->send(message{std::move(bytes)},
                 [target, n](bool ok, std::optional<messaging_error> err) {
                   if (target->fired.exchange(true)) return;
                   if (ok && target->caller.load() == std::this_thread::get_id()) {
                     target->sync_done = true;  // credit returns inline, no message
                     return;
                   }
                   if (auto a = caf::actor_cast<connection_actor>(target->actor.lock()))
                     caf::anon_send(a, conn_sent_atom::value, n, ok,
                                    err ? err->what : std::string{}, err && err->recoverable);
                 });
  } catch (const std::exception& e) {
    if (auto a = target->claim())
      self->send(a, conn_sent_atom::value, n, false, fmt::format("send threw: {}", e.what()),
                 false);
  }
  target->caller.store(std::thread::id{});
  if (target->sync_done) st.in_flight -= std::min(n, st.in_flight);
}

void flush_control(self_ptr self) {
  auto& st = self->state;
  if (st.ws && st.ws->has_output()) send_to_app(self, st.ws->take_output());
}

void pump(self_ptr self) {
  auto& st = self->state;
  if (!sending(st.ph)) return;
  auto& session = *st.session;
  while (st.in_flight < kMaxBytesInFlight && sending(st.ph)) {
    if (!st.ws) {
      if (!session.next_frame(st.frame)) break;
      send_to_app(self, std::move(st.frame));
      st.frame.clear();
      continue;
    }
    /// BYTE_STREAM: coalesce several WebSocket messages into one send.
    size_t batched = 0;
    while (batched < kMaxCoalescedSend && session.next_frame(st.frame)) {
      st.ws->send_message(st.frame);
      batched += st.frame.size();
    }
    if (!st.ws->has_output()) break;
    send_to_app(self, st.ws->take_output());
  }
  check_drained(self);
}

void on_sent(self_ptr self, uint64_t bytes, bool ok, const std::string& what, bool recoverable) {
  auto& st = self->state;
  st.in_flight -= std::min(bytes, st.in_flight);
  if (!ok) {
    begin_close(self, close_info_from_app(what.empty() ? "send failed" : what, recoverable, false),
                close_mode::transport_gone);
    return;
  }
  pump(self);
}

}  // namespace peerlite::actors::detail
