// peerlite: the active replicator. It keeps a local database in sync with one remote peer
// reached through a message_endpoint: push, pull or both, once or continuously, resuming
// from checkpoints, retrying through a new connection after recoverable transport errors.
//
//   peerlite::replicator_config cfg{db, endpoint};
//   cfg.type = peerlite::replicator_type::push_and_pull;
//   peerlite::replicator repl(std::move(cfg));
//   repl.start();
//   ... repl.status().activity == peerlite::activity_level::stopped ...
//
// Thread safety: every member of replicator may be called from any thread. Listeners are
// called on peerlite's threads, never two at once for one replicator; they must not block
// for long and must not destroy the replicator they listen to.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <peerlite/database.hpp>
#include <peerlite/document.hpp>
#include <peerlite/listener_token.hpp>
#include <peerlite/message_endpoint.hpp>
#include <peerlite/status.hpp>

namespace peerlite {

/// What a replicator (active or passive) is doing, from least to most active.
enum class activity_level : uint8_t {
  stopped,     ///< finished, stopped, or failed for good (see replicator_status::err)
  offline,     ///< the transport failed recoverably; waiting to retry
  connecting,  ///< asking the delegate for a connection, waiting for open to complete
  idle,        ///< connected and caught up (continuous or passive replication)
  busy,        ///< connected and transferring
};

/// Human-readable name: "stopped", "offline", "connecting", "idle", "busy".
const char* to_string(activity_level level);

/// Documents done versus known so far. `total` grows as batches of changes are discovered,
/// so completed/total is a fraction that may go down when new work appears.
struct replication_progress {
  uint64_t completed = 0;  ///< documents finished so far: transferred, failed or skipped
  uint64_t total = 0;      ///< documents found to transfer so far
};

/// One status report. `err.code` is errc::ok unless something went wrong; a STOPPED status
/// with an error means the replication failed; an OFFLINE one carries the error that will
/// be retried.
struct replicator_status {
  /// What the replicator is doing.
  activity_level activity = activity_level::stopped;
  /// Documents done versus known so far.
  replication_progress progress;
  /// errc::ok, or the failure that stopped it (STOPPED) or that will be retried (OFFLINE).
  error err;
};

/// Which way an active replicator transfers documents.
enum class replicator_type : uint8_t {
  push,           ///< local changes to the peer only
  pull,           ///< the peer's changes into the local database only
  push_and_pull,  ///< both
};

/// Which way a document travelled.
enum class replication_direction : uint8_t {
  push,  ///< from the local database to the peer
  pull,  ///< from the peer into the local database
};

/// Extra facts about a replicated revision.
struct document_flags {
  bool deleted = false;         ///< the revision is a tombstone
  bool access_removed = false;  ///< the peer revoked access (never set by peerlite peers)
};

/// A document event: one revision was pushed or pulled, or failed to be.
struct replicated_document {
  std::string id;   ///< the document's ID
  std::string rev;  ///< the revision ID
  /// Which way it went: push (to the peer) or pull (from the peer).
  replication_direction direction = replication_direction::push;
  /// Whether the revision is a deletion (or the peer revoked access).
  document_flags flags;
  error err;  ///< errc::ok when the document was transferred
  /// The document's collection, "scope.name" ("_default._default" for the default one).
  std::string collection = "_default._default";
};

/// Two branches of one document that the active pull side must merge. `local` or `remote`
/// is absent when that side's branch is a deletion.
struct conflict {
  std::string id;                  ///< the document's ID
  std::optional<document> local;   ///< the local branch: the current revision
  std::optional<document> remote;  ///< the peer's branch: the revision just pulled
};

/// Decides whether a document is pushed (push_filter) or accepted when pulled (pull_filter).
/// Called on peerlite's threads; must be pure and quick.
using replication_filter = std::function<bool(const document&, document_flags)>;

/// Merges a conflict. Return the body to keep (its id/rev are ignored) or nullopt to delete
/// the document. Called on peerlite's threads. When unset, the default rule applies:
/// deletion wins, else the higher generation, else the higher revID.
using conflict_resolver = std::function<std::optional<document>(const conflict&)>;

/// One collection a replicator syncs (Couchbase Lite's CollectionConfiguration).
struct collection_config {
  /// "scope.name", or "name" for a collection of the default scope; "_default" (or
  /// "_default._default") is the default collection. It must exist in the local database.
  std::string name;
  /// When non-empty, only these documents of the collection replicate (both directions).
  std::vector<std::string> document_ids;
  /// Pushes only the documents of the collection for which it returns true. Unset: all.
  replication_filter push_filter;
  /// Saves only the pulled revisions of the collection for which it returns true (the others
  /// are skipped, not saved). Unset: all.
  replication_filter pull_filter;
  /// Merges the collection's pull conflicts. Unset: the default rule (see conflict_resolver).
  conflict_resolver resolver;
};

/// How a replicator behaves. Copyable.
struct replicator_config {
  /// The local database. Required.
  database db;
  /// The remote peer. Its delegate is called on every connect, including each retry.
  message_endpoint target;
  /// Push, pull or both (the default).
  replicator_type type = replicator_type::push_and_pull;
  /// false: transfer what is there, then stop (STOPPED). true: stay connected (IDLE) and
  /// transfer new changes as they happen.
  bool continuous = false;
  /// When non-empty, only these documents replicate (both directions).
  std::vector<std::string> document_ids;
  /// Pushes only the documents for which it returns true. Unset: all.
  replication_filter push_filter;
  /// Saves only the pulled revisions for which it returns true (the others are skipped, not
  /// saved). Unset: all.
  replication_filter pull_filter;
  /// Merges pull conflicts. Unset: the default rule (see conflict_resolver).
  conflict_resolver resolver;
  /// Keep-alive interval for byte-stream transports (WebSocket PING).
  std::chrono::seconds heartbeat{300};
  /// Connection attempts before giving up after recoverable errors; 1 = never retry.
  /// 0 = the default: 10 for one-shot, unlimited for continuous.
  uint32_t max_attempts = 0;
  /// The longest wait between retries; retry n waits min(2^n s, this). Tests may set it to
  /// milliseconds.
  std::chrono::milliseconds max_attempt_wait_time{std::chrono::seconds(300)};
  /// The first retry waits this long; each later one doubles it (2^n s by default).
  std::chrono::milliseconds min_attempt_wait_time{std::chrono::seconds(1)};
  /// Purge pulled documents whose access was removed (kept for API parity; peerlite peers
  /// never revoke access).
  bool enable_auto_purge = true;
  /// The collections to sync, each with its own documents, filters and resolver (then the
  /// document_ids, filters and resolver above are not used). Empty: the default collection
  /// only, with the settings above, as a peer without collections speaks it (getCheckpoint).
  /// Non-empty: the session starts with getCollections, every collection keeps its own
  /// checkpoint, and a collection the peer does not serve stops the replicator with
  /// errc::not_found ("Collection 'x' is not found on the remote server").
  std::vector<collection_config> collections;
};

/// An active replicator. Owns an actor; destroying the replicator stops it (like stop())
/// and waits until it has reached STOPPED, at most the close timeout.
class replicator {
 public:
  /// Makes a STOPPED replicator. Does not connect until start().
  explicit replicator(replicator_config config);
  ~replicator();
  replicator(const replicator&) = delete;
  replicator& operator=(const replicator&) = delete;

  /// Starts (or restarts after STOPPED) replicating. With reset_checkpoint, ignores saved
  /// checkpoints and scans every change again (documents the peer already has are skipped,
  /// not re-sent). Calling start while running does nothing.
  void start(bool reset_checkpoint = false);

  /// Asks the replicator to stop: it saves its checkpoint, closes its connection politely
  /// and reaches STOPPED (within the close timeout even if the app never completes close).
  /// Returns at once; watch status() or a change listener.
  void stop();

  /// The latest status. Never blocks on the replication itself.
  replicator_status status() const;

  /// Calls `fn` on each status change: a new activity level at once, progress at most every
  /// 200 ms, and always the final STOPPED. Works whether added before or after start().
  listener_token add_change_listener(std::function<void(const replicator_status&)> fn);

  /// Calls `fn` with batches of document events, push and pull. Works whether added before
  /// or after start() (events from before it was added are not replayed).
  listener_token add_document_listener(
      std::function<void(const std::vector<replicated_document>&)> fn);

  /// The IDs of local documents with changes not yet pushed (for push replicators; empty
  /// for pull-only). Reads the database; may take a while on huge databases.
  /// Fails with errc::invalid_argument for a pull-only replicator.
  expected<std::set<std::string>> pending_document_ids() const;

  /// Whether `id` has local changes not yet pushed. Same failures as pending_document_ids.
  expected<bool> is_document_pending(const std::string& id) const;

  /// Internal: the shared state behind this handle.
  struct impl;

 private:
  std::shared_ptr<impl> impl_;
};

}  // namespace peerlite
