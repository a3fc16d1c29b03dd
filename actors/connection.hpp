// The connection actor: owns one protocol::session and the app's message_endpoint_connection.
// Contract between the transport side (this actor) and the replication side (its owner).
#pragma once

#include <memory>
#include <string>

#include "actors/type_ids.hpp"
#include "peerlite/message_endpoint.hpp"
#include "peerlite/status.hpp"
#include "protocol/message.hpp"

namespace peerlite::actors {

/// Why a connection ended. Delivered exactly once to the owner as (closed_atom, close_info).
struct close_info {
  errc code = errc::ok;        ///< ok = normal close (1000)
  std::string message;         ///< for people: "peer closed: 1001 going away", "protocol error: bad CRC32"
  bool recoverable = false;    ///< an active replicator retries when true
  bool by_peer = false;        ///< the peer (or the app's transport) started it
  int ws_code = 1000;          ///< WebSocket-style close code: 1000/1001/1006/4001/4002
};
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, close_info& x) {
  return f(caf::meta::type_name("close_info"), x.code, x.message, x.recoverable, x.by_peer,
           x.ws_code);
}

/// What the owner may ask of a connection actor.
///  - (request_atom, msg) -> the peer's reply (reply or error type) or a caf::error when the
///    connection closes first (disconnected). The caller uses a named timeout.
///  - (post_atom, msg): send a no-reply request.
///  - (close_atom, close_info): close politely; the owner gets closed_atom when done (bounded
///    by the close timeout even if the app never completes).
/// The connection actor's full typed interface (app completions, receive) extends this.
using connection_api = caf::typed_actor<
    caf::replies_to<request_atom, protocol::message>::with<protocol::message>,
    caf::reacts_to<post_atom, protocol::message>, caf::reacts_to<close_atom, close_info>>;

/// What a connection's owner handles.
///  - (incoming_atom, msg): a request from the peer. Reply with the BLIP reply to send (type
///    reply or error; number/flags are filled in by the connection). For no_reply requests the
///    reply is dropped. An error result becomes ERR BLIP/501.
///  - (connected_atom, conn): the app's open completion succeeded; requests may flow on conn.
///  - (closed_atom, close_info): the connection is over, for any reason. Sent exactly once.
using connection_owner = caf::typed_actor<
    caf::replies_to<incoming_atom, protocol::message>::with<protocol::message>,
    caf::reacts_to<connected_atom, connection_api>, caf::reacts_to<closed_atom, close_info>>;

}  // namespace peerlite::actors

namespace peerlite::protocol {
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, message& x) {
  return f(caf::meta::type_name("blip_message"), x.type, x.number, x.urgent, x.compressed,
           x.no_reply, x.properties, x.body);
}
}  // namespace peerlite::protocol
