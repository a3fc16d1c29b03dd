// How socket errors become messaging_errors: which ones an active replicator retries.
#pragma once

#include <boost/system/error_code.hpp>
#include <string_view>

#include "peerlite/message_endpoint.hpp"

namespace peerlite::net {

/// True for the errors PROTOCOL.md §6 calls transient: the peer or the path went away for now
/// (reset, refused, timed out, aborted, network reset), plus an unexpected end of stream (the
/// TCP analogue of WebSocket 1006 "abnormal closure") and a broken pipe (a write after a reset).
/// Everything else (host not found, permission denied, address in use...) is permanent.
bool is_recoverable(const boost::system::error_code& ec);

/// A messaging_error whose text names where it happened and what the OS said, e.g.
/// "tcp://127.0.0.1:4985/db: connection refused", recoverable per is_recoverable().
messaging_error to_messaging_error(const boost::system::error_code& ec, std::string_view where);

}  // namespace peerlite::net
