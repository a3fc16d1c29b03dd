// BLIP frame and message encoding (PROTOCOL.md §1), below the session: pure functions.
//
// Frame:   varint number | varint flags | payload | 4-byte big-endian running CRC32 (not ACKs)
// Message: varint properties length | properties (key\0value\0...) | body
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "peerlite/status.hpp"
#include "protocol/message.hpp"

namespace peerlite::protocol {

/// The header of one frame.
struct frame_header {
  uint64_t number = 0;
  uint8_t flags = 0;
  message_type type() const { return static_cast<message_type>(flags & flag::type_mask); }
  bool is_ack() const { return (flags & 0x06) == 0x04; }  ///< types 4 and 5
};

/// Reads the header from the front of `frame` and removes it, leaving the frame's body (payload
/// and checksum). Fails with errc::protocol_error for a truncated header, a bad varint, or a
/// flags value that does not fit in one byte.
status read_frame_header(std::string_view& frame, frame_header& header);

/// Appends a frame header to `out`. `flags` must be < 0x80 (one byte on the wire).
void append_frame_header(std::string& out, uint64_t number, uint8_t flags);

/// Appends `crc` as 4 big-endian bytes, or writes them to `four`; reads them back from 4 bytes.
void append_checksum(std::string& out, uint32_t crc);
void write_checksum(char* four, uint32_t crc);
uint32_t read_checksum(const char* four);

/// The running CRC32 (standard CRC-32, as zlib crc32) of `crc` extended by `data`.
uint32_t extend_crc(uint32_t crc, std::string_view data);

/// An ACK frame (no checksum): type ack_request/ack_reply, urgent + no-reply, body =
/// varint(bytes received of that message).
std::string make_ack_frame(message_type ack_type, uint64_t number, uint64_t bytes_received);

/// True when every property key and value can be sent (none contains a NUL byte).
bool properties_encodable(const property_list& properties);

/// Bytes of the encoded properties block (key\0value\0...), without its length prefix.
size_t properties_size(const property_list& properties);

/// properties_size() and properties_encodable() in one pass over the strings: the size, or
/// kNotEncodable when a key or value contains a NUL byte.
constexpr size_t kNotEncodable = static_cast<size_t>(-1);
size_t encodable_properties_size(const property_list& properties);

/// Bytes of the whole encoded message (properties length, properties, body).
size_t message_bytes_size(const property_list& properties, size_t body_size);

/// Appends the encoded message (properties length, properties, body) to `out`.
void append_message_bytes(std::string& out, const property_list& properties, std::string_view body);

/// Writes bytes [from, from + n) of the encoded message to `dst` (room for n bytes) and returns
/// how many it wrote (n, clipped to the message's end). Encodes only that range: the session
/// frames messages straight from the caller's properties and body this way, without first
/// copying them into one encoded buffer.
size_t write_message_range(char* dst, const property_list& properties, std::string_view body,
                           size_t from, size_t n);
/// The same, for a caller that already knows properties_size(properties) (the session keeps it
/// per outgoing message instead of summing the strings again for every frame).
size_t write_message_range(char* dst, const property_list& properties, size_t properties_bytes,
                           std::string_view body, size_t from, size_t n);

/// Checks the properties length prefix of a message's first `bytes` (possibly incomplete).
/// Returns errc::too_large when the declared length exceeds `max_properties`, protocol_error
/// for a bad varint; ok when fine or when the prefix has not fully arrived yet.
status check_properties_prefix(std::string_view bytes, size_t max_properties);

/// Decodes a whole encoded message into `out.properties` and `out.body`. Fails with
/// errc::protocol_error (bad length varint, properties running past the end, a block not
/// ending in NUL, an odd number of strings) or errc::too_large (properties over the cap).
status decode_message_bytes(std::string_view bytes, size_t max_properties, message& out);

}  // namespace peerlite::protocol
