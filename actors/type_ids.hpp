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

namespace peerlite::actors {
// --- replication (REPL): db actor, replicators, pusher, puller ---
using repl_status_atom = caf::atom_constant<caf::atom("replstatus")>;  ///< (id, replicator_status)
using doc_events_atom = caf::atom_constant<caf::atom("docevents")>;  ///< (id, vector<replicated_document>)
using put_atom = caf::atom_constant<caf::atom("put")>;              ///< local save through the writer
using insert_atom = caf::atom_constant<caf::atom("insert")>;        ///< peer revisions (group commit)
using flush_atom = caf::atom_constant<caf::atom("flush")>;          ///< db actor: commit what is queued
using subscribe_atom = caf::atom_constant<caf::atom("subscribe")>;  ///< ask for db_changed notices
using unsub_atom = caf::atom_constant<caf::atom("unsub")>;
using db_changed_atom = caf::atom_constant<caf::atom("dbchanged")>;  ///< (last sequence) after a commit
using start_atom = caf::atom_constant<caf::atom("start")>;
using stop_atom = caf::atom_constant<caf::atom("stop")>;
using retry_atom = caf::atom_constant<caf::atom("retry")>;
using tick_atom = caf::atom_constant<caf::atom("tick")>;            ///< periodic timers
using caught_up_atom = caf::atom_constant<caf::atom("caughtup")>;
using progress_atom = caf::atom_constant<caf::atom("progress")>;
using worker_status_atom = caf::atom_constant<caf::atom("wstatus")>;
using checkpoint_atom = caf::atom_constant<caf::atom("checkpt")>;
using purge_atom = caf::atom_constant<caf::atom("purge")>;
using resolve_atom = caf::atom_constant<caf::atom("resolve")>;
using expire_atom = caf::atom_constant<caf::atom("expire")>;
using remove_atom = caf::atom_constant<caf::atom("remove")>;
using get_atom = caf::atom_constant<caf::atom("get")>;
using listen_atom = caf::atom_constant<caf::atom("listen")>;
}  // namespace peerlite::actors
