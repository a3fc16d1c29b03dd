// The active replicator actor's state, shared by replicator_actor.cpp (connection lifecycle,
// retry, status) and replicator_checkpoint.cpp (checkpoints, workers).
#pragma once

#include <functional>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "actors/replicator_actor.hpp"
#include "actors/request_deadlines.hpp"
#include "actors/status_mixer.hpp"

namespace peerlite::actors {

enum class repl_phase : uint8_t { stopped, connecting, connected, closing, offline };

struct saved_checkpoint {
  uint64_t local = 0;  ///< last local sequence fully pushed
  std::string remote;  ///< last remote sequence fully pulled (JSON; "" = none)
  bool operator==(const saved_checkpoint& o) const {
    return local == o.local && remote == o.remote;
  }
};

/// One collection the replicator syncs: its settings, its checkpoint and its workers. A
/// replicator without collections has one lane, the default collection, not collection-aware.
struct lane {
  std::string name;               ///< as written in getCollections ("_default", "store.orders")
  store::collection_id coll = 0;  ///< the local collection
  std::optional<uint32_t> index;  ///< its index in getCollections (unset: not collection-aware)
  std::set<std::string> doc_ids;
  replication_filter push_filter;
  replication_filter pull_filter;
  conflict_resolver resolver;
  std::string cp_id;
  std::string local_cp_rev;   ///< rev of our local copy ("" = none)
  std::string remote_cp_rev;  ///< rev of the peer's copy ("" = none)
  saved_checkpoint start_cp;
  saved_checkpoint saved;       ///< last written
  saved_checkpoint current;     ///< as far as the workers got
  bool refreshed_once = false;  ///< a 409 made us re-read the peer's checkpoint rev
  pusher_actor pusher;
  puller_actor puller;
};

struct replicator_state {
  std::shared_ptr<replicator_shared> shared;
  /// Deadlines of this actor's requests (see request_deadlines.hpp).
  request_deadlines deadlines;
  repl_phase phase = repl_phase::stopped;
  uint64_t generation = 0;  ///< bumps per attempt; stale timers compare against it
  connection_api conn;
  std::vector<lane> lanes;  ///< built by exchange_checkpoints for each connection
  bool collection_aware = false;
  /// The failure being closed for ends the session normally (WebSocket 1000), as Couchbase
  /// Lite closes after a collection the peer does not serve.
  bool close_normally = false;
  status_mixer mixer;
  status_pacer pacer;
  uint32_t failures = 0;  ///< consecutive failed attempts
  bool reset = false;
  bool stop_requested = false;
  bool finishing = false;        ///< one-shot: caught up, saving and closing
  std::optional<error> failure;  ///< why we are closing, when it is an error
  error last_error;
  // checkpoints
  uint64_t remote_id = 0;  ///< the store's id for the peer (0 = none: read-only database)
  bool save_scheduled = false;
  bool saving = false;
  std::vector<std::function<void()>> waiters;  ///< continuations of saves asked for meanwhile
  static inline const char* name = "peerlite.replicator";
};

using repl_self = replicator_actor::stateful_pointer<replicator_state>;

// replicator_actor.cpp
void status_changed(repl_self self, bool final_report = false);
void begin_close(repl_self self, std::optional<error> failure);
// replicator_checkpoint.cpp
void exchange_checkpoints(repl_self self);
/// Saves now; `then` runs when done (success or not).
void save_checkpoint(repl_self self, std::function<void()> then = {});
void schedule_checkpoint(repl_self self);
void stop_workers(repl_self self);
/// Lane `i` (a worker report's lane), or nullptr.
lane* lane_at(repl_self self, uint64_t i);
/// True when any lane has a worker.
bool has_workers(const replicator_state& st);

}  // namespace peerlite::actors
