// WebSocket framing (RFC 6455) for BYTE_STREAM: golden vectors, round trips across arbitrary
// chunk boundaries, and every protocol violation answered with a clear error.
#define BOOST_TEST_MODULE websocket
#include "protocol/websocket.hpp"

#include <boost/test/unit_test.hpp>
#include <random>
#include <string>
#include <vector>

#include "protocol/session.hpp"
#include "protocol/tuning.hpp"

namespace peerlite {
std::ostream& operator<<(std::ostream& os, errc c) { return os << static_cast<int>(c); }
namespace protocol::ws {
std::ostream& operator<<(std::ostream& os, opcode o) { return os << static_cast<int>(o); }
std::ostream& operator<<(std::ostream& os, close_state s) { return os << static_cast<int>(s); }
}  // namespace protocol::ws
}  // namespace peerlite

using namespace peerlite;
using namespace peerlite::protocol;
using namespace peerlite::protocol::ws;

namespace {

std::string bytes(std::initializer_list<int> b) {
  std::string s;
  for (int c : b) s.push_back(static_cast<char>(c));
  return s;
}

/// Feeds `wire` to a fresh decoder of role `local` one byte at a time (the worst chunking).
std::vector<event> decode_bytewise(role local, const std::string& wire, status* st = nullptr) {
  decoder d(local, kWsMaxMessage);
  status last;
  for (char c : wire) {
    last = d.feed(std::string_view(&c, 1));
    if (!last.ok()) break;
  }
  if (st) *st = last;
  std::vector<event> out;
  while (auto ev = d.next()) out.push_back(std::move(*ev));
  return out;
}

status decode_error(role local, const std::string& wire) {
  decoder d(local, kWsMaxMessage);
  status st = d.feed(wire);
  BOOST_TEST(d.failed());
  BOOST_TEST(d.feed("x").message() == st.message());  // sticky
  return st;
}

}  // namespace

// ---- golden vectors ------------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(masked_client_frame_matches_rfc_example) {
  // RFC 6455 §5.7 "A single-frame masked text message": FIN|text = 0x81, MASK|len 5 = 0x85,
  // masking key 37 fa 21 3d, then "Hello" XOR key: 48^37=7f 65^fa=9f 6c^21=4d 6c^3d=51 6f^37=58.
  const std::string golden =
      bytes({0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58});
  std::string out;
  encode_frame(out, opcode::text, true, "Hello", 0x37fa213d);
  BOOST_TEST(out == golden);
  auto evs = decode_bytewise(role::server, golden);
  BOOST_REQUIRE_EQUAL(evs.size(), 1u);
  BOOST_TEST(evs[0].op == opcode::text);
  BOOST_TEST(evs[0].payload == "Hello");
}

BOOST_AUTO_TEST_CASE(unmasked_server_frame_matches_rfc_example) {
  // RFC 6455 §5.7 "A single-frame unmasked text message": 0x81, len 5 (no MASK bit), "Hello".
  const std::string golden = bytes({0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f});
  std::string out;
  encode_frame(out, opcode::text, true, "Hello", std::nullopt);
  BOOST_TEST(out == golden);
  // A BLIP frame travels as binary: same header with opcode 2 (0x82).
  std::string bin;
  encode_frame(bin, opcode::binary, true, "Hello", std::nullopt);
  BOOST_TEST(bin == bytes({0x82, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f}));
}

BOOST_AUTO_TEST_CASE(fragmented_message_reassembles) {
  // RFC 6455 §5.7 "A fragmented unmasked text message": 0x01 (no FIN, text) len 3 "Hel", then
  // 0x80 (FIN, continuation) len 2 "lo". A ping (0x89, len 2 "hi") may sit between fragments.
  const std::string golden =
      bytes({0x01, 0x03, 0x48, 0x65, 0x6c, 0x89, 0x02, 0x68, 0x69, 0x80, 0x02, 0x6c, 0x6f});
  auto evs = decode_bytewise(role::client, golden);
  BOOST_REQUIRE_EQUAL(evs.size(), 2u);
  BOOST_TEST(evs[0].op == opcode::ping);  // the control frame completes first
  BOOST_TEST(evs[0].payload == "hi");
  BOOST_TEST(evs[1].op == opcode::text);
  BOOST_TEST(evs[1].payload == "Hello");
}

BOOST_AUTO_TEST_CASE(close_with_4001_and_reason) {
  // 4001 = 0x0FA1. Server close: 0x88 (FIN|close), len 2+9 = 0x0B, 0F A1, "transient".
  const std::string golden =
      bytes({0x88, 0x0B, 0x0F, 0xA1, 't', 'r', 'a', 'n', 's', 'i', 'e', 'n', 't'});
  std::string out;
  encode_frame(out, opcode::close, true, close_payload(4001, "transient"), std::nullopt);
  BOOST_TEST(out == golden);
  auto evs = decode_bytewise(role::client, golden);
  BOOST_REQUIRE_EQUAL(evs.size(), 1u);
  BOOST_TEST(evs[0].op == opcode::close);
  BOOST_TEST(evs[0].close.code == close_code::app_transient);
  BOOST_TEST(evs[0].close.reason == "transient");
  BOOST_TEST(close_code::transient(4001));
  BOOST_TEST(!close_code::transient(4002));
  BOOST_TEST(close_code::transient(1006));
}

BOOST_AUTO_TEST_CASE(extended_lengths) {
  // 126 bytes needs the 16-bit form: 0x82, 0x7E, 00 7E. 65536 needs the 64-bit form: 0x82, 0x7F,
  // 00 00 00 00 00 01 00 00.
  std::string out;
  encode_frame(out, opcode::binary, true, std::string(126, 'a'), std::nullopt);
  BOOST_TEST(out.substr(0, 4) == bytes({0x82, 0x7E, 0x00, 0x7E}));
  BOOST_TEST(out.size() == 4u + 126u);
  out.clear();
  encode_frame(out, opcode::binary, true, std::string(65536, 'b'), std::nullopt);
  BOOST_TEST(out.substr(0, 10) == bytes({0x82, 0x7F, 0, 0, 0, 0, 0, 1, 0, 0}));
  auto evs = decode_bytewise(role::client, out);
  BOOST_REQUIRE_EQUAL(evs.size(), 1u);
  BOOST_TEST(evs[0].payload == std::string(65536, 'b'));
}

BOOST_AUTO_TEST_CASE(close_reason_truncated_at_character_boundary) {
  std::string reason(122, 'x');
  reason += "\xC3\xA9\xC3\xA9";  // é é: the 123-byte cap falls inside the first é
  std::string p = close_payload(1000, reason);
  BOOST_TEST(p.size() == 2u + 122u);  // the split é is dropped whole
}

// ---- protocol violations -------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(violations_fail_with_clear_errors) {
  struct bad_case {
    const char* name;
    role local;
    std::string wire;
    errc code;
    uint16_t close;
    const char* text;
  };
  const std::vector<bad_case> cases = {
      {"reserved bit", role::client, bytes({0xC2, 0x00}), errc::protocol_error, 1002, "reserved"},
      {"bad opcode 3", role::client, bytes({0x83, 0x00}), errc::protocol_error, 1002, "opcode 3"},
      {"bad opcode 0xB", role::client, bytes({0x8B, 0x00}), errc::protocol_error, 1002, "opcode"},
      {"unmasked to server", role::server, bytes({0x82, 0x00}), errc::protocol_error, 1002,
       "unmasked"},
      {"masked to client", role::client, bytes({0x82, 0x80, 1, 2, 3, 4}), errc::protocol_error,
       1002, "masked frame from the server"},
      {"control > 125", role::client, bytes({0x89, 0x7E, 0x00, 0x7E}), errc::protocol_error, 1002,
       "max 125"},
      {"fragmented ping", role::client, bytes({0x09, 0x00}), errc::protocol_error, 1002,
       "fragmented control"},
      {"lone continuation", role::client, bytes({0x80, 0x00}), errc::protocol_error, 1002,
       "continuation"},
      {"data inside fragments", role::client, bytes({0x02, 0x01, 'a', 0x82, 0x00}),
       errc::protocol_error, 1002, "inside a fragmented"},
      {"64-bit top bit", role::client, bytes({0x82, 0x7F, 0x80, 0, 0, 0, 0, 0, 0, 0}),
       errc::protocol_error, 1002, "top bit"},
      {"oversize frame", role::client, bytes({0x82, 0x7F, 0, 0, 0, 0, 0, 0x10, 0, 1}),
       errc::too_large, 1009, "more than 1048576"},
      {"close of 1 byte", role::client, bytes({0x88, 0x01, 0x03}), errc::protocol_error, 1002,
       "1 byte"},
      {"close code 1005", role::client, bytes({0x88, 0x02, 0x03, 0xED}), errc::protocol_error, 1002,
       "invalid close code 1005"},
      {"close reason not UTF-8", role::client, bytes({0x88, 0x03, 0x03, 0xE8, 0xFF}),
       errc::protocol_error, 1007, "not UTF-8"},
      {"text not UTF-8", role::client, bytes({0x81, 0x02, 0xC3, 0x28}), errc::protocol_error, 1007,
       "not UTF-8"},
  };
  for (auto& c : cases) {
    BOOST_TEST_CONTEXT(c.name) {
      decoder d(c.local, kWsMaxMessage);
      status st = d.feed(c.wire);
      BOOST_TEST(!st.ok());
      BOOST_TEST(static_cast<int>(st.code()) == static_cast<int>(c.code));
      BOOST_TEST(d.failure_close_code() == c.close);
      BOOST_TEST(st.message().find(c.text) != std::string::npos, st.message());
      BOOST_TEST(decode_error(c.local, c.wire).message() == st.message());
    }
  }
}

BOOST_AUTO_TEST_CASE(oversize_across_fragments) {
  // Two 600 KiB fragments: each under the cap, together over it; fails at the second header,
  // before its payload is buffered.
  std::string wire;
  encode_frame(wire, opcode::binary, false, std::string(600 * 1024, 'a'), std::nullopt);
  size_t first = wire.size();
  encode_frame(wire, opcode::continuation, true, std::string(600 * 1024, 'b'), std::nullopt);
  decoder d(role::client, kWsMaxMessage);
  BOOST_TEST(d.feed(std::string_view(wire).substr(0, first + 10)).code() == errc::too_large);
}

BOOST_AUTO_TEST_CASE(truncated_input_waits_for_more) {
  std::string wire;
  encode_frame(wire, opcode::binary, true, "abcdef", 0x11223344);
  decoder d(role::server, kWsMaxMessage);
  BOOST_TEST(d.feed(std::string_view(wire).substr(0, wire.size() - 1)).ok());
  BOOST_TEST(!d.next().has_value());
  BOOST_TEST(d.feed(std::string_view(wire).substr(wire.size() - 1)).ok());
  auto ev = d.next();
  BOOST_REQUIRE(ev.has_value());
  BOOST_TEST(ev->payload == "abcdef");
}

// ---- ws::stream ----------------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(ping_is_answered_with_pong) {
  stream client(role::client, kWsMaxMessage, 1);
  stream server(role::server, kWsMaxMessage, 2);
  client.send_ping("beat");
  BOOST_TEST(client.pong_outstanding());
  BOOST_TEST(server.feed(client.take_output()).ok());
  std::string pong = server.take_output();
  BOOST_TEST(pong == bytes({0x8A, 0x04, 'b', 'e', 'a', 't'}));  // unmasked pong, same payload
  BOOST_TEST(client.feed(pong).ok());
  BOOST_TEST(!client.pong_outstanding());
  BOOST_TEST(client.pongs_received() == 1u);
}

BOOST_AUTO_TEST_CASE(close_handshake_both_ways) {
  stream client(role::client, kWsMaxMessage, 1);
  stream server(role::server, kWsMaxMessage, 2);
  client.send_message("last");
  client.send_close(close_code::app_permanent, "bye");
  BOOST_TEST(client.state() == close_state::close_sent);
  client.send_message("dropped after close");
  BOOST_TEST(server.feed(client.take_output()).ok());
  BOOST_TEST(*server.next_message() == "last");
  BOOST_TEST(!server.next_message().has_value());
  BOOST_TEST(server.state() == close_state::close_received);
  BOOST_REQUIRE(server.peer_close().has_value());
  BOOST_TEST(server.peer_close()->code == 4002);
  BOOST_TEST(server.peer_close()->reason == "bye");
  BOOST_TEST(client.feed(server.take_output()).ok());  // the echo
  BOOST_TEST(client.state() == close_state::closed);
  BOOST_TEST(client.peer_close()->code == 4002);
}

BOOST_AUTO_TEST_CASE(unsendable_close_code_goes_without_code) {
  stream server(role::server, kWsMaxMessage, 2);
  server.send_close(close_code::abnormal, "dropped");  // 1006 must never be on the wire
  BOOST_TEST(server.take_output() == bytes({0x88, 0x00}));
  stream client(role::client, kWsMaxMessage, 1);
  BOOST_TEST(client.feed(bytes({0x88, 0x00})).ok());
  BOOST_TEST(client.peer_close()->code == close_code::no_status);
  BOOST_TEST(client.state() == close_state::close_received);
  auto echo = decode_bytewise(role::server, client.take_output());  // code-less echo
  BOOST_REQUIRE_EQUAL(echo.size(), 1u);
  BOOST_TEST(echo[0].payload.empty());
}

BOOST_AUTO_TEST_CASE(framing_error_queues_close_and_sticks) {
  stream server(role::server, kWsMaxMessage, 2);
  status st = server.feed(bytes({0x82, 0x00}));  // unmasked client frame
  BOOST_TEST(st.code() == errc::protocol_error);
  BOOST_TEST(server.state() == close_state::closed);
  std::string out = server.take_output();
  BOOST_REQUIRE(out.size() >= 4u);
  BOOST_TEST(out.substr(0, 1) == bytes({0x88}));
  BOOST_TEST(out.substr(2, 2) == bytes({0x03, 0xEA}));  // 1002
  BOOST_TEST(server.feed("anything").message() == st.message());
}

BOOST_AUTO_TEST_CASE(text_message_is_refused_with_1003) {
  stream client(role::client, kWsMaxMessage, 1);
  std::string wire;
  encode_frame(wire, opcode::text, true, "hi", std::nullopt);
  BOOST_TEST(client.feed(wire).code() == errc::protocol_error);
  // The client's close is masked: read it back with a server-side decoder.
  auto evs = decode_bytewise(role::server, client.take_output());
  BOOST_REQUIRE_EQUAL(evs.size(), 1u);
  BOOST_TEST(evs[0].close.code == close_code::unsupported);
}

// ---- round trips ---------------------------------------------------------------------------

/// Random message sizes from 0 B to 1 MiB, skewed small like BLIP frames but hitting the cap.
size_t random_size(std::mt19937_64& rng) {
  switch (rng() % 8) {
    case 0:
      return 0;
    case 1:
      return kWsMaxMessage;
    case 2:
      return rng() % kWsMaxMessage;
    case 3:
      return 126 + rng() % 65536;
    default:
      return rng() % 200;
  }
}

void round_trip(role sender, uint64_t seed) {
  std::mt19937_64 rng(seed);
  role receiver = sender == role::client ? role::server : role::client;
  stream tx(sender, kWsMaxMessage, seed), rx(receiver, kWsMaxMessage, seed + 1);
  std::vector<std::string> sent;
  for (int i = 0; i < 40; ++i) {
    std::string m(random_size(rng), '\0');
    for (auto& c : m) c = static_cast<char>(rng());
    tx.send_message(m);
    sent.push_back(std::move(m));
    if (rng() % 4 == 0) tx.send_ping("p");
  }
  std::string wire = tx.take_output();
  std::vector<std::string> got;
  for (size_t pos = 0; pos < wire.size();) {
    size_t n = std::min<size_t>(wire.size() - pos, 1 + rng() % (rng() % 2 ? 7 : 200000));
    BOOST_REQUIRE(rx.feed(std::string_view(wire).substr(pos, n)).ok());
    pos += n;
    while (auto m = rx.next_message()) got.push_back(std::move(*m));
  }
  BOOST_REQUIRE_EQUAL(got.size(), sent.size());
  for (size_t i = 0; i < sent.size(); ++i) BOOST_TEST((got[i] == sent[i]), "message " << i);
}

BOOST_AUTO_TEST_CASE(client_to_server_round_trip_rechunked) {
  for (uint64_t seed = 1; seed <= 3; ++seed) round_trip(role::client, seed);
}

BOOST_AUTO_TEST_CASE(server_to_client_round_trip_rechunked) {
  for (uint64_t seed = 11; seed <= 13; ++seed) round_trip(role::server, seed);
}

BOOST_AUTO_TEST_CASE(fragmented_round_trip_rechunked) {
  std::mt19937_64 rng(99);
  std::string payload(300000, '\0');
  for (auto& c : payload) c = static_cast<char>(rng());
  std::string wire;
  size_t pos = 0;
  bool first = true;
  while (pos < payload.size()) {
    size_t n = std::min<size_t>(payload.size() - pos, 1 + rng() % 50000);
    bool fin = pos + n == payload.size();
    encode_frame(wire, first ? opcode::binary : opcode::continuation, fin,
                 std::string_view(payload).substr(pos, n), static_cast<uint32_t>(rng()));
    first = false;
    pos += n;
  }
  decoder d(role::server, kWsMaxMessage);
  for (size_t p = 0; p < wire.size();) {
    size_t n = std::min<size_t>(wire.size() - p, 1 + rng() % 3000);
    BOOST_REQUIRE(d.feed(std::string_view(wire).substr(p, n)).ok());
    p += n;
  }
  auto ev = d.next();
  BOOST_REQUIRE(ev.has_value());
  BOOST_TEST((ev->payload == payload));
}

// ---- BYTE_STREAM: BLIP frames over WebSocket ---------------------------------------------------

BOOST_AUTO_TEST_CASE(blip_session_over_websocket_rechunked) {
  // The BYTE_STREAM path end to end: session -> frames -> ws::stream (client, masked) -> bytes
  // split anywhere -> ws::stream (server) -> frames -> session. Bodies up to 300 KB, some
  // compressed and urgent, must come out whole; the server's ACKs travel back the same way.
  std::mt19937_64 rng(2024);
  session a, b;
  stream wa(role::client, kWsMaxMessage, 5), wb(role::server, kWsMaxMessage, 6);
  std::vector<std::string> sent;
  for (int i = 0; i < 30; ++i) {
    message m;
    m.no_reply = true;
    m.compressed = rng() % 2;
    m.urgent = rng() % 5 == 0;
    m.properties = {{"Profile", "rev"}, {"n", std::to_string(i)}};
    m.body.resize(rng() % 3 == 0 ? rng() % 300000 : rng() % 300);
    for (auto& c : m.body) c = static_cast<char>('a' + rng() % (m.compressed ? 4 : 26));
    sent.push_back(m.body);
    BOOST_REQUIRE(a.send(std::move(m)) != 0);
  }
  auto move_bytes = [&](session& from, stream& wfrom, stream& wto, session& to) {
    std::string frame;
    while (from.next_frame(frame)) wfrom.send_message(frame);
    std::string wire = wfrom.take_output();
    for (size_t pos = 0; pos < wire.size();) {
      size_t n = std::min<size_t>(wire.size() - pos, 1 + rng() % 5000);
      BOOST_REQUIRE(wto.feed(std::string_view(wire).substr(pos, n)).ok());
      pos += n;
      while (auto f = wto.next_message()) BOOST_REQUIRE(to.receive_frame(*f).ok());
    }
    return !wire.empty();
  };
  std::vector<std::string> got(sent.size());
  size_t count = 0;
  for (int round = 0; round < 1000; ++round) {
    bool moved = move_bytes(a, wa, wb, b);
    moved |= move_bytes(b, wb, wa, a);  // ACKs
    while (auto m = b.next_incoming()) {
      got[std::stoul(std::string(m->property("n")))] = std::move(m->body);
      ++count;
    }
    if (!moved) break;
  }
  BOOST_REQUIRE_EQUAL(count, sent.size());
  for (size_t i = 0; i < sent.size(); ++i) BOOST_TEST((got[i] == sent[i]), "message " << i);
}
