// One entry point for the active side of the built-in network adapters: a URL the user typed
// (tcp://host:port/db or ws://host:port/db) becomes the message_endpoint a replicator needs.
#pragma once

#include <string>

#include "adapters/tcp/connection_events.hpp"
#include "adapters/tcp/tls.hpp"
#include "adapters/websocket/ws_credentials.hpp"
#include "peerlite/message_endpoint.hpp"
#include "peerlite/status.hpp"

namespace peerlite::net {

class io_runtime;

/// ws:// or wss:// -> make_ws_endpoint (message stream, Basic auth with `creds`), tcp:// or
/// tls:// -> make_tcp_endpoint (byte stream; `creds` must be empty: a raw stream has no
/// handshake to carry them). wss:// and tls:// check the server per `tls`. The uid
/// (checkpoint identity) is the normalised URL. Fails with invalid_argument for a malformed
/// URL, credentials on tcp://, or TLS options on a plain URL. `io` must outlive the replicator.
expected<message_endpoint> make_endpoint(io_runtime& io, const std::string& url,
                                         const credentials& creds = {},
                                         connection_observer observer = {},
                                         const tls_client_options& tls = {});

}  // namespace peerlite::net
