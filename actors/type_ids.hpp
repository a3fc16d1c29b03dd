// Every atom and message type the actors exchange, in one place (STYLE.md §2).
// CAF 0.17.6: atoms are atom_constant<atom("...")>, at most 10 characters; send x_atom::value.
#pragma once

#include <caf/all.hpp>

namespace peerlite::actors {

// --- connection <-> owner (replicator, passive replicator) ---
using request_atom = caf::atom_constant<caf::atom("request")>;    ///< send a BLIP request, reply = peer's reply
using post_atom = caf::atom_constant<caf::atom("post")>;          ///< send a no-reply BLIP request
using incoming_atom = caf::atom_constant<caf::atom("incoming")>;  ///< a request arrived from the peer
using connected_atom = caf::atom_constant<caf::atom("connected")>;
using closed_atom = caf::atom_constant<caf::atom("closed")>;
using close_atom = caf::atom_constant<caf::atom("close")>;

// Add atoms below in sections per owner; keep the text unique and <= 10 characters.

}  // namespace peerlite::actors
