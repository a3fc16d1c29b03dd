// The db actor: the only writer of one database (DESIGN.md "Ownership rules").
//
// Peer revisions are committed in groups: every insert request queued when the previous
// commit ends is written in one transaction, up to kGroupCommitMaxRevs / kGroupCommitMaxBytes
// (the rest waits for the next round). A group starts committing as soon as the actor has
// read what is in its mailbox, with no added delay, so light traffic waits well under the
// 20 ms bound; under load the next group forms while the previous one commits, because each
// puller keeps one insert in flight and queues what arrives meanwhile. Each insert request is
// answered only after its commit, so a `rev` reply means durable. After every commit that changed
// documents, subscribers get (db_changed_atom, last_sequence) and the app's change listeners run.
//
// Commits by other connections to the same file (another process's `peerlite put` while
// `peerlite serve` has it open) never pass through this actor. While it has a subscriber or
// the app has a change listener, a thread of its own checks SQLite's PRAGMA data_version every
// kExternalCommitPollInterval and wakes it only when the file changed; the actor then asks its
// writer connection's data_version, which moves only for others' commits, and announces their
// new sequences the same way. Nobody listening: no thread, no checks.
//
// Interface (every write replies with its result or a peerlite error inside caf::error):
//  - (put_atom, id, body, parent, has_parent, fail_on_conflict) -> new revID
//  - (remove_atom, id) -> tombstone revID
//  - (insert_atom, revs, allow_conflicts, remote) -> per-rev insert_result, aligned, after
//      commit. remote != 0 (a store::remote_id): the revs came from that remote, which is
//      recorded as holding each one in the same transaction.
//      Every rev must have passed store::database::validate(): the sender (the puller)
//      validates each peer rev on its own thread so it can refuse it alone; the single
//      writer does not parse the bodies again.
//  - (resolve_atom, id, winning_rev, losing_rev, merged_body, has_body, merged_deleted)
//      -> new current revID
//  - (purge_atom, id) -> true
//  - (expire_atom, id, unix_seconds) -> true
//  - (checkpoint_atom, store, id, body, expected_rev, has_expected_rev) -> new rev "N-cc"
//  - (remote_atom, name) -> the store::remote_id of the remote named `name` (created if new)
//  - (remote_atom, remote, [id, rev, id, rev, ...]): the remote holds these revisions
//      (written with the next group commit's transaction, or alone; no reply)
//  - (subscribe_atom, who) / (unsub_atom, who): change notices to `who`
//  - (listen_atom, since): the app added a change listener when the last sequence was `since`
//      (sent by database_core::add_listener): starts the checks for other processes' commits
//  - (purge_atom, id, collection) -> true: the same in a named collection
//  - (mkcoll_atom, name) -> collection id (created if new); (rmcoll_atom, name) -> true
//  - (tick_atom): internal, from its watch thread: the file changed, look for others' commits
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "actors/store_types.hpp"
#include "actors/type_ids.hpp"
#include "store/database.hpp"

namespace peerlite::actors {

struct database_core;

using db_actor = caf::typed_actor<
    caf::replies_to<put_atom, std::string, std::string, std::string, bool, bool>::with<std::string>,
    caf::replies_to<remove_atom, std::string>::with<std::string>,
    caf::replies_to<insert_atom, std::vector<store::incoming_revision>, bool, uint64_t>::with<
        std::vector<store::insert_result>>,
    /// The same writes in a named collection (a trailing store::collection_id; the forms
    /// without it write the default collection). Subscribers then get
    /// (db_changed_atom, collection, that collection's last sequence).
    caf::replies_to<put_atom, std::string, std::string, std::string, bool, bool,
                    store::collection_id>::with<std::string>,
    caf::replies_to<remove_atom, std::string, store::collection_id>::with<std::string>,
    caf::replies_to<insert_atom, std::vector<store::incoming_revision>, bool, uint64_t,
                    store::collection_id>::with<std::vector<store::insert_result>>,
    caf::reacts_to<remote_atom, uint64_t, std::vector<std::string>, store::collection_id>,
    caf::replies_to<resolve_atom, std::string, std::string, std::string, std::string, bool, bool,
                    store::collection_id>::with<std::string>,
    caf::replies_to<remote_atom, std::string>::with<uint64_t>,
    caf::reacts_to<remote_atom, uint64_t, std::vector<std::string>>,
    caf::replies_to<resolve_atom, std::string, std::string, std::string, std::string, bool,
                    bool>::with<std::string>,
    caf::replies_to<purge_atom, std::string>::with<bool>,
    caf::replies_to<expire_atom, std::string, int64_t>::with<bool>,
    caf::replies_to<checkpoint_atom, store::checkpoint_store, std::string, std::string,
                    std::string, bool>::with<std::string>,
    caf::reacts_to<subscribe_atom, caf::actor>, caf::reacts_to<unsub_atom, caf::actor>,
    caf::reacts_to<listen_atom, uint64_t>, caf::reacts_to<tick_atom>,
    caf::reacts_to<flush_atom>,
    /// (blob_atom, digest, bytes, content type) -> digest: stores a blob after checking that the
    /// bytes hash to `digest` (invalid_argument when not). Durable when the reply arrives.
    caf::replies_to<blob_atom, std::string, std::string, std::string>::with<std::string>,
    /// (compact_atom) -> how many blobs no kept revision referenced (removed).
    caf::replies_to<compact_atom>::with<uint64_t>,
    /// (purge_atom, id, collection) -> true: purge in a named collection.
    caf::replies_to<purge_atom, std::string, store::collection_id>::with<bool>,
    /// (mkcoll_atom, "scope.name" or "name") -> its collection id, created when missing
    /// (store::database::create_collection: invalid_argument for a malformed name).
    caf::replies_to<mkcoll_atom, std::string>::with<store::collection_id>,
    /// (rmcoll_atom, name) -> true: drops a named collection and its documents
    /// (invalid_argument for the default collection, not_found when absent).
    caf::replies_to<rmcoll_atom, std::string>::with<bool>>;

/// Spawns the writer for `db`. `core` (weak) receives change notifications for the app's
/// listeners. The actor owns `db` and closes it when it quits.
db_actor spawn_db_actor(caf::actor_system& sys, std::unique_ptr<store::database> db,
                        std::weak_ptr<database_core> core);

}  // namespace peerlite::actors
