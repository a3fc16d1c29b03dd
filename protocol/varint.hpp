// BLIP varints: unsigned LEB128 (7 bits per byte, low group first, high bit = more follows),
// as used for frame numbers, flags, the properties length and ACK bodies (PROTOCOL.md §1).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace peerlite::protocol {

/// Appends the varint encoding of `value` (1..10 bytes) to `out`.
void put_varint(std::string& out, uint64_t value);

/// Writes the varint encoding of `value` to `dst` (room for kMaxVarintSize bytes) and returns
/// the number of bytes written.
size_t write_varint(char* dst, uint64_t value);

/// Bytes put_varint() would write for `value`.
size_t varint_size(uint64_t value);

/// read_varint() for varints of two bytes or more.
bool read_long_varint(std::string_view& in, uint64_t& value);

/// Reads one varint from the front of `in` into `value` and removes it from `in`.
/// Returns false, leaving `in` and `value` unchanged, when `in` ends inside the varint, when the
/// varint is longer than 10 bytes, or when it does not fit in 64 bits.
inline bool read_varint(std::string_view& in, uint64_t& value) {
  /// Inline for the usual one-byte varint (flags, small numbers and lengths): each frame and
  /// message header reads several.
  if (!in.empty() && static_cast<uint8_t>(in.front()) < 0x80) {
    value = static_cast<uint8_t>(in.front());
    in.remove_prefix(1);
    return true;
  }
  return read_long_varint(in, value);
}

}  // namespace peerlite::protocol
