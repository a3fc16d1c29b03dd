// peerlite store (internal): the schema and every SQL statement, in one place.
//
// docs holds one row per document: its current revision's columns (rev, flags, body) for fast
// reads and the changes feed, plus the encoded rev_tree (conflict leaves' bodies included, the
// current body excluded). One row per document keeps a new document at one INSERT.
#pragma once

namespace peerlite::store::sql {

/// docs.flags bits.
inline constexpr int kDeleted = 1;
inline constexpr int kConflicted = 2;

inline constexpr char kCreateSchema[] = R"(
CREATE TABLE docs(
  id TEXT PRIMARY KEY NOT NULL,
  seq INTEGER NOT NULL,
  rev TEXT NOT NULL,
  flags INTEGER NOT NULL,
  body BLOB NOT NULL,
  tree BLOB NOT NULL,
  expires INTEGER);
CREATE UNIQUE INDEX docs_seq ON docs(seq);
CREATE INDEX docs_expires ON docs(expires) WHERE expires IS NOT NULL;
CREATE TABLE checkpoints(id TEXT PRIMARY KEY NOT NULL, rev TEXT NOT NULL, body TEXT NOT NULL);
CREATE TABLE peer_checkpoints(id TEXT PRIMARY KEY NOT NULL, rev TEXT NOT NULL, body TEXT NOT NULL);
CREATE TABLE meta(key TEXT PRIMARY KEY NOT NULL, value NOT NULL);
)";

/// What version 2 adds, run on a new file after kCreateSchema and on a version-1 file when it
/// is opened for writing: what each active replicator knows its remote holds, per document
/// (the parent it proposes; PROTOCOL.md §3 proposeChanges).
inline constexpr char kSchemaVersion2[] = R"(
CREATE TABLE IF NOT EXISTS remotes(id INTEGER PRIMARY KEY, name TEXT UNIQUE NOT NULL);
CREATE TABLE IF NOT EXISTS remote_revs(remote INTEGER NOT NULL, doc TEXT NOT NULL,
  rev TEXT NOT NULL, PRIMARY KEY(remote, doc)) WITHOUT ROWID;
)";

/// What version 3 adds (issue 11), run on a new file and on an older file opened for writing:
///  - blobs: content-addressed attachment bodies, keyed by digest ("sha1-<base64>"). A rowid
///    table, so SQLite's incremental blob I/O can stream one in or out in chunks (a 20 MiB
///    blob is never held whole, and passes through the page cache a page at a time). The
///    bytes live in the same file as the revisions that reference them: one WAL commit makes
///    a blob durable, so a revision can never be committed before its blob is, and a torn
///    blob cannot exist (see blob_store.cpp for the measurement against files beside it).
///  - collections: every collection of the file; id 0 is `_default._default` and uses the
///    `docs` / `remote_revs` tables, collection N > 0 uses `docs_N` / `remote_revs_N` (same
///    columns), so each has its own documents, sequences and change feed.
inline constexpr char kSchemaVersion3[] = R"(
CREATE TABLE IF NOT EXISTS blobs(id INTEGER PRIMARY KEY, digest TEXT UNIQUE NOT NULL,
  length INTEGER NOT NULL, type TEXT NOT NULL DEFAULT '', data BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS collections(id INTEGER PRIMARY KEY, scope TEXT NOT NULL,
  name TEXT NOT NULL, UNIQUE(scope, name));
INSERT OR IGNORE INTO collections(id, scope, name) VALUES(0, '_default', '_default');
)";

/// The documents with open conflicts, found without reading every row (kListConflicted, when
/// an active puller starts). Added after schema version 3 shipped: made with every new file,
/// and on an older file when it is opened for writing (an index changes nothing an older
/// peerlite reads or writes).
inline constexpr char kCreateConflictedIndex[] =
    "CREATE INDEX IF NOT EXISTS docs_conflicted ON docs(id) WHERE (flags & 2) = 2";
inline constexpr char kListConflicted[] =
    "SELECT id FROM docs WHERE (flags & 2) = 2 ORDER BY id LIMIT ?1";

inline constexpr char kSelectRow[] = "SELECT seq, rev, flags, body, tree FROM docs WHERE id = ?1";
inline constexpr char kSelectCurrent[] = "SELECT seq, rev, flags, body FROM docs WHERE id = ?1";
inline constexpr char kSelectHead[] = "SELECT rev, flags FROM docs WHERE id = ?1";
inline constexpr char kInsertRow[] =
    "INSERT INTO docs(id, seq, rev, flags, body, tree) VALUES(?1, ?2, ?3, ?4, ?5, ?6)";
inline constexpr char kInsertRowIfAbsent[] =
    "INSERT INTO docs(id, seq, rev, flags, body, tree) VALUES(?1, ?2, ?3, ?4, ?5, ?6) "
    "ON CONFLICT(id) DO NOTHING";
inline constexpr char kUpdateRow[] =
    "UPDATE docs SET seq = ?2, rev = ?3, flags = ?4, body = ?5, tree = ?6 WHERE id = ?1";
inline constexpr char kDeleteRow[] = "DELETE FROM docs WHERE id = ?1";
inline constexpr char kChanges[] =
    "SELECT seq, id, rev, flags, length(body) FROM docs WHERE seq > ?1 ORDER BY seq LIMIT ?2";
inline constexpr char kChangeOf[] =
    "SELECT seq, id, rev, flags, length(body) FROM docs WHERE id = ?1 AND seq > ?2";
/// The same feeds with the revision remote ?3 holds of each document (NULL = none known).
inline constexpr char kChangesForRemote[] =
    "SELECT d.seq, d.id, d.rev, d.flags, length(d.body), r.rev FROM docs d "
    "LEFT JOIN remote_revs r ON r.remote = ?3 AND r.doc = d.id "
    "WHERE d.seq > ?1 ORDER BY d.seq LIMIT ?2";
inline constexpr char kChangeOfForRemote[] =
    "SELECT d.seq, d.id, d.rev, d.flags, length(d.body), r.rev FROM docs d "
    "LEFT JOIN remote_revs r ON r.remote = ?3 AND r.doc = d.id WHERE d.id = ?1 AND d.seq > ?2";
inline constexpr char kFindRemote[] = "SELECT id FROM remotes WHERE name = ?1";
inline constexpr char kAddRemote[] = "INSERT INTO remotes(name) VALUES(?1)";
inline constexpr char kGetRemoteRev[] =
    "SELECT rev FROM remote_revs WHERE remote = ?1 AND doc = ?2";
inline constexpr char kSetRemoteRev[] =
    "INSERT OR REPLACE INTO remote_revs(remote, doc, rev) VALUES(?1, ?2, ?3)";
inline constexpr char kListLive[] = "SELECT id, rev FROM docs WHERE (flags & 1) = 0 ORDER BY id";
inline constexpr char kInfo[] =
    "SELECT count(*) FILTER (WHERE (flags & 1) = 0), count(*) FILTER (WHERE (flags & 1) = 1), "
    "count(*) FILTER (WHERE (flags & 2) = 2) FROM docs";
inline constexpr char kSetExpires[] = "UPDATE docs SET expires = ?2 WHERE id = ?1";
inline constexpr char kGetExpires[] = "SELECT expires FROM docs WHERE id = ?1";
inline constexpr char kExpire[] = "DELETE FROM docs WHERE expires IS NOT NULL AND expires <= ?1";

inline constexpr char kBlobInfo[] = "SELECT id, length, type FROM blobs WHERE digest = ?1";
inline constexpr char kBlobData[] = "SELECT data FROM blobs WHERE digest = ?1";
inline constexpr char kInsertBlob[] =
    "INSERT INTO blobs(digest, length, type, data) VALUES(?1, ?2, ?3, ?4) "
    "ON CONFLICT(digest) DO NOTHING";
inline constexpr char kListBlobs[] = "SELECT id, digest FROM blobs";
inline constexpr char kDeleteBlob[] = "DELETE FROM blobs WHERE id = ?1";
/// Every stored body of a collection, for compaction: the current one and the tree (which
/// keeps the bodies of conflict leaves).
inline constexpr char kAllBodies[] = "SELECT body, tree FROM docs";

inline constexpr char kGetMeta[] = "SELECT value FROM meta WHERE key = ?1";
inline constexpr char kSetMeta[] = "INSERT OR REPLACE INTO meta(key, value) VALUES(?1, ?2)";

inline constexpr char kGetCheckpoint[] = "SELECT rev, body FROM checkpoints WHERE id = ?1";
inline constexpr char kSetCheckpoint[] =
    "INSERT OR REPLACE INTO checkpoints(id, rev, body) VALUES(?1, ?2, ?3)";
inline constexpr char kGetPeerCheckpoint[] = "SELECT rev, body FROM peer_checkpoints WHERE id = ?1";
inline constexpr char kSetPeerCheckpoint[] =
    "INSERT OR REPLACE INTO peer_checkpoints(id, rev, body) VALUES(?1, ?2, ?3)";

// Collections (collections.cpp).
inline constexpr char kHasCollectionsTable[] =
    "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'collections'";
inline constexpr char kFindCollection[] =
    "SELECT id FROM collections WHERE scope = ?1 AND name = ?2";
inline constexpr char kHasCollection[] = "SELECT 1 FROM collections WHERE id = ?1";
inline constexpr char kListCollections[] = "SELECT id, scope, name FROM collections ORDER BY id";
inline constexpr char kAddCollection[] =
    "INSERT INTO collections(id, scope, name) VALUES(?1, ?2, ?3)";
inline constexpr char kDeleteCollection[] = "DELETE FROM collections WHERE id = ?1";
inline constexpr char kDeleteMeta[] = "DELETE FROM meta WHERE key = ?1";
inline constexpr char kNextCollectionId[] =
    "SELECT max(coalesce((SELECT max(id) FROM collections), 0), "
    "coalesce((SELECT value FROM meta WHERE key = ?1), 0)) + 1";
/// The default collection's tables and their indexes, tables first: a new collection copies
/// them, so it has the same columns and indexes as the file's default collection.
inline constexpr char kDefaultTables[] =
    "SELECT name, tbl_name, sql FROM sqlite_master WHERE tbl_name IN ('docs', 'remote_revs') "
    "AND sql IS NOT NULL ORDER BY type <> 'table'";

inline constexpr char kCountTables[] = "SELECT count(*) FROM sqlite_master";

}  // namespace peerlite::store::sql
