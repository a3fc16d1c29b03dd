// The outbox and flow control (PROTOCOL.md §1 "Multiplexing", "Flow control", "Correlation"):
// which frame goes next, when a message pauses for an ACK, and what close() fails.
#define BOOST_TEST_MODULE blip_outbox
#include <boost/test/unit_test.hpp>

#include "protocol/frame.hpp"
#include "tests/protocol/blip_test_util.hpp"

using namespace peerlite::protocol;
using namespace blip_test;

namespace {
/// The (number, flags) of each frame `s` produces until it has none.
std::vector<std::pair<uint64_t, uint8_t>> frame_order(session& s, size_t limit = 1000) {
  std::vector<std::pair<uint64_t, uint8_t>> order;
  std::string f;
  while (order.size() < limit && s.next_frame(f)) {
    frame_header h;
    std::string_view v = f;
    BOOST_REQUIRE(read_frame_header(v, h).ok());
    order.emplace_back(h.number, h.flags);
  }
  return order;
}
message urgent_request(std::string profile, size_t body = 0) {
  message m = make_request(std::move(profile), std::string(body, 'u'));
  m.urgent = true;
  return m;
}
}  // namespace

BOOST_AUTO_TEST_CASE(round_robin_between_big_messages) {
  session a;
  a.send(make_request("one", std::string(10000, '1')));
  a.send(make_request("two", std::string(10000, '2')));
  auto order = frame_order(a);
  /// 4096-byte frames while both wait, alternating; the last goes alone in one frame.
  std::vector<uint64_t> numbers;
  for (auto& [n, f] : order) numbers.push_back(n);
  BOOST_CHECK((numbers == std::vector<uint64_t>{1, 2, 1, 2, 1, 2}));
}

BOOST_AUTO_TEST_CASE(urgent_goes_ahead_of_started_normal_messages) {
  session a;
  a.send(make_request("big", std::string(40000, 'b')));
  std::string f;
  BOOST_REQUIRE(a.next_frame(f));  // #1 has started
  a.send(urgent_request("urgent"));
  auto order = frame_order(a);
  BOOST_REQUIRE(order.size() >= 2);
  BOOST_CHECK_EQUAL(order[0].first, 2u);  // ahead of #1's remaining frames
  BOOST_CHECK(order[0].second & flag::urgent);
  BOOST_CHECK_EQUAL(order[1].first, 1u);
}

BOOST_AUTO_TEST_CASE(urgent_never_begins_before_a_lower_numbered_request) {
  session a;
  a.send(make_request("big", std::string(40000, 'b')));
  std::string f;
  BOOST_REQUIRE(a.next_frame(f));  // #1 has started
  a.send(make_request("normal"));
  a.send(urgent_request("urgent"));
  auto order = frame_order(a);
  BOOST_REQUIRE(order.size() >= 3);
  /// #3 (urgent) may not begin before #2 (not started, lower number), but goes right behind it,
  /// ahead of #1's remaining frames.
  BOOST_CHECK_EQUAL(order[0].first, 1u);
  BOOST_CHECK_EQUAL(order[1].first, 2u);
  BOOST_CHECK_EQUAL(order[2].first, 3u);
  BOOST_CHECK(order[2].second & flag::urgent);
  BOOST_CHECK_EQUAL(order[3].first, 1u);
}

/// Between started messages, urgent ones take their turns first.
BOOST_AUTO_TEST_CASE(started_urgent_message_keeps_priority) {
  session a;
  a.send(make_request("normal", std::string(20000, 'n')));
  a.send(urgent_request("urgent", 20000));
  auto order = frame_order(a);
  /// #1 begins (number order), then the urgent #2 runs to completion ahead of #1.
  std::vector<uint64_t> numbers;
  for (auto& [n, fl] : order) numbers.push_back(n);
  BOOST_REQUIRE(numbers.size() > 3);
  BOOST_CHECK_EQUAL(numbers[0], 1u);
  size_t last2 = 0, first1_after = 0;
  for (size_t i = 1; i < numbers.size(); ++i) {
    if (numbers[i] == 2) last2 = i;
    if (numbers[i] == 1 && !first1_after) first1_after = i;
  }
  BOOST_CHECK_LT(last2, first1_after);
}

BOOST_AUTO_TEST_CASE(urgent_reply_goes_ahead_of_queued_requests) {
  session a;
  a.send(make_request("big", std::string(40000, 'b')));
  message reply;
  reply.type = message_type::reply;
  reply.number = 5;
  reply.urgent = true;
  BOOST_CHECK_EQUAL(a.send(reply), 5u);
  auto order = frame_order(a);
  BOOST_REQUIRE(!order.empty());
  BOOST_CHECK_EQUAL(order[0].first, 5u);
  BOOST_CHECK_EQUAL(order[0].second & flag::type_mask, 1);
}

BOOST_AUTO_TEST_CASE(requests_begin_in_number_order) {
  session a;
  for (int i = 0; i < 5; ++i) a.send(i % 2 ? urgent_request("u") : make_request("n"));
  auto order = frame_order(a);
  BOOST_REQUIRE_EQUAL(order.size(), 5u);
  for (uint64_t i = 0; i < 5; ++i) BOOST_CHECK_EQUAL(order[i].first, i + 1);
}

/// A sender stops a message at 128,000 un-ACKed bytes; the receiver ACKs every 50,000; the
/// ACKs let the message continue.
BOOST_AUTO_TEST_CASE(flow_control_pauses_until_acked) {
  session a, b;
  a.send(make_request("huge", std::string(300000, 'h')));
  auto first = frame_order(a);
  /// 16382 frame bytes after each 2-byte header: the 8th frame passes 128,000 (131,056).
  BOOST_CHECK_EQUAL(first.size(), 8u);
  BOOST_CHECK(!a.has_frames());
  /// Paused is not sent: a graceful close drains until has_unsent() clears.
  BOOST_CHECK(a.has_unsent());
  std::string f;
  BOOST_CHECK(!a.next_frame(f));
  /// Replay them into b: it owes ACKs at 65,528 and 131,056 bytes.
  session a2;
  a2.send(make_request("huge", std::string(300000, 'h')));
  for (int i = 0; i < 8; ++i) {
    BOOST_REQUIRE(a2.next_frame(f));
    BOOST_REQUIRE(b.receive_frame(f).ok());
  }
  std::vector<std::string> acks;
  while (b.next_frame(f)) acks.push_back(f);
  BOOST_REQUIRE_EQUAL(acks.size(), 2u);
  BOOST_CHECK_EQUAL(hex(acks[0]), "0134f8ff03");
  BOOST_CHECK_EQUAL(hex(acks[1]), "0134f0ff07");
  /// The first ACK leaves 65,528 un-ACKed: under the cap, so a2 goes on.
  BOOST_REQUIRE(a2.receive_frame(acks[0]).ok());
  BOOST_CHECK(a2.has_frames());
  BOOST_REQUIRE(a2.receive_frame(acks[1]).ok());
  BOOST_REQUIRE(pump(a2, b).ok());
  /// Exchange ACKs until the message is through.
  for (int round = 0; round < 10 && !b.next_incoming(); ++round) {
    BOOST_REQUIRE(pump(b, a2).ok());
    BOOST_REQUIRE(pump(a2, b).ok());
  }
  BOOST_CHECK(!a2.has_frames());
  BOOST_CHECK(!a2.has_unsent());
}

BOOST_AUTO_TEST_CASE(pair_of_sessions_exchanges_requests_and_replies) {
  session a, b;
  uint64_t n = a.send(make_request("getCheckpoint"));
  BOOST_CHECK(a.is_pending(n));
  BOOST_REQUIRE(pump(a, b).ok());
  auto req = b.next_incoming();
  BOOST_REQUIRE(req);
  message reply;
  reply.type = message_type::reply;
  reply.number = req->number;
  reply.body = R"({"local":6})";
  b.send(reply);
  BOOST_REQUIRE(pump(b, a).ok());
  auto got = a.next_incoming();
  BOOST_REQUIRE(got);
  BOOST_CHECK_EQUAL(got->type, message_type::reply);
  BOOST_CHECK_EQUAL(got->number, n);
  BOOST_CHECK_EQUAL(got->body, reply.body);
  BOOST_CHECK(!a.is_pending(n));
}

BOOST_AUTO_TEST_CASE(no_reply_requests_are_not_pending) {
  session a;
  message m = make_request("changes");
  m.no_reply = true;
  uint64_t n = a.send(m);
  BOOST_CHECK_EQUAL(n, 1u);
  BOOST_CHECK(!a.is_pending(n));
  BOOST_CHECK_EQUAL(a.pending_count(), 0u);
}

BOOST_AUTO_TEST_CASE(close_fails_pending_requests) {
  session a;
  a.send(make_request("one"));
  message quiet = make_request("two");
  quiet.no_reply = true;
  a.send(quiet);
  a.send(make_request("three"));
  auto failed = a.close();
  BOOST_CHECK((failed == std::vector<uint64_t>{1, 3}));
  BOOST_CHECK_EQUAL(a.pending_count(), 0u);
  BOOST_CHECK(!a.has_frames());
  BOOST_CHECK_EQUAL(a.send(make_request("four")), 0u);
  auto st = a.receive_frame(unhex("0100"));
  BOOST_CHECK(st.code() == peerlite::errc::disconnected);
  BOOST_CHECK(a.close().empty());
}

BOOST_AUTO_TEST_CASE(send_rejects_what_cannot_be_framed) {
  session a;
  message ack;
  ack.type = message_type::ack_request;
  BOOST_CHECK_EQUAL(a.send(ack), 0u);
  message reply;
  reply.type = message_type::reply;  // number 0: answers nothing
  BOOST_CHECK_EQUAL(a.send(reply), 0u);
  message nul = make_request("x");
  nul.properties.emplace_back(std::string("a\0b", 3), "v");
  BOOST_CHECK_EQUAL(a.send(nul), 0u);
  message nul_value = make_request("x");
  nul_value.properties.emplace_back("k", std::string("v\0", 2));
  BOOST_CHECK_EQUAL(a.send(nul_value), 0u);
  message urgent_nul = make_request("x");
  urgent_nul.urgent = true;
  urgent_nul.properties.emplace_back("k", std::string("\0", 1));
  BOOST_CHECK_EQUAL(a.send(urgent_nul), 0u);
  BOOST_CHECK(!a.has_frames());
  /// A rejected request takes no number: the next one is still #1.
  BOOST_CHECK_EQUAL(a.send(make_request("y")), 1u);
}

/// Replies are flow-controlled the same way, with ACKRPY frames, and a multi-frame reply keeps
/// its request pending until the last frame.
BOOST_AUTO_TEST_CASE(big_reply_flow_control) {
  session a, b;
  uint64_t n = a.send(make_request("getAttachment"));
  BOOST_REQUIRE(pump(a, b).ok());
  auto req = b.next_incoming();
  BOOST_REQUIRE(req);
  message reply;
  reply.type = message_type::reply;
  reply.number = req->number;
  reply.body = std::string(400000, 'r');
  b.send(reply);
  std::string f;
  size_t frames = 0;
  while (b.next_frame(f)) {
    ++frames;
    BOOST_REQUIRE(a.receive_frame(f).ok());
    BOOST_CHECK(a.is_pending(n));  // not complete yet while b is paused below 400,000
  }
  BOOST_CHECK_EQUAL(frames, 8u);  // paused at 131,056 un-ACKed bytes
  std::vector<std::string> acks;
  while (a.next_frame(f)) acks.push_back(f);
  BOOST_REQUIRE(!acks.empty());
  BOOST_CHECK_EQUAL(static_cast<int>(acks[0][1]), 0x35);  // ACKRPY | urgent | no-reply
  for (auto& ack : acks) BOOST_REQUIRE(b.receive_frame(ack).ok());
  for (int round = 0; round < 20 && a.is_pending(n); ++round) {
    BOOST_REQUIRE(pump(a, b).ok());
    BOOST_REQUIRE(pump(b, a).ok());
  }
  auto got = a.next_incoming();
  BOOST_REQUIRE(got);
  BOOST_CHECK_EQUAL(got->number, n);
  BOOST_CHECK(got->body == reply.body);
  BOOST_CHECK(!a.is_pending(n));
}
