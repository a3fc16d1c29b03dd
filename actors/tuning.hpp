// Every wait and bound of the actor layer, in one place (STYLE.md §6, §8). Each value says why.
// Protocol-level numbers (frame sizes, ACK thresholds, caps) live in protocol/tuning.hpp.
#pragma once

#include <chrono>
#include <cstddef>

namespace peerlite::actors {

using namespace std::chrono_literals;

// --- runtime (CONN) ---

/// How long process exit waits for the shared actor system to shut down before leaving it
/// behind. An app whose send() blocks forever must not hang its process's exit.
constexpr auto kSystemShutdownTimeout = 2s;

// --- connection actor (CONN) ---

/// The close handshake (PROTOCOL.md §2): how long we wait for the peer's close acknowledgement
/// and, separately, for the app's close completion, before reporting the connection closed.
/// A completion that is never called must not hang stop() / close_all().
constexpr auto kCloseTimeout = 5s;

/// How long the app's open() may take before we give up with a recoverable error (an active
/// replicator then retries through a new connection). Generous: real transports handshake.
constexpr auto kOpenTimeout = 30s;

/// How long a graceful close waits for already-queued frames (e.g. the last rev replies) to
/// drain to the app before closing anyway.
constexpr auto kCloseDrainTimeout = 5s;

/// How long the owner may take to answer one incoming request (the db actor's group commit of
/// a rev included) before the peer gets ERR BLIP/501. Large because a commit can queue behind
/// thousands of revisions on a slow disk; a dead owner is caught by monitoring, not by this.
constexpr auto kIncomingRequestTimeout = 120s;

/// Write credit: bytes handed to the app's send() whose completion has not arrived yet. Beyond
/// this, frames wait in the session's outbox. 1 MiB keeps a fast in-process pipe busy (about
/// 64 frames of 16 KiB) while bounding memory per connection to a few MiB.
constexpr std::size_t kMaxBytesInFlight = 1 << 20;

/// BYTE_STREAM only: frames wrapped in WebSocket messages are coalesced into one app send() up
/// to this many bytes, so a byte pipe sees fewer, larger writes.
constexpr std::size_t kMaxCoalescedSend = 64 * 1024;

/// BYTE_STREAM only: a WebSocket PING is sent after this long without traffic (the replicator's
/// `heartbeat` default, PROTOCOL.md §2); 0 disables.
constexpr auto kDefaultHeartbeat = 300s;

/// BYTE_STREAM only: how long we wait for the PONG to a PING before closing with 1006
/// (abnormal, transient).
constexpr auto kPongTimeout = 20s;

// --- listener actor (CONN) ---

/// How long a listener request from a public handle (accept, connections, close_all) may take.
/// These are mailbox round trips only; a long wait means the system is overloaded.
constexpr auto kListenerRequestTimeout = 10s;

/// close_all() waits for every connection's close; each is bounded by kCloseTimeout plus the
/// drain, so this bound only guards against a lost message.
constexpr auto kCloseAllTimeout = kCloseTimeout + kCloseDrainTimeout + kCloseTimeout + 5s;

// --- replication (REPL): append below ---

}  // namespace peerlite::actors
