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
    return fail(in_frame(h, {errc::protocol_error, fmt::format("truncated frame ({} bytes after "
                                                               "the header, no room for the "
                                                               "checksum)",
                                                               body.size())}));
  auto target = find_partial(h);
  if (!target) return fail(in_frame(h, target.err()));
  partial& p = **target;
  std::string_view payload = body.substr(0, body.size() - kChecksumSize);
  uint32_t checksum = read_checksum(body.data() + payload.size());
  if (auto st = append_payload(p, h, payload, checksum); !st) return fail(in_frame(h, st));
  owe_ack_if_due(p, body.size());
  if (h.flags & flag::more_coming) return {};
  if (auto st = complete(p, h.type() == message_type::request); !st) return fail(in_frame(h, st));
  return {};
}

/// Applies the request-number rule and reply correlation (PROTOCOL.md §1 "Correlation").
expected<partial*> session::impl::find_partial(const frame_header& h) {
  auto start = [&h](partial& p) {
    p.msg.type = h.type();
    p.msg.number = h.number;
    p.msg.urgent = h.flags & flag::urgent;
    p.msg.no_reply = h.flags & flag::no_reply;
    p.started = true;
    return &p;
  };
  if (h.type() == message_type::request) {
    if (h.number == last_request_received + 1) {
      if (requests_in.size() >= kMaxIncompleteMessages)
        return error{errc::too_large, fmt::format("more than {} incoming messages incomplete",
                                                  kMaxIncompleteMessages)};
      ++last_request_received;
      return start(requests_in[h.number]);
    }
    auto it = requests_in.find(h.number);
    if (it != requests_in.end()) return &it->second;
    return error{errc::protocol_error, fmt::format("request number out of order (expected #{})",
                                                   last_request_received + 1)};
  }
  auto it = pending.find(h.number);
  if (it == pending.end())
    return error{errc::protocol_error, "reply to a request number we have no pending request for"};
  return it->second.started ? &it->second : start(it->second);
}

status session::impl::append_payload(partial& p, const frame_header& h, std::string_view payload,
                                     uint32_t checksum) {
  size_t before = p.data.size();
  if (h.flags & flag::compressed) {
    if (!inflate) inflate.emplace();
    if (auto st = inflate->inflate(payload, p.data, options.max_message_size); !st) return st;
    p.msg.compressed = true;
  } else {
    if (payload.size() > options.max_message_size - before)
      return {errc::too_large,
              fmt::format("message exceeds the size cap of {} bytes", options.max_message_size)};
    p.data.append(payload);
  }
  std::string_view added = std::string_view(p.data).substr(before);
  crc_in = extend_crc(crc_in, added);
  if (crc_in != checksum)
    return {errc::protocol_error,
            fmt::format("checksum mismatch (running CRC32 is {:08x}, frame says {:08x})", crc_in,
                        checksum)};
  buffered += added.size();
  if (buffered > options.max_buffered_size)
    return {errc::too_large, fmt::format("more than {} bytes of incomplete incoming messages",
                                         options.max_buffered_size)};
  return check_properties_prefix(p.data, options.max_properties_size);
}

void session::impl::owe_ack_if_due(partial& p, size_t raw_bytes) {
  p.raw_received += raw_bytes;
  if (p.raw_received - p.raw_acked < kIncomingAckThreshold) return;
  auto type =
      p.msg.type == message_type::request ? message_type::ack_request : message_type::ack_reply;
  acks.push_back(make_ack_frame(type, p.msg.number, p.raw_received));
  p.raw_acked = p.raw_received;
}

status session::impl::complete(partial& p, bool is_request) {
  message m = std::move(p.msg);
  status st = decode_message_bytes(p.data, options.max_properties_size, m);
  buffered -= p.data.size();
  if (is_request)
    requests_in.erase(m.number);
  else
    pending.erase(m.number);
  if (!st) return st;
  ready.push_back(std::move(m));
  return {};
}

}  // namespace peerlite::protocol
