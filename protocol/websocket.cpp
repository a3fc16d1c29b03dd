// RFC 6455 framing: encoder and incremental decoder (see websocket.hpp for the contract).
#include "protocol/websocket.hpp"

#include <simdjson.h>

#include <cstring>

#include "protocol/tuning.hpp"

namespace peerlite::protocol::ws {

namespace {

constexpr uint8_t kFin = 0x80;
constexpr uint8_t kRsvMask = 0x70;
constexpr uint8_t kOpMask = 0x0F;
constexpr uint8_t kMaskBit = 0x80;
constexpr uint8_t kLenMask = 0x7F;
constexpr uint8_t kLen16 = 126;
constexpr uint8_t kLen64 = 127;

bool is_control(opcode op) { return static_cast<uint8_t>(op) >= 0x8; }

bool known_opcode(uint8_t op) { return op <= 0x2 || (op >= 0x8 && op <= 0xA); }

/// XORs `n` bytes at `p` with the 4-byte mask, starting at mask phase `phase`.
void apply_mask(char* p, size_t n, const uint8_t mask[4], uint64_t phase) {
  uint8_t rotated[4];
  for (int i = 0; i < 4; ++i) rotated[i] = mask[(phase + i) & 3];
  for (size_t i = 0; i < n; ++i) p[i] = static_cast<char>(p[i] ^ rotated[i & 3]);
}

/// Header bytes implied by the first two header bytes.
size_t header_size(uint8_t b1) {
  size_t n = 2;
  uint8_t len = b1 & kLenMask;
  if (len == kLen16) n += 2;
  if (len == kLen64) n += 8;
  if (b1 & kMaskBit) n += 4;
  return n;
}

bool valid_utf8(std::string_view s) { return simdjson::validate_utf8(s.data(), s.size()); }

}  // namespace

namespace close_code {
bool sendable(uint16_t code) {
  if (code >= 3000 && code <= 4999) return true;
  return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014);
}
bool transient(uint16_t code) { return code == abnormal || code == app_transient; }
}  // namespace close_code

void encode_frame(std::string& out, opcode op, bool fin, std::string_view payload,
                  std::optional<uint32_t> mask) {
  uint8_t hdr[14];
  size_t h = 0;
  hdr[h++] = static_cast<uint8_t>((fin ? kFin : 0) | static_cast<uint8_t>(op));
  uint8_t mbit = mask ? kMaskBit : 0;
  uint64_t n = payload.size();
  if (n < kLen16) {
    hdr[h++] = static_cast<uint8_t>(mbit | n);
  } else if (n <= 0xFFFF) {
    hdr[h++] = mbit | kLen16;
    hdr[h++] = static_cast<uint8_t>(n >> 8);
    hdr[h++] = static_cast<uint8_t>(n);
  } else {
    hdr[h++] = mbit | kLen64;
    for (int shift = 56; shift >= 0; shift -= 8) hdr[h++] = static_cast<uint8_t>(n >> shift);
  }
  uint8_t key[4] = {};
  if (mask) {
    for (int i = 0; i < 4; ++i) key[i] = static_cast<uint8_t>(*mask >> (24 - 8 * i));
    std::memcpy(hdr + h, key, 4);
    h += 4;
  }
  size_t start = out.size();
  out.resize(start + h + n);
  std::memcpy(out.data() + start, hdr, h);
  if (n) std::memcpy(out.data() + start + h, payload.data(), n);
  if (mask) apply_mask(out.data() + start + h, n, key, 0);
}

std::string close_payload(uint16_t code, std::string_view reason) {
  size_t keep = std::min(reason.size(), kWsMaxControlPayload - 2);
  /// Never cut a UTF-8 sequence in half: the peer would reject the reason as bad data.
  if (keep < reason.size())
    while (keep > 0 && (static_cast<uint8_t>(reason[keep]) & 0xC0) == 0x80) --keep;
  std::string p;
  p.reserve(2 + keep);
  p.push_back(static_cast<char>(code >> 8));
  p.push_back(static_cast<char>(code & 0xFF));
  p.append(reason.substr(0, keep));
  return p;
}

// ---- decoder ---------------------------------------------------------------------------------

decoder::decoder(role local, size_t max_message) : local_(local), max_message_(max_message) {}

status decoder::fail(errc code, uint16_t close, std::string msg) {
  error_ = status{code, "websocket: " + std::move(msg)};
  fail_code_ = close;
  return error_;
}

status decoder::feed(std::string_view in) {
  if (failed()) return error_;
  while (true) {
    if (!in_payload_) {
      in.remove_prefix(parse_header(in));
      if (failed()) return error_;
      if (!in_payload_) return {};  // header incomplete: all input consumed
    }
    in.remove_prefix(parse_payload(in));
    if (remaining_ > 0) return {};  // payload incomplete: all input consumed
    in_payload_ = false;
    if (auto st = finish_frame(); !st.ok()) return st;
    if (in.empty()) return {};
  }
}

size_t decoder::parse_header(std::string_view in) {
  size_t used = 0;
  auto want = [&](size_t n) {
    while (header_.size() < n && used < in.size()) header_.push_back(in[used++]);
    return header_.size() >= n;
  };
  if (!want(2)) return used;
  if (!want(header_size(static_cast<uint8_t>(header_[1])))) return used;
  if (!check_header().ok()) return used;
  header_.clear();
  in_payload_ = true;
  return used;
}

/// Validates a complete header in header_ and loads the frame state from it.
status decoder::check_header() {
  auto b0 = static_cast<uint8_t>(header_[0]);
  auto b1 = static_cast<uint8_t>(header_[1]);
  if (b0 & kRsvMask)
    return fail(errc::protocol_error, close_code::protocol_error,
                "reserved bits set (no extension was negotiated)");
  if (!known_opcode(b0 & kOpMask))
    return fail(errc::protocol_error, close_code::protocol_error,
                "unknown opcode " + std::to_string(b0 & kOpMask));
  fin_ = b0 & kFin;
  op_ = static_cast<opcode>(b0 & kOpMask);
  masked_ = b1 & kMaskBit;
  if (masked_ != (local_ == role::server))
    return fail(
        errc::protocol_error, close_code::protocol_error,
        local_ == role::server ? "unmasked frame from the client" : "masked frame from the server");
  uint64_t len = b1 & kLenMask;
  size_t pos = 2;
  if (len == kLen16) {
    len = (uint64_t{static_cast<uint8_t>(header_[2])} << 8) | static_cast<uint8_t>(header_[3]);
    pos = 4;
  } else if (len == kLen64) {
    len = 0;
    for (pos = 2; pos < 10; ++pos) len = (len << 8) | static_cast<uint8_t>(header_[pos]);
    if (len >> 63)
      return fail(errc::protocol_error, close_code::protocol_error,
                  "64-bit frame length with the top bit set");
  }
  if (masked_) std::memcpy(mask_, header_.data() + pos, 4);
  remaining_ = len;
  mask_pos_ = 0;
  return is_control(op_) ? check_control(len) : check_data(len);
}

status decoder::check_control(uint64_t len) {
  if (!fin_)
    return fail(errc::protocol_error, close_code::protocol_error, "fragmented control frame");
  if (len > kWsMaxControlPayload)
    return fail(errc::protocol_error, close_code::protocol_error,
                "control frame of " + std::to_string(len) + " bytes (max 125)");
  frame_payload_.clear();
  return {};
}

status decoder::check_data(uint64_t len) {
  if (op_ == opcode::continuation) {
    if (!in_message_)
      return fail(errc::protocol_error, close_code::protocol_error,
                  "continuation frame without a message to continue");
  } else {
    if (in_message_)
      return fail(errc::protocol_error, close_code::protocol_error,
                  "new data frame inside a fragmented message");
    in_message_ = true;
    message_op_ = op_;
    message_.clear();
  }
  if (len > max_message_ - message_.size())
    return fail(errc::too_large, close_code::too_big,
                "message of more than " + std::to_string(max_message_) + " bytes");
  /// Reserve once per message only: per-fragment exact reserves would copy quadratically.
  if (message_.empty()) message_.reserve(len);
  return {};
}

size_t decoder::parse_payload(std::string_view in) {
  size_t n = static_cast<size_t>(std::min<uint64_t>(remaining_, in.size()));
  std::string& dst = is_control(op_) ? frame_payload_ : message_;
  size_t start = dst.size();
  dst.append(in.data(), n);
  if (masked_) apply_mask(dst.data() + start, n, mask_, mask_pos_);
  mask_pos_ += n;
  remaining_ -= n;
  return n;
}

status decoder::finish_frame() {
  if (is_control(op_)) return finish_control();
  if (!fin_) return {};
  in_message_ = false;
  if (message_op_ == opcode::text && !valid_utf8(message_))
    return fail(errc::protocol_error, close_code::bad_data, "text message is not UTF-8");
  event ev;
  ev.op = message_op_;
  ev.payload = std::move(message_);
  message_.clear();
  events_.push_back(std::move(ev));
  return {};
}

status decoder::finish_control() {
  event ev;
  ev.op = op_;
  if (op_ == opcode::close) {
    if (frame_payload_.size() == 1)
      return fail(errc::protocol_error, close_code::protocol_error, "close frame of 1 byte");
    if (frame_payload_.empty()) {
      ev.close.code = close_code::no_status;
    } else {
      ev.close.code = static_cast<uint16_t>((static_cast<uint8_t>(frame_payload_[0]) << 8) |
                                            static_cast<uint8_t>(frame_payload_[1]));
      ev.close.reason = frame_payload_.substr(2);
      if (!close_code::sendable(ev.close.code))
        return fail(errc::protocol_error, close_code::protocol_error,
                    "invalid close code " + std::to_string(ev.close.code));
      if (!valid_utf8(ev.close.reason))
        return fail(errc::protocol_error, close_code::bad_data, "close reason is not UTF-8");
    }
  }
  ev.payload = std::move(frame_payload_);
  frame_payload_.clear();
  events_.push_back(std::move(ev));
  return {};
}

std::optional<event> decoder::next() {
  if (events_.empty()) return std::nullopt;
  event ev = std::move(events_.front());
  events_.pop_front();
  return ev;
}

}  // namespace peerlite::protocol::ws
