// A cancellable timer for the connection actors.
//
// CAF 0.17's delayed_send cannot be cancelled, and the delayed message holds a strong reference
// to its receiver until it is due. A connection actor arms timers of up to 300 s (the heartbeat)
// and quits long before most of them fire, so every closed connection stayed allocated for
// minutes: a hub that saw 1,000 connections open and drop grew by ~5 KiB per connection
// (tests/adapters/cli_bad_input_test.cpp measured 16.9 -> 35.3 MiB). With this service, a
// pending timer costs one map entry in one actor per system, and the connection cancels all of
// its timers when it terminates, so nothing refers to it afterwards.
//
// Thread safety: every function may be called from any thread.
#pragma once

#include <caf/all.hpp>
#include <chrono>
#include <cstdint>

namespace peerlite::actors {

/// The system's timer service: the running one, or a new one when none is alive.
caf::actor timer_service(caf::actor_system& sys);

/// After `after`, sends (conn_timer_atom, kind, gen) to `target`, unless cancel_timers(`key`)
/// runs first. `key` groups the timers of one owner (use its actor id).
void arm_timer(const caf::actor& service, uint64_t key, const caf::actor& target,
               std::chrono::milliseconds after, uint8_t kind, uint64_t gen);

/// Drops every pending timer armed with `key` (and with it the reference to its target).
void cancel_timers(const caf::actor& service, uint64_t key);

}  // namespace peerlite::actors
