// ws::stream: one side of a WebSocket connection (see websocket.hpp for the contract).
#include "protocol/tuning.hpp"
#include "protocol/websocket.hpp"

#include <random>

namespace peerlite::protocol::ws {

uint64_t random_seed() {
  std::random_device rd;
  return (static_cast<uint64_t>(rd()) << 32) ^ rd();
}

stream::stream(role local, size_t max_message, uint64_t seed)
    : local_(local), decoder_(local, max_message), rng_(seed) {}

std::optional<uint32_t> stream::next_mask() {
  if (local_ == role::server) return std::nullopt;
  /// splitmix64 (Steele, Lea, Flood 2014): one add, two multiply-xorshift rounds.
  uint64_t z = (rng_ += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return static_cast<uint32_t>((z ^ (z >> 31)) >> 32);
}

status stream::feed(std::string_view bytes) {
  if (!failure_.ok()) return failure_;
  status st = decoder_.feed(bytes);
  /// Events decoded before a violation are still honoured: they were valid and in order.
  while (auto ev = decoder_.next()) {
    if (status h = handle(std::move(*ev)); !h.ok() && st.ok()) st = h;
  }
  if (!st.ok()) fail(st, decoder_.failed() ? decoder_.failure_close_code() : fail_code_);
  return failure_.ok() ? st : failure_;
}

void stream::fail(const status& st, uint16_t code) {
  if (!failure_.ok()) return;
  failure_ = st;
  if (state_ == close_state::open) {
    std::string reason = st.message();
    encode_frame(out_, opcode::close, true, close_payload(code, reason), next_mask());
  }
  state_ = close_state::closed;
}

status stream::handle(event&& ev) {
  /// After the handshake completed nothing the peer sends matters any more.
  if (state_ == close_state::closed || state_ == close_state::close_received) return {};
  switch (ev.op) {
    case opcode::binary:
      messages_.push_back(std::move(ev.payload));
      return {};
    case opcode::text:
      fail_code_ = close_code::unsupported;
      return status{errc::protocol_error, "websocket: text message where BLIP needs binary"};
    case opcode::ping:
      if (state_ == close_state::open)
        encode_frame(out_, opcode::pong, true, ev.payload, next_mask());
      return {};
    case opcode::pong:
      ++pongs_received_;
      pings_outstanding_ = 0;
      return {};
    case opcode::close:
      return handle_close(std::move(ev.close));
    default:
      return {};
  }
}

status stream::handle_close(close_frame&& cf) {
  if (state_ == close_state::open) {
    /// Echo the peer's code, as RFC 6455 §5.5.1 asks; a code-less close gets a code-less echo.
    std::string payload =
        cf.code == close_code::no_status ? std::string{} : close_payload(cf.code, {});
    encode_frame(out_, opcode::close, true, payload, next_mask());
    state_ = close_state::close_received;
  } else if (state_ == close_state::close_sent) {
    state_ = close_state::closed;
  }
  peer_close_ = std::move(cf);
  return {};
}

std::optional<std::string> stream::next_message() {
  if (messages_.empty()) return std::nullopt;
  std::string m = std::move(messages_.front());
  messages_.pop_front();
  return m;
}

void stream::send_message(std::string_view payload) {
  if (state_ != close_state::open) return;
  encode_frame(out_, opcode::binary, true, payload, next_mask());
}

void stream::send_ping(std::string_view payload) {
  if (state_ != close_state::open) return;
  encode_frame(out_, opcode::ping, true, payload.substr(0, kWsMaxControlPayload), next_mask());
  ++pings_outstanding_;
}

void stream::send_close(uint16_t code, std::string_view reason) {
  if (state_ != close_state::open) return;
  std::string payload = close_code::sendable(code) ? close_payload(code, reason) : std::string{};
  encode_frame(out_, opcode::close, true, payload, next_mask());
  state_ = close_state::close_sent;
}

std::string stream::take_output() {
  std::string out;
  out.swap(out_);
  return out;
}

}  // namespace peerlite::protocol::ws
