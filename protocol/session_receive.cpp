// The incoming half of protocol::session: frames in, whole messages and owed ACKs out.
#include <fmt/format.h>

#include "protocol/session_impl.hpp"
#include "protocol/varint.hpp"

namespace peerlite::protocol {

namespace {
const char* type_name(uint8_t flags) {
  static const char* const kNames[8] = {"MSG",    "RPY",    "ERR",    "type-3",
                                        "ACKMSG", "ACKRPY", "type-6", "type-7"};
  return kNames[flags & flag::type_mask];
}

/// Prefixes an error with the frame it came from, for logs people can follow.
status in_frame(const frame_header& h, const status& st) {
  return {st.code(), fmt::format("BLIP {} #{}: {}", type_name(h.flags), h.number, st.message())};
}

void start_message(message& m, const frame_header& h) {
  m.type = h.type();
  m.number = h.number;
  m.urgent = h.flags & flag::urgent;
  m.no_reply = h.flags & flag::no_reply;
  m.compressed = h.flags & flag::compressed;
}
}  // namespace

status session::impl::fail(status st) {
  failure = std::move(st);
  return failure;
}

status session::impl::receive(std::string_view frame) {
  if (closed) return {errc::disconnected, "BLIP session closed"};
  if (!failure.ok()) return failure;
  ++stats.frames_received;
  stats.bytes_received += frame.size();
  frame_header h;
  if (auto st = read_frame_header(frame, h); !st) return fail(st);
  if (h.is_ack()) return receive_ack(h, frame);
  /// Types 3, 6 and 7 are reserved: the spec says to ignore them.
  if ((h.flags & flag::type_mask) > 2) return {};
  return receive_data(h, frame);
}

status session::impl::receive_ack(const frame_header& h, std::string_view body) {
  uint64_t bytes = 0;
  if (!read_varint(body, bytes))
    return fail(in_frame(h, {errc::protocol_error, "truncated or bad byte-count varint"}));
  apply_ack(h.type() == message_type::ack_request, h.number, bytes);
  return {};
}

status session::impl::receive_data(const frame_header& h, std::string_view body) {
  if (body.size() < kChecksumSize)
    return fail(in_frame(
        h, {errc::protocol_error, fmt::format("truncated frame ({} bytes after the header, no room "
                                              "for the checksum)",
                                              body.size())}));
  std::string_view payload = body.substr(0, body.size() - kChecksumSize);
  uint32_t checksum = read_checksum(body.data() + payload.size());
  partial* p = nullptr;
  status st = locate(h, p);
  if (st)
    st = p ? receive_piece(*p, h, payload, checksum, body.size())
           : receive_whole(h, payload, checksum, body.size());
  return st ? st : fail(in_frame(h, st));
}

/// Applies the request-number rule and reply correlation (PROTOCOL.md §1 "Correlation").
/// Leaves `p` null for a message that is whole in this one frame.
status session::impl::locate(const frame_header& h, partial*& p) {
  bool more = h.flags & flag::more_coming;
  if (h.type() == message_type::request) {
    if (h.number == last_request_received + 1) {
      ++last_request_received;
      if (more && !(p = start_partial(requests_in, h)))
        return {errc::too_large,
                fmt::format("more than {} incoming messages incomplete", kMaxIncompleteMessages)};
      return {};
    }
    auto it = requests_in.find(h.number);
    if (it == requests_in.end())
      return {errc::protocol_error,
              fmt::format("request number out of order (expected #{})", last_request_received + 1)};
    p = &it->second;
    return {};
  }
  if (auto it = replies_in.find(h.number); it != replies_in.end()) {
    p = &it->second;
    return {};
  }
  if (!pending.contains(h.number))
    return {errc::protocol_error, "reply to a request number we have no pending request for"};
  if (more && !(p = start_partial(replies_in, h)))
    return {errc::too_large,
            fmt::format("more than {} incoming messages incomplete", kMaxIncompleteMessages)};
  return {};
}

partial* session::impl::start_partial(std::unordered_map<uint64_t, partial>& in,
                                      const frame_header& h) {
  if (requests_in.size() + replies_in.size() >= kMaxIncompleteMessages) return nullptr;
  partial& p = in[h.number];
  start_message(p.msg, h);
  return &p;
}

/// Appends this frame's message bytes (inflated if compressed) to `into` and checks the CRC.
status session::impl::take_payload(const frame_header& h, std::string_view payload,
                                   uint32_t checksum, std::string& into) {
  size_t before = into.size();
  if (h.flags & flag::compressed) {
    if (!inflate) inflate.emplace();
    if (auto st = inflate->inflate(payload, into, options.max_message_size); !st) return st;
  } else {
    if (payload.size() > options.max_message_size - before)
      return {errc::too_large,
              fmt::format("message exceeds the size cap of {} bytes", options.max_message_size)};
    into.append(payload);
  }
  crc_in = extend_crc(crc_in, std::string_view(into).substr(before));
  if (crc_in != checksum)
    return {errc::protocol_error,
            fmt::format("checksum mismatch (running CRC32 is {:08x}, frame says {:08x})", crc_in,
                        checksum)};
  return {};
}

/// The common case: a message in one frame, decoded straight from the frame (or the scratch
/// buffer it inflated into) without a partial.
status session::impl::receive_whole(const frame_header& h, std::string_view payload,
                                    uint32_t checksum, size_t raw_bytes) {
  std::string_view data = payload;
  if (h.flags & flag::compressed) {
    scratch.clear();
    if (auto st = take_payload(h, payload, checksum, scratch); !st) return st;
    data = scratch;
  } else {
    if (payload.size() > options.max_message_size)
      return {errc::too_large,
              fmt::format("message exceeds the size cap of {} bytes", options.max_message_size)};
    crc_in = extend_crc(crc_in, payload);
    if (crc_in != checksum)
      return {errc::protocol_error,
              fmt::format("checksum mismatch (running CRC32 is {:08x}, frame says {:08x})", crc_in,
                          checksum)};
  }
  if (raw_bytes >= kIncomingAckThreshold) owe_ack(h, raw_bytes);
  message& m = ready.emplace_back();
  start_message(m, h);
  return deliver(m, data);
}

status session::impl::receive_piece(partial& p, const frame_header& h, std::string_view payload,
                                    uint32_t checksum, size_t raw_bytes) {
  size_t before = p.data.size();
  if (auto st = take_payload(h, payload, checksum, p.data); !st) return st;
  p.msg.compressed |= (h.flags & flag::compressed) != 0;
  buffered += p.data.size() - before;
  if (buffered > options.max_buffered_size)
    return {errc::too_large, fmt::format("more than {} bytes of incomplete incoming messages",
                                         options.max_buffered_size)};
  if (auto st = check_properties_prefix(p.data, options.max_properties_size); !st) return st;
  p.raw_received += raw_bytes;
  if (p.raw_received - p.raw_acked >= kIncomingAckThreshold) {
    owe_ack(h, p.raw_received);
    p.raw_acked = p.raw_received;
  }
  if (h.flags & flag::more_coming) return {};
  /// Complete: move it out of its map before decoding.
  auto& map = h.type() == message_type::request ? requests_in : replies_in;
  auto node = map.extract(h.number);
  buffered -= node.mapped().data.size();
  return deliver(ready.emplace_back(std::move(node.mapped().msg)), node.mapped().data);
}

void session::impl::owe_ack(const frame_header& h, uint64_t raw_received) {
  auto type =
      h.type() == message_type::request ? message_type::ack_request : message_type::ack_reply;
  acks.push_back(make_ack_frame(type, h.number, raw_received));
}

/// Decodes a complete message in place at the back of `ready` (no move of the decoded
/// message), where it stays only if it decodes; a reply settles its pending request.
status session::impl::deliver(message& m, std::string_view data) {
  if (auto st = decode_message_bytes(data, options.max_properties_size, m); !st) {
    ready.pop_back();
    return st;
  }
  if (m.type != message_type::request) pending.take(m.number);
  return {};
}

}  // namespace peerlite::protocol
