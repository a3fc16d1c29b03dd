// The replication workers shared by the active and the passive replicator.
//
// pusher: reads the local changes feed and sends it to the peer, either as proposeChanges
//   (active push) or as `changes` (passive side answering subChanges), then `rev` for every
//   wanted entry, with bounded windows of lists and revs in flight.
// puller: receives the peer's revisions. It answers `changes` (known ancestors) and
//   `proposeChanges` (0/304/409), commits `rev`s through the db actor's group commit and
//   replies after the commit; on the active side it first sends subChanges and resolves
//   conflicts that pulled revisions create.
//
// Both report upward to their parent (an untyped handle on the replicator):
//   (worker_status_atom, worker_report) on every activity change and at most every
//   kWorkerReportInterval otherwise; (doc_events_atom, uint64_t{0}, events) in batches.
#pragma once

#include <map>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "actors/connection.hpp"
#include "actors/repl_types.hpp"
#include "actors/type_ids.hpp"
#include "store/document.hpp"
#include "peerlite/database.hpp"
#include "peerlite/replicator.hpp"

namespace peerlite::actors {

/// A worker's state, for its parent to combine.
struct worker_report {
  bool is_pusher = true;
  activity_level activity = activity_level::busy;
  uint64_t completed = 0;
  uint64_t total = 0;
  uint64_t local_checkpoint = 0;  ///< pusher: every local sequence <= this is done
  std::string remote_checkpoint;  ///< puller: every remote sequence up to this is done
  error err;
  uint32_t lane = 0;  ///< the worker's config.lane
};
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, worker_report& x) {
  return f(caf::meta::type_name("worker_report"), x.is_pusher, x.activity, x.completed, x.total,
           x.local_checkpoint, x.remote_checkpoint, x.err, x.lane);
}

/// (skip_atom, [id, rev, id, rev, ...]): revisions just pulled from this peer; the pusher
/// does not offer them back.
/// (caught_up_atom) -> true when the pusher has nothing left to send right now (it re-reads
/// the feed first, so a change committed before the request is seen).
using pusher_actor =
    caf::typed_actor<caf::reacts_to<start_atom>, caf::reacts_to<db_changed_atom, uint64_t>,
                     caf::reacts_to<db_changed_atom, store::collection_id, uint64_t>,
                     caf::reacts_to<tick_atom>, caf::reacts_to<watchdog_atom>,
                     caf::reacts_to<skip_atom, std::vector<std::string>>,
                     caf::replies_to<caught_up_atom>::with<bool>>;

/// Passive side: the revisions this connection's peer pushed to us, shared by its puller (which
/// records each rev as it takes it, before the commit) and its pushers (which leave those out
/// of their `changes`). Without it a pusher whose feed read came after the commit offered the
/// peer the very revision it had just pushed: a wasted round trip, and a `changes` entry
/// Couchbase Lite does not send (conformance passive/bidi failed 1 run in 6 to 12). Recorded
/// before the commit, it is seen by any feed read that can see the commit.
struct pushed_revs {
  std::mutex mtx;
  /// (collection, doc ID) -> the revision the peer pushed last.
  std::map<std::pair<store::collection_id, std::string>, std::string> revs;
  void add(store::collection_id coll, const std::string& id, const std::string& rev) {
    std::lock_guard lock(mtx);
    if (revs.size() >= kMaxPushedRevs) revs.clear();  // only a wasted offer is lost
    revs[{coll, id}] = rev;
  }
  /// True when the peer pushed exactly (id, rev); the entry is dropped once looked at.
  bool take(store::collection_id coll, const std::string& id, const std::string& rev) {
    std::lock_guard lock(mtx);
    auto it = revs.find({coll, id});
    if (it == revs.end()) return false;
    bool same = it->second == rev;
    revs.erase(it);
    return same;
  }
  /// Forgets everything: when the connection is idle with no pusher subscribed (a push-only
  /// peer would otherwise keep its last kMaxPushedRevs revisions for the life of the
  /// connection).
  void clear() {
    std::lock_guard lock(mtx);
    revs.clear();
  }
};

struct pusher_config {
  database db;
  connection_api conn;
  caf::actor parent;
  bool propose = true;      ///< proposeChanges (active) or changes (passive, for subChanges)
  bool continuous = false;  ///< keep watching the feed after catching up
  uint64_t since = 0;       ///< start after this local sequence
  std::set<std::string> doc_ids;  ///< empty = all
  replication_filter filter;
  /// Active only: the store's id for the peer (0 = none). Each feed entry then carries the
  /// revision the peer holds: it is the parent proposed, and a document the peer holds at its
  /// current revision is not offered at all. Accepted revs are recorded against it.
  uint64_t remote = 0;
  /// Active push-and-pull: a document refused with 409 waits for the puller to bring the
  /// peer's revision and resolve the conflict, and is pushed again in the same run.
  bool with_puller = false;
  /// With a puller: resolves a conflict with a peer revision we already hold (the puller's
  /// resolver; see resolve_held).
  conflict_resolver resolver;
  /// Passive, for subChanges with activeOnly: leave deleted documents out of `changes`.
  bool active_only = false;
  /// The local collection whose feed it sends, and its index in the session's getCollections
  /// (the `collection` property of every message it sends; unset = a session that is not
  /// collection-aware, which speaks of the default collection only).
  store::collection_id coll = 0;
  std::optional<uint32_t> index;
  /// Which of its parent's collections it works for: echoed in its reports and events.
  uint32_t lane = 0;
  /// Passive side: what the peer pushed on this connection (see pushed_revs).
  std::shared_ptr<pushed_revs> pushed;
  /// The pushers sharing this connection (one per collection of the session): each keeps
  /// 1/lanes of kMaxRevsInFlight and kMaxRevBytesInFlight unanswered, so the connection stays
  /// under a peer's max_unreplied_requests however many collections it pushes.
  uint32_t lanes = 1;
};

/// Spawns a pusher; it starts on (start_atom).
pusher_actor spawn_pusher(caf::actor_system& sys, pusher_config cfg);

/// (incoming_atom, msg) with Profile rev / changes / proposeChanges / norev, delegated by the
/// owner; or, with `direct`, (incoming_atom, msgs) routed by the connection (connection_api's
/// route_atom), answered in batches with (answer_atom, replies) to the connection.
/// (seen_atom, number): the peer's request `number` went elsewhere (a getAttachment the
/// replicator answered): an active puller counts it as arrived, or its checkpoint would wait
/// for it forever (the peer's requests are numbered across every Profile).
/// (colls_atom, ids): a passive puller's session became collection-aware (getCollections);
/// ids[i] is the local collection of index i, or -1 for one this side does not serve; names[i]
/// its "scope.name" (for document events).
using puller_actor =
    caf::typed_actor<caf::replies_to<incoming_atom, protocol::message>::with<protocol::message>,
                     caf::reacts_to<incoming_atom, std::vector<protocol::message>>,
                     caf::reacts_to<colls_atom, std::vector<store::collection_id>,
                                    std::vector<std::string>>,
                     caf::reacts_to<seen_atom, uint64_t>,
                     caf::reacts_to<start_atom>, caf::reacts_to<tick_atom>>;

struct puller_config {
  database db;
  connection_api conn;
  caf::actor parent;
  bool active = true;            ///< send subChanges at start; resolve conflicts
  bool continuous = false;
  std::string since;             ///< remote sequence JSON; "" = from the start
  std::set<std::string> doc_ids;
  replication_filter filter;
  conflict_resolver resolver;
  /// Active only: the store's id for the peer (0 = none). Revisions pulled from it, and those
  /// a `changes` list shows it holds and we have, are recorded as held by it.
  uint64_t remote = 0;
  /// Active: the local collection it pulls into and its getCollections index (the
  /// `collection` property of its requests); unset index = not collection-aware.
  store::collection_id coll = 0;
  std::optional<uint32_t> index;
  uint32_t lane = 0;  ///< see pusher_config::lane
  /// Take the peer's rev / norev / changes / proposeChanges straight from the connection, many
  /// per actor message, instead of one by one through the owner. The owner must not need to
  /// see them (a read-only passive side answers them itself).
  bool direct = false;
  /// Passive side: where each rev taken is recorded (see pushed_revs).
  std::shared_ptr<pushed_revs> pushed;
};

/// An empty RPY (the connection fills in the number).
protocol::message empty_reply();

/// The HTTP error reply to a request this side failed: http_status_for(e) (503 for a store
/// that is down for now, 409, else 500) with peer_error_text(e), never a shared store's URL
/// or SQL.
protocol::message http_error_reply(const error& e);

/// The answer to a peer's getAttachment (the blob, deflated when it asked for `compress`) or
/// proveAttachment (the nonce proof) from `db`'s blob store: HTTP 404 for a digest we do not
/// hold, BLIP 400 for a malformed request. nullopt when `msg` is neither. (blob_server.cpp)
std::optional<protocol::message> serve_blob_request(const database& db,
                                                    const protocol::message& msg);

/// Spawns a puller; an active one sends subChanges on (start_atom).
puller_actor spawn_puller(caf::actor_system& sys, puller_config cfg);

}  // namespace peerlite::actors
