// Internal: the connection actor's state and the functions its two source files share
// (connection.cpp: lifecycle and close handshake; connection_io.cpp: frames in and out).
#pragma once

#include <atomic>
#include <chrono>
#include <deque>
#include <optional>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "actors/connection.hpp"
#include "protocol/websocket.hpp"

namespace peerlite::actors::detail {

/// Where the connection stands; it only ever moves forward.
enum class phase : uint8_t {
  opening,      ///< app's open() called, completion not yet in
  open,         ///< frames flow both ways
  draining,     ///< graceful close: letting queued frames reach the app first
  closing_ws,   ///< BYTE_STREAM: our WebSocket CLOSE sent, waiting for the peer's
  closing_app,  ///< app's close() called, waiting for its completion
  closed,       ///< owner told; the actor quits
};

/// The named timeouts the actor arms on itself.
enum class timer : uint8_t { open, drain, ws_close, app_close, heartbeat, pong, answer };

/// How a close starts.
enum class close_mode : uint8_t {
  graceful,        ///< owner's request: drain, handshake, then the app's close
  abort,           ///< our protocol error: tell the peer if we can, then the app's close
  peer_closed,     ///< the peer's WebSocket CLOSE: echo it, then the app's close
  transport_gone,  ///< the app says the pipe is gone (or send failed): straight to app's close
};

/// Replies to one (request_atom, vector<message>): delivered together once all are in.
struct reply_batch {
  std::vector<protocol::message> replies;
  size_t remaining = 0;
  caf::typed_response_promise<std::vector<protocol::message>> rp;
};

/// Where the reply to one of our requests goes: a single request's promise, or a slot of a
/// batch.
struct pending_reply {
  caf::typed_response_promise<protocol::message> rp;
  std::shared_ptr<reply_batch> batch;
  size_t index = 0;
};

struct connection_state {
  std::shared_ptr<message_endpoint_connection> app;
  protocol_type type = protocol_type::message_stream;
  role side = role::active;
  connection_owner owner;
  connection_options options;
  caf::actor timers;  ///< the system's timer service (arm() goes through it)
  std::optional<protocol::session> session;
  std::optional<protocol::ws::stream> ws;  ///< BYTE_STREAM only
  phase ph = phase::opening;
  close_info info;
  bool info_set = false;
  std::unordered_map<uint64_t, pending_reply> pending;  ///< our requests by number
  std::vector<std::string> early;  ///< bytes received before open completed
  std::shared_ptr<receive_inbox> inbox;  ///< shared with the app's replicator_connection
  std::vector<std::string> received;     ///< scratch: what one doorbell took from the inbox
  uint64_t in_flight = 0;          ///< bytes handed to send() whose completion is due
  uint64_t heartbeat_gen = 0;
  uint64_t pongs_at_ping = 0;
  /// When the last heartbeat PING went out (unset before the first).
  std::optional<std::chrono::steady_clock::time_point> ping_sent_at;
  std::string frame;  ///< scratch buffer for next_frame()
  /// Peer requests the owner has not answered yet, and when each one's time is up
  /// (kIncomingRequestTimeout). One sweep timer serves them all: a CAF request timeout per
  /// message would cost a clock-thread round trip per `rev`.
  std::unordered_map<uint64_t, bool> answering;  ///< request number -> routed to `route`
  /// The worker that takes the peer's requests with these profiles (route_atom), if any.
  routed_worker route;
  std::vector<std::string> route_profiles;
  std::vector<protocol::message> to_route;  ///< scratch: routed requests of one receive
  std::deque<std::pair<uint64_t, std::chrono::steady_clock::time_point>> answer_deadlines;
  bool answer_sweep_armed = false;
  static inline const char* name = "peerlite.connection";
};

using self_ptr = connection_actor::stateful_pointer<connection_state>;

/// Only the first call of a completion counts; later calls (and calls after the actor is
/// gone) do nothing. Holds the actor weakly so an app that keeps a completion forever does
/// not keep the actor alive.
struct completion_target {
  caf::weak_actor_ptr actor;
  std::atomic<bool> fired{false};
  /// The actor's thread while it is inside the app's send(): a completion called right there
  /// (synchronously) is recorded here instead of becoming a mailbox message.
  std::atomic<std::thread::id> caller{};
  bool sync_done = false;
  explicit completion_target(caf::weak_actor_ptr a) : actor(std::move(a)) {}
  /// The actor to message on the first call, else an invalid handle.
  connection_actor claim();
};
std::shared_ptr<completion_target> make_target(self_ptr self);

// connection_io.cpp
void pump(self_ptr self);
void flush_control(self_ptr self);
void on_received(self_ptr self, std::string bytes);
/// Takes everything the app queued in the inbox through the session, then answers and pumps.
void on_doorbell(self_ptr self);
/// Sends the reply to the peer's request `number` unless it was answered (or timed out).
/// Pumps at once unless `pump_now` is false (the caller pumps after a batch).
void answer_request(self_ptr self, uint64_t number, protocol::message reply, bool pump_now = true);
protocol::message handler_failed(uint64_t number, const std::string& why);
void on_sent(self_ptr self, uint64_t bytes, bool ok, const std::string& what, bool recoverable);
void send_to_app(self_ptr self, std::string bytes);
void sweep_answers(self_ptr self);

// connection.cpp
void begin_close(self_ptr self, close_info info, close_mode mode);
void check_drained(self_ptr self);
void arm(self_ptr self, timer kind, std::chrono::milliseconds after, uint64_t gen = 0);

}  // namespace peerlite::actors::detail
