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
  pump(self);
}

/// A peer request goes to the owner; its answer (or failure) becomes the BLIP reply.
void route_request(self_ptr self, protocol::message&& msg) {
  auto number = msg.number;
  bool no_reply = msg.no_reply;
  self->request(self->state.owner, kIncomingRequestTimeout, incoming_atom::value, std::move(msg))
      .then(
          [self, number, no_reply](protocol::message& reply) {
            if (!no_reply) send_reply(self, number, std::move(reply));
          },
          [self, number, no_reply](caf::error& err) {
            if (no_reply) return;
            send_reply(
                self, number,
                protocol::make_error_reply(number, protocol::kBlipErrorDomain,
                                           protocol::kBlipHandlerFailed, to_error(err).message));
          });
}

void drain_incoming(self_ptr self) {
  auto& st = self->state;
  while (auto msg = st.session->next_incoming()) {
    if (msg->type == protocol::message_type::request) {
      route_request(self, std::move(*msg));
      continue;
    }
    auto it = st.pending.find(msg->number);
    if (it == st.pending.end()) continue;  // failed already: the connection is closing
    auto rp = std::move(it->second);
    st.pending.erase(it);
    rp.deliver(std::move(*msg));
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

void on_received(self_ptr self, std::string bytes) {
  auto& st = self->state;
  if (st.ph == phase::opening) {
    st.early.push_back(std::move(bytes));
    return;
  }
  if (st.ph == phase::closing_app || st.ph == phase::closed) return;
  if (st.ws) {
    feed_ws(self, bytes);
  } else {
    if (auto s = st.session->receive_frame(bytes); !s.ok()) return protocol_failure(self, s);
    drain_incoming(self);
  }
  pump(self);
}

void send_to_app(self_ptr self, std::string bytes) {
  auto& st = self->state;
  uint64_t n = bytes.size();
  st.in_flight += n;
  auto target = make_target(self);
  try {
    st.app->send(message{std::move(bytes)},
                 [target, n](bool ok, std::optional<messaging_error> err) {
                   if (auto a = target->claim())
                     caf::anon_send(a, conn_sent_atom::value, n, ok,
                                    err ? err->what : std::string{}, err && err->recoverable);
                 });
  } catch (const std::exception& e) {
    if (auto a = target->claim())
      self->send(a, conn_sent_atom::value, n, false, fmt::format("send threw: {}", e.what()),
                 false);
  }
}

void flush_control(self_ptr self) {
  auto& st = self->state;
  if (st.ws && st.ws->has_output()) send_to_app(self, st.ws->take_output());
}

void pump(self_ptr self) {
  auto& st = self->state;
  if (!sending(st.ph)) return;
  auto& session = *st.session;
  while (st.in_flight < kMaxBytesInFlight) {
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
