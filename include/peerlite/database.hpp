// peerlite: an open document database (one SQLite file).
//
//   auto db = peerlite::database::open("notes.sqlite");
//   if (!db) { std::cerr << db.err().message << "\n"; return 1; }
//   auto rev = db->put("note1", R"({"text":"hello"})");
//   auto doc = db->get("note1");        // doc->body == {"text":"hello"}
//
// A `database` is a cheap, copyable handle: copies share one open database, which stays open
// while any copy (or any replicator or listener using it) lives. Every member may be called
// from any thread; writes are serialised through the database's single writer, reads use
// their own SQLite connection and never wait for writers (WAL).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <peerlite/document.hpp>
#include <peerlite/listener_token.hpp>
#include <peerlite/status.hpp>

namespace peerlite {

namespace actors {
struct database_core;  // internal: the store, the writer actor, listeners
}

class collection;  // <peerlite/collection.hpp>, included at the end of this header

/// How open() treats the file.
struct database_options {
  /// Create the file when it does not exist. When false, a missing file is errc::not_found.
  bool create = true;
  /// Revisions further than this from every leaf are pruned (PROTOCOL.md §5).
  uint32_t max_rev_tree_depth = 50;
};

/// How put() treats a document that changed since the caller read it.
enum class concurrency_control : uint8_t {
  /// The new revision becomes current whatever the current revision is.
  last_write_wins,
  /// put() fails with errc::conflict unless `parent_rev` is the current revision.
  fail_on_conflict,
};

/// One entry of the changes feed: the latest change of one document.
struct change_entry {
  uint64_t sequence = 0;  ///< the local sequence of the change (a later change has a higher one)
  std::string id;         ///< the document's ID
  std::string rev;        ///< the revision ID that became current
  bool deleted = false;   ///< true when the change deleted the document (a tombstone)
};

/// A handle on an open database. Default-constructed handles are empty (operator bool is
/// false) and every call on them fails with errc::invalid_argument.
class database {
 public:
  database() = default;

  /// Opens (or creates) the database at `path`; ":memory:" makes a private in-memory one.
  /// Errors: errc::not_a_database for a file that is not a peerlite database or has a newer
  /// schema; errc::io_error when the file cannot be opened or created (a directory, no
  /// permission); errc::not_found when it is missing and options.create is false.
  static expected<database> open(const std::string& path, database_options options = {});

  /// Saves a new revision of `id` with the JSON object `body` and returns its revID.
  /// With last_write_wins the new revision's parent is the current revision (if any).
  /// With fail_on_conflict the parent is `parent_rev` ("" for a new document), and the call
  /// fails with errc::conflict when that is not the current revision.
  /// Errors: errc::invalid_argument (empty id, body not a JSON object), errc::io_error.
  expected<std::string> put(std::string_view id, std::string_view body,
                            concurrency_control mode = concurrency_control::last_write_wins,
                            std::string_view parent_rev = {});

  /// The current revision of `id`, or revision `rev` when given (its body may be gone for
  /// old, non-leaf revisions: errc::not_found). A deleted document is returned with
  /// deleted = true only when `rev` names it; else errc::not_found.
  expected<document> get(std::string_view id, std::string_view rev = {}) const;

  /// Deletes `id` by saving a tombstone revision (which replicates). Returns its revID.
  /// Errors: errc::not_found when there is no live document `id`.
  expected<std::string> remove(std::string_view id);

  /// Forgets `id` and its whole history locally. Purges never replicate.
  /// Errors: errc::not_found when there is no such document.
  status purge(std::string_view id);

  /// Purges `id` automatically at `when`; nullopt cancels. Errors: errc::not_found.
  status set_expiration(std::string_view id,
                        std::optional<std::chrono::system_clock::time_point> when);

  /// Up to `limit` changes with sequence > since, in sequence order, one per document,
  /// tombstones included.
  expected<std::vector<change_entry>> changes(uint64_t since, size_t limit = 1000) const;

  /// Calls `fn` after every commit that changed documents (local saves and pulled revisions),
  /// with the changes of that commit, on peerlite's threads.
  listener_token add_change_listener(std::function<void(const std::vector<change_entry>&)> fn);

  /// The leaf revisions of `id` that are in conflict with its current one, current first.
  /// A document without conflicts yields just its current revision.
  /// Errors: errc::not_found.
  expected<std::vector<document>> conflicts(std::string_view id) const;

  /// Resolves a conflict: saves `merged` (body and deleted flag) as a child of the current
  /// revision and closes every other leaf branch. Returns the new revID.
  /// Errors: errc::not_found.
  expected<std::string> resolve(std::string_view id, const document& merged);

  /// Stores `data` as a blob (once per distinct content; storing it again is a no-op) and
  /// returns its handle; put blob::to_json() in a document body to reference it. The blob is
  /// durable when this returns, so a document saved afterwards never references a missing one.
  expected<blob> save_blob(std::string_view data, std::string_view content_type = {});

  /// The blob with this digest (length and content type). Errors: errc::not_found.
  expected<blob> get_blob(std::string_view digest) const;

  /// The blob's bytes, all in memory. Errors: errc::not_found.
  expected<std::string> read_blob(std::string_view digest) const;

  /// The blob's bytes in chunks of at most `chunk` bytes, for blobs too big to hold at once.
  /// `sink` returning false stops the read (the call then fails with errc::stopped).
  status read_blob(std::string_view digest, const std::function<bool(std::string_view)>& sink,
                   size_t chunk = 65536) const;

  /// Removes blobs that no kept revision references any more. Returns how many.
  expected<size_t> compact();

  /// The number of live (non-deleted) documents.
  expected<uint64_t> document_count() const;

  /// The highest sequence so far (0 when empty).
  expected<uint64_t> last_sequence() const;

  // --- Collections (<peerlite/collection.hpp>) ---
  // A name is "scope.name", or "name" for "_default.name"; "_default" (or "_default._default")
  // is the default collection. Scope and name: 1-251 of A-Z a-z 0-9 _ % -, not starting with
  // _ or % (except "_default"); case matters. A malformed name is errc::invalid_argument.

  /// Creates the collection `name` when missing, empty; returns it either way.
  /// Errors: errc::invalid_argument, errc::read_only, errc::io_error.
  expected<collection> create_collection(std::string_view name);

  /// The existing collection `name`. Errors: errc::not_found when absent, invalid_argument.
  expected<collection> get_collection(std::string_view name) const;

  /// Every collection of the database, the default one first, then in creation order.
  expected<std::vector<collection>> collections() const;

  /// Deletes the collection `name` with all its documents (locally: nothing replicates).
  /// Handles on it fail with errc::not_found from then on.
  /// Errors: errc::invalid_argument for the default collection or a malformed name,
  /// errc::not_found when absent.
  status delete_collection(std::string_view name);

  /// The default collection, `_default._default`: the one this handle's document methods use.
  /// (An empty handle yields an empty collection.)
  collection default_collection() const;

  /// The path given to open().
  const std::string& path() const;

  /// True for a handle on an open database, false for a default-constructed (empty) one.
  explicit operator bool() const { return static_cast<bool>(core_); }

  /// Internal: the shared state behind this handle (actors/database_core.hpp).
  const std::shared_ptr<actors::database_core>& core() const { return core_; }

 private:
  explicit database(std::shared_ptr<actors::database_core> core) : core_(std::move(core)) {}
  std::shared_ptr<actors::database_core> core_;
};

}  // namespace peerlite

#include <peerlite/collection.hpp>  // NOLINT: after `database`, which a collection holds
