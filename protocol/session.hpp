// protocol::session: one BLIP 3 connection's protocol state, without any I/O (PROTOCOL.md §1).
//
// A session turns whole incoming BLIP frames into whole messages and whole outgoing messages
// into frames. It is transport-agnostic: the caller delivers frame boundaries (the WebSocket
// layer for BYTE_STREAM, the app's transport for MESSAGE_STREAM) and puts the frames it takes
// out on the wire in the order it takes them.
//
// What it does for the caller:
//  - checks the running CRC32 of each direction and inflates the shared raw-deflate stream;
//  - reassembles multi-frame messages and caps properties (100 KiB), message and inflated size;
//  - enforces the request-number rule (each new peer request is exactly last+1) and correlates
//    replies with the requests we sent (a reply to an unknown number is a protocol error);
//  - owes and sends ACK frames every 50,000 received bytes of a message, and pauses an outgoing
//    message with 128,000 un-ACKed bytes until the peer's ACK arrives;
//  - keeps the outbox: frames of 4096 bytes (16384 when nothing else waits), urgent messages
//    first, round robin between messages, messages begin in number order.
//
// Errors: receive_frame() returns a non-ok status for anything the peer got wrong. That error
// is fatal for the connection: the session stays failed (every later receive_frame returns the
// same error) and the caller should close the connection with it. Nothing a peer sends can make
// a session crash, read out of bounds or allocate without bound.
//
// Thread safety: none. One session belongs to one owner (the connection actor); it never
// blocks, never spawns threads and never calls back.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "peerlite/status.hpp"
#include "protocol/message.hpp"
#include "protocol/tuning.hpp"

namespace peerlite::protocol {

/// Per-session knobs. The defaults are the reference implementation's.
struct session_options {
  /// zlib level 0..9 for messages sent with `compressed = true`; 0 sends them uncompressed.
  int compression_level = kDefaultCompressionLevel;
  /// Deflater window, log2 bytes, 9..15. Lower saves memory per connection (a hub with many
  /// peers); the peer's inflater copes with any window. Our inflater always uses 15.
  int deflate_window_bits = kDeflateWindowBits;
  /// Deflater memLevel 1..9. Lower saves memory per connection at some cost in ratio.
  int deflate_mem_level = kDeflateMemLevel;
  /// Caps on one incoming message (after inflating) and on its properties block.
  size_t max_message_size = kMaxMessageSize;
  size_t max_properties_size = kMaxPropertiesSize;
  /// Cap on the bytes of all incomplete incoming messages together.
  size_t max_buffered_size = kMaxBufferedSize;
};

/// Counters for logs and benchmarks; all in bytes or frames since construction.
struct session_stats {
  uint64_t frames_received = 0;
  uint64_t frames_sent = 0;
  uint64_t bytes_received = 0;  ///< wire bytes of all frames received
  uint64_t bytes_sent = 0;      ///< wire bytes of all frames taken out with next_frame()
};

class session {
 public:
  /// A fresh session: no requests sent (the first gets number 1), none received, empty outbox.
  /// Invalid option values are clamped to their valid range.
  explicit session(session_options options = {});
  ~session();
  session(session&&) noexcept;
  session& operator=(session&&) noexcept;
  session(const session&) = delete;
  session& operator=(const session&) = delete;

  // ---- incoming ----

  /// Decodes one incoming frame, exactly as the peer sent it (one MESSAGE_STREAM message or one
  /// WebSocket binary message). Frames must be passed in arrival order: CRC32 and inflater run
  /// across frames.
  /// Returns ok when the frame was consumed (a message may now be ready in next_incoming(), and
  /// an ACK may now be owed in the outbox), or, fatal for the connection:
  ///  - errc::protocol_error: truncated frame or header, bad varint, checksum mismatch, corrupt
  ///    deflate data, a new request whose number is not last+1, a reply to a number we have
  ///    no pending request for, malformed properties or ACK body, or a session that already
  ///    failed (the same error again);
  ///  - errc::too_large: properties over 100 KiB, a message (or a compressed frame inflating)
  ///    over max_message_size, more than max_buffered_size bytes or
  ///    kMaxIncompleteMessages messages in reassembly at once;
  ///  - errc::disconnected: the session was closed.
  /// After an error the session sends nothing more; call close() to learn which requests fail.
  /// ACKs for messages we already finished sending are ignored (they cross on the wire).
  /// Frames with an unknown type (3, 6, 7) are ignored.
  status receive_frame(std::string_view frame);

  /// The next complete incoming message, in the order their last frames arrived, or nullopt.
  ///  - type request: a peer request; `number` is the peer's number. Unless `no_reply`, the
  ///    caller answers it with send() of a reply or error message carrying that number.
  ///  - type reply / error: the answer to the request WE sent with that `number` (only replies
  ///    that answer a pending request of ours ever come out; anything else failed
  ///    receive_frame). The request is no longer pending afterwards.
  /// ACK frames are handled inside the session and never come out here.
  std::optional<message> next_incoming();

  // ---- outgoing ----

  /// Queues a message for sending and returns its number.
  ///  - type request: the session assigns the next request number (1, 2, ...), ignoring
  ///    msg.number; unless msg.no_reply the request becomes pending until its reply arrives.
  ///  - type reply / error: msg.number must be the peer's request number being answered.
  /// `compressed` asks for deflate (ignored when compression_level is 0); `urgent` and
  /// `no_reply` become frame flags. Returns 0 (and queues nothing) after close() or failure, for
  /// an ACK type, a reply with number 0, or a property key or value containing a NUL byte.
  uint64_t send(message msg);

  /// True when next_frame() would produce a frame (an owed ACK or an unpaused message).
  bool has_frames() const;
  /// True while anything queued is not on the wire yet: has_frames(), or a message paused
  /// until the peer ACKs what it has of it. A graceful close waits for this to clear.
  bool has_unsent() const;

  /// Moves the next frame to put on the wire into `out` (replacing its contents) and returns
  /// true, or returns false when there is nothing to send now (empty, or every message waits
  /// for an ACK). Owed ACKs go first, then urgent messages, then the rest round robin; no
  /// request begins before a lower-numbered one. A frame is at most kBigFrameSize bytes, and
  /// kDefaultFrameSize while other frames wait.
  bool next_frame(std::string& out);

  // ---- requests and lifetime ----

  /// True while the request we sent with this number awaits its reply.
  bool is_pending(uint64_t number) const;
  /// Number of our requests still awaiting replies.
  size_t pending_count() const;

  /// Ends the session for good (the connection closed or failed): drops the outbox and any
  /// partial incoming messages and returns the numbers of our pending requests, ascending.
  /// The caller fails each of them with errc::disconnected ("disconnected"). Afterwards
  /// send() returns 0, receive_frame() fails and the pending set is empty; messages that were
  /// already complete can still be taken with next_incoming(). Idempotent; works on a failed
  /// session too.
  std::vector<uint64_t> close();

  /// The fatal error of a failed session, or ok.
  const status& failure() const;
  const session_stats& stats() const;

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace peerlite::protocol
