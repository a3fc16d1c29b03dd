// The puller's state, shared by puller.cpp (incoming lists and revs) and puller_commit.cpp
// (group commit, conflicts, reports).
#pragma once

#include <chrono>
#include <deque>
#include <map>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "actors/database_core.hpp"
#include "actors/request_deadlines.hpp"
#include "actors/workers.hpp"

namespace peerlite::actors {

/// Where the reply to one peer request goes: a promise (delegated by the owner), or, for a
/// request the connection routed to us, its number (collected in puller_state::answers).
struct reply_to {
  caf::typed_response_promise<protocol::message> rp;
  uint64_t number = 0;
};

/// A received revision waiting for its commit; the peer's rev reply waits in `to`.
struct pending_rev {
  store::incoming_revision rev;
  reply_to to;
  std::string sequence;           ///< the peer's sequence JSON ("" = untracked)
  store::collection_id coll = 0;  ///< the local collection it goes to
  std::optional<uint32_t> index;  ///< its `collection` property (for getAttachment)
};

/// Where a message of the peer goes: the local collection and the wire index it named.
struct collection_ref {
  store::collection_id coll = 0;
  std::optional<uint32_t> index;
};

/// The peer's sequences in the order its `changes` lists were sent (their BLIP request
/// numbers), each list in its own order; the checkpoint is the last of the finished prefix.
/// Lists can complete out of order: a big compressed list spans several frames while a
/// smaller later one fits in one, and BLIP hands out whichever message completes first
/// (conformance case active/pull_big ended with checkpoint 200 instead of 304 when arrival
/// order was trusted).
struct remote_sequences {
  using key = std::pair<uint64_t, uint64_t>;            ///< (list request number, position)
  std::map<key, std::pair<std::string, bool>> entries;  ///< -> (sequence JSON, done)
  std::unordered_map<std::string, key> index;           ///< sequence JSON -> key (not done)
  uint64_t next_position = 0;
  std::string checkpoint;
  /// Every peer request numbered up to `contiguous` has arrived; `ahead` holds later ones.
  /// A list numbered above it may have an earlier, still incomplete list before it: the
  /// checkpoint does not pass it, and an active puller is not idle, until the gap closes.
  uint64_t contiguous = 0;
  std::set<uint64_t> ahead;

  /// Adds one entry of list `list`; call finish({}) once the whole list is in.
  void add(uint64_t list, std::string seq, bool done);
  void finish(const std::string& seq);
  /// A peer request numbered `number` arrived (any Profile). Returns true when that closed a
  /// gap; the caller then adds the request's own entries (if it is a list) and calls
  /// finish({}) — not before, or the prefix would run past the list that just arrived.
  bool seen(uint64_t number);
  bool gap() const { return !ahead.empty(); }
};

/// A received revision waiting for blobs it references that we do not hold yet.
struct blob_wait {
  pending_rev rev;
  size_t missing = 0;  ///< fetches still running
  error err;           ///< the first fetch that failed
};

/// A getAttachment waiting for the fetch window (kMaxBlobFetches).
struct blob_fetch {
  store::blob_ref ref;
  std::string doc_id;             ///< the first document that needed it
  std::optional<uint32_t> index;  ///< its `collection` property
};

struct puller_state {
  puller_config cfg;
  /// Deadlines of this actor's requests (see request_deadlines.hpp).
  request_deadlines deadlines;
  std::vector<pending_rev> queue;  ///< the next group for the db actor
  bool inserting = false;
  remote_sequences seqs;
  size_t revs_expected = 0;  ///< wanted in a changes reply, not yet arrived
  size_t resolving = 0;      ///< conflicts being resolved
  bool caught_up = false;    ///< the peer sent its empty `changes`
  uint64_t completed = 0;
  uint64_t total = 0;
  activity_level activity = activity_level::busy;
  bool failed = false;
  error err;
  bool report_scheduled = false;
  std::chrono::steady_clock::time_point last_report;
  std::vector<replicated_document> events;
  std::vector<protocol::message> answers;              ///< replies to routed requests, not yet sent
  std::unordered_map<uint64_t, blob_wait> blob_waits;  ///< by a local number
  uint64_t next_wait = 0;
  /// Blobs being fetched (getAttachment in flight, or queued for it) -> the waits that need
  /// each one.
  std::unordered_map<std::string, std::vector<uint64_t>> fetching;
  /// Fetches started and not yet finished (stored or failed): at most kMaxBlobFetches.
  size_t fetches_running = 0;
  /// Fetches waiting for the window, oldest first (each digest once; see `fetching`).
  std::deque<blob_fetch> fetch_queue;
  /// Collection-aware session: index -> local collection (-1: not served here).
  bool aware = false;
  std::vector<store::collection_id> colls;
  std::vector<std::string> coll_names;
  static inline const char* name = "peerlite.puller";
};

using puller_self = puller_actor::stateful_pointer<puller_state>;

void flush_inserts(puller_self self);
/// The local collection a peer message's `collection` property names; an error reply
/// (BLIP 404 / 400) for one this side does not serve or a missing property.
expected<collection_ref> collection_of(puller_self self, const std::optional<uint32_t>& index);
/// Holds `p` back (moving it) while the blobs its body references are fetched, then queues it
/// for the group commit. False when it references no blob we lack: the caller queues it.
bool await_blobs(puller_self self, pending_rev& p);
/// Answers one peer request (see reply_to).
void deliver(puller_self self, reply_to& to, protocol::message reply);
/// Sends the collected answers to routed requests to the connection in one message.
void flush_answers(puller_self self);
void check_idle(puller_self self);
/// Resolves the conflicts an earlier run pulled and never resolved (the process ended between
/// the pulled revision's commit and the resolution's), as Couchbase Lite scans for them when a
/// pull starts: the puller will not pull those revisions again, and the pusher leaves a
/// conflicted document alone, so nothing else would. Active pullers, at start.
void resolve_existing_conflicts(puller_self self);
void fail(puller_self self, error err);
void report(puller_self self, bool now);

}  // namespace peerlite::actors
