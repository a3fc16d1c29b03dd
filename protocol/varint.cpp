#include "protocol/varint.hpp"

#include "protocol/tuning.hpp"

namespace peerlite::protocol {

size_t write_varint(char* dst, uint64_t value) {
  size_t n = 0;
  while (value >= 0x80) {
    dst[n++] = static_cast<char>((value & 0x7f) | 0x80);
    value >>= 7;
  }
  dst[n++] = static_cast<char>(value);
  return n;
}

void put_varint(std::string& out, uint64_t value) {
  char buf[kMaxVarintSize];
  out.append(buf, write_varint(buf, value));
}

size_t varint_size(uint64_t value) {
  size_t n = 1;
  while (value >= 0x80) {
    value >>= 7;
    ++n;
  }
  return n;
}

bool read_long_varint(std::string_view& in, uint64_t& value) {
  uint64_t result = 0;
  for (size_t i = 0; i < in.size() && i < kMaxVarintSize; ++i) {
    auto byte = static_cast<uint8_t>(in[i]);
    /// The 10th byte may only hold the top bit of a uint64_t.
    if (i == kMaxVarintSize - 1 && byte > 1) return false;
    result |= static_cast<uint64_t>(byte & 0x7f) << (7 * i);
    if (byte < 0x80) {
      value = result;
      in.remove_prefix(i + 1);
      return true;
    }
  }
  return false;
}

}  // namespace peerlite::protocol
