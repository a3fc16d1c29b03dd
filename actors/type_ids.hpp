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
using remote_atom = caf::atom_constant<caf::atom("remote")>;  ///< db actor: what a remote holds
using skip_atom = caf::atom_constant<caf::atom("skip")>;  ///< pusher: revisions the peer sent us
using watchdog_atom = caf::atom_constant<caf::atom("watchdog")>;  ///< a worker's request watchdog
using blob_atom = caf::atom_constant<caf::atom("blob")>;  ///< db actor: store a verified blob
using seen_atom = caf::atom_constant<caf::atom("seen")>;  ///< puller: a peer request it never gets
using colls_atom = caf::atom_constant<caf::atom("colls")>;  ///< puller: the session's collections
using compact_atom = caf::atom_constant<caf::atom("compact")>;  ///< db actor: drop unused blobs
using mkcoll_atom = caf::atom_constant<caf::atom("mkcoll")>;  ///< db actor: create a collection
using rmcoll_atom = caf::atom_constant<caf::atom("rmcoll")>;  ///< db actor: delete a collection
}  // namespace peerlite::actors

namespace peerlite::actors {
// --- connection actor internals and listener (CONN) ---
using conn_open_atom = caf::atom_constant<caf::atom("conn_open")>;    ///< the app's open completion
using conn_sent_atom = caf::atom_constant<caf::atom("conn_sent")>;    ///< a send completion (write credit)
using conn_recv_atom = caf::atom_constant<caf::atom("conn_recv")>;    ///< bytes from replicator_connection::receive
using conn_appcl_atom = caf::atom_constant<caf::atom("conn_appcl")>;  ///< replicator_connection::close
using conn_cdone_atom = caf::atom_constant<caf::atom("conn_cdone")>;  ///< the app's close completion
using conn_timer_atom = caf::atom_constant<caf::atom("conn_timer")>;  ///< (timer kind, generation)
using conn_info_atom = caf::atom_constant<caf::atom("conn_info")>;    ///< ask a connection for its stats
using route_atom =
    caf::atom_constant<caf::atom("conn_route")>;  ///< route peer requests to a worker
using answer_atom =
    caf::atom_constant<caf::atom("conn_answr")>;  ///< a worker's replies to routed requests
using accept_atom = caf::atom_constant<caf::atom("lsn_accept")>;      ///< listener: accept a connection
using close_all_atom = caf::atom_constant<caf::atom("lsn_clall")>;    ///< listener: close every connection
using close_one_atom = caf::atom_constant<caf::atom("lsn_close")>;    ///< listener: close one connection
using list_atom = caf::atom_constant<caf::atom("lsn_list")>;          ///< listener: live connections
using watch_atom = caf::atom_constant<caf::atom("lsn_watch")>;        ///< listener: add a change listener
using unwatch_atom = caf::atom_constant<caf::atom("lsn_unwat")>;      ///< listener: remove one
}  // namespace peerlite::actors
