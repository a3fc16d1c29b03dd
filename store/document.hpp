// peerlite store: the values that go in and out of a database.
//
// Bodies are JSON object text. They never contain the meta properties _id, _rev or _deleted:
// those travel in the struct fields. Sequences start at 1; 0 means "none".
//
// Thread safety: plain values.
#pragma once

#include <cstdint>
#include <peerlite/status.hpp>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace peerlite::store {

/// A document at one revision (by default its current one).
struct document {
  std::string id;
  std::string rev;          ///< "N-digest"
  std::string body;         ///< JSON object text; "{}" for a plain tombstone
  bool deleted = false;     ///< this revision is a tombstone
  bool conflicted = false;  ///< the document has open conflicts (see database::conflicts)
  uint64_t sequence = 0;    ///< the sequence of the document's latest change
};

/// How a local save treats the parent revision it is given.
enum class concurrency {
  last_write_wins,   ///< save on top of the current revision, whatever parent was given
  fail_on_conflict,  ///< errc::conflict unless the given parent is the current revision
};

/// A revision that arrived from a peer (a `rev` message).
struct incoming_revision {
  std::string id;
  std::string rev;                   ///< "N-digest"
  std::vector<std::string> history;  ///< ancestors of rev, newest first (not rev itself)
  std::string body;                  ///< JSON object text (meta properties already removed)
  bool deleted = false;
  /// The sender said `noconflicts`: it was accepted through proposeChanges, so it must extend
  /// the current revision; one that would branch is refused (insert_outcome::rejected) even
  /// where conflicts are otherwise allowed.
  bool no_conflicts = false;
};

/// What happened to one incoming revision.
enum class insert_outcome {
  inserted,     ///< stored; the document's current revision may have changed
  already_had,  ///< the revision was already in the tree; nothing written
  conflict,     ///< stored on a conflict branch: conflicts(id) is now non-empty
  rejected,     ///< would have created a conflict while conflicts are not allowed (409)
};

/// Per-item result of database::insert_batch, aligned with the input.
struct insert_result {
  insert_outcome outcome = insert_outcome::inserted;
  uint64_t sequence = 0;    ///< the new sequence (0 when nothing was written)
  std::string current_rev;  ///< the document's current revision after the batch item
};

/// One entry of the changes feed: a document's latest change.
struct change {
  uint64_t sequence = 0;
  std::string id;
  std::string rev;  ///< current revision
  bool deleted = false;
  uint64_t body_size = 0;   ///< bytes of the current body
  bool conflicted = false;  ///< the document has open conflicts (see reader::conflicts)
  /// With a remote given to the feed query: the revision that remote is known to hold of this
  /// document ("" = none known). The pusher proposes it as the parent and skips the document
  /// when it equals `rev`.
  std::string remote_rev;
};

/// A (document, revision) pair, as asked about by `changes` and `proposeChanges`.
struct rev_ref {
  std::string id;
  std::string rev;
};

/// A remote peer, as the active side knows it: a small integer standing for its name (the
/// endpoint's uid, or its URL). 0 = none.
using remote_id = uint64_t;

/// Answer to "do you have this revision?" (the reply to one `changes` entry).
struct rev_diff {
  bool missing = false;                      ///< false: already have it (reply 0)
  std::vector<std::string> known_ancestors;  ///< when missing: revs we have that it may extend
};

/// One `proposeChanges` entry: the peer's revision and the revision it believes is ours.
struct proposed_change {
  std::string id;
  std::string rev;
  std::string parent_rev;  ///< the proposer's parent (our supposed current); empty = none
};

/// The answer to one proposed change (PROTOCOL.md §3, "no incoming conflicts").
struct proposal_answer {
  int status = 0;           ///< 0 send it, 304 already have it, 409 conflict
  std::string current_rev;  ///< for 409: our current revision (empty when none)
};

/// A revision read for sending in a `rev` message.
struct revision_to_send {
  std::string id;
  std::string rev;
  std::string body;
  bool deleted = false;
  uint64_t sequence = 0;             ///< the document's sequence
  std::vector<std::string> history;  ///< ancestors newest first, excluding rev itself
};

/// A checkpoint document (local or peer store): its revision "N-cc" and JSON body.
struct checkpoint {
  std::string rev;
  std::string body;
};

/// Which checkpoint store to use.
enum class checkpoint_store {
  local,  ///< this database's own checkpoints (the active replicator's copy)
  peer,   ///< checkpoints kept for peers (answers getCheckpoint / setCheckpoint)
};

/// Database statistics (the `peerlite info` command).
/// A stored blob (attachment body): content-addressed by its digest.
struct blob_info {
  std::string digest;  ///< "sha1-" + base64 of the SHA-1 of the bytes
  uint64_t length = 0;
  std::string content_type;  ///< as first stored ("" = unknown)
};

/// One blob a document body references: a {"@type":"blob", "digest":...} dict anywhere in it,
/// or an entry of a legacy `_attachments` dict.
struct blob_ref {
  std::string path;  ///< JSON pointer of the dict ("/image"); "_attachments/<name>"
  std::string digest;
  uint64_t length = 0;
  std::string content_type;
};

/// The blobs `body` (a JSON object) references, in document order. Malformed blob dicts (no
/// digest string) are skipped. Invalid JSON gives an empty list.
std::vector<blob_ref> find_blobs(std::string_view body);

/// "sha1-" + standard base64 (with padding) of the SHA-1 of `data`.
std::string blob_digest(std::string_view data);

struct database_info {
  uint64_t docs = 0;        ///< live documents (current revision not deleted)
  uint64_t tombstones = 0;  ///< documents whose current revision is deleted
  uint64_t conflicts = 0;   ///< documents with open conflicts
  uint64_t last_sequence = 0;
  std::string public_uuid;  ///< hex
};

// --- Collections (collections.cpp) ---

/// A collection of one database file: 0 = `_default._default`, which always exists.
using collection_id = int64_t;

/// One collection, as database::list_collections() reports it.
struct collection_info {
  collection_id id = 0;
  std::string scope;
  std::string name;
  /// "scope.name" ("_default._default" for the default collection).
  std::string full_name() const;
};

/// Splits a collection name as the replication protocol writes it into (scope, name):
/// "scope.name", or "name" for "_default.name" ("_default" is the default collection).
/// Couchbase Lite's rules: scope and name are each 1..251 characters of [A-Za-z0-9_%-] and do
/// not start with '_' or '%', except `_default` (a `_default` collection only in the
/// `_default` scope). Anything else is invalid_argument.
expected<std::pair<std::string, std::string>> parse_collection_name(std::string_view name);

}  // namespace peerlite::store
