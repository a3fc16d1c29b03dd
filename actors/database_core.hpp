// The shared state behind every peerlite::database handle: the db actor (the only writer),
// a pool of reader connections, and the app's change listeners.
#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "actors/db_actor.hpp"
#include "peerlite/database.hpp"
#include "store/database.hpp"

namespace peerlite::actors {

struct database_core;

/// A reader connection borrowed from the pool; returns itself to the pool when destroyed.
class reader_lease {
 public:
  reader_lease() = default;
  reader_lease(std::shared_ptr<database_core> core, std::unique_ptr<store::reader> r)
      : core_(std::move(core)), reader_(std::move(r)) {}
  reader_lease(reader_lease&&) = default;
  reader_lease& operator=(reader_lease&& other);
  ~reader_lease();
  store::reader* operator->() const { return reader_.get(); }
  store::reader& operator*() const { return *reader_; }
  explicit operator bool() const { return static_cast<bool>(reader_); }

 private:
  void release();
  std::shared_ptr<database_core> core_;
  std::unique_ptr<store::reader> reader_;
};

struct database_core : std::enable_shared_from_this<database_core> {
  std::shared_ptr<caf::actor_system> sys;  ///< keeps the system alive while the db is open
  std::string path;
  std::string private_uuid;
  std::string public_uuid;
  db_actor writer;

  /// Borrows a reader connection (opening one when the pool is empty). Workers borrow one per
  /// operation (a changes batch, a batch of revs) and give it back at once, so the number of
  /// open readers follows the work in progress, not the number of connected peers.
  /// The lease reads collection `coll` (every lease selects one, so none inherits the last
  /// borrower's); not_found when that collection does not exist.
  expected<reader_lease> acquire_reader(store::collection_id coll = 0);
  /// Takes a reader back: kept for reuse while fewer than kMaxIdleReaders are idle, else
  /// closed (with its page cache).
  void release_reader(std::unique_ptr<store::reader> r);
  /// Readers idle in the pool right now (at most kMaxIdleReaders).
  size_t idle_readers();
  /// When no reader is idle, opens one in the background (on a scheduler thread) and pools it,
  /// so a replication starting now finds one ready for its first read instead of opening it
  /// on its critical path (a SQLite open with its pragmas), and initializes OpenSSL's digests
  /// (2-3 ms on a process's first one; see protocol/digest.hpp).
  void prewarm_reader();

  /// App change listeners, called by the db actor after each commit that changed documents,
  /// its own or (found within kExternalCommitPollInterval) another process's.
  listener_token add_listener(std::function<void(const std::vector<change_entry>&)> fn);
  void notify(const std::vector<change_entry>& changes);
  bool has_listeners() const { return listener_count_.load(std::memory_order_relaxed) > 0; }

  /// Opens readers through this function (set by open(); safe on any thread).
  std::function<expected<std::unique_ptr<store::reader>>()> open_reader;

  ~database_core();

 private:
  std::mutex pool_mtx_;
  std::vector<std::unique_ptr<store::reader>> pool_;
  std::atomic<bool> prewarming_{false};
  std::mutex listen_mtx_;
  std::map<uint64_t, std::function<void(const std::vector<change_entry>&)>> listeners_;
  uint64_t next_listener_ = 1;
  std::atomic<size_t> listener_count_{0};
};

}  // namespace peerlite::actors
