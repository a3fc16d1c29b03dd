// RFC 6455 WebSocket framing for BYTE_STREAM transports (PROTOCOL.md §2).
//
// No HTTP handshake (a MessageEndpoint has none), no threads, no I/O, no timers: the owner
// feeds received bytes in, takes bytes to send out, and runs the heartbeat / close timers
// (kWsHeartbeat, kWsPongTimeout, kWsCloseTimeout in protocol/tuning.hpp) itself.
//
// Three layers, use the highest that fits:
//  - ws::stream: one side of a connection. Feed it bytes as they arrive (split or merged
//    anywhere); take whole binary messages out (one BLIP frame each); pings are answered
//    automatically; the close handshake is tracked. This is what the connection actor uses.
//  - ws::decoder: incremental frame parser with reassembly of fragmented messages.
//  - ws::encode_frame(): one frame into a byte buffer.
//
// Roles: a client masks every frame it sends (random 32-bit mask) and rejects masked frames
// it receives; a server sends unmasked frames and rejects unmasked ones.
//
// Errors: any protocol violation (reserved bits, wrong masking for the role, bad opcode,
// fragmented or > 125-byte control frame, continuation without a start, a new data frame
// inside a fragmented message, a 64-bit length with the top bit set, a close payload of
// 1 byte or with an unsendable code or a non-UTF-8 reason, a non-UTF-8 text message) makes the
// decoder fail with errc::protocol_error; a message (or frame) over the cap fails with
// errc::too_large. A failure is sticky: every later feed() returns the same error, and
// failure_close_code() says which close code to send (1002 / 1009 / 1007 / 1003) before dropping
// the connection.
//
// Thread safety: none; one object per connection, used from one actor.
#pragma once

#include <cstdint>
#include <optional>
#include <peerlite/status.hpp>
#include <string>
#include <string_view>

#include "protocol/fifo.hpp"

namespace peerlite::protocol::ws {

enum class role : uint8_t { client, server };

enum class opcode : uint8_t {
  continuation = 0x0,
  text = 0x1,
  binary = 0x2,
  close = 0x8,
  ping = 0x9,
  pong = 0xA,
};

/// Close codes (RFC 6455 §7.4 and PROTOCOL.md §2).
namespace close_code {
constexpr uint16_t normal = 1000;          ///< done
constexpr uint16_t going_away = 1001;      ///< peer going away (not transient)
constexpr uint16_t protocol_error = 1002;  ///< the peer broke framing
constexpr uint16_t unsupported = 1003;     ///< e.g. a text message where BLIP needs binary
constexpr uint16_t no_status = 1005;       ///< never sent: a close frame without a code
constexpr uint16_t abnormal = 1006;        ///< never sent: connection dropped (transient)
constexpr uint16_t bad_data = 1007;        ///< non-UTF-8 text / close reason
constexpr uint16_t too_big = 1009;         ///< message over the cap
constexpr uint16_t app_transient = 4001;   ///< recoverable MessagingError
constexpr uint16_t app_permanent = 4002;   ///< non-recoverable MessagingError
/// True for codes a peer may put on the wire (RFC 6455 §7.4.1 / §7.4.2).
bool sendable(uint16_t code);
/// True for codes whose failure is transient (retry): 1006 and 4001 (PROTOCOL.md §6).
bool transient(uint16_t code);
}  // namespace close_code

/// A close frame's content. A close frame with an empty payload decodes as code 1005.
struct close_frame {
  uint16_t code = close_code::normal;
  std::string reason;
};

/// Appends one frame to `out`. `mask` is used when it has a value (client side), else the
/// frame is unmasked (server side). Precondition for control opcodes: payload <= 125 bytes.
void encode_frame(std::string& out, opcode op, bool fin, std::string_view payload,
                  std::optional<uint32_t> mask);
/// Payload of a close frame: 2-byte big-endian code + reason (truncated to fit 125 bytes
/// at a UTF-8 character boundary).
std::string close_payload(uint16_t code, std::string_view reason);

/// Something the decoder finished reading.
struct event {
  opcode op = opcode::binary;  ///< binary/text (a whole reassembled message), ping, pong, close
  std::string payload;         ///< message or ping/pong data (for close: raw payload)
  close_frame close;           ///< when op == close
};

/// Incremental frame decoder. Owns a buffer of at most one partial frame header plus the
/// message being reassembled (never more than max_message bytes).
class decoder {
 public:
  /// `local` is OUR role: a server's decoder requires masked frames, a client's forbids them.
  explicit decoder(role local, size_t max_message);

  /// Consumes `bytes` (any chunking). Complete events are queued for next(). Returns the
  /// sticky error on a violation; events decoded before the violation stay queued.
  status feed(std::string_view bytes);
  /// The next decoded event, in wire order; nullopt when none is ready.
  std::optional<event> next();
  /// Whether feed() has failed; failure_close_code() is then the code to send.
  bool failed() const { return !error_.ok(); }
  uint16_t failure_close_code() const { return fail_code_; }
  const status& failure() const { return error_; }

 private:
  size_t parse_header(std::string_view in);
  size_t parse_payload(std::string_view in);
  status check_header();
  status check_control(uint64_t len);
  status check_data(uint64_t len);
  status finish_frame();
  status finish_control();
  status fail(errc code, uint16_t close, std::string msg);

  role local_;
  size_t max_message_;
  std::string header_;       ///< bytes of a header not yet complete
  bool in_payload_ = false;  ///< header parsed, reading payload
  bool fin_ = false;
  opcode op_ = opcode::binary;
  bool masked_ = false;
  uint8_t mask_[4] = {};
  uint64_t remaining_ = 0;     ///< payload bytes still to read for this frame
  uint64_t mask_pos_ = 0;      ///< payload bytes of this frame already read (mask phase)
  std::string frame_payload_;  ///< control frame payload being read
  std::string message_;        ///< data message being reassembled
  bool in_message_ = false;
  opcode message_op_ = opcode::binary;
  fifo<event> events_;  ///< no storage until the first event (a deque allocates ~0.6 KiB at once)
  status error_;
  uint16_t fail_code_ = 0;
};

/// Where the close handshake stands.
enum class close_state : uint8_t {
  open,            ///< no close seen or sent
  close_sent,      ///< we sent close, waiting for the peer's (run kWsCloseTimeout)
  close_received,  ///< the peer closed first and our echo is queued: flush, then drop
  closed,          ///< both closes exchanged, or a framing failure: flush, then drop
};

/// A seed for the client's mask generator, from std::random_device.
uint64_t random_seed();

/// One side of a WebSocket connection over a byte stream.
class stream {
 public:
  /// `seed` feeds the client's mask generator (tests pass a fixed one).
  explicit stream(role local, size_t max_message, uint64_t seed = random_seed());

  /// Consumes received bytes. Pings are answered with pongs (queued for take_output());
  /// a peer close is answered and recorded. On a framing error: queues a close frame with
  /// failure_close_code() and returns the error; the stream is then unusable.
  status feed(std::string_view bytes);
  /// The next whole binary message (one BLIP frame), in order; nullopt when none.
  std::optional<std::string> next_message();

  /// Queues one binary message. Precondition: size <= max_message. Ignored once we sent
  /// close (there is nobody to read it).
  void send_message(std::string_view payload);
  /// Queues a ping (heartbeat); pong_outstanding() turns true until a pong arrives.
  void send_ping(std::string_view payload = {});
  /// Starts the close handshake (state -> close_sent). Ignored unless open (after the peer's
  /// close our echo already went out). A code that may not go on the wire (1005, 1006, 1015,
  /// < 1000) is sent as a close frame without code or reason (the peer reads 1005).
  void send_close(uint16_t code, std::string_view reason);

  /// Bytes to hand to the transport (moves them out; empty when nothing is pending).
  std::string take_output();
  bool has_output() const { return !out_.empty(); }
  /// Bytes take_output() would return now.
  size_t output_size() const { return out_.size(); }

  close_state state() const { return state_; }
  /// The peer's close frame, once received.
  const std::optional<close_frame>& peer_close() const { return peer_close_; }
  bool pong_outstanding() const { return pings_outstanding_ > 0; }
  /// Counts pongs received (including unsolicited ones), for tests and heartbeat logic.
  uint64_t pongs_received() const { return pongs_received_; }
  /// The framing error that ended the stream, or ok.
  const status& failure() const { return failure_; }

 private:
  std::optional<uint32_t> next_mask();
  status handle(event&& ev);
  status handle_close(close_frame&& cf);
  void fail(const status& st, uint16_t code);

  role local_;
  decoder decoder_;
  /// The client's mask generator: splitmix64, 8 bytes (std::mt19937_64 took 2.5 KiB of every
  /// connection, hub-side ones included, which never mask). Masks only need to be
  /// unpredictable to the page a browser runs (RFC 6455 §10.3), not secret.
  uint64_t rng_;
  std::string out_;
  fifo<std::string> messages_;
  close_state state_ = close_state::open;
  std::optional<close_frame> peer_close_;
  uint64_t pings_outstanding_ = 0;
  uint64_t pongs_received_ = 0;
  status failure_;
  uint16_t fail_code_ = close_code::protocol_error;
};

}  // namespace peerlite::protocol::ws
