// The active replicator actor behind peerlite::replicator: connection attempts with retry and
// backoff (PROTOCOL.md §6), the checkpointer (§4), and the pusher/puller workers (§3). It owns
// one connection at a time; each attempt asks the endpoint's delegate for a NEW connection.
#pragma once

#include <atomic>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>

#include "actors/connection.hpp"
#include "actors/workers.hpp"
#include "peerlite/replicator.hpp"

namespace peerlite::actors {

/// Commands from the public handle, reports from workers, and the actor's own timers.
///  - (start_atom, reset_checkpoint), (stop_atom)
///  - (start_atom, lane): from a push-and-pull lane's pusher, its first list is out
///  - (retry_atom, generation): a backoff timer fired
///  - (checkpoint_atom, generation): the delayed checkpoint save is due
///  - (tick_atom): a paced status report is due
///  - (stop_atom, generation): the stop deadline passed (STOPPED whatever the connection does)
using replicator_actor = connection_owner::extend<
    caf::reacts_to<start_atom, bool>, caf::reacts_to<start_atom, uint64_t>,
    caf::reacts_to<stop_atom>,
    caf::reacts_to<stop_atom, uint64_t>, caf::reacts_to<retry_atom, uint64_t>,
    caf::reacts_to<checkpoint_atom, uint64_t>, caf::reacts_to<tick_atom>,
    caf::reacts_to<worker_status_atom, worker_report>,
    caf::reacts_to<doc_events_atom, uint64_t, std::vector<replicated_document>>>;

/// The state shared by the public handle and its actor: config, latest status, listeners.
/// Every member function is thread-safe.
struct replicator_shared {
  replicator_config config;
  std::shared_ptr<caf::actor_system> sys;

  void set_status(const replicator_status& s, bool notify);
  replicator_status status() const;
  void doc_events(const std::vector<replicated_document>& events);
  uint64_t add_status_listener(std::function<void(const replicator_status&)> fn);
  uint64_t add_doc_listener(std::function<void(const std::vector<replicated_document>&)> fn);
  void remove_listener(uint64_t id);
  /// Blocks until STOPPED or `timeout`; true when stopped.
  bool wait_stopped(std::chrono::milliseconds timeout) const;

  std::atomic<uint64_t> local_checkpoint{0};  ///< every local sequence <= this was pushed

 private:
  mutable std::mutex mtx_;
  mutable std::condition_variable cv_;
  replicator_status status_;
  uint64_t next_id_ = 1;
  std::map<uint64_t, std::function<void(const replicator_status&)>> status_fns_;
  std::map<uint64_t, std::function<void(const std::vector<replicated_document>&)>> doc_fns_;
};

/// The checkpoint ID (PROTOCOL.md §4): "cp-" + base64(SHA-1(private UUID, remote uid (or the
/// target when unset), doc IDs, filter settings)).
std::string checkpoint_id(const std::string& private_uuid, const replicator_config& cfg);

/// The name this database keeps the peer under (its checkpoint and what it holds): the
/// endpoint's uid, or its target when unset.
std::string remote_name(const replicator_config& cfg);

replicator_actor spawn_replicator(caf::actor_system& sys, std::shared_ptr<replicator_shared> s);

}  // namespace peerlite::actors
