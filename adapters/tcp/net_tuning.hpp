// Every number of the network adapters (TCP and WebSocket), each with the reason for its value.
// The adapters are written only against the public API, so their tuning lives here rather than
// in actors/tuning.hpp; an app copying an adapter copies this file with it.
#pragma once

#include <chrono>
#include <cstddef>

namespace peerlite::net {

/// Longest a TCP connect (resolve + SYN/ACK) may take before it fails as a recoverable
/// timeout. Loopback and LAN peers answer in milliseconds; 10 s covers a slow Wi-Fi join
/// without leaving a replicator CONNECTING for minutes.
constexpr std::chrono::seconds kConnectTimeout{10};

/// Largest chunk one socket read hands to replicator_connection::receive. Reads are sized to
/// what the kernel holds (FIONREAD), up to this: 64 KiB is a few BLIP frames and one syscall's
/// worth at loopback speed, and nothing is held while a connection is idle.
constexpr size_t kMaxReadChunk = 64 * 1024;

/// One TLS record holds at most 16 KiB of plaintext, so a read of that size takes a whole one.
constexpr size_t kTlsReadChunk = 16 * 1024;

/// Most queued sends gathered into one write (scatter/gather): fewer syscalls when the engine
/// sends many small frames, while one completion batch stays small.
constexpr size_t kMaxGatheredWrites = 64;

/// After close(), how long queued bytes (e.g. the engine's final close frame) may take to
/// drain before the socket is closed anyway. Below the engine's 5 s close timeout so the close
/// completion always comes from us.
constexpr std::chrono::milliseconds kCloseDrainTimeout{2000};

/// When an io_runtime is destroyed, how long it lets already-posted work (listeners closing
/// their sockets) finish before stopping its threads.
constexpr std::chrono::milliseconds kRuntimeDrainTimeout{1000};

/// Pause before accepting again after accept() fails for lack of resources (EMFILE/ENFILE):
/// retrying at once would spin a core while the hub is full.
constexpr std::chrono::milliseconds kAcceptRetryDelay{100};

/// Pending-connection queue of a listening socket. A hub with thousands of peers reconnecting
/// at once (after a restart) needs more than the usual 128; the kernel caps it at somaxconn.
constexpr int kListenBacklog = 4096;

/// Most connections a hub holds at once (`serve --max-connections`); the next is refused (HTTP
/// 503 over WebSocket). Each costs one file descriptor and ~25 KiB of hub memory; 20,000 is a
/// hub of this size's comfortable ceiling and below the usual 2^20 hard open-files limit, so
/// a flood is refused with a reason before accept() starts failing with EMFILE.
constexpr size_t kMaxConnections = 20000;

/// Most connections from one client address (`serve --max-connections-per-address`). 0, no
/// limit, by default: whole fleets of devices sit behind one NAT address, and load generators
/// run from one host; set it on a hub that faces the internet.
constexpr size_t kMaxConnectionsPerAddress = 0;

/// Sockets a server opens and closes at start (io_runtime::prewarm): its reactor state then
/// sits in one place for up to this many concurrent connections (~160 bytes each).
constexpr size_t kPrewarmSockets = 1024;
/// Strands made at start to fill Asio's strand mutex table (io_runtime::prewarm).
constexpr size_t kPrewarmStrands = 4096;

/// How long a refused connection may take to read the refusal before its socket is closed:
/// closing with unread request bytes would make the kernel send a reset that can overtake the
/// 503 answer.
constexpr std::chrono::milliseconds kRefusalLinger{1000};

// ---- WebSocket (Beast for the upgrade, protocol::ws::stream for frames) -------------------

/// Longest an HTTP upgrade (TLS handshake, request in, 101 out, or the client's whole
/// handshake) may take. A peer that opens a socket and sends half a request, or its headers a
/// byte a second, is closed after this (`serve --handshake-timeout`). Also bounds a tls://
/// TLS handshake.
constexpr std::chrono::seconds kWsHandshakeTimeout{10};

/// Largest HTTP upgrade request header we read: real ones are a few hundred bytes; this
/// bounds what a garbage-sending peer makes us buffer before its connection is refused.
constexpr size_t kWsMaxRequestHeader = 8 * 1024;

/// A WebSocket with no bytes from the peer for half this sends a PING; with none for all of
/// it, the connection fails (recoverable). Peers answer PINGs automatically, so only vanished
/// or stuck peers (half a frame, then silence) hit it. `peerlite serve --idle-timeout` sets it.
constexpr std::chrono::seconds kWsIdleTimeout{60};

/// Largest incoming WebSocket message (`serve --max-frame-bytes`). One message carries one
/// BLIP frame (at most 16 KiB plus headers), so 1 MiB (PROTOCOL.md §2's message cap) is
/// generous and bounds memory; a bigger one fails its connection with "message too big".
constexpr size_t kWsMaxMessage = 1024 * 1024;

/// Most bytes of WebSocket frames waiting for the socket in gathered_socket before ws_pipe's
/// next write waits: one socket write carries up to this much (many small BLIP frames). 64 KiB is
/// what a loopback or LAN write takes in one go; buffers are freed whenever the queue drains.
constexpr size_t kWsGatherBytes = 64 * 1024;

/// Bytes of accepted-but-unwritten messages a WebSocket pipe holds before send completions wait
/// for the socket (ws_pipe::write), like a kernel send buffer. Above the engine's bytes in flight
/// per connection in a bulk push, so that path completes sends inline; only a busy connection
/// holds them.
constexpr size_t kWsSendBufferBytes = 256 * 1024;

}  // namespace peerlite::net
