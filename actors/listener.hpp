// The listener actor behind message_endpoint_listener: for each accepted connection it spawns
// a passive replicator and a connection actor owned by it, keeps the list of live connections
// with their status, and tells the app's change and document listeners.
#pragma once

#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>

#include "actors/passive_replicator.hpp"
#include "peerlite/message_endpoint_listener.hpp"

/// Local messaging only: an app's connection object travels to the listener actor by pointer.
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(std::shared_ptr<peerlite::message_endpoint_connection>)

namespace peerlite::actors {

/// What the public handle and the listener actor share, under `mtx`: the live connections
/// (so connections() never waits on an actor) and the registered callbacks.
struct listener_shared {
  mutable std::mutex mtx;
  std::condition_variable cv;  ///< notified whenever `live` shrinks
  std::map<uint64_t, listener_connection_status> live;
  std::map<uint64_t, listener_change_fn> change_fns;
  std::map<uint64_t, listener_document_fn> doc_fns;
  uint64_t next_id = 1;
  uint64_t next_token = 1;
  bool stopping = false;  ///< the handle is being destroyed: accept() refuses
};

/// The listener actor's interface.
///  - (accept_atom, id, app): start connection `id` (already listed in `live` by the handle).
///  - (close_one_atom, id) / (close_all_atom): close politely (1000); unknown ids are ignored.
///  - (close_all_atom, reason): close every connection with a recoverable error (4001,
///    `reason`): active peers retry, as when a hub shuts down for a restart.
/// As the passive replicators' observer it also takes their status and document events.
using listener_actor = passive_observer::extend<
    caf::reacts_to<accept_atom, uint64_t, std::shared_ptr<message_endpoint_connection>>,
    caf::reacts_to<close_one_atom, uint64_t>, caf::reacts_to<close_all_atom>,
    caf::reacts_to<close_all_atom, std::string>>;

/// Spawns a listener actor serving `config`. It lives until sent an exit message; the live
/// connections' actors do not depend on it.
listener_actor spawn_listener(caf::actor_system& sys, listener_config config,
                              std::shared_ptr<listener_shared> shared);

}  // namespace peerlite::actors
