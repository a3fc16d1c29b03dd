// peerlite: collections (Couchbase Lite 3.x scopes and collections) of one database.
//
//   auto db = peerlite::database::open("app.sqlite");
//   auto users = db->create_collection("inventory.users");   // or get_collection(...)
//   auto rev = users->put("u1", R"({"name":"Ann"})");
//   auto doc = users->get("u1");
//
// Each collection has its own documents, revisions, sequences (starting at 1) and changes
// feed: the same document ID in two collections names two unrelated documents. Blobs,
// checkpoints and the file itself are shared. The `database` methods that take a document
// (put, get, changes, ...) work on the default collection, `_default._default`, which always
// exists and equals default_collection().
//
// A `collection` is a cheap, copyable handle (a database handle, the collection's id and its
// name); it keeps the database open while it lives. Every member may be called from any thread;
// writes go through the database's single writer. Once the collection is deleted, every call
// on a handle to it fails with errc::not_found, even after a collection of the same name is
// created again (that is another collection).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <peerlite/database.hpp>
#include <peerlite/document.hpp>
#include <peerlite/status.hpp>

namespace peerlite {

/// A handle on one collection of a database. Default-constructed handles are empty and every
/// call on them fails with errc::invalid_argument.
class collection {
 public:
  collection() = default;

  /// The scope: "_default" for the default scope, e.g. "inventory" for "inventory.users".
  const std::string& scope() const { return scope_; }
  /// The collection's name within its scope, e.g. "users" for "inventory.users".
  const std::string& name() const { return name_; }
  /// "scope.name", e.g. "_default._default" or "inventory.users".
  std::string full_name() const { return scope_ + "." + name_; }

  /// As database::put, in this collection.
  /// Errors: errc::invalid_argument (empty id, body not a JSON object), errc::conflict,
  /// errc::not_found (the collection was deleted), errc::io_error.
  expected<std::string> put(std::string_view id, std::string_view body,
                            concurrency_control mode = concurrency_control::last_write_wins,
                            std::string_view parent_rev = {});

  /// As database::get: the current revision of `id`, or revision `rev` when given. A deleted
  /// document is returned (deleted = true) only when `rev` names it; else errc::not_found.
  expected<document> get(std::string_view id, std::string_view rev = {}) const;

  /// As database::remove: saves a tombstone. Errors: errc::not_found.
  expected<std::string> remove(std::string_view id);

  /// As database::purge: forgets `id` and its history locally. Errors: errc::not_found.
  status purge(std::string_view id);

  /// As database::changes, over this collection's own sequences.
  expected<std::vector<change_entry>> changes(uint64_t since, size_t limit = 1000) const;

  /// As database::conflicts: the current revision first, then the conflicting leaves.
  /// Errors: errc::not_found.
  expected<std::vector<document>> conflicts(std::string_view id) const;

  /// The number of live (non-deleted) documents in this collection.
  expected<uint64_t> document_count() const;

  /// This collection's highest sequence so far (0 when empty).
  expected<uint64_t> last_sequence() const;

  /// The database it belongs to.
  const database& db() const { return db_; }

  /// Internal: the store's id of this collection (0 = the default collection).
  int64_t id() const { return id_; }

  /// True for a handle on a collection, false for a default-constructed (empty) one. (A
  /// handle on a deleted collection stays true; its calls fail with errc::not_found.)
  explicit operator bool() const { return static_cast<bool>(db_); }

  /// The same collection of the same open database.
  friend bool operator==(const collection& a, const collection& b) {
    return a.db_.core() == b.db_.core() && a.id_ == b.id_;
  }

 private:
  friend class database;
  collection(database db, int64_t id, std::string scope, std::string name)
      : db_(std::move(db)), id_(id), scope_(std::move(scope)), name_(std::move(name)) {}

  database db_;
  int64_t id_ = 0;
  std::string scope_;
  std::string name_;
};

}  // namespace peerlite
