// libFuzzer target: the BLIP session (protocol/session.hpp) on arbitrary frames.
//
// Input byte 0 picks the mode:
//  - bit 7 clear, "peer": the rest is frames, each as a 2-byte big-endian length + bytes, fed
//    to one session as if a peer sent them. Requests that come out are answered (driving the
//    outbox, ACKs and deflate) and decoded with the replication codecs for their Profile.
//  - bit 7 clear, bit 6 set, "byte stream": the rest is raw client bytes of a BYTE_STREAM
//    connection, fed in 7-byte chunks to a server ws::stream whose messages go to the session.
//  - bit 7 set, "loopback": the rest is message specs (1 flag byte, 2-byte length, body) sent
//    by session A and delivered frame by frame to session B; B must produce exactly the same
//    messages in the same order (the round-trip property, under fuzzed sizes and flags).
// Bits 0-3 choose the compression level (0..9) of the sending side.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "protocol/rep_messages.hpp"
#include "protocol/session.hpp"
#include "protocol/tuning.hpp"
#include "protocol/websocket.hpp"

using namespace peerlite;
using namespace peerlite::protocol;

namespace {

/// Touches the replication decoder of a request's Profile (results are checked by the
/// rep_messages fuzzer; here they only have to survive real session output).
void decode_for_profile(const message& m) {
  std::string_view p = m.profile();
  if (p == rep::profile::changes)
    (void)rep::changes_request::decode(m);
  else if (p == rep::profile::propose_changes)
    (void)rep::propose_changes_request::decode(m);
  else if (p == rep::profile::rev)
    (void)rep::rev_message::decode(m);
  else if (p == rep::profile::set_checkpoint)
    (void)rep::set_checkpoint_request::decode(m);
  else if (p == rep::profile::sub_changes)
    (void)rep::sub_changes_request::decode(m);
}

void drain(session& s) {
  std::string frame;
  for (int i = 0; i < 10000 && s.next_frame(frame); ++i) {
  }
}

void peer_mode(session_options opts, std::string_view in) {
  session s(opts);
  while (in.size() >= 2) {
    size_t n = (static_cast<uint8_t>(in[0]) << 8) | static_cast<uint8_t>(in[1]);
    in.remove_prefix(2);
    std::string_view frame = in.substr(0, n);
    in.remove_prefix(frame.size());
    if (!s.receive_frame(frame).ok()) break;
    while (auto m = s.next_incoming()) {
      decode_for_profile(*m);
      if (m->type == message_type::request && !m->no_reply) {
        message r;
        r.type = message_type::reply;
        r.number = m->number;
        r.body = m->body.substr(0, 100);
        r.compressed = m->compressed;
        s.send(std::move(r));
      }
    }
    drain(s);
  }
  s.close();
}

void byte_stream_mode(session_options opts, std::string_view in) {
  session s(opts);
  ws::stream w(ws::role::server, kWsMaxMessage, 3);
  for (size_t pos = 0; pos < in.size(); pos += 7) {
    if (!w.feed(in.substr(pos, 7)).ok()) break;
    while (auto f = w.next_message()) {
      if (!s.receive_frame(*f).ok()) return;
      while (auto m = s.next_incoming()) decode_for_profile(*m);
    }
    drain(s);
    w.take_output();
  }
}

void loopback_mode(session_options opts, std::string_view in) {
  session a(opts), b;
  std::vector<message> sent;
  size_t total = 0;
  /// A total cap keeps each run fast: what matters is sizes around frame boundaries.
  while (in.size() >= 3 && total < 300'000) {
    message m;
    auto flags = static_cast<uint8_t>(in[0]);
    size_t n = ((static_cast<uint8_t>(in[1]) << 8) | static_cast<uint8_t>(in[2])) * 8;
    in.remove_prefix(3);
    m.urgent = flags & 1;
    m.compressed = flags & 2;
    m.no_reply = true;  /// requests only: no reply correlation needed on the way back
    std::string_view src = in.substr(0, std::min<size_t>(in.size(), 64));
    in.remove_prefix(src.size());
    if (flags & 4) m.properties.emplace_back("Profile", std::string(src.substr(0, 8)));
    for (size_t i = 0; i < n; ++i) m.body.push_back(src.empty() ? 'x' : src[i % src.size()]);
    total += m.body.size();
    message copy = m;
    if (a.send(std::move(m)) != 0) sent.push_back(std::move(copy));  /// 0: NUL in a property
  }
  std::string frame;
  std::vector<message> got;
  /// B's ACKs must flow back, or A stops at 128,000 un-ACKed bytes of a big message.
  for (bool moved = true; moved;) {
    moved = false;
    while (a.next_frame(frame)) {
      moved = true;
      if (!b.receive_frame(frame).ok()) abort();
      while (auto m = b.next_incoming()) got.push_back(std::move(*m));
    }
    while (b.next_frame(frame)) {
      moved = true;
      if (!a.receive_frame(frame).ok()) abort();
    }
  }
  if (got.size() != sent.size()) abort();
  /// Urgent messages may overtake normal ones: compare as multisets keyed by body/properties.
  for (auto& s : sent) {
    bool found = false;
    for (auto& g : got)
      if (!found && g.body == s.body && g.properties == s.properties && g.urgent == s.urgent) {
        found = true;
        g.body = "\x01used";
      }
    if (!found) abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  session_options opts;
  opts.compression_level = data[0] & 0x0F;
  if (opts.compression_level > 9) opts.compression_level = 9;
  std::string_view rest(reinterpret_cast<const char*>(data) + 1, size - 1);
  if (data[0] & 0x80)
    loopback_mode(opts, rest);
  else if (data[0] & 0x40)
    byte_stream_mode(opts, rest);
  else
    peer_mode(opts, rest);
  return 0;
}
