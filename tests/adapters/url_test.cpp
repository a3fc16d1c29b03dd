// The URLs users type for `peerlite sync --remote` and `serve --listen`.
#define BOOST_TEST_MODULE adapters_url
#include "adapters/tcp/url.hpp"

#include <boost/test/unit_test.hpp>

using namespace peerlite;
using namespace peerlite::net;

BOOST_AUTO_TEST_CASE(tcp_url_with_port_and_db) {
  auto u = parse_url("tcp://127.0.0.1:4985/hub");
  BOOST_REQUIRE(u);
  BOOST_TEST(u->scheme == "tcp");
  BOOST_TEST(u->host == "127.0.0.1");
  BOOST_TEST(u->port == 4985);
  BOOST_TEST(u->db == "hub");
  BOOST_TEST(u->to_string() == "tcp://127.0.0.1:4985/hub");
}

BOOST_AUTO_TEST_CASE(ws_url_drops_blipsync_and_defaults_port) {
  auto u = parse_url("ws://localhost/db/_blipsync");
  BOOST_REQUIRE(u);
  BOOST_TEST(u->port == kDefaultWsPort);
  BOOST_TEST(u->db == "db");
  auto v = parse_url("ws://[::1]:5000/x/");
  BOOST_REQUIRE(v);
  BOOST_TEST(v->host == "::1");
  BOOST_TEST(v->db == "x");
  BOOST_TEST(v->to_string() == "ws://[::1]:5000/x");
}

BOOST_AUTO_TEST_CASE(bad_urls_say_what_is_wrong) {
  auto a = parse_url("http://h:1/db");
  BOOST_REQUIRE(!a);
  BOOST_TEST(a.err().message.find("unsupported scheme 'http'") != std::string::npos);
  auto b = parse_url("ws://h:99999/db");
  BOOST_REQUIRE(!b);
  BOOST_TEST(b.err().message.find("bad port") != std::string::npos);
  BOOST_TEST(!parse_url("ws://:80/db"));
  BOOST_TEST(!parse_url("ws://h:80/a/b"));
  BOOST_TEST(!parse_url("h:80/db"));
  BOOST_TEST(!parse_url("ws://h:x/db"));
}
