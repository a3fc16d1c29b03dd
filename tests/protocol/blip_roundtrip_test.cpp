// Round-trip properties: random messages (bodies 0 B .. 1 MiB, random properties, urgent /
// compressed / no-reply mixes, requests and replies both ways) go through a pair of sessions
// and come out identical; every request begins on the wire in number order.
#define BOOST_TEST_MODULE blip_roundtrip
#include <boost/test/unit_test.hpp>
#include <map>

#include "protocol/frame.hpp"
#include "tests/protocol/blip_test_util.hpp"

using namespace peerlite::protocol;
using namespace blip_test;

namespace {

struct generator {
  std::mt19937_64 rng;
  explicit generator(uint64_t seed) : rng(seed) {}
  size_t below(size_t n) { return n ? rng() % n : 0; }
  bool chance(int percent) { return below(100) < static_cast<size_t>(percent); }

  /// Any byte but NUL (properties are NUL-terminated on the wire).
  std::string text(size_t max_len) {
    std::string s(below(max_len + 1), 'x');
    for (auto& c : s) c = static_cast<char>(1 + below(255));
    return s;
  }
  /// Mostly small bodies, sometimes up to 1 MiB; random or repetitive (compressible) bytes.
  std::string body() {
    size_t size = chance(5) ? below((1 << 20) + 1) : chance(30) ? below(20000) : below(300);
    std::string b(size, '\0');
    if (chance(50)) {
      for (auto& c : b) c = static_cast<char>(rng());
    } else {
      for (size_t i = 0; i < size; ++i) b[i] = "{\"k\":[1,2,3],\"t\":\"abc\"}"[i % 24];
    }
    return b;
  }
  message msg(message_type type, uint64_t number) {
    message m;
    m.type = type;
    m.number = number;
    m.urgent = chance(20);
    m.compressed = chance(50);
    m.no_reply = type == message_type::request && chance(20);
    for (size_t i = below(7); i > 0; --i) m.properties.emplace_back(text(20), text(40));
    m.body = body();
    return m;
  }
};

bool same(const message& a, const message& b) {
  return a.type == b.type && a.number == b.number && a.urgent == b.urgent &&
         a.no_reply == b.no_reply && a.properties == b.properties && a.body == b.body;
}

/// One side of the conversation: its session, what it sent, and what it must still receive.
struct peer {
  session s;
  std::map<uint64_t, message> requests_sent;  ///< by number, awaiting arrival at the other
  std::map<uint64_t, message> replies_sent;
  uint64_t highest_request_begun = 0;  ///< on the wire, for the number-order check
  size_t received = 0;
  explicit peer(session_options o) : s(o) {}
};

/// Moves up to `n` frames from `a` to `b`, checking that requests begin in number order.
void deliver(peer& a, peer& b, size_t n) {
  std::string f;
  for (size_t i = 0; i < n && a.s.next_frame(f); ++i) {
    frame_header h;
    std::string_view v = f;
    BOOST_REQUIRE(read_frame_header(v, h).ok());
    if (h.type() == message_type::request && h.number > a.highest_request_begun) {
      BOOST_REQUIRE_EQUAL(h.number, a.highest_request_begun + 1);
      a.highest_request_begun = h.number;
    }
    auto st = b.s.receive_frame(f);
    BOOST_REQUIRE_MESSAGE(st.ok(), st.message());
  }
}

/// Takes what `b` received from `a`, checks it against what `a` sent, and answers requests.
void collect(peer& a, peer& b, generator& g) {
  while (auto m = b.s.next_incoming()) {
    ++b.received;
    auto& sent = m->type == message_type::request ? a.requests_sent : a.replies_sent;
    auto it = sent.find(m->number);
    BOOST_REQUIRE_MESSAGE(it != sent.end(), "unexpected message #" << m->number);
    BOOST_CHECK_MESSAGE(same(*m, it->second), "message #" << m->number << " differs");
    bool answer = m->type == message_type::request && !m->no_reply;
    sent.erase(it);
    if (!answer) continue;
    message reply = g.msg(g.chance(10) ? message_type::error : message_type::reply, m->number);
    BOOST_REQUIRE_EQUAL(b.s.send(reply), m->number);
    b.replies_sent[m->number] = std::move(reply);
  }
}

void run_conversation(uint64_t seed, size_t messages, session_options oa, session_options ob) {
  generator g(seed);
  peer a(oa), b(ob);
  for (size_t sent = 0; sent < messages || a.s.has_frames() || b.s.has_frames();) {
    if (sent < messages && g.chance(40)) {
      peer& from = g.chance(70) ? a : b;
      message m = g.msg(message_type::request, 0);
      uint64_t n = from.s.send(m);
      BOOST_REQUIRE(n > 0);
      m.number = n;
      from.requests_sent[n] = std::move(m);
      ++sent;
    }
    deliver(a, b, g.below(6));
    collect(a, b, g);
    deliver(b, a, g.below(6));
    collect(b, a, g);
  }
  /// Everything sent arrived, and every request that wanted a reply got one.
  BOOST_CHECK(a.requests_sent.empty() && a.replies_sent.empty());
  BOOST_CHECK(b.requests_sent.empty() && b.replies_sent.empty());
  BOOST_CHECK_EQUAL(a.s.pending_count(), 0u);
  BOOST_CHECK_EQUAL(b.s.pending_count(), 0u);
  BOOST_TEST_MESSAGE("seed " << seed << ": a received " << a.received << ", b received "
                             << b.received << "; wire a->b " << a.s.stats().bytes_sent << " B in "
                             << a.s.stats().frames_sent << " frames");
}

}  // namespace

BOOST_AUTO_TEST_CASE(random_conversations_default_options) {
  for (uint64_t seed : {1, 2, 3}) run_conversation(seed, 120, {}, {});
}

/// A hub's small deflate window / memLevel must interoperate with a full-size inflater, and
/// compression level 0 must still deliver "compressed" messages (sent plain).
BOOST_AUTO_TEST_CASE(random_conversations_other_options) {
  session_options small;
  small.deflate_window_bits = 10;
  small.deflate_mem_level = 2;
  small.compression_level = 1;
  session_options off;
  off.compression_level = 0;
  run_conversation(11, 120, small, {});
  run_conversation(12, 120, off, small);
}

/// Many small messages, both urgent and not, one frame each: they arrive in number order.
BOOST_AUTO_TEST_CASE(single_frame_messages_arrive_in_order) {
  generator g(7);
  session a, b;
  for (uint64_t i = 1; i <= 500; ++i) {
    message m = make_request("rev", g.text(200));
    m.urgent = g.chance(30);
    m.compressed = g.chance(50);
    m.no_reply = true;
    a.send(m);
    if (g.chance(30)) BOOST_REQUIRE(pump(a, b).ok());
  }
  BOOST_REQUIRE(pump(a, b).ok());
  uint64_t expect = 1;
  while (auto m = b.next_incoming()) BOOST_CHECK_EQUAL(m->number, expect++);
  BOOST_CHECK_EQUAL(expect, 501u);
}

/// Properties right at the 100 KiB cap pass.
BOOST_AUTO_TEST_CASE(properties_at_the_cap) {
  session a, b;
  message m = make_request("big-props");
  size_t used = std::string("Profile").size() + 1 + std::string("big-props").size() + 1;
  m.properties.emplace_back("k", std::string(kMaxPropertiesSize - used - 3, 'v'));
  m.compressed = true;
  a.send(m);
  BOOST_REQUIRE(pump(a, b).ok());
  auto got = b.next_incoming();
  BOOST_REQUIRE(got);
  BOOST_CHECK(got->properties == m.properties);
}
