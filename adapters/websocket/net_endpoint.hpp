// One entry point for the active side of the built-in network adapters: a URL the user typed
// (tcp://host:port/db or ws://host:port/db) becomes the message_endpoint a replicator needs.
#pragma once

#include <string>

#include "adapters/tcp/connection_events.hpp"
#include "adapters/websocket/ws_credentials.hpp"
#include "peerlite/message_endpoint.hpp"
#include "peerlite/status.hpp"

namespace peerlite::net {

class io_runtime;

/// ws:// -> make_ws_endpoint (message stream, Basic auth with `creds`), tcp:// ->
/// make_tcp_endpoint (byte stream; `creds` must be empty: plain TCP has no handshake to carry
/// them). The uid (checkpoint identity) is the normalised URL. Fails with invalid_argument for
/// a malformed URL or credentials on tcp://. `io` must outlive the replicator.
expected<message_endpoint> make_endpoint(io_runtime& io, const std::string& url,
                                         const credentials& creds = {},
                                         connection_observer observer = {});

}  // namespace peerlite::net
