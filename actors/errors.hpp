// peerlite::errc inside CAF: a caf::error can carry a peerlite error (code + message), and any
// caf::error (ours or CAF's own, e.g. a request timeout) converts back to a peerlite::error.
//
//   return make_error(errc::not_found, "doc1: no such document");   // in a handler
//   peerlite::error e = to_error(caf_err);                          // at the public API edge
#pragma once

#include <caf/all.hpp>
#include <string>

#include "peerlite/status.hpp"

namespace peerlite {

/// The CAF error category of peerlite::errc.
constexpr caf::atom_value kErrorCategory = caf::atom("peerlite");

/// A caf::error of category kErrorCategory; `message` (may be empty) rides in its context.
/// Found by ADL, so `caf::error e = errc::timeout;` works too.
caf::error make_error(errc code, std::string message = {});

/// A caf::error holding `e` (errc::ok yields an empty caf::error).
caf::error make_error(const error& e);

/// The errc and message inside `x`. peerlite errors convert exactly; CAF's own errors map to
/// the nearest errc (request_timeout -> timeout, a dead receiver -> disconnected, anything else
/// -> io_error) with CAF's rendering as the message. An empty `x` yields errc::ok.
error to_error(const caf::error& x);

/// The HTTP status a hub answers a peer's request with when serving it failed with `e`: 503
/// (retry later) when the store is unavailable, 409 for a conflict, else 500.
int http_status_for(const error& e);

/// What a peer is told about such a failure: the error's own message, except for
/// errc::unavailable, whose message names the shared store (its URL, the failed SQL). A peer
/// gets kUnavailableText instead; the hub's operator has the detail in its own log and status.
std::string peer_error_text(const error& e);
inline constexpr const char* kUnavailableText =
    "the database behind this peer is unavailable for now; retry later";

/// A short, stable name for `code` ("protocol_error").
const char* errc_name(errc code);

/// For actor_system_config::add_error_category: renders kErrorCategory errors as
/// "peerlite: <name> (<message>)".
std::string render_error(uint8_t code, caf::atom_value category, const caf::message& context);

}  // namespace peerlite
