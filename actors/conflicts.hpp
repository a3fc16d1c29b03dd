// How an active replicator resolves a pull conflict: the default rule or the app's resolver
// decides between our current revision and the peer's, and the db actor writes the result on
// top of the peer's revision (store::database::resolve). Used by the puller, when a pulled
// revision lands on a branch, and by the pusher, when the peer's current revision turns out
// to be a leaf we already hold on another branch than ours (a conflict an earlier run pulled
// and never resolved: the process ended between the two commits).
#pragma once

#include <optional>
#include <peerlite/replicator.hpp>
#include <string>

#include "actors/database_core.hpp"
#include "actors/errors.hpp"
#include "actors/request_deadlines.hpp"
#include "actors/tuning.hpp"
#include "actors/type_ids.hpp"

namespace peerlite::actors {

/// What to write for a conflict: the merged revision always goes on top of the REMOTE leaf
/// (so the peer, which has that leaf as current, accepts it without a conflict) and the local
/// leaf is closed. `body` unset = keep the remote revision as it is.
struct resolution {
  std::optional<std::string> body;
  bool deleted = false;
};

/// One conflict to resolve: our current revision and the peer's leaf.
struct conflict_sides {
  store::document local;
  store::document remote;
};

/// Reads `id`'s current revision and its leaf `remote_rev` through `reader` (the caller's, on
/// the document's collection); nullopt when there is nothing to resolve (either is missing, or
/// the peer's revision is already our current one).
std::optional<conflict_sides> read_conflict(store::reader& reader, const std::string& id,
                                            const std::string& remote_rev);

/// The default rule (a deletion wins, then the higher revision), or `fn`'s answer.
resolution decide(const conflict_resolver& fn, const conflict_sides& c);

/// Asks `self`'s database writer to write the resolution of `c` (bounded by kDbRequestTimeout);
/// `done(error)` runs with errc::ok once it is written, or with the reason it was not.
template <class Self, class Done>
void write_resolution(Self* self, const database& db, store::collection_id coll,
                      const conflict_sides& c, const resolution& r, Done done) {
  timed_request(self, db.core()->writer, kDbRequestTimeout, resolve_atom::value, c.local.id,
                c.remote.rev, c.local.rev, r.body.value_or(std::string{}), r.body.has_value(),
                r.deleted, coll)
      .then([done](const std::string&) mutable { done(error{}); },
            [done](caf::error& err) mutable { done(to_error(err)); });
}

}  // namespace peerlite::actors
