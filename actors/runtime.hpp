// The process-wide actor system behind every public peerlite object.
//
// Every public handle (replicator, message_endpoint_listener, replicator_connection, ...) holds
// the shared_ptr from shared_system(), so the system outlives every object that uses it.
// Shutdown rules, each one a lesson from a hung stop():
//  - the system is created on first use and lives until process exit (static destruction);
//  - it is never destroyed from one of its own threads (that would join the thread itself);
//  - its destruction does not wait for actors to finish, and process exit waits at most
//    kSystemShutdownTimeout for it, so an app that never calls a completion cannot hang exit.
// Thread safety: shared_system() and on_system_thread() may be called from any thread.
#pragma once

#include <caf/all.hpp>
#include <memory>

namespace peerlite::actors {

/// The shared actor system, created on first call. Never null.
std::shared_ptr<caf::actor_system> shared_system();

/// shared_system() when `sys` is that system (without creating it), else null: what a handle
/// on an actor in `sys` keeps alive.
std::shared_ptr<caf::actor_system> keep_alive_for(caf::actor_system& sys);

/// True on a thread the shared actor system started (scheduler workers, timer). Blocking waits
/// on actors are forbidden there; public handles use this to refuse them.
bool on_system_thread();

}  // namespace peerlite::actors
