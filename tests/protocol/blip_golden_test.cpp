// Golden BLIP frames built by hand from PROTOCOL.md §1. Each expected byte string says how it
// was derived; CRCs and the deflate stream come from Python's zlib (an independent encoder):
//   python3 -c "import zlib; print('%08x' % zlib.crc32(DATA))"
#define BOOST_TEST_MODULE blip_golden
#include <boost/test/unit_test.hpp>

#include "protocol/frame.hpp"
#include "protocol/varint.hpp"
#include "tests/protocol/blip_test_util.hpp"

using namespace peerlite::protocol;
using namespace blip_test;

namespace {
std::string first_frame(session& s) {
  std::string f;
  BOOST_REQUIRE(s.next_frame(f));
  return f;
}
message receive_one(session& s, std::string_view frame) {
  auto st = s.receive_frame(frame);
  BOOST_REQUIRE_MESSAGE(st.ok(), st.message());
  auto m = s.next_incoming();
  BOOST_REQUIRE(m);
  return *m;
}
}  // namespace

BOOST_AUTO_TEST_CASE(varints) {
  /// LEB128: 7 bits per byte, low group first. 60968 = 0b11_1011100_0101000 -> a8 dc 03.
  std::string out;
  for (uint64_t v : {0ull, 127ull, 128ull, 60968ull, ~0ull}) put_varint(out, v);
  BOOST_CHECK_EQUAL(hex(out),
                    "00"
                    "7f"
                    "8001"
                    "a8dc03"
                    "ffffffffffffffffff01");
  std::string_view in = out;
  uint64_t v = 0;
  for (uint64_t want : {0ull, 127ull, 128ull, 60968ull, ~0ull}) {
    BOOST_REQUIRE(read_varint(in, v));
    BOOST_CHECK_EQUAL(v, want);
  }
  BOOST_CHECK(in.empty());
}

/// Request #1, flags 00, properties "Profile\0echo\0" (13 = 0x0d bytes), body "hi";
/// CRC32 of 0d 'Profile\0echo\0' 'hi' = 7c9029c1.
BOOST_AUTO_TEST_CASE(small_request) {
  const std::string golden = unhex(
      "0100"
      "0d"
      "50726f66696c6500"
      "6563686f00"
      "6869"
      "7c9029c1");
  session a, b;
  BOOST_CHECK_EQUAL(a.send(make_request("echo", "hi")), 1u);
  BOOST_CHECK_EQUAL(hex(first_frame(a)), hex(golden));
  BOOST_CHECK(!a.has_frames());
  message m = receive_one(b, golden);
  BOOST_CHECK_EQUAL(m.number, 1u);
  BOOST_CHECK_EQUAL(m.profile(), "echo");
  BOOST_CHECK_EQUAL(m.body, "hi");
  BOOST_CHECK(!m.compressed && !m.urgent && !m.no_reply);
}

/// Profile=blob, body 20,000 x 'a': 1 + 13 + 20000 = 20014 message bytes. Alone in the outbox it
/// goes in 16384-byte frames: header 01 40 (more-coming), 16378 bytes, CRC of those 16378
/// (83595ee7); then 01 00, the last 3636 bytes, CRC of all 20014 (1422dac3).
BOOST_AUTO_TEST_CASE(multi_frame_message) {
  std::string data = "\x0dProfile";
  data += '\0';
  data += "blob";
  data += '\0';
  data += std::string(20000, 'a');
  const std::string f1 = unhex("0140") + data.substr(0, 16378) + unhex("83595ee7");
  const std::string f2 = unhex("0100") + data.substr(16378) + unhex("1422dac3");
  session a, b;
  a.send(make_request("blob", std::string(20000, 'a')));
  std::string got1 = first_frame(a), got2 = first_frame(a);
  BOOST_CHECK_EQUAL(got1.size(), 16384u);
  BOOST_CHECK(got1 == f1);
  BOOST_CHECK(got2 == f2);
  BOOST_REQUIRE(b.receive_frame(f1).ok());
  BOOST_CHECK(!b.next_incoming());  // not whole yet
  message m = receive_one(b, f2);
  BOOST_CHECK_EQUAL(m.body, std::string(20000, 'a'));
}

/// With another message waiting, frames are 4096 bytes.
BOOST_AUTO_TEST_CASE(small_frames_while_others_wait) {
  session a;
  a.send(make_request("blob", std::string(20000, 'a')));
  a.send(make_request("next"));
  BOOST_CHECK_EQUAL(first_frame(a).size(), 4096u);
}

/// Profile=rev, id=doc1, body {"text":"abcabc..."} (212 message bytes) deflated by Python:
///   c = zlib.compressobj(6, zlib.DEFLATED, -15, 9); z = c.compress(d) + c.flush(zlib.Z_SYNC_FLUSH)
/// z ends in 00 00 ff ff, dropped; the CRC (03ac after b387) is over the 212 uncompressed bytes.
BOOST_AUTO_TEST_CASE(compressed_frame) {
  const std::string golden = unhex(
      "0108120928ca4fcbcc4965284a2d63c84c6148c94f3664a8562a49ad2851b2524a4c4a1e7248a91600b38703"
      "ac");
  std::string body = "{\"text\":\"";
  for (int i = 0; i < 20; ++i) body += "abcabcabc";
  body += "\"}";
  session b;
  message m = receive_one(b, golden);
  BOOST_CHECK(m.compressed);
  BOOST_CHECK_EQUAL(m.profile(), "rev");
  BOOST_CHECK_EQUAL(m.property("id"), "doc1");
  BOOST_CHECK_EQUAL(m.body, body);
  /// Our deflater with the same parameters makes the same bytes.
  session a;
  message out = make_request("rev", body);
  out.properties.emplace_back("id", "doc1");
  out.compressed = true;
  a.send(out);
  BOOST_CHECK_EQUAL(hex(first_frame(a)), hex(golden));
}

/// ACKMSG for request #1 after 60,029 bytes: 01, flags 34 (ACKMSG 4 | urgent 10 | no-reply 20),
/// varint 60029 = fd d4 03; no checksum.
BOOST_AUTO_TEST_CASE(ack_frame) {
  BOOST_CHECK_EQUAL(hex(make_ack_frame(message_type::ack_request, 1, 60029)), "0134fdd403");
  BOOST_CHECK_EQUAL(hex(make_ack_frame(message_type::ack_reply, 9, 1)), "093501");
  /// A 60,000-byte body ("Profile\0big\0", 60013 message bytes) goes in frames of 16384, 16384,
  /// 16384 and 10889 bytes; after the header each carries 16382, 16382, 16382, 10883: the
  /// receiver passes 50,000 only with the last, so it owes one ACK of 60029.
  session a, b;
  a.send(make_request("big", std::string(60000, 'x')));
  BOOST_REQUIRE(pump(a, b).ok());
  BOOST_REQUIRE(b.next_incoming());
  std::string ack;
  BOOST_REQUIRE(b.next_frame(ack));
  BOOST_CHECK_EQUAL(hex(ack), "0134fdd403");
  BOOST_CHECK(!b.next_frame(ack));
  BOOST_CHECK(a.receive_frame(ack).ok());  // ACK of a finished message: ignored
}

/// ERR reply to request #7: 07, flags 02; properties "Error-Domain\0BLIP\0Error-Code\0404\0"
/// (33 = 0x21 bytes); body "no handler"; CRC32 77cfe84b.
BOOST_AUTO_TEST_CASE(error_reply) {
  const std::string golden = unhex(
      "070221"
      "4572726f722d446f6d61696e00"
      "424c495000"
      "4572726f722d436f646500"
      "34303400"
      "6e6f2068616e646c6572"
      "77cfe84b");
  session a;
  BOOST_CHECK_EQUAL(a.send(make_error_reply(7, kBlipErrorDomain, kBlipNotFound, "no handler")), 7u);
  BOOST_CHECK_EQUAL(hex(first_frame(a)), hex(golden));
  /// The requester (which sent 7 requests) gets it as the answer to #7.
  session b;
  for (int i = 0; i < 7; ++i) b.send(make_request("x"));
  for (std::string f; b.next_frame(f);) {
  }
  BOOST_CHECK(b.is_pending(7));
  message m = receive_one(b, golden);
  BOOST_CHECK(m.is_error());
  BOOST_CHECK_EQUAL(m.number, 7u);
  BOOST_CHECK_EQUAL(m.error_domain(), "BLIP");
  BOOST_CHECK_EQUAL(m.error_code(), 404);
  BOOST_CHECK_EQUAL(m.body, "no handler");
  BOOST_CHECK(!b.is_pending(7));
  BOOST_CHECK_EQUAL(b.pending_count(), 6u);
}

/// The running CRC is the standard CRC-32 (libdeflate's, same values as zlib's): the check value
/// of "123456789" is cbf43926, and it runs across pieces as over the whole.
BOOST_AUTO_TEST_CASE(running_crc_is_standard_crc32) {
  BOOST_CHECK_EQUAL(extend_crc(0, "123456789"), 0xcbf43926u);
  BOOST_CHECK_EQUAL(extend_crc(extend_crc(0, "1234"), "56789"), 0xcbf43926u);
  BOOST_CHECK_EQUAL(extend_crc(0, ""), 0u);
}

/// write_message_range() gives any byte range of the encoding, the way the session frames a
/// message straight from its properties and body: every (from, n) of a message matches the
/// same range of append_message_bytes(), including ranges that start or end inside the length
/// varint, a property or the body, and ranges running past the end (clipped).
BOOST_AUTO_TEST_CASE(message_ranges_match_the_whole_encoding) {
  message m = make_request("rev", "{\"a\":1}");
  m.properties.emplace_back("id", "doc-1");
  m.properties.emplace_back("long", std::string(200, 'v'));  // 2-byte length varint
  std::string whole;
  append_message_bytes(whole, m.properties, m.body);
  BOOST_REQUIRE_EQUAL(whole.size(), 2 + 8 + 4 + 3 + 6 + 5 + 201 + 7u);
  for (size_t from = 0; from <= whole.size(); ++from) {
    for (size_t n : {size_t{0}, size_t{1}, size_t{2}, size_t{5}, size_t{64}, whole.size()}) {
      std::string got(n, '\0');
      got.resize(write_message_range(got.data(), m.properties, m.body, from, n));
      BOOST_REQUIRE_MESSAGE(got == whole.substr(from, n), "from " << from << " n " << n);
    }
  }
}
