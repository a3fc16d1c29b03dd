// Bad input: every malformed frame is a clear, fatal error for that session, never a crash,
// an out-of-bounds read or an unbounded allocation (run under ASan+UBSan in CI).
#define BOOST_TEST_MODULE blip_bad_input
#include <boost/test/unit_test.hpp>

#include "protocol/frame.hpp"
#include "protocol/varint.hpp"
#include "tests/protocol/blip_test_util.hpp"

using namespace peerlite::protocol;
using namespace blip_test;
using peerlite::errc;

namespace {

/// A frame with a correct running CRC (`crc` = the checksum of the previous frame).
std::string frame(uint64_t number, uint8_t flags, std::string_view data, uint32_t crc = 0) {
  std::string f;
  append_frame_header(f, number, flags);
  f += data;
  append_checksum(f, extend_crc(crc, data));
  return f;
}

std::string encoded(const message& m) {
  std::string d;
  append_message_bytes(d, m.properties, m.body);
  return d;
}

/// Feeds `f` to a fresh session; expects error `code` whose message contains `words`.
void expect_error(std::string_view f, errc code, std::string_view words, session_options o = {}) {
  session s(o);
  auto st = s.receive_frame(f);
  BOOST_CHECK_MESSAGE(
      !st.ok() && st.code() == code && st.message().find(words) != std::string::npos,
      "frame " << hex(f) << " gave '" << st.message() << "'");
  /// The session stays failed with the same error.
  auto again = s.receive_frame(frame(1, 0, encoded(make_request("x"))));
  BOOST_CHECK(!again.ok() && again.message() == st.message());
  BOOST_CHECK(!s.failure().ok());
}

const std::string kSmall = encoded(make_request("echo", "hi"));

}  // namespace

BOOST_AUTO_TEST_CASE(truncated_frames) {
  expect_error("", errc::protocol_error, "message-number varint");
  expect_error(unhex("01"), errc::protocol_error, "flags varint");
  expect_error(unhex("0100"), errc::protocol_error, "truncated frame");
  expect_error(unhex("0100aabbcc"), errc::protocol_error, "no room for the checksum");
  std::string f = frame(1, 0, kSmall);
  expect_error(f.substr(0, f.size() - 1), errc::protocol_error, "checksum");
}

BOOST_AUTO_TEST_CASE(bad_varints) {
  expect_error(unhex("ffffffffffffffffffffff00"), errc::protocol_error, "message-number varint");
  expect_error(unhex("ffffffffffffffffff0200"), errc::protocol_error, "message-number varint");
  expect_error(unhex("018001") + "xxxxxx", errc::protocol_error, "flags 128 out of range");
  std::string_view in = "\x80\x80";
  uint64_t v = 0;
  BOOST_CHECK(!read_varint(in, v));
  BOOST_CHECK_EQUAL(in.size(), 2u);
  /// A bad properties-length varint inside a message.
  expect_error(frame(1, 0, unhex("ffffffffffffffffffff7f")), errc::protocol_error,
               "properties-length");
  /// ACK with no byte count.
  expect_error(unhex("0134"), errc::protocol_error, "byte-count varint");
  expect_error(unhex("013480"), errc::protocol_error, "byte-count varint");
}

BOOST_AUTO_TEST_CASE(wrong_checksums) {
  std::string f = frame(1, 0, kSmall);
  f.back() ^= 1;
  expect_error(f, errc::protocol_error, "checksum mismatch");
  std::string g = frame(1, 0, kSmall);
  g[4] ^= 0x20;  // a payload byte
  expect_error(g, errc::protocol_error, "checksum mismatch");
  /// The CRC runs across frames: a second frame checksummed from zero is wrong.
  session s;
  BOOST_REQUIRE(s.receive_frame(frame(1, 0, kSmall)).ok());
  auto st = s.receive_frame(frame(2, 0, kSmall));
  BOOST_CHECK(st.code() == errc::protocol_error);
  BOOST_CHECK(st.message().find("BLIP MSG #2") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(out_of_order_request_numbers) {
  expect_error(frame(2, 0, kSmall), errc::protocol_error, "out of order (expected #1)");
  expect_error(frame(0, 0, kSmall), errc::protocol_error, "out of order");
  session s;
  std::string f1 = frame(1, 0, kSmall);
  BOOST_REQUIRE(s.receive_frame(f1).ok());
  uint32_t crc = read_checksum(f1.data() + f1.size() - 4);
  auto st = s.receive_frame(frame(1, 0, kSmall, crc));  // #1 again, already complete
  BOOST_CHECK(st.code() == errc::protocol_error);
  BOOST_CHECK(st.message().find("expected #2") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(replies_to_unknown_numbers) {
  expect_error(frame(1, 1, kSmall), errc::protocol_error, "no pending request");
  expect_error(frame(3, 2, kSmall), errc::protocol_error, "BLIP ERR #3");
  /// A reply to a no-reply request is just as unknown.
  session s;
  message m = make_request("changes");
  m.no_reply = true;
  s.send(m);
  BOOST_CHECK(s.receive_frame(frame(1, 1, kSmall)).code() == errc::protocol_error);
  /// A second reply to the same request too.
  session t;
  t.send(make_request("x"));
  std::string r = frame(1, 1, kSmall);
  BOOST_REQUIRE(t.receive_frame(r).ok());
  BOOST_CHECK(t.receive_frame(frame(1, 1, kSmall, read_checksum(r.data() + r.size() - 4))).code() ==
              errc::protocol_error);
}

BOOST_AUTO_TEST_CASE(corrupt_deflate_data) {
  expect_error(frame(1, flag::compressed, unhex("ffffffffffff")), errc::protocol_error,
               "corrupt deflate data");
  /// A final block ends the stream: the reference never does that.
  expect_error(frame(1, flag::compressed, unhex("0300")), errc::protocol_error,
               "ended its deflate stream");
}

BOOST_AUTO_TEST_CASE(malformed_properties) {
  expect_error(frame(1, 0, unhex("0561626364") + "x"), errc::protocol_error, "end with NUL");
  expect_error(frame(1, 0, unhex("03616200") + "cd"), errc::protocol_error, "key without a value");
  expect_error(frame(1, 0, unhex("20616200")), errc::protocol_error, "runs past");
}

BOOST_AUTO_TEST_CASE(oversized_messages) {
  /// Properties over 100 KiB are refused as soon as the length prefix arrives.
  std::string head;
  put_varint(head, kMaxPropertiesSize + 1);
  expect_error(frame(1, flag::more_coming, head + "Profile"), errc::too_large, "properties");
  /// A message past max_message_size, across frames.
  session_options small;
  small.max_message_size = 30000;
  session a, b(small);
  a.send(make_request("big", std::string(40000, 'x')));
  auto st = pump(a, b);
  BOOST_CHECK(st.code() == errc::too_large);
  BOOST_CHECK(st.message().find("size cap of 30000") != std::string::npos);
  /// A deflate bomb: 40 MB of zeros deflate to ~40 KB; the receiver stops at its cap.
  session_options capped;
  capped.max_message_size = 1 << 20;
  session c, d(capped);
  message bomb = make_request("bomb", std::string(40 << 20, '\0'));
  bomb.compressed = true;
  c.send(std::move(bomb));
  st = pump(c, d);
  BOOST_CHECK(st.code() == errc::too_large);
  BOOST_CHECK(st.message().find("inflates past") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(too_many_incomplete_messages) {
  session s;
  uint32_t crc = 0;
  peerlite::status st;
  for (uint64_t n = 1; n <= kMaxIncompleteMessages + 1 && st.ok(); ++n) {
    std::string f = frame(n, flag::more_coming, "\x00", crc);
    crc = read_checksum(f.data() + f.size() - 4);
    st = s.receive_frame(f);
  }
  BOOST_CHECK(st.code() == errc::too_large);
  /// The bytes held across incomplete messages are capped too.
  session_options o;
  o.max_buffered_size = 100000;
  session t(o);
  crc = 0;
  st = {};
  for (uint64_t n = 1; n <= 10 && st.ok(); ++n) {
    std::string f =
        frame(n, flag::more_coming, std::string(1, '\0') + std::string(20000, 'z'), crc);
    crc = read_checksum(f.data() + f.size() - 4);
    st = t.receive_frame(f);
  }
  BOOST_CHECK(st.code() == errc::too_large);
  BOOST_CHECK(st.message().find("incomplete") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(unknown_types_and_stray_acks_are_ignored) {
  session s;
  BOOST_CHECK(s.receive_frame(unhex("0103deadbeef")).ok());
  BOOST_CHECK(s.receive_frame(unhex("0907")).ok());
  BOOST_CHECK(s.receive_frame(unhex("0534a8dc03")).ok());  // ACK for nothing we send
  BOOST_CHECK(s.receive_frame(frame(1, 0, kSmall)).ok());
  BOOST_CHECK(s.next_incoming());
}

/// Random bytes and mutations of real frames: each gives ok or an error, never a crash.
BOOST_AUTO_TEST_CASE(random_and_mutated_frames_never_crash) {
  std::mt19937_64 rng(42);
  auto capture = load_capture("push");
  size_t errors = 0, total = 0;
  for (int round = 0; round < 3000; ++round) {
    session s;
    for (auto& wf : capture) {
      if (!wf.c2s) continue;
      std::string f = wf.bytes;
      if (rng() % 4 == 0) {
        switch (rng() % 4) {
          case 0:
            f[rng() % f.size()] = static_cast<char>(rng());
            break;
          case 1:
            f.resize(rng() % f.size());
            break;
          case 2:
            f.insert(rng() % (f.size() + 1), 1, static_cast<char>(rng()));
            break;
          default:
            f = std::string(rng() % 40, static_cast<char>(rng()));
            break;
        }
      }
      ++total;
      if (!s.receive_frame(f).ok()) {
        ++errors;
        break;
      }
      while (s.next_incoming()) {
      }
    }
  }
  BOOST_TEST_MESSAGE(total << " frames, " << errors << " sessions failed cleanly");
  BOOST_CHECK_GT(errors, 0u);
}
