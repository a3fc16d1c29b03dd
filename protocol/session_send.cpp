// The outgoing half of protocol::session: the outbox, framing, compression and flow control.
#include <algorithm>

#include "protocol/session_impl.hpp"

namespace peerlite::protocol {

uint64_t session::impl::enqueue(message msg) {
  if (closed || !failure.ok()) return 0;
  auto t = msg.type;
  if (t != message_type::request && t != message_type::reply && t != message_type::error) return 0;
  if (!properties_encodable(msg.properties)) return 0;
  outgoing o;
  if (t == message_type::request) {
    o.number = ++last_request_sent;
    pending.add(o.number, !msg.no_reply);
  } else {
    if (msg.number == 0) return 0;
    o.number = msg.number;
  }
  o.flags = static_cast<uint8_t>(t);
  if (msg.urgent) o.flags |= flag::urgent;
  if (msg.no_reply) o.flags |= flag::no_reply;
  if (msg.compressed && options.compression_level > 0) o.flags |= flag::compressed;
  append_message_bytes(o.data, msg.properties, msg.body);
  insert_new(std::move(o));
  return msg.type == message_type::request ? last_request_sent : msg.number;
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
    outgoing o = std::move(outbox.front());
    outbox.pop_front();
    /// Big frames only when nothing else waits, so others never wait behind 16 KiB.
    size_t frame_size = outbox.empty() && acks.empty() ? kBigFrameSize : kDefaultFrameSize;
    if (!write_frame(o, frame_size, out)) return false;
    if (o.offset < o.data.size()) {
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
  out.reserve(frame_size);
  append_frame_header(out, o.number, 0);
  size_t flags_pos = out.size() - 1;
  size_t room = frame_size - out.size() - kChecksumSize;
  std::string_view rest = std::string_view(o.data).substr(o.offset);
  size_t consumed = 0;
  if (o.flags & flag::compressed) {
    if (!deflate)
      deflate.emplace(options.compression_level, options.deflate_window_bits,
                      options.deflate_mem_level);
    auto r = deflate->compress(rest, out, room);
    if (!r || *r == 0) {
      fail(r ? status{errc::protocol_error, "deflate: no room in frame"} : status{r.err()});
      return false;
    }
    consumed = *r;
  } else {
    consumed = std::min(room, rest.size());
    out.append(rest.substr(0, consumed));
  }
  crc_out = extend_crc(crc_out, rest.substr(0, consumed));
  o.offset += consumed;
  out[flags_pos] = static_cast<char>(o.flags | (o.offset < o.data.size() ? flag::more_coming : 0));
  append_checksum(out, crc_out);
  o.bytes_sent += out.size() - (flags_pos + 1);
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
