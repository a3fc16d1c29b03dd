// peerlite store: one SQLite file per database (WAL, synchronous=NORMAL), or a PostgreSQL
// database that several hubs share (open() with a postgresql:// URL; see store/pg.hpp for
// how its writers take turns, so the change feed never skips a sequence). The same calls
// and the same revision-tree code serve both; below, "file" means either.
//
// A `database` is the single writer of one file; it can also read. `reader`s are separate
// read-only connections on the same file: in WAL mode they never wait for the writer and see
// the last committed state when each call starts.
//
// Every call that can fail returns `status` / `expected<T>`; nothing throws. Errors:
//  - errc::invalid_argument: malformed revID, body not a JSON object, reserved property;
//  - errc::not_found: unknown document, revision, or checkpoint;
//  - errc::conflict: fail_on_conflict parent mismatch, or checkpoint rev mismatch (409);
//  - errc::not_a_database: the file is not a peerlite database or has a newer schema;
//  - errc::read_only: a write on a read-only file or database opened read_only;
//  - errc::io_error: SQLite or the file system failed.
// A write that fails leaves the file as it was (each call is one transaction, or part of the
// caller's in_transaction()).
//
// Thread safety: a `database` (and each `reader`) is used by ONE thread at a time; calls on it
// are not synchronized. Any number of readers may each run on their own thread, concurrently
// with the writer. Objects must be destroyed before the file is removed. For ":memory:" the
// data lives in a shared-cache in-memory database that the readers share; there readers may
// briefly wait while the writer holds a transaction (no WAL in memory).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <peerlite/status.hpp>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "store/document.hpp"

namespace peerlite::store {

/// Whether `path` names a PostgreSQL database (postgresql:// or postgres://) rather than an
/// SQLite file.
bool is_pg_url(std::string_view path);

/// How to open a database.
struct options {
  uint32_t max_rev_tree_depth = 50;  ///< revisions kept per branch (PROTOCOL.md §5)
  bool read_only = false;            ///< open without write access; writes fail with read_only
  bool create_if_missing = true;     ///< false: a missing file is errc::not_found
};

/// Seconds since the Unix epoch; 0 = no expiration.
using unix_seconds = int64_t;

class connection;   // internal: one SQLite handle plus its prepared statements
class transaction;  // internal: BEGIN .. COMMIT on a connection

/// A read-only view of a database. Each call sees one consistent committed state.
class reader {
 public:
  virtual ~reader();
  reader(const reader&) = delete;
  reader& operator=(const reader&) = delete;

  /// The document at its current revision, or at `rev` when given. not_found when the
  /// document (or that revision) is unknown, or the revision's body was dropped (non-leaf).
  /// A deleted document is returned with deleted=true (not an error).
  expected<document> get(const std::string& id, const std::optional<std::string>& rev = {});

  /// The changes after `since`, oldest first, one per document (its latest), tombstones
  /// included, at most `limit` entries. Purged documents do not appear.
  /// With `remote` != 0 each entry also carries the revision that remote is known to hold
  /// (change::remote_rev).
  expected<std::vector<change>> changes(uint64_t since, size_t limit, remote_id remote = 0);

  /// The same feed restricted to the documents `ids`, found by id instead of by scanning:
  /// a hub whose peers each sync a few named documents out of a large database reads
  /// O(ids) rows per request instead of the whole feed (hub_peers: every peer's pull
  /// scanned the hub's growing feed, O(peers^2) rows). Oldest first, at most `limit`;
  /// unknown ids are skipped; duplicate ids give one entry.
  expected<std::vector<change>> changes_of(std::span<const std::string> ids, uint64_t since,
                                           size_t limit, remote_id remote = 0);

  /// The id of the remote peer named `name` (an endpoint uid or URL), or 0 when this database
  /// has never recorded anything about it.
  expected<remote_id> find_remote(const std::string& name);

  /// The revision of `id` that `remote` is known to hold, or "" when none is known.
  expected<std::string> remote_rev(remote_id remote, const std::string& id);

  /// The highest sequence ever assigned (never decreases, even after purge). 0 when empty.
  expected<uint64_t> last_sequence();

  /// SQLite's PRAGMA data_version on this connection: it changes whenever another connection
  /// or process commits to the file.
  expected<int64_t> data_version();

  /// PostgreSQL: subscribes this connection to the commits of every writer of the database,
  /// on any hub (each write transaction sends a notification as it commits). Returns the
  /// socket to poll() for readability, or -1 when there is nothing to wait on (SQLite: watch
  /// the files instead; or the subscription failed).
  int listen_for_commits();
  /// Reads what arrived on that socket; true when at least one commit was announced. Sets
  /// `broken` when the connection is lost (the caller then polls data_version instead).
  bool drain_commit_notifications(bool& broken);

  /// For each (id, rev), aligned with the input: whether it is missing and, if so, up to
  /// `max_ancestors` revisions we have that it might extend (for the `changes` reply).
  expected<std::vector<rev_diff>> revs_diff(std::span<const rev_ref> revs,
                                            size_t max_ancestors = 10);

  /// For each proposed change, aligned with the input: 0 if the proposed rev's parent is our
  /// current revision (or the doc is absent or deleted and no parent is given), 304 if we
  /// already have the revision, else 409 with our current revision.
  expected<std::vector<proposal_answer>> propose(std::span<const proposed_change> changes);

  /// Keeps one read transaction open while it lives, so the calls made meanwhile share it
  /// instead of each opening its own (callgrind, read_revision in push_inproc: 15% fewer
  /// instructions when a batch of 200 shares one snapshot). Every call made under
  /// it sees the state committed when the first one ran. Hold it briefly (one batch): an
  /// open read transaction keeps the WAL from being checkpointed past that state.
  class snapshot {
   public:
    explicit snapshot(reader& r);
    ~snapshot();
    snapshot(const snapshot&) = delete;
    snapshot& operator=(const snapshot&) = delete;

   private:
    std::unique_ptr<transaction> tx_;
  };

  /// A revision with its body and up to `max_history` ancestors (newest first), for a `rev`
  /// message. not_found when the document or revision is unknown or its body was dropped.
  expected<revision_to_send> read_revision(const std::string& id, const std::string& rev,
                                           size_t max_history = 50);

  /// Live documents (current revision not deleted) as (id, current rev), sorted by id.
  expected<std::vector<std::pair<std::string, std::string>>> list_documents();

  /// The open conflicts of a document: its live leaves other than the current revision,
  /// with their bodies. Empty when there are none. not_found for an unknown document.
  expected<std::vector<document>> conflicts(const std::string& id);

  /// Up to `limit` documents with open conflicts (see conflicts()), sorted by id.
  expected<std::vector<std::string>> conflicted_documents(size_t limit);

  /// A checkpoint; not_found when none was saved under `id`.
  expected<checkpoint> get_checkpoint(checkpoint_store store, const std::string& id);

  /// The expiration of a document (0 = none). not_found for an unknown document.
  expected<unix_seconds> get_expiration(const std::string& id);

  /// Counts for `peerlite info`.
  expected<database_info> info();

  // --- Blobs (attachments), shared by every collection of the file (blob_store.cpp) ---

  /// The stored blob with this digest ("sha1-<base64>"): its length and content type.
  /// not_found when the file holds no such blob.
  expected<blob_info> blob(const std::string& digest);

  /// The whole blob in memory. not_found when absent.
  expected<std::string> read_blob(const std::string& digest);

  /// Streams the blob to `sink` in chunks of at most `chunk` bytes (SQLite incremental blob
  /// I/O: only one chunk is in memory at a time). Stops at the first error `sink` returns.
  status read_blob(const std::string& digest, const std::function<status(std::string_view)>& sink,
                   size_t chunk = 65536);

  // --- Collections (collections.cpp) ---
  // Documents, sequences, the changes feed, expirations and remote revisions are per
  // collection; checkpoints, remotes and blobs are shared by the whole file.

  /// Every later call on this reader (or database) reads (and writes) collection `c`; 0 = the
  /// default, where each reader and database starts. not_found when `c` does not exist (the
  /// current collection is then unchanged). A snapshot may span several collections.
  status use_collection(collection_id c);
  collection_id current_collection() const;

  /// The id of "scope.name" (also "name" = "_default.name", and "_default" = the default
  /// collection). not_found when absent; invalid_argument for a malformed name.
  expected<collection_id> find_collection(std::string_view name);

  /// Every collection, by id (the default first).
  expected<std::vector<collection_info>> list_collections();

  /// The database's public UUID (hex, 32 chars): may be shown to peers.
  const std::string& public_uuid() const { return public_uuid_; }
  /// The database's private UUID (hex, 32 chars): input to checkpoint IDs, never sent.
  const std::string& private_uuid() const { return private_uuid_; }

  /// The path it was opened with.
  const std::string& path() const { return path_; }

 protected:
  friend class database;
  reader(std::unique_ptr<connection> conn, std::string path);
  /// Reads the UUIDs; called once right after construction.
  status load_meta();

  std::unique_ptr<connection> conn_;
  std::string path_;
  std::string public_uuid_;
  std::string private_uuid_;
};

/// The writer. Owns the file's write connection; use it from one thread at a time.
class database : public reader {
 public:
  /// Opens (creating when missing and allowed) the database at `path`; ":memory:" makes a
  /// fresh in-memory database. Sets WAL and synchronous=NORMAL. Fails with:
  ///  - not_a_database: the file is not SQLite, is another program's SQLite file, or has a
  ///    schema newer than this build (the file is left untouched in each case);
  ///  - not_found: missing file with !create_if_missing;
  ///  - io_error: a directory, or the file cannot be opened.
  /// A file without write permission opens read-only (writes fail with read_only).
  static expected<std::unique_ptr<database>> open(const std::string& path, options opts = {});

  ~database() override;

  /// A new read-only connection on the same file, for use on another thread. Unlike the other
  /// calls, it may be called from any thread at any time while this object lives: it reads
  /// only the immutable path and flags, never the write connection.
  expected<std::unique_ptr<reader>> open_reader();

  /// True when writes are refused (options::read_only or a file without write permission).
  bool is_read_only() const;

  /// Saves a new revision of `id` with `body` (JSON object text; canonicalized). In
  /// last_write_wins mode the parent is the current revision whatever `parent` says. In
  /// fail_on_conflict mode `parent` must be the current revision (or absent for a new or
  /// deleted document), else errc::conflict. Returns the new revID.
  expected<std::string> put(const std::string& id, const std::string& body,
                            const std::optional<std::string>& parent = {},
                            concurrency mode = concurrency::last_write_wins);

  /// Writes a tombstone on top of the current revision; returns its revID. not_found for an
  /// unknown document; conflict when `parent` is given (fail_on_conflict) and not current.
  /// Removing an already deleted document is a not_found.
  expected<std::string> remove(const std::string& id, const std::optional<std::string>& parent = {},
                               concurrency mode = concurrency::last_write_wins);

  /// Group commit: writes every revision in ONE transaction, all or nothing. Every item is
  /// validated before anything is written: a malformed revID, bad history or a body that is
  /// not a JSON object fails the whole call with invalid_argument naming the item (see
  /// validate()). With !allow_conflicts ("no incoming conflicts"), an item that would branch
  /// is answered `rejected` and not written (the others still are). Results align with input.
  /// `validated`: the caller has already run validate() on every item and refused the bad
  /// ones (the replicator does, on its own thread, so it can answer each peer rev alone);
  /// the items are then not parsed a second time on the writer's thread.
  /// `remote` != 0: the revisions came from that remote, so each one stored or already held
  /// is recorded as held by it (see set_remote_revs), in the same transaction.
  expected<std::vector<insert_result>> insert_batch(std::span<const incoming_revision> revs,
                                                    bool allow_conflicts = true,
                                                    bool validated = false, remote_id remote = 0);

  /// One revision from a peer (insert_batch of one).
  expected<insert_result> insert_with_history(const incoming_revision& rev,
                                              bool allow_conflicts = true);

  /// Whether insert_batch would accept this item (revIDs, history generations, body).
  /// `body_checked`: the caller has already parsed the body and found a JSON object (the
  /// rev message decoder does), so it is not parsed again.
  static status validate(const incoming_revision& rev, bool body_checked = false);

  /// The id of the remote peer named `name` (an endpoint uid or URL), created when new.
  /// Each active replicator keys what its peer holds by it (PROTOCOL.md §3, proposeChanges).
  expected<remote_id> remote(const std::string& name);

  /// Records that `remote` holds each (id, rev) as its current revision (it accepted our rev,
  /// answered 304, sent it to us, or said it has it). One transaction, or part of the caller's.
  status set_remote_revs(remote_id remote, std::span<const rev_ref> revs);

  /// Resolves a conflict: adds a tombstone on `losing_rev` (closing that branch) and, when
  /// `merged_body` is given, a new revision on top of `winning_rev` with it (deleted when
  /// `merged_deleted`). Both must be leaves. Returns the document's new current revision.
  expected<std::string> resolve(const std::string& id, const std::string& winning_rev,
                                const std::string& losing_rev,
                                const std::optional<std::string>& merged_body = {},
                                bool merged_deleted = false);

  /// Removes a document and its whole history locally (never replicated). not_found when
  /// unknown.
  status purge(const std::string& id);

  /// Sets (or clears with 0) a document's expiration time. not_found for an unknown doc.
  status set_expiration(const std::string& id, unix_seconds when);

  /// Purges every document whose expiration is <= `now`. Returns how many.
  expected<size_t> expire(unix_seconds now);

  /// Saves a checkpoint. `expected_rev` must be the stored revision (absent when none
  /// exists), else errc::conflict (HTTP 409). Returns the new revision "N-cc".
  expected<std::string> set_checkpoint(checkpoint_store store, const std::string& id,
                                       const std::string& body,
                                       const std::optional<std::string>& expected_rev);

  /// Stores `data` as a blob (a no-op when that digest is already held) and returns its
  /// digest. With `expected_digest`, the data's SHA-1 must match it, else invalid_argument
  /// and nothing is stored. One transaction (or part of the caller's).
  expected<std::string> put_blob(std::string_view data, const std::string& content_type = {},
                                 const std::optional<std::string>& expected_digest = {});

  /// Removes every blob that no kept revision of any collection references (current
  /// revisions and conflict leaves). Returns how many were removed.
  expected<size_t> compact();

  // --- Collections (collections.cpp) ---

  /// Creates the collection "scope.name" (see find_collection for the forms) when missing,
  /// with empty documents and sequences; returns its id either way. Ids are never reused.
  expected<collection_id> create_collection(std::string_view name);

  /// Drops a named collection with all its documents, remote revisions and sequence counter,
  /// in one transaction. invalid_argument for the default collection; not_found when absent.
  /// If it was this database's current collection, the default becomes current. A reader that
  /// still has it selected gets io_error from then on.
  status delete_collection(std::string_view name);

  /// Runs `fn` inside one transaction: every write it makes on this object commits together
  /// when it returns ok, or is rolled back when it returns an error. Not re-entrant.
  status in_transaction(const std::function<status()>& fn);

 private:
  database(std::unique_ptr<connection> conn, std::string path, options opts);
  status check_writable() const;
  expected<std::string> save_local(const std::string& id, std::string_view canonical, bool deleted,
                                   const std::optional<std::string>& parent, concurrency mode);
  expected<bool> insert_new(const incoming_revision& rev, uint64_t& seq, insert_result& out);
  status insert_one(const incoming_revision& rev, bool allow_conflicts, uint64_t& seq,
                    insert_result& out);

  options opts_;
  std::string reader_uri_;   ///< what open_reader() opens
  int reader_flags_ = 0;     ///< and with which SQLite flags
  int64_t pg_lock_key_ = 0;  ///< PostgreSQL: the writers' lock key (0: an SQLite file)
};

}  // namespace peerlite::store
