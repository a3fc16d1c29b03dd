#include "protocol/frame.hpp"

#include <zlib.h>

#include "protocol/tuning.hpp"
#include "protocol/varint.hpp"

namespace peerlite::protocol {

status read_frame_header(std::string_view& frame, frame_header& header) {
  std::string_view in = frame;
  uint64_t number = 0, flags = 0;
  if (!read_varint(in, number))
    return {errc::protocol_error, "BLIP frame: truncated or bad message-number varint"};
  if (!read_varint(in, flags))
    return {errc::protocol_error, "BLIP frame: truncated or bad flags varint"};
  if (flags > 0x7f)
    return {errc::protocol_error, "BLIP frame: flags " + std::to_string(flags) + " out of range"};
  header.number = number;
  header.flags = static_cast<uint8_t>(flags);
  frame = in;
  return {};
}

void append_frame_header(std::string& out, uint64_t number, uint8_t flags) {
  put_varint(out, number);
  out.push_back(static_cast<char>(flags));
}

void append_checksum(std::string& out, uint32_t crc) {
  char b[4] = {static_cast<char>(crc >> 24), static_cast<char>(crc >> 16),
               static_cast<char>(crc >> 8), static_cast<char>(crc)};
  out.append(b, 4);
}

uint32_t read_checksum(const char* four) {
  auto b = reinterpret_cast<const unsigned char*>(four);
  return (uint32_t{b[0]} << 24) | (uint32_t{b[1]} << 16) | (uint32_t{b[2]} << 8) | b[3];
}

uint32_t extend_crc(uint32_t crc, std::string_view data) {
  /// zlib takes uInt lengths; feed huge buffers in pieces.
  constexpr size_t kStep = 1u << 30;
  while (data.size() > kStep) {
    crc = static_cast<uint32_t>(
        crc32(crc, reinterpret_cast<const Bytef*>(data.data()), static_cast<uInt>(kStep)));
    data.remove_prefix(kStep);
  }
  return static_cast<uint32_t>(
      crc32(crc, reinterpret_cast<const Bytef*>(data.data()), static_cast<uInt>(data.size())));
}

std::string make_ack_frame(message_type ack_type, uint64_t number, uint64_t bytes_received) {
  std::string out;
  append_frame_header(out, number, static_cast<uint8_t>(ack_type) | flag::urgent | flag::no_reply);
  put_varint(out, bytes_received);
  return out;
}

bool properties_encodable(const property_list& properties) {
  for (auto& [k, v] : properties)
    if (k.find('\0') != std::string::npos || v.find('\0') != std::string::npos) return false;
  return true;
}

void append_message_bytes(std::string& out, const property_list& properties,
                          std::string_view body) {
  size_t props = 0;
  for (auto& [k, v] : properties) props += k.size() + v.size() + 2;
  out.reserve(out.size() + varint_size(props) + props + body.size());
  put_varint(out, props);
  for (auto& [k, v] : properties) {
    out.append(k.data(), k.size() + 1);  // std::string keeps a NUL after its last char
    out.append(v.data(), v.size() + 1);
  }
  out.append(body);
}

status check_properties_prefix(std::string_view bytes, size_t max_properties) {
  uint64_t len = 0;
  if (!read_varint(bytes, len)) {
    if (bytes.size() >= kMaxVarintSize)
      return {errc::protocol_error, "BLIP message: bad properties-length varint"};
    return {};  // not all here yet
  }
  if (len > max_properties)
    return {errc::too_large, "BLIP message: properties of " + std::to_string(len) +
                                 " bytes exceed the cap of " + std::to_string(max_properties)};
  return {};
}

namespace {
/// Splits key\0value\0... into pairs. Views are gathered first so the list is allocated once
/// for the usual handful of properties.
status split_properties(std::string_view block, property_list& out) {
  out.clear();
  if (block.empty()) return {};
  if (block.back() != '\0')
    return {errc::protocol_error, "BLIP message: properties do not end with NUL"};
  constexpr size_t kBatch = 32;  // even, so a flush never splits a pair
  std::string_view strings[kBatch];
  size_t n = 0;
  auto flush = [&] {
    out.reserve(out.size() + n / 2);
    for (size_t i = 0; i + 1 < n; i += 2) out.emplace_back(strings[i], strings[i + 1]);
    n = 0;
  };
  while (!block.empty()) {
    size_t end = block.find('\0');  // found: the block ends with NUL
    strings[n++] = block.substr(0, end);
    block.remove_prefix(end + 1);
    if (n == kBatch) flush();
  }
  if (n % 2) return {errc::protocol_error, "BLIP message: property key without a value"};
  flush();
  return {};
}
}  // namespace

status decode_message_bytes(std::string_view bytes, size_t max_properties, message& out) {
  if (auto st = check_properties_prefix(bytes, max_properties); !st) return st;
  uint64_t len = 0;
  if (!read_varint(bytes, len))
    return {errc::protocol_error, "BLIP message: truncated properties-length varint"};
  if (len > bytes.size())
    return {errc::protocol_error, "BLIP message: properties length " + std::to_string(len) +
                                      " runs past the message end (" +
                                      std::to_string(bytes.size()) + " bytes)"};
  if (auto st = split_properties(bytes.substr(0, len), out.properties); !st) return st;
  out.body.assign(bytes.substr(len));
  return {};
}

}  // namespace peerlite::protocol
