// Every replication message of the five real Couchbase Lite 3.2 sessions (tests/vectors/cbl-3.2)
// decodes with our codecs, requests and replies alike, and the deterministic ones re-encode to
// the reference's bytes. The frames are unpacked here with zlib directly (varint header, running
// deflate stream per direction, 00 00 FF FF restored) so this test does not depend on
// protocol::session; the session's own capture test checks framing, CRCs and ACKs.
#define BOOST_TEST_MODULE rep_vectors
#include <zlib.h>

#include <boost/test/unit_test.hpp>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <stdexcept>

#include "protocol/rep_messages.hpp"

using namespace peerlite;
using namespace peerlite::protocol;
using namespace peerlite::protocol::rep;

namespace {

struct captured {
  bool c2s = false;
  message msg;
};

uint64_t read_varint(std::string_view b, size_t& i) {
  uint64_t r = 0;
  for (int shift = 0; i < b.size() && shift < 64; shift += 7) {
    auto c = static_cast<uint8_t>(b[i++]);
    r |= uint64_t{c & 0x7Fu} << shift;
    if (c < 0x80) return r;
  }
  throw std::runtime_error("bad varint");
}

/// One direction's raw-deflate stream, shared by all its compressed frames.
struct inflater {
  z_stream z{};
  inflater() { inflateInit2(&z, -15); }
  ~inflater() { inflateEnd(&z); }
  std::string run(std::string in) {
    in += std::string("\x00\x00\xff\xff", 4);
    z.next_in = reinterpret_cast<Bytef*>(in.data());
    z.avail_in = static_cast<uInt>(in.size());
    std::string out;
    char buf[65536];
    do {
      z.next_out = reinterpret_cast<Bytef*>(buf);
      z.avail_out = sizeof buf;
      int rc = inflate(&z, Z_SYNC_FLUSH);
      if (rc != Z_OK && rc != Z_BUF_ERROR) throw std::runtime_error("inflate failed");
      out.append(buf, sizeof buf - z.avail_out);
    } while (z.avail_in > 0 || z.avail_out == 0);
    return out;
  }
};

std::string unhex(const std::string& h) {
  std::string out;
  for (size_t i = 0; i + 1 < h.size(); i += 2)
    out.push_back(static_cast<char>(std::stoi(h.substr(i, 2), nullptr, 16)));
  return out;
}

message finish(uint64_t number, uint8_t flags, std::string_view data) {
  message m;
  m.type = static_cast<message_type>(flags & flag::type_mask);
  m.number = number;
  m.urgent = flags & flag::urgent;
  m.compressed = flags & flag::compressed;
  m.no_reply = flags & flag::no_reply;
  size_t i = 0;
  size_t plen = read_varint(data, i);
  std::string_view props = data.substr(i, plen);
  while (!props.empty()) {
    size_t k = props.find('\0'), v = props.find('\0', k + 1);
    m.properties.emplace_back(props.substr(0, k), props.substr(k + 1, v - k - 1));
    props.remove_prefix(v + 1);
  }
  m.body = data.substr(i + plen);
  return m;
}

/// The whole messages of a capture, in the order their last frames appear.
std::vector<captured> load(const std::string& name) {
  std::ifstream in(std::string(PEERLITE_VECTORS_DIR) + "/" + name + ".jsonl");
  BOOST_REQUIRE(in.good());
  inflater inf[2];
  std::map<std::tuple<bool, uint64_t, int>, std::pair<uint8_t, std::string>> partial;
  std::vector<captured> out;
  for (std::string line; std::getline(in, line);) {
    auto j = nlohmann::json::parse(line);
    if (!j.contains("opcode") || j["opcode"] != 2) continue;
    bool c2s = j["dir"] == "c2s";
    std::string f = unhex(j["payload"].get<std::string>());
    size_t i = 0;
    uint64_t number = read_varint(f, i);
    auto flags = static_cast<uint8_t>(read_varint(f, i));
    int type = flags & flag::type_mask;
    if (type == 4 || type == 5) continue;  // ACKs carry no message
    std::string payload = f.substr(i, f.size() - i - 4);
    if (flags & flag::compressed) payload = inf[c2s].run(payload);
    auto& p = partial[{c2s, number, type}];
    p.first |= flags;
    p.second += payload;
    if (flags & flag::more_coming) continue;
    out.push_back({c2s, finish(number, p.first & ~flag::more_coming, p.second)});
    partial.erase({c2s, number, type});
  }
  return out;
}

template <class T>
void expect_ok(const expected<T>& r, const message& m) {
  BOOST_TEST(r.has_value(),
             m.profile() << " #" << m.number << ": " << (r.has_value() ? "" : r.err().message));
}

}  // namespace

namespace {

void check_request(const message& m) {
  std::string_view p = m.profile();
  auto same_wire = [&](const message& again) {
    BOOST_TEST(again.body == m.body, p << " #" << m.number << " body differs");
    BOOST_TEST((again.properties == m.properties), p << " #" << m.number << " properties differ");
    BOOST_TEST((again.urgent == m.urgent && again.no_reply == m.no_reply), p << " flags differ");
  };
  if (p == profile::get_checkpoint) {
    auto r = get_checkpoint_request::decode(m);
    expect_ok(r, m);
    if (r) same_wire(r->encode());
  } else if (p == profile::set_checkpoint) {
    auto r = set_checkpoint_request::decode(m);
    expect_ok(r, m);
    if (r) BOOST_TEST(r->encode().body == m.body);  // rev="" of a new one is sent absent
  } else if (p == profile::sub_changes) {
    auto r = sub_changes_request::decode(m);
    expect_ok(r, m);
    if (r) same_wire(r->encode());
  } else if (p == profile::changes) {
    auto r = changes_request::decode(m);
    expect_ok(r, m);
    if (r) same_wire(r->encode());
  } else if (p == profile::propose_changes) {
    auto r = propose_changes_request::decode(m);
    expect_ok(r, m);
    if (r) same_wire(r->encode());
  } else if (p == profile::rev) {
    auto r = rev_message::decode(m);
    expect_ok(r, m);
    if (r) same_wire(r->encode());
  } else {
    BOOST_ERROR("unexpected Profile " << p);
  }
}

void check_reply(const message& m, std::string_view request_profile) {
  auto same_wire = [&](const message& again) {
    BOOST_TEST(again.body == m.body, request_profile << " reply #" << m.number << " body");
    BOOST_TEST((again.properties == m.properties), request_profile << " reply properties");
    BOOST_TEST((again.urgent == m.urgent && again.compressed == m.compressed));
  };
  if (request_profile == profile::get_checkpoint) {
    auto r = get_checkpoint_reply::decode(m);
    BOOST_TEST((r.has_value() || r.err().code == errc::not_found));
  } else if (request_profile == profile::set_checkpoint) {
    expect_ok(set_checkpoint_reply::decode(m), m);
  } else if (request_profile == profile::changes) {
    auto r = changes_reply::decode(m);
    expect_ok(r, m);
    if (r) same_wire(r->encode(m.number));
  } else if (request_profile == profile::propose_changes) {
    auto r = propose_changes_reply::decode(m);
    expect_ok(r, m);
    if (r) same_wire(r->encode(m.number));
  } else {
    BOOST_TEST(rep::check_reply(m, request_profile).ok());  // subChanges, rev: empty replies
    BOOST_TEST(m.body.empty());
  }
}

/// Decodes a whole capture; returns "c2s:rev" -> count and the like.
std::map<std::string, int> check_capture(const std::string& name) {
  BOOST_TEST_CONTEXT(name) {
    std::map<std::pair<bool, uint64_t>, std::string> asked;  // (requester dir, number) -> Profile
    std::map<std::string, int> counts;
    for (const captured& c : load(name)) {
      const message& m = c.msg;
      std::string dir = c.c2s ? "c2s:" : "s2c:";
      if (m.type == message_type::request) {
        check_request(m);
        asked[{c.c2s, m.number}] = std::string(m.profile());
        ++counts[dir + std::string(m.profile())];
      } else {
        auto it = asked.find({!c.c2s, m.number});
        BOOST_REQUIRE_MESSAGE(it != asked.end(), "reply to unknown request " << m.number);
        check_reply(m, it->second);
        ++counts[dir + (m.is_error() ? "error" : "reply")];
      }
    }
    return counts;
  }
  return {};
}

}  // namespace

BOOST_AUTO_TEST_CASE(push) {
  auto n = check_capture("push");
  BOOST_TEST(n["c2s:rev"] == 6);
  BOOST_TEST(n["c2s:proposeChanges"] == 1);
  BOOST_TEST(n["s2c:error"] == 1);  // getCheckpoint -> HTTP 404
  BOOST_TEST(n["s2c:reply"] == 8);
}

BOOST_AUTO_TEST_CASE(pull) {
  auto n = check_capture("pull");
  BOOST_TEST(n["s2c:changes"] == 2);
  BOOST_TEST(n["s2c:rev"] == 3);
  BOOST_TEST(n["c2s:setCheckpoint"] == 2);
  BOOST_TEST(n["c2s:reply"] == 4);
}

BOOST_AUTO_TEST_CASE(bidi) {
  auto n = check_capture("bidi");
  BOOST_TEST(n["c2s:rev"] == 1);
  BOOST_TEST(n["s2c:rev"] == 1);
  BOOST_TEST(n["c2s:setCheckpoint"] == 3);
  BOOST_TEST(n["s2c:reply"] == 7);
}

BOOST_AUTO_TEST_CASE(push_big) {
  auto n = check_capture("push-big");
  BOOST_TEST(n["c2s:rev"] == 303);
  BOOST_TEST(n["c2s:proposeChanges"] == 2);
  BOOST_TEST(n["s2c:reply"] == 306);
}

BOOST_AUTO_TEST_CASE(pull_big) {
  auto n = check_capture("pull-big");
  BOOST_TEST(n["s2c:rev"] == 304);
  BOOST_TEST(n["s2c:changes"] == 3);
  BOOST_TEST(n["c2s:reply"] == 306);
}
