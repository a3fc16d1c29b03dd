// peerlite store: the numbers that tune the SQLite layer, each with its reason.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>

namespace peerlite::store {

/// How long a statement waits for a lock held by another connection (another process writing
/// the same file, or the shared-cache writer of a ":memory:" database) before failing.
inline constexpr std::chrono::milliseconds kBusyTimeout{5000};

/// Pause between retries of a statement locked in shared-cache (":memory:") mode.
inline constexpr std::chrono::microseconds kLockedRetryPause{200};

/// Page cache per connection, in KiB (SQLite's negative cache_size). 16 MiB keeps the docs
/// table's interior pages and both indexes hot during large group commits.
inline constexpr int64_t kCacheSizeKiB = 16 * 1024;

/// Page cache per reader connection, in KiB (SQLite's default size). Readers serve point
/// lookups (a changes batch, the revs of a batch); a hub keeps a pool of them, so each must
/// stay small: 16 MiB apiece, never given back, made a 1,000-peer hub's RSS grow for good.
inline constexpr int64_t kReaderCacheSizeKiB = 2 * 1024;

/// The peerlite schema version written to PRAGMA user_version.
/// 2: remotes and remote_revs; 3: blobs and collections (an older file is upgraded when
/// opened for writing).
inline constexpr int64_t kSchemaVersion = 3;

/// PRAGMA application_id of a peerlite file ("PRLT"): tells our files from other SQLite files.
inline constexpr int64_t kApplicationId = 0x50524c54;

/// Ancestors returned per missing revision to a `changes` message (PROTOCOL.md §3).
inline constexpr size_t kMaxKnownAncestors = 10;

}  // namespace peerlite::store
