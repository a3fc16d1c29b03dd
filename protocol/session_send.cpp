// The outgoing half of protocol::session: the outbox, framing, compression and flow control.
#include <algorithm>

#include "protocol/session_impl.hpp"
#include "protocol/varint.hpp"

namespace peerlite::protocol {

uint64_t session::impl::enqueue(message&& msg) {
  if (closed || !failure.ok()) return 0;
  auto t = msg.type;
  if (t != message_type::request && t != message_type::reply && t != message_type::error) return 0;
  if (t != message_type::request && msg.number == 0) return 0;
  size_t props = encodable_properties_size(msg.properties);
  if (props == kNotEncodable) return 0;
  auto flags = static_cast<uint8_t>(t);
  if (msg.urgent) flags |= flag::urgent;
  if (msg.no_reply) flags |= flag::no_reply;
  if (msg.compressed && options.compression_level > 0) flags |= flag::compressed;
  uint64_t number = msg.number;
  if (t == message_type::request) {
    number = ++last_request_sent;
    pending.add(number, !msg.no_reply);
  }
  /// A normal message is built in place at the back of the outbox (no move of the ~150-byte
  /// outgoing and no destruction of a moved-from one); an urgent one may go in the middle.
  outgoing urgent;
  outgoing& o = (flags & flag::urgent) ? urgent : outbox.emplace_back();
  o.number = number;
  o.flags = flags;
  if (flags & flag::compressed) {
    append_message_bytes(o.encoded, msg.properties, msg.body);
    o.size = o.encoded.size();
  } else {
    o.properties_bytes = props;
    o.size = varint_size(props) + props + msg.body.size();
    o.properties = std::move(msg.properties);
    o.body = std::move(msg.body);
  }
  if (flags & flag::urgent) insert_new(std::move(urgent));
  return number;
}

/// An urgent message goes ahead of normal ones, but behind other urgent ones and never ahead
/// of an unstarted message of its own numbering (requests must begin in number order).
void session::impl::insert_new(outgoing&& o) {
  if (!o.urgent()) {
    outbox.push_back(std::move(o));
    return;
  }
  auto it = outbox.end();
  while (it != outbox.begin()) {
    auto prev = std::prev(it);
    if (prev->urgent() || (!prev->started() && prev->is_request() == o.is_request())) break;
    it = prev;
  }
  outbox.insert(it, std::move(o));
}

/// A started message goes to the back of its class: round robin among urgent messages (ahead
/// of all normal ones), or among normal messages.
void session::impl::requeue(outgoing&& o) {
  if (!o.urgent()) {
    outbox.push_back(std::move(o));
    return;
  }
  auto it = outbox.end();
  while (it != outbox.begin() && !std::prev(it)->urgent()) --it;
  outbox.insert(it, std::move(o));
}

bool session::impl::frame_next(std::string& out) {
  if (closed || !failure.ok()) return false;
  if (!acks.empty()) {
    out = std::move(acks.front());
    acks.pop_front();
  } else {
    if (outbox.empty()) return false;
    /// Big frames only when nothing else waits, so others never wait behind 16 KiB.
    size_t frame_size = outbox.size() == 1 ? kBigFrameSize : kDefaultFrameSize;
    /// Framed in place: a message that fits in one frame is never moved.
    if (!write_frame(outbox.front(), frame_size, out)) return false;
    if (outbox.front().finished()) {
      outbox.pop_front();
    } else {
      outgoing o = std::move(outbox.front());
      outbox.pop_front();
      if (o.unacked() >= kOutgoingAckThreshold)
        paused.push_back(std::move(o));
      else
        requeue(std::move(o));
    }
  }
  ++stats.frames_sent;
  stats.bytes_sent += out.size();
  return true;
}

bool session::impl::write_frame(outgoing& o, size_t frame_size, std::string& out) {
  out.clear();
  append_frame_header(out, o.number, 0);
  size_t flags_pos = out.size() - 1;
  if (!write_payload(o, frame_size - out.size() - kChecksumSize, out)) return false;
  out[flags_pos] = static_cast<char>(o.flags | (o.finished() ? 0 : flag::more_coming));
  write_checksum(out.data() + out.size() - kChecksumSize, crc_out);
  o.bytes_sent += out.size() - (flags_pos + 1);
  return true;
}

/// Appends as much of `o` as fits in `room` bytes (deflated if compressed) and room for the
/// checksum after it, and extends the running CRC32 over the message bytes it carries (before
/// deflate, as the peer checks them).
bool session::impl::write_payload(outgoing& o, size_t room, std::string& out) {
  if (!(o.flags & flag::compressed)) {
    size_t start = out.size();
    size_t n = std::min(room, o.size - o.offset);
    out.resize(start + n + kChecksumSize);  // exact: a caller may keep each frame
    write_message_range(out.data() + start, o.properties, o.properties_bytes, o.body, o.offset, n);
    crc_out = extend_crc(crc_out, {out.data() + start, n});
    o.offset += n;
    return true;
  }
  if (!deflate)
    deflate.emplace(options.compression_level, options.deflate_window_bits,
                    options.deflate_mem_level);
  out.reserve(out.size() + room + kChecksumSize);
  std::string_view rest = std::string_view(o.encoded).substr(o.offset);
  auto r = deflate->compress(rest, out, room);
  if (!r || *r == 0) {
    fail(r ? status{errc::protocol_error, "deflate: no room in frame"} : status{r.err()});
    return false;
  }
  crc_out = extend_crc(crc_out, rest.substr(0, *r));
  o.offset += *r;
  out.resize(out.size() + kChecksumSize);
  return true;
}

void session::impl::apply_ack(bool for_request, uint64_t number, uint64_t bytes) {
  auto match = [&](const outgoing& o) {
    return o.number == number && o.is_request() == for_request;
  };
  auto acknowledge = [&](outgoing& o) {
    o.bytes_acked = std::clamp(bytes, o.bytes_acked, o.bytes_sent);
  };
  auto p = std::find_if(paused.begin(), paused.end(), match);
  if (p != paused.end()) {
    acknowledge(*p);
    if (p->unacked() < kOutgoingAckThreshold) {
      outgoing o = std::move(*p);
      paused.erase(p);
      requeue(std::move(o));
    }
    return;
  }
  /// An ACK for a message no longer queued crossed its last frame on the wire: ignore it.
  auto q = std::find_if(outbox.begin(), outbox.end(), match);
  if (q != outbox.end()) acknowledge(*q);
}

}  // namespace peerlite::protocol
