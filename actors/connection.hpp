// The connection actor: owns one protocol::session and the app's message_endpoint_connection.
// Contract between the transport side (this actor) and the replication side (its owner).
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "actors/tuning.hpp"
#include "actors/type_ids.hpp"
#include "peerlite/message_endpoint.hpp"
#include "peerlite/status.hpp"
#include "protocol/message.hpp"
#include "protocol/session.hpp"

namespace peerlite::actors {

/// Why a connection ended. Delivered exactly once to the owner as (closed_atom, close_info).
struct close_info {
  errc code = errc::ok;  ///< ok = normal close (1000)
  std::string message;  ///< for people: "peer closed: 1001 going away", "protocol error: bad CRC32"
  bool recoverable = false;  ///< an active replicator retries when true
  bool by_peer = false;      ///< the peer (or the app's transport) started it
  int ws_code = 1000;        ///< WebSocket-style close code: 1000/1001/1006/4001/4002
};
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, close_info& x) {
  return f(caf::meta::type_name("close_info"), x.code, x.message, x.recoverable, x.by_peer,
           x.ws_code);
}

/// A worker that takes routed peer requests (see route_atom below).
using routed_worker =
    caf::typed_actor<caf::reacts_to<incoming_atom, std::vector<protocol::message>>>;

/// What the owner (and the workers it hands the connection to) may ask of a connection actor.
///  - (request_atom, msg) -> the peer's reply (reply or error type) or a caf::error when the
///    connection closes first (disconnected). The caller uses a named timeout.
///  - (request_atom, msgs) -> the peer's replies, in the order of `msgs`, once every one is in.
///    Each message is still its own BLIP request with its own reply; only the actor messages
///    are batched (one mailbox trip for many `rev`s instead of one each). A caf::error when
///    the connection closes before every reply arrived.
///  - (post_atom, msg): send a no-reply request.
///  - (close_atom, close_info): close politely; the owner gets closed_atom when done (bounded
///    by the close timeout even if the app never completes).
///  - (route_atom, worker, profiles): from now on, peer requests whose Profile is one of
///    `profiles` go to `worker` instead of the owner, as (incoming_atom, vector<message>) in
///    arrival order, many per actor message (each keeps the peer's request number). The worker
///    answers with (answer_atom, replies): each reply carries the number of the request it
///    answers (type reply or error); a no_reply request needs no answer. Requests still
///    unanswered when the worker dies get ERR BLIP/501; kIncomingRequestTimeout applies.
using connection_api = caf::typed_actor<
    caf::replies_to<request_atom, protocol::message>::with<protocol::message>,
    caf::replies_to<request_atom,
                    std::vector<protocol::message>>::with<std::vector<protocol::message>>,
    caf::reacts_to<post_atom, protocol::message>, caf::reacts_to<close_atom, close_info>,
    caf::reacts_to<route_atom, routed_worker, std::vector<std::string>>,
    caf::reacts_to<answer_atom, std::vector<protocol::message>>>;

/// What a connection's owner handles.
///  - (incoming_atom, msg): a request from the peer. Reply with the BLIP reply to send (type
///    reply or error; number/flags are filled in by the connection). For no_reply requests the
///    reply is dropped. An error result becomes ERR BLIP/501.
///  - (connected_atom, conn): the app's open completion succeeded; requests may flow on conn.
///  - (closed_atom, close_info): the connection is over, for any reason. Sent exactly once.
using connection_owner =
    caf::typed_actor<caf::replies_to<incoming_atom, protocol::message>::with<protocol::message>,
                     caf::reacts_to<connected_atom, connection_api>,
                     caf::reacts_to<closed_atom, close_info>>;

/// Which end of the connection this side is. BYTE_STREAM: the active side masks its
/// WebSocket frames (RFC 6455 client), the passive side does not (server).
enum class role : uint8_t { active, passive };

/// Per-connection knobs.
struct connection_options {
  /// BYTE_STREAM keep-alive: a WebSocket PING after this long; no PONG within kPongTimeout
  /// closes the connection as 1006 (transient). Zero disables. Ignored for MESSAGE_STREAM.
  std::chrono::milliseconds heartbeat = kDefaultHeartbeat;
  protocol::session_options session = replication_session();
  /// The peer's requests we have not answered yet: one more than this closes the connection
  /// with a protocol error, so a peer flooding requests faster than they are handled cannot
  /// queue them without bound. Zero = no limit. See kMaxUnrepliedRequests.
  size_t max_unreplied_requests = kMaxUnrepliedRequests;

  /// The session defaults with replication's deflate level (kReplicationDeflateLevel).
  static protocol::session_options replication_session() {
    protocol::session_options o;
    o.compression_level = kReplicationDeflateLevel;
    return o;
  }
};

/// The connection actor's whole interface: connection_api plus what the app's side feeds in.
/// Only peerlite's own completions and replicator_connection send the extra messages.
///  - (conn_open_atom, ok, what, recoverable): the app's open completion.
///  - (conn_sent_atom, bytes, ok, what, recoverable): a send completion returning write credit.
///  - (conn_recv_atom): replicator_connection::receive queued bytes in the handle's inbox.
///  - (conn_appcl_atom, has_error, what, recoverable): replicator_connection::close.
///  - (conn_cdone_atom): the app's close completion.
///  - (conn_timer_atom, kind, generation): the actor's own named timeouts.
using connection_actor = connection_api::extend<
    caf::reacts_to<conn_open_atom, bool, std::string, bool>,
    caf::reacts_to<conn_sent_atom, uint64_t, bool, std::string, bool>,
    caf::reacts_to<conn_recv_atom>, caf::reacts_to<conn_appcl_atom, bool, std::string, bool>,
    caf::reacts_to<conn_cdone_atom>, caf::reacts_to<conn_timer_atom, uint8_t, uint64_t>>;

/// Bytes the app handed to replicator_connection::receive, waiting for the connection actor.
/// A doorbell message (conn_recv_atom) goes out only when the inbox turns non-empty, so a
/// transport that delivers many frames in a burst costs one mailbox trip, not one per frame.
/// Order is kept: everything is taken in arrival order, and a close() the app calls after
/// receive() reaches the actor after the doorbell that covers those bytes.
struct receive_inbox {
  std::mutex mtx;
  std::vector<std::string> items;
  bool closed = false;  ///< the actor is gone: later bytes are dropped, not kept
  /// Queues `bytes`; true when the caller must ring the doorbell.
  bool push(std::string bytes) {
    std::lock_guard<std::mutex> guard{mtx};
    if (closed) return false;
    items.push_back(std::move(bytes));
    return items.size() == 1;
  }
  void close() {
    std::lock_guard<std::mutex> guard{mtx};
    closed = true;
    items.clear();
  }
  /// Everything queued, oldest first; `out` is cleared first (its capacity is reused).
  void take(std::vector<std::string>& out) {
    out.clear();
    std::lock_guard<std::mutex> guard{mtx};
    out.swap(items);
  }
};

/// What a replicator_connection points at. Keeps the shared actor system alive (when the
/// connection runs in it) for as long as the app holds the handle.
struct connection_handle {
  connection_actor actor;
  std::shared_ptr<caf::actor_system> keep_alive;
  std::shared_ptr<receive_inbox> inbox;
};

/// Spawns a connection actor for the app's transport `app` and starts it: it calls
/// app->open() at once (on an actor thread). When the open completion succeeds the owner gets
/// (connected_atom, conn); when the connection ends for any reason the owner gets
/// (closed_atom, close_info) exactly once, and the actor quits. If the open fails the app's
/// close() is not called. Every app call happens on peerlite's threads, one at a time;
/// the app's completions may be called on any thread, synchronously or later, or (close) never.
/// The actor monitors `owner` and closes itself (1001, going away) when the owner dies.
connection_api spawn_connection(caf::actor_system& sys,
                                std::shared_ptr<message_endpoint_connection> app,
                                protocol_type type, role side, connection_owner owner,
                                connection_options options = {});

/// Same, taking ownership of a uniquely owned connection.
inline connection_api spawn_connection(caf::actor_system& sys,
                                       std::unique_ptr<message_endpoint_connection> app,
                                       protocol_type type, role side, connection_owner owner,
                                       connection_options options = {}) {
  return spawn_connection(sys, std::shared_ptr<message_endpoint_connection>(std::move(app)), type,
                          side, std::move(owner), std::move(options));
}

/// close_info for a WebSocket close code received from the peer (PROTOCOL.md §2, §6):
/// 1000 -> ok; 1006/4001 -> transport_transient (recoverable); 4002 -> transport_permanent;
/// 1002/1003/1007/1009 -> protocol_error; anything else -> disconnected.
close_info close_info_from_ws(uint16_t code, std::string reason, bool by_peer);

/// close_info for a transport error the app reported (a MessagingError): recoverable ->
/// transport_transient / 4001, else transport_permanent / 4002.
close_info close_info_from_app(const std::string& what, bool recoverable, bool by_peer);

}  // namespace peerlite::actors

namespace peerlite::protocol {
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, message& x) {
  return f(caf::meta::type_name("blip_message"), x.type, x.number, x.urgent, x.compressed,
           x.no_reply, x.properties, x.body);
}
}  // namespace peerlite::protocol
