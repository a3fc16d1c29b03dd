// The passive replicator: one per connection a listener accepted. It answers the active
// peer's requests (PROTOCOL.md §3, "Passive side"): checkpoints from the peer_checkpoints
// store, proposeChanges with "no incoming conflicts" (0 / 304 / 409), rev (committed through
// the db actor, replied to after the commit), changes, and subChanges (it then streams
// `changes` and `rev`s to the peer, continuously when asked). It never stops or retries on
// its own: it ends when its connection closes, reporting a final STOPPED status.
#pragma once

#include <cstdint>
#include <vector>

#include "actors/connection.hpp"
#include "actors/repl_types.hpp"
#include "actors/type_ids.hpp"
#include "peerlite/database.hpp"

namespace peerlite::actors {

/// What a passive replicator tells its listener. `connection_id` is the id given at spawn.
///  - (repl_status_atom, connection_id, status): the activity/progress changed (at most every
///    kStatusInterval, plus always the final STOPPED one, which is the last message).
///  - (doc_events_atom, connection_id, events): batches of document events. Direction is
///    from this side's point of view: `pull` = the peer pushed it to us and we committed it;
///    `push` = we sent it to the peer (it pulled it).
using passive_observer =
    caf::typed_actor<caf::reacts_to<repl_status_atom, uint64_t, replicator_status>,
                     caf::reacts_to<doc_events_atom, uint64_t, std::vector<replicated_document>>>;

/// Spawns a passive replicator serving `db`. Hand the result to the connection actor as its
/// connection_owner. `observer` may be a null handle (no reports). The actor quits after
/// its connection reported closed_atom (and it sent its final status). When `read_only`,
/// the peer's push requests (changes, proposeChanges, rev) get HTTP 403 and nothing is written
/// except the peer's checkpoints.
/// `served`: the collections collection-aware peers may sync (listener_config::collections);
/// empty = all of the database's.
connection_owner spawn_passive_replicator(caf::actor_system& sys, database db,
                                          passive_observer observer, uint64_t connection_id,
                                          bool read_only = false,
                                          std::vector<std::string> served = {});

}  // namespace peerlite::actors
