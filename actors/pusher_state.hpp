// The pusher's state, shared by pusher.cpp (feed, lists) and pusher_revs.cpp (revs, reports).
#pragma once

#include <chrono>
#include <deque>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "actors/database_core.hpp"
#include "actors/request_deadlines.hpp"
#include "actors/workers.hpp"

namespace peerlite::actors {

/// A revision the peer wants (or may want: see check_conflict).
struct queued_rev {
  uint64_t sequence = 0;
  std::string id;
  std::string rev;
  /// What the peer holds that `rev` may extend: from a `changes` reply, or the parent that
  /// proposeChanges named. The history sent stops at the first of them.
  std::vector<std::string> known_ancestors;
};

/// A document proposeChanges refused with 409 while a puller runs beside us: it waits for the
/// puller to bring the peer's revision (and resolve the conflict on top of it).
struct awaiting_doc {
  uint64_t sequence = 0;  ///< the refused feed entry: finished once the doc is pushed
  std::string rev;        ///< the refused revision
  std::string peer_rev;   ///< the peer's current revision, from the 409
};

struct pusher_state {
  pusher_config cfg;
  /// Deadlines of this actor's requests (see request_deadlines.hpp).
  request_deadlines deadlines;
  bool started = false;                 ///< start_atom arrived
  uint64_t read_seq = 0;                ///< the feed has been read up to here
  std::vector<std::string> lookup_ids;  ///< cfg.doc_ids, for store::reader::changes_of
  bool feed_done = false;               ///< the last read found nothing new
  size_t lists_in_flight = 0;
  std::deque<queued_rev> to_send;
  size_t revs_in_flight = 0;
  size_t bytes_in_flight = 0;
  std::set<uint64_t> pending_seqs;  ///< read but not finished: bounds the checkpoint
  uint64_t completed = 0;
  uint64_t total = 0;
  activity_level activity = activity_level::busy;
  bool failed = false;
  /// A retry of the store's reads is scheduled (fail_or_retry).
  bool retry_scheduled = false;
  error err;
  bool sent_caught_up = false;
  /// activeOnly: tombstones at or below this sequence (the feed's end in the snapshot of the
  /// first read) are left out; set by the first read_feed.
  std::optional<uint64_t> active_only_through;
  bool report_scheduled = false;
  std::chrono::steady_clock::time_point last_report;
  std::vector<replicated_document> events;
  std::chrono::steady_clock::time_point last_reply;        ///< for the watchdog
  std::unordered_map<std::string, std::string> skip;       ///< id -> rev pulled from the peer
  std::unordered_map<std::string, awaiting_doc> awaiting;  ///< id -> refused, see awaiting_doc
  std::set<std::string> retried;  ///< ids proposed again after a 409 (once each)
  /// ids whose conflict with a peer revision we held was handed to the writer (resolve_held),
  /// once each per run; `resolving` of them are not written yet (the pusher is not idle).
  std::set<std::string> resolved;
  size_t resolving = 0;
  std::vector<std::string> held;  ///< [id, rev, ...] the peer now holds, not yet recorded
  /// The peer said `blobs: true` in its latest reply to proposeChanges (active side) or
  /// changes (passive side). Couchbase Lite 3.x always does; a peer that does not gets legacy
  /// `_attachments` stubs beside the blob dicts of each rev body (with_legacy_attachments).
  /// Only read when preparing revs, which always follow a list's reply.
  bool peer_blobs = true;
  static inline const char* name = "peerlite.pusher";
};

using pusher_self = pusher_actor::stateful_pointer<pusher_state>;

void send_list(pusher_self self, std::vector<store::change> list);
/// `peer_rev`, the peer's current revision of `id`, is a leaf we hold on another branch than
/// our current `rev` (feed entry `seq`): resolves that conflict now (reading it through the
/// caller's `reader`) and lets the document wait for the resolution's feed entry. False when
/// there is nothing to resolve here (no puller beside us, the revision is not ours, or this
/// run tried once already).
bool resolve_held(pusher_self self, store::reader& reader, uint64_t seq, const std::string& id,
                  const std::string& rev, const std::string& peer_rev);
/// The peer holds (id, rev) as its current revision: recorded against cfg.remote (batched,
/// written by record_held), and a document waiting after a 409 is settled by it.
void peer_holds(pusher_self self, const std::string& id, const std::string& rev);
void record_held(pusher_self self);
/// Finishes the 409-refused feed entry of `id`, if one waits (see awaiting_doc).
void settle_awaiting(pusher_self self, const std::string& id);
void send_revs(pusher_self self);
/// `body` (a rev's JSON object) with legacy stubs for a peer that did not say `blobs: true`,
/// as Couchbase Lite sends them to a peer that does not announce blob support: a top-level
/// `_attachments` object gets, for each blob dict at JSON pointer P, the entry "blob_" + P =
/// {content_type, digest, length, revpos: the generation of `rev`, stub: true}. Entries
/// already there are kept (and win over a stub of the same name). A body without blob dicts,
/// or whose `_attachments` is not an object, comes back unchanged.
std::string with_legacy_attachments(std::string body, std::string_view rev);
void mark_done(pusher_self self, uint64_t seq);
void fail(pusher_self self, error err);
/// A hub's pusher (passive: `changes` for a subChanges) whose store is unavailable for now
/// (its shared PostgreSQL down or reconnecting) keeps the peer's connection and its feed: it
/// reads again after kStoreRetryDelay (tuning.hpp). Any other failure, or any on an active
/// pusher (whose replicator goes offline and retries from its checkpoint), ends the run: fail().
void fail_or_retry(pusher_self self, error err);
void check_idle(pusher_self self);
/// Sends events and a worker_report upward: at once when `now`, else throttled.
void report(pusher_self self, bool now);
/// Fails the pusher when revs are in flight and none was answered for kPeerRequestTimeout;
/// re-arms itself.
void watchdog(pusher_self self);

}  // namespace peerlite::actors
