// Every number of the protocol layer, each with the reason for its value (PROTOCOL.md §1-2).
// The BLIP section is the reference implementation's defaults (LiteCore BLIPProtocol.hh,
// ReplicatorTuning.hh) so that frames we cut match what a Couchbase Lite 3.x peer cuts.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>

namespace peerlite::protocol {

// ---- BLIP framing (owner: BLIP) ----------------------------------------------------------

/// Frame size (header + payload + checksum) while other messages wait in the outbox: small
/// enough that an urgent message never waits long behind a big one.
constexpr size_t kDefaultFrameSize = 4096;
/// Frame size when the outbox holds nothing else: fewer frames (and CRCs) for a lone big message.
constexpr size_t kBigFrameSize = 16384;
/// Bytes of the running CRC32 trailer on every non-ACK frame.
constexpr size_t kChecksumSize = 4;
/// Longest varint we accept: 10 bytes hold any uint64_t; more is a malformed header.
constexpr size_t kMaxVarintSize = 10;

/// A receiver ACKs a message each time this many more of its frame bytes have arrived
/// (LiteCore kIncomingAckThreshold): often enough that a sender at the cap keeps moving.
constexpr uint64_t kIncomingAckThreshold = 50'000;
/// A sender pauses a message with this many un-ACKed bytes until an ACK arrives
/// (LiteCore kOutgoingAckThreshold): bounds what a slow receiver must buffer.
constexpr uint64_t kOutgoingAckThreshold = 128'000;

/// Largest encoded properties block (PROTOCOL.md §1): a peer cannot make us keep more.
constexpr size_t kMaxPropertiesSize = 100 * 1024;
/// Largest incoming message (properties + body, after inflating). The biggest legitimate one
/// is a `rev` carrying a document with inline data; 64 MiB bounds memory per message.
constexpr size_t kMaxMessageSize = 64 * 1024 * 1024;
/// Most bytes held in incomplete incoming messages at once per session: the peer can interleave
/// many big messages, and this bounds what all of them together can make us buffer.
constexpr size_t kMaxBufferedSize = 2 * kMaxMessageSize;
/// Most incoming messages being reassembled at once per direction. A sender round-robins the
/// frames of everything queued, so every message it has queued can be in reassembly at once:
/// our own pusher queues up to actors::kMaxRevsInFlight (6,000) revs per collection, which
/// with 8 KiB documents (two frames each) put 2,567 in reassembly and failed an honest pull at
/// the old cap of 1,024. 16,384 covers that with room; the bytes they hold stay bounded by
/// kMaxBufferedSize, and each costs well under 1 KiB besides.
constexpr size_t kMaxIncompleteMessages = 16384;

/// Deflate level for compressed frames (zlib 0..9; 0 = never compress). LiteCore uses 6.
constexpr int kDefaultCompressionLevel = 6;
/// Deflate window (log2 bytes) and memLevel: zlib's maximum, as the reference. A hub with many
/// connections may lower them per session (options) to save memory; the inflater always uses
/// the maximum window because the peer chooses its own.
constexpr int kDeflateWindowBits = 15;
constexpr int kDeflateMemLevel = 9;
/// Room kept free beyond deflateBound() in each Z_SYNC_FLUSH chunk for the flush marker (an
/// empty stored block, at most 5 bytes) and the final partial byte (LiteCore keeps 12 too).
constexpr size_t kDeflateFlushHeadroom = 12;
/// A compressed frame stops taking more input once less than this much output room is left:
/// each extra chunk costs a ~5-byte flush marker, so tiny chunks would waste the frame.
constexpr size_t kDeflateMinChunkRoom = 100;
/// Output grows in steps of this size while inflating one frame.
constexpr size_t kInflateChunkSize = 16384;
/// Error domain of BLIP-level ERR replies and its HTTP-like codes (PROTOCOL.md §1).
constexpr const char* kBlipErrorDomain = "BLIP";
constexpr int kBlipBadRequest = 400;
constexpr int kBlipForbidden = 403;
constexpr int kBlipNotFound = 404;  ///< request with no handler
constexpr int kBlipConflict = 409;
constexpr int kBlipRangeNotSatisfiable = 416;
constexpr int kBlipHandlerFailed = 501;
constexpr int kBlipUnexpected = 599;

}  // namespace peerlite::protocol

namespace peerlite::protocol {

// ---- WebSocket framing for BYTE_STREAM (owner: WS) ----------------------------------------

/// Largest WebSocket message (reassembled from fragments) we accept (PROTOCOL.md §2, the
/// reference's cap). One BLIP frame is at most kBigFrameSize plus a header, so honest peers stay
/// far below; the cap bounds what a hostile peer can make us buffer.
constexpr size_t kWsMaxMessage = 1024 * 1024;
/// Largest control frame payload (ping, pong, close): RFC 6455 §5.5 fixes it at 125 bytes.
constexpr size_t kWsMaxControlPayload = 125;
/// Interval between heartbeat PINGs on an idle BYTE_STREAM connection (reference default
/// `heartbeat` option: 300 s); keeps NAT/proxy state alive and detects dead peers.
constexpr std::chrono::seconds kWsHeartbeat{300};
/// How long a PING may wait for its PONG before the connection counts as dead (transient 1006).
constexpr std::chrono::seconds kWsPongTimeout{20};
/// How long after sending CLOSE we wait for the peer's CLOSE before dropping the transport.
constexpr std::chrono::seconds kWsCloseTimeout{5};

}  // namespace peerlite::protocol
