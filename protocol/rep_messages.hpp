// The replication protocol's messages (PROTOCOL.md §3) as typed structs.
//
// Each request struct has `encode()` (-> a protocol::message with Profile, properties and
// JSON body, ready for protocol::session) and `static decode(const message&)`. Each reply
// struct has `encode(request_number)` (-> an RPY message) and `static decode(const message&)`.
//
// Decoding contract (every decode function):
//  - On success returns the struct; unknown extra properties are ignored (forward compatible).
//  - On any malformed input (wrong Profile, wrong message type, missing required property,
//    invalid UTF-8, invalid JSON, JSON of the wrong shape, a number out of range) returns
//    errc::protocol_error with a message naming the message kind and what was wrong, e.g.
//    "changes: entry 3: revID is not a string". Never throws, never crashes.
//  - A reply decode given an ERR message returns reply_error(m) (see below).
//
// Sequences are opaque JSON values to the peer: they are carried as their JSON text
// (`sequence_json`, e.g. "17", "\"abc\"", "[1,2]"). An empty string means "absent".
// Our own store uses integers: see sequence_from_u64 / sequence_to_u64. In a property (rev's
// `sequence`, subChanges' `since`) a sequence travels as its JSON text, except that a JSON
// string travels unquoted when that reads back unambiguously ("12:5", not "12"); decoders
// accept both and always hand out JSON text.
//
// Cost: encoders write JSON directly; decoders parse with a per-thread simdjson parser (no
// allocation besides the result's strings). Entries of changes / proposeChanges cost well
// under a microsecond each (bench case rep_codec).
//
// The collection index (3.1+ with getCollections): every struct that may carry it has
// `std::optional<uint32_t> collection`; absent means the default collection.
//
// Thread safety: plain values and pure functions; no shared state.
#pragma once

#include <cstdint>
#include <optional>
#include <peerlite/status.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "protocol/message.hpp"

namespace peerlite::protocol::rep {

/// JSON text of an opaque sequence; empty = absent.
using sequence_json = std::string;

/// "17" for 17.
sequence_json sequence_from_u64(uint64_t seq);
/// 17 for "17"; nullopt when the text is not a non-negative JSON integer (e.g. a peer's
/// string sequence).
std::optional<uint64_t> sequence_to_u64(std::string_view json);

/// Profile values (PROTOCOL.md §3).
namespace profile {
constexpr std::string_view get_checkpoint = "getCheckpoint";
constexpr std::string_view set_checkpoint = "setCheckpoint";
constexpr std::string_view sub_changes = "subChanges";
constexpr std::string_view changes = "changes";
constexpr std::string_view propose_changes = "proposeChanges";
constexpr std::string_view rev = "rev";
constexpr std::string_view norev = "norev";
constexpr std::string_view get_attachment = "getAttachment";
constexpr std::string_view prove_attachment = "proveAttachment";
constexpr std::string_view get_collections = "getCollections";
}  // namespace profile

/// Turns an ERR reply into an error a replicator can branch on:
/// HTTP/404 or BLIP/404 -> errc::not_found, HTTP/409 or BLIP/409 -> errc::conflict,
/// anything else -> errc::protocol_error. The message names domain, code and body text.
/// Precondition: m.is_error().
error reply_error(const message& m);

/// Fails with errc::protocol_error unless `m` is a reply (RPY) or passes on ERR as
/// reply_error(m). Used by every reply decoder; exposed for replies with no struct
/// (subChanges, rev: empty replies).
status check_reply(const message& m, std::string_view what);

// ---------------------------------------------------------------------------------------------
// Checkpoints (PROTOCOL.md §4)

/// A checkpoint body: {"time":..., "local": N, "localCompleted": [...], "remote": <seq>}.
/// Every field is optional on the wire (a fresh checkpoint has only time + local).
struct checkpoint {
  std::optional<int64_t> time;  ///< seconds since the epoch of the save
  sequence_json local;          ///< last local sequence fully pushed; "" = absent
  std::string local_completed;  ///< JSON text of the completed-ranges array; "" = absent
  sequence_json remote;         ///< last remote sequence fully pulled; "" = absent

  /// Compact JSON object with only the present fields, in the order above.
  std::string to_json() const;
  /// Parses a JSON object; unknown keys are ignored. Error: not UTF-8 / JSON / an object,
  /// or time not an integer, or localCompleted not an array.
  static expected<checkpoint> from_json(std::string_view json);
};

/// getCheckpoint: properties client=<checkpoint ID>; no body.
struct get_checkpoint_request {
  std::string client;
  message encode() const;
  static expected<get_checkpoint_request> decode(const message& m);
};

/// Reply to getCheckpoint: property rev + checkpoint body. "None saved" travels as
/// ERR HTTP/404 (make it with make_error_reply(n, "HTTP", 404, ...)); decode() then returns
/// errc::not_found.
struct get_checkpoint_reply {
  std::string rev;
  checkpoint body;
  message encode(uint64_t request_number) const;
  static expected<get_checkpoint_reply> decode(const message& m);
};

/// setCheckpoint: client, rev (the one we were given; absent or "" when new) + body.
/// Couchbase Lite sends rev="" for a new checkpoint; we accept both and send it absent.
struct set_checkpoint_request {
  std::string client;
  std::string rev;  ///< "" = new checkpoint
  checkpoint body;
  message encode() const;
  static expected<set_checkpoint_request> decode(const message& m);
};

/// Reply to setCheckpoint: property rev (the new one). A rev mismatch travels as ERR
/// HTTP/409; decode() then returns errc::conflict.
struct set_checkpoint_reply {
  std::string rev;
  message encode(uint64_t request_number) const;
  static expected<set_checkpoint_reply> decode(const message& m);
};

// ---------------------------------------------------------------------------------------------
// Pull: subChanges / changes

/// subChanges: since (JSON text), continuous, batch, versioning, activeOnly,
/// sendReplacementRevs, revocations; body {"docIDs":[...]} only when doc_ids is non-empty.
/// The reply is empty (check it with check_reply).
struct sub_changes_request {
  sequence_json since;  ///< "" = from the beginning
  bool continuous = false;
  uint32_t batch = 200;  ///< entries per `changes` message
  std::string versioning = "rev-trees";
  bool active_only = false;
  bool send_replacement_revs = true;
  bool revocations = false;
  std::vector<std::string> doc_ids;  ///< empty = all docs
  std::optional<uint32_t> collection;
  message encode() const;
  static expected<sub_changes_request> decode(const message& m);
};

/// One `changes` entry: [sequence, docID, revID, deleted?, bodySize?].
struct change {
  sequence_json sequence;
  std::string doc_id;
  std::string rev_id;
  bool deleted = false;
  uint64_t body_size = 0;
};

/// changes: body = JSON array of entries. Empty entries = caught up: encode() then sets
/// no_reply (the peer must not answer), else it asks for a reply. Both are urgent; a
/// non-empty one is compressed (as Couchbase Lite does).
struct changes_request {
  std::vector<change> entries;
  std::optional<uint32_t> collection;
  message encode() const;
  /// Accepts deleted as 0/1/true/false/null and a missing deleted/bodySize.
  static expected<changes_request> decode(const message& m);
};

/// Reply to changes: per entry either "send it" with the ancestor revIDs the receiver
/// already has (possibly none), or "not wanted" (0/null on the wire). Trailing not-wanted
/// entries are omitted on the wire, so `entries` may be shorter than the request: use wants().
struct changes_reply {
  struct entry {
    bool wanted = false;
    std::vector<std::string> known_ancestors;  ///< only when wanted
  };
  std::vector<entry> entries;
  uint32_t max_history = 50;  ///< property maxHistory (absent on decode: 50)
  bool blobs = true;          ///< property blobs (absent on decode: false)
  bool deltas = false;        ///< property deltas; we never send deltas, so keep it false
  bool wants(size_t i) const { return i < entries.size() && entries[i].wanted; }
  /// Drops trailing not-wanted entries; urgent + compressed like the request.
  message encode(uint64_t request_number) const;
  static expected<changes_reply> decode(const message& m);
};

// ---------------------------------------------------------------------------------------------
// Push: proposeChanges

/// One proposeChanges entry: [docID, revID, serverRevID?, bodySize?]. server_rev_id is the
/// rev we believe the peer has ("" = none; Couchbase Lite writes "").
struct proposed_change {
  std::string doc_id;
  std::string rev_id;
  std::string server_rev_id;
  uint64_t body_size = 0;
};

/// proposeChanges: property conflictIncludesRev=true; urgent + compressed.
struct propose_changes_request {
  std::vector<proposed_change> entries;
  std::optional<uint32_t> collection;
  message encode() const;
  static expected<propose_changes_request> decode(const message& m);
};

/// Per-entry answer to proposeChanges.
struct proposal_status {
  static constexpr int send = 0;       ///< send the rev
  static constexpr int have_it = 304;  ///< already current there
  static constexpr int conflict = 409;
  int status = send;
  std::string current_rev;  ///< with 409: the peer's current rev when it said so
};

/// Reply to proposeChanges: per entry 0 / 304 / 409 or {"status":409,"rev":"..."}.
/// Trailing 0s are omitted on the wire; status_of(i) restores them.
struct propose_changes_reply {
  std::vector<proposal_status> entries;
  uint32_t max_history = 50;
  bool blobs = true;
  bool deltas = false;
  int status_of(size_t i) const { return i < entries.size() ? entries[i].status : 0; }
  message encode(uint64_t request_number) const;
  static expected<propose_changes_reply> decode(const message& m);
};

// ---------------------------------------------------------------------------------------------
// rev / norev

/// rev: one revision. Properties id, rev, sequence, deleted ("1"), history (ancestors newest
/// first, comma-separated), noconflicts, replacedRev, deleted_branch; body = document JSON.
/// The reply is empty (check_reply) and is sent only after the rev and its blobs are durable.
struct rev_message {
  std::string doc_id;
  std::string rev_id;
  sequence_json sequence;  ///< the sender's sequence, as JSON text ("" = absent)
  bool deleted = false;
  std::vector<std::string> history;  ///< ancestors, newest first, excluding rev_id
  bool no_conflicts = false;
  std::string replaced_rev;  ///< "" = absent
  bool deleted_branch = false;
  std::string body;  ///< document JSON ("{}" for a deletion)
  std::optional<uint32_t> collection;
  /// Not compressed by default (Couchbase Lite compresses revs: set m.compressed if wanted).
  message encode() const&;
  message encode() &&;  ///< moves the body instead of copying it
  /// Error also when the body is not a JSON object.
  static expected<rev_message> decode(const message& m);
  static expected<rev_message> decode(message&& m);  ///< moves the body out
};

/// norev: the sender cannot send a rev it offered. No reply.
struct norev_message {
  std::string doc_id;
  std::string rev_id;
  sequence_json sequence;
  int error = 404;  ///< HTTP-like status
  std::string reason;
  std::optional<uint32_t> collection;
  message encode() const;
  static expected<norev_message> decode(const message& m);
};

// ---------------------------------------------------------------------------------------------
// Attachments (blobs)

/// getAttachment: digest, docID, compress; the reply body is the raw blob.
struct get_attachment_request {
  std::string digest;  ///< "sha1-<base64>"
  std::string doc_id;
  bool compress = false;
  std::optional<uint32_t> collection;
  message encode() const;
  static expected<get_attachment_request> decode(const message& m);
};

/// proveAttachment: digest property; body = nonce (1..255 bytes). Reply body = the proof
/// string from attachment_proof().
struct prove_attachment_request {
  std::string digest;
  std::string nonce;
  std::optional<uint32_t> collection;
  message encode() const;
  static expected<prove_attachment_request> decode(const message& m);
};

/// "sha1-" + base64(SHA-1(one byte nonce length, nonce, blob)). Precondition: nonce is
/// 1..255 bytes.
std::string attachment_proof(std::string_view nonce, std::string_view blob);

// ---------------------------------------------------------------------------------------------
// getCollections (3.1+)

/// getCollections: body {"checkpoint_ids":[...],"collections":["scope.coll",...]} (aligned).
struct get_collections_request {
  std::vector<std::string> checkpoint_ids;
  std::vector<std::string> collections;
  message encode() const;
  /// Error also when the two arrays differ in length.
  static expected<get_collections_request> decode(const message& m);
};

/// Reply to getCollections: an array aligned with the request: a checkpoint dict,
/// {} (no checkpoint yet) or null (no such collection).
struct get_collections_reply {
  enum class state : uint8_t { found, none, missing };
  struct entry {
    state st = state::none;
    checkpoint body;  ///< when found
    std::string rev;  ///< the dict's "rev" key when present, else ""
  };
  std::vector<entry> entries;
  message encode(uint64_t request_number) const;
  static expected<get_collections_reply> decode(const message& m);
};

}  // namespace peerlite::protocol::rep
