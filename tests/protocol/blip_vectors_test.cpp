// The real thing: five Couchbase Lite 3.2 replication sessions captured frame by frame
// (tests/vectors/cbl-3.2). Each direction is decoded in order by our session; every
// checksum must verify, every compressed frame inflate, every message come out whole, and the
// ACKs we owe must be the very ACK frames the reference sent. Uncompressed frames re-encode
// byte for byte.
#define BOOST_TEST_MODULE blip_vectors
#include <boost/test/unit_test.hpp>
#include <map>
#include <set>

#include "protocol/frame.hpp"
#include "tests/protocol/blip_test_util.hpp"

using namespace peerlite::protocol;
using namespace blip_test;

namespace {

using key = std::pair<bool, uint64_t>;  ///< (is request, number): requests and replies number apart

struct decoded {
  message msg;
  std::vector<size_t> frames;     ///< capture indexes of its frames
  bool after_interleave = false;  ///< frames of two messages were interleaved before it completed
};

/// One direction of a capture and the session that receives it (a model of the receiving peer).
struct direction {
  session rx;
  std::vector<decoded> messages;  ///< in completion order
  std::map<key, std::vector<size_t>> open;
  bool interleaved = false;
  uint64_t max_request_seen = 0;
  size_t compressed_frames = 0;
  std::vector<std::string> acks_owed;  ///< ACK frames rx wants to send back
  std::vector<std::string> acks_seen;  ///< ACK frames the sender of this direction received
};

struct capture {
  std::string name;
  std::vector<wire_frame> frames;
  direction dir[2];  ///< [0] = s2c, [1] = c2s
};

bool is_data(const frame_header& h) { return !h.is_ack() && (h.flags & flag::type_mask) <= 2; }

frame_header header_of(std::string_view frame) {
  frame_header h;
  BOOST_REQUIRE(read_frame_header(frame, h).ok());
  return h;
}

/// Takes the frames a receiving session wants to send; keeps its ACKs.
void drain_owed(direction& d) {
  std::string frame;
  while (d.rx.next_frame(frame))
    if (header_of(frame).is_ack()) d.acks_owed.push_back(frame);
}

void track_frame(capture& c, direction& me, direction& other, size_t i, const frame_header& h) {
  key k{h.type() == message_type::request, h.number};
  if (k.first && h.number > me.max_request_seen) {
    /// The peer receiving the replies to this request must know it sent it: send a stand-in
    /// from the opposite direction's session so the reply correlates.
    me.max_request_seen = h.number;
    message stand_in;
    stand_in.no_reply = h.flags & flag::no_reply;
    BOOST_REQUIRE_EQUAL(other.rx.send(stand_in), h.number);
    drain_owed(other);
  }
  if (!me.open.empty() && !me.open.count(k)) me.interleaved = true;
  me.open[k].push_back(i);
  if (h.flags & flag::compressed) ++me.compressed_frames;
  (void)c;
}

capture decode(const std::string& name) {
  capture c;
  c.name = name;
  c.frames = load_capture(name);
  for (size_t i = 0; i < c.frames.size(); ++i) {
    auto& f = c.frames[i];
    direction& me = c.dir[f.c2s];
    direction& other = c.dir[!f.c2s];
    frame_header h = header_of(f.bytes);
    if (is_data(h)) track_frame(c, me, other, i, h);
    if (h.is_ack()) other.acks_seen.push_back(f.bytes);
    auto st = me.rx.receive_frame(f.bytes);
    BOOST_REQUIRE_MESSAGE(st.ok(), name << " frame " << i << ": " << st.message());
    while (auto m = me.rx.next_incoming()) {
      key k{m->type == message_type::request, m->number};
      me.messages.push_back({*m, me.open[k], me.interleaved});
      me.open.erase(k);
    }
    drain_owed(me);
  }
  return c;
}

std::vector<std::pair<std::string, int>> profile_runs(const direction& d) {
  std::vector<std::pair<std::string, int>> runs;
  for (auto& m : d.messages) {
    if (m.msg.type != message_type::request) continue;
    std::string p(m.msg.profile());
    if (!runs.empty() && runs.back().first == p)
      ++runs.back().second;
    else
      runs.emplace_back(p, 1);
  }
  return runs;
}

int count_type(const direction& d, message_type t) {
  int n = 0;
  for (auto& m : d.messages) n += m.msg.type == t;
  return n;
}

struct expectation {
  std::vector<std::pair<std::string, int>> c2s_profiles, s2c_profiles;
  int c2s_replies, c2s_errors, s2c_replies, s2c_errors;
  size_t c2s_acks, s2c_acks;
};

/// The checks every capture gets; returns the decoded capture for capture-specific ones.
capture check_capture(const std::string& name, const expectation& e) {
  capture c = decode(name);
  direction& s2c = c.dir[0];
  direction& c2s = c.dir[1];
  BOOST_CHECK(profile_runs(c2s) == e.c2s_profiles);
  BOOST_CHECK(profile_runs(s2c) == e.s2c_profiles);
  BOOST_CHECK_EQUAL(count_type(c2s, message_type::reply), e.c2s_replies);
  BOOST_CHECK_EQUAL(count_type(c2s, message_type::error), e.c2s_errors);
  BOOST_CHECK_EQUAL(count_type(s2c, message_type::reply), e.s2c_replies);
  BOOST_CHECK_EQUAL(count_type(s2c, message_type::error), e.s2c_errors);
  for (direction* d : {&s2c, &c2s}) {
    BOOST_CHECK(d->open.empty());                  // every message came out whole
    BOOST_CHECK_EQUAL(d->rx.pending_count(), 0u);  // every request that wanted one got a reply
  }
  /// The ACKs our receiving session owes are exactly the ACK frames the reference sent.
  BOOST_CHECK_EQUAL(c2s.acks_seen.size(), e.s2c_acks);
  BOOST_CHECK_EQUAL(s2c.acks_seen.size(), e.c2s_acks);
  BOOST_CHECK(c2s.acks_owed == c2s.acks_seen);
  BOOST_CHECK(s2c.acks_owed == s2c.acks_seen);
  return c;
}

/// Rebuilds each uncompressed single-frame message from its decoded form with the frame
/// functions the session uses; the running CRC before it is the previous frame's checksum
/// (which our decoder verified). Returns how many frames matched byte for byte.
size_t reencode_frames(const capture& c, bool c2s) {
  std::map<size_t, const decoded*> by_frame;
  for (auto& m : c.dir[c2s].messages)
    if (m.frames.size() == 1) by_frame[m.frames[0]] = &m;
  uint32_t crc = 0;
  size_t matched = 0;
  for (size_t i = 0; i < c.frames.size(); ++i) {
    auto& f = c.frames[i];
    if (f.c2s != c2s) continue;
    frame_header h = header_of(f.bytes);
    if (!is_data(h)) continue;
    auto it = by_frame.find(i);
    if (!(h.flags & flag::compressed) && it != by_frame.end()) {
      std::string data, frame;
      append_message_bytes(data, it->second->msg.properties, it->second->msg.body);
      append_frame_header(frame, h.number, h.flags);
      frame += data;
      append_checksum(frame, extend_crc(crc, data));
      BOOST_CHECK_MESSAGE(frame == f.bytes, c.name << " frame " << i << " re-encodes as "
                                                   << hex(frame) << " not " << hex(f.bytes));
      matched += frame == f.bytes;
    }
    crc = read_checksum(f.bytes.data() + f.bytes.size() - kChecksumSize);
  }
  return matched;
}

/// Sends every decoded message of one direction again through a fresh session, one at a time
/// and with the same flags, as long as the reference did not interleave: the uncompressed
/// messages' frames (checksums included) must equal the captured ones byte for byte.
size_t resend_messages(const capture& c, bool c2s) {
  session tx;
  size_t matched = 0;
  for (auto& m : c.dir[c2s].messages) {
    if (m.after_interleave) break;
    message copy = m.msg;
    BOOST_REQUIRE_EQUAL(tx.send(copy), m.msg.number);
    std::vector<std::string> ours;
    for (std::string f; tx.next_frame(f);) ours.push_back(f);
    if (m.msg.compressed) continue;
    std::vector<std::string> theirs;
    for (size_t i : m.frames) theirs.push_back(c.frames[i].bytes);
    BOOST_CHECK_MESSAGE(ours == theirs,
                        c.name << " message #" << m.msg.number << " does not re-send identically");
    matched += ours == theirs;
  }
  return matched;
}

size_t uncompressed_messages(const direction& d) {
  size_t n = 0;
  for (auto& m : d.messages) n += !m.msg.compressed;
  return n;
}

void check_reencoding(const capture& c) {
  for (bool c2s : {false, true}) {
    const direction& d = c.dir[c2s];
    size_t framed = reencode_frames(c, c2s);
    BOOST_CHECK_EQUAL(framed, uncompressed_messages(d));
    size_t resent = resend_messages(c, c2s);
    if (!d.interleaved) BOOST_CHECK_EQUAL(resent, uncompressed_messages(d));
    BOOST_TEST_MESSAGE(c.name << (c2s ? " c2s" : " s2c") << ": " << d.messages.size()
                              << " messages, " << d.compressed_frames << " compressed frames, "
                              << framed << " frames re-encoded, " << resent
                              << " messages re-sent byte for byte");
  }
}

const message* find_request(const direction& d, std::string_view profile, size_t nth = 0) {
  for (auto& m : d.messages)
    if (m.msg.type == message_type::request && m.msg.profile() == profile && nth-- == 0)
      return &m.msg;
  return nullptr;
}

}  // namespace

BOOST_AUTO_TEST_CASE(push_six_docs) {
  capture c = check_capture(
      "push", {{{"getCheckpoint", 1}, {"proposeChanges", 1}, {"rev", 6}, {"setCheckpoint", 1}},
               {},
               0,
               0,
               8,
               1,
               0,
               0});
  check_reencoding(c);
  auto& s2c = c.dir[0];
  auto& c2s = c.dir[1];
  auto* cp = find_request(c2s, "getCheckpoint");
  BOOST_REQUIRE(cp);
  BOOST_CHECK(cp->property("client").starts_with("cp-"));
  /// getCheckpoint -> ERR HTTP/404 (no checkpoint yet).
  BOOST_REQUIRE(!s2c.messages.empty());
  auto& first = s2c.messages[0].msg;
  BOOST_CHECK(first.is_error());
  BOOST_CHECK_EQUAL(first.number, 1u);
  BOOST_CHECK_EQUAL(first.error_domain(), "HTTP");
  BOOST_CHECK_EQUAL(first.error_code(), 404);
  /// The 40 KB compressible doc arrives whole from a single compressed frame.
  auto* big = find_request(c2s, "rev", 5);
  BOOST_REQUIRE(big);
  BOOST_CHECK_EQUAL(big->property("id"), "big");
  BOOST_CHECK(big->compressed);
  BOOST_CHECK_EQUAL(big->body.size(), 40011u);
  BOOST_CHECK_EQUAL(big->property("sequence"), "6");
  /// setCheckpoint's reply carries the new checkpoint rev.
  auto& last = s2c.messages.back().msg;
  BOOST_CHECK_EQUAL(last.type, message_type::reply);
  BOOST_CHECK_EQUAL(last.property("rev"), "1-cc");
  auto* set = find_request(c2s, "setCheckpoint");
  BOOST_REQUIRE(set);
  BOOST_CHECK_EQUAL(last.number, set->number);
}

BOOST_AUTO_TEST_CASE(pull_three_docs) {
  capture c =
      check_capture("pull", {{{"getCheckpoint", 1}, {"subChanges", 1}, {"setCheckpoint", 2}},
                             {{"changes", 2}, {"rev", 3}},
                             4,
                             0,
                             4,
                             0,
                             0,
                             0});
  check_reencoding(c);
  auto* rev = find_request(c.dir[0], "rev");
  BOOST_REQUIRE(rev);
  BOOST_CHECK(rev->has_property("id"));
  BOOST_CHECK(rev->property("rev").starts_with("1-"));
}

BOOST_AUTO_TEST_CASE(bidi_with_conflict) {
  capture c = check_capture("bidi", {{{"getCheckpoint", 1},
                                      {"proposeChanges", 1},
                                      {"subChanges", 1},
                                      {"rev", 1},
                                      {"setCheckpoint", 3}},
                                     {{"changes", 2}, {"rev", 1}},
                                     2,
                                     0,
                                     7,
                                     0,
                                     0,
                                     0});
  check_reencoding(c);
}

BOOST_AUTO_TEST_CASE(push_big_multi_frame_and_acks) {
  capture c = check_capture(
      "push-big",
      {{{"getCheckpoint", 1}, {"proposeChanges", 2}, {"rev", 303}, {"setCheckpoint", 1}},
       {},
       0,
       0,
       306,
       1,
       0,
       2});
  check_reencoding(c);
  auto& c2s = c.dir[1];
  /// r1..r3: 40/80/120 KB incompressible bodies spanning 2, 4 and 6 frames.
  const size_t sizes[] = {40011, 80011, 120011}, frames[] = {2, 4, 6};
  for (size_t i = 0; i < 3; ++i) {
    auto* r = find_request(c2s, "rev", i);
    BOOST_REQUIRE(r);
    const char* ids[] = {"r1", "r2", "r3"};
    BOOST_CHECK_EQUAL(r->property("id"), ids[i]);
    BOOST_CHECK_EQUAL(r->body.size(), sizes[i]);
    for (auto& m : c2s.messages)
      if (&m.msg == r) BOOST_CHECK_EQUAL(m.frames.size(), frames[i]);
  }
  /// The server ACKed messages 5 and 6 after 60,968 and 65,417 received bytes.
  BOOST_REQUIRE_EQUAL(c2s.acks_owed.size(), 2u);
  BOOST_CHECK_EQUAL(hex(c2s.acks_owed[0]), "0534a8dc03");
  BOOST_CHECK_EQUAL(hex(c2s.acks_owed[1]), "063489ff03");
}

BOOST_AUTO_TEST_CASE(pull_big_interleaved) {
  capture c =
      check_capture("pull-big", {{{"getCheckpoint", 1}, {"subChanges", 1}, {"setCheckpoint", 3}},
                                 {{"changes", 3}, {"rev", 304}},
                                 306,
                                 0,
                                 4,
                                 1,
                                 2,
                                 0});
  check_reencoding(c);
  auto& s2c = c.dir[0];
  BOOST_CHECK(s2c.interleaved);  // the reference round-robined a big rev with small ones
  std::set<std::string> ids;
  for (auto& m : s2c.messages)
    if (m.msg.profile() == "rev") ids.insert(std::string(m.msg.property("id")));
  BOOST_CHECK_EQUAL(ids.size(), 304u);
}
