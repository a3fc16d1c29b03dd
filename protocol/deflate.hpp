// The two halves of BLIP compression (PROTOCOL.md §1): one raw-deflate stream per direction,
// shared by every compressed frame. Each compressed frame ends with Z_SYNC_FLUSH; its trailing
// 00 00 FF FF is dropped by the sender and restored by the receiver.
//
// Both classes keep zlib state across frames, so frames must pass through them in wire order.
// Not thread-safe; movable, not copyable.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

#include "peerlite/status.hpp"

namespace peerlite::protocol {

/// The sending half: deflates message bytes into frame payloads.
class deflater {
 public:
  /// level 1..9, window_bits 9..15, mem_level 1..9 (clamped). Raw deflate (no zlib header).
  deflater(int level, int window_bits, int mem_level);
  ~deflater();
  deflater(deflater&&) noexcept;
  deflater& operator=(deflater&&) noexcept;

  /// Deflates a prefix of `input`, appending at most `max_out` bytes to `out` (the sync-flush
  /// trailer already removed), and returns how many input bytes it consumed. It stops when the
  /// next chunk might not fit. Consumes 0 bytes only when `max_out` is too small (< ~100) or
  /// `input` is empty. Fails (errc::protocol_error) only if zlib itself fails.
  expected<size_t> compress(std::string_view input, std::string& out, size_t max_out);

 private:
  struct state;
  std::unique_ptr<state> state_;
};

/// The receiving half: inflates frame payloads (trailer dropped) in order.
class inflater {
 public:
  inflater();  ///< always the maximum window: the peer chooses its own
  ~inflater();
  inflater(inflater&&) noexcept;
  inflater& operator=(inflater&&) noexcept;

  /// Inflates one frame's `payload` followed by the restored 00 00 FF FF, appending the output
  /// to `out`. Fails with errc::protocol_error for corrupt deflate data (the stream is then
  /// unusable) and errc::too_large when `out` would grow past `max_total` bytes.
  status inflate(std::string_view payload, std::string& out, size_t max_total);

 private:
  struct state;
  std::unique_ptr<state> state_;
};

}  // namespace peerlite::protocol
