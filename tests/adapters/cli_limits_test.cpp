// The admission limits of `peerlite serve`: --max-connections and
// --max-connections-per-address answer HTTP 503 with the reason (and a real peer refused that
// way retries and completes once there is room), --handshake-timeout drops a client that sends
// its headers a byte at a time.
#define BOOST_TEST_MODULE adapters_cli_limits
#include <fcntl.h>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <boost/test/unit_test.hpp>
#include <regex>

#include "peerlite/database.hpp"
#include "tests/adapters/fill.hpp"
#include "tests/adapters/process.hpp"

using namespace peerlite;
using namespace peerlite::test;
using namespace std::chrono_literals;
namespace asio = boost::asio;
using tcp = asio::ip::tcp;

constexpr auto kHubTimeout = 15s;
constexpr auto kSyncTimeout = 60s;

namespace {

const std::string kCli = PEERLITE_CLI;

uint16_t port_in(const std::string& log) {
  std::smatch m;
  if (!std::regex_search(log, m, std::regex("ws://127.0.0.1:([0-9]+)/hub"))) return 0;
  return static_cast<uint16_t>(std::stoi(m[1]));
}

/// A socket to the hub from `from` (any 127.x.y.z: the loopback network), holding a slot.
tcp::socket dial(asio::io_context& io, uint16_t port, const std::string& from = "127.0.0.1") {
  tcp::socket s(io);
  s.open(tcp::v4());
  /// Not inherited by the `peerlite sync` child: its copy would keep the slot taken.
  ::fcntl(s.native_handle(), F_SETFD, FD_CLOEXEC);
  s.bind({asio::ip::make_address(from), 0});
  s.connect({asio::ip::make_address("127.0.0.1"), port});
  return s;
}

/// Sends an upgrade request on `s` and returns everything the hub answers before closing.
std::string ask(tcp::socket& s, const std::string& path = "/hub/_blipsync") {
  std::string req = "GET " + path +
                    " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n"
                    "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                    "Sec-WebSocket-Protocol: BLIP_3+CBMobile_3\r\n\r\n";
  asio::write(s, asio::buffer(req));
  timeval tv{10, 0};
  setsockopt(s.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  std::string got;
  char buf[2048];
  for (;;) {
    ssize_t n = ::recv(s.native_handle(), buf, sizeof buf, 0);
    if (n <= 0) break;
    got.append(buf, static_cast<size_t>(n));
    if (got.find("\r\n\r\n") != std::string::npos && got.find("101 Switching") != std::string::npos)
      break;
  }
  return got;
}

}  // namespace

BOOST_AUTO_TEST_CASE(a_full_hub_answers_503_and_a_refused_peer_gets_in_later) {
  scratch s("limits");
  fill(s.path("a.sqlite"), 50);
  child hub({kCli, "serve", "--db", s.path("hub.sqlite"), "--listen", "ws://127.0.0.1:0",
             "--max-connections", "3", "--handshake-timeout", "60"},
            s.path("hub.log"));
  BOOST_REQUIRE(hub.wait_for_log("serving ", kHubTimeout));
  auto port = port_in(hub.log());
  asio::io_context io;
  std::vector<tcp::socket> held;
  for (int i = 0; i < 3; ++i) held.push_back(dial(io, port));
  auto extra = dial(io, port);
  auto answer = ask(extra);
  BOOST_TEST(answer.find("HTTP/1.1 503") == 0u, answer);
  BOOST_TEST(answer.find("the hub is full (3 connections, --max-connections)") != std::string::npos,
             answer);
  BOOST_TEST(hub.wait_for_log("503 the hub is full", kHubTimeout), hub.log());

  /// A real peer meets the full hub, is told why, retries, and completes once slots free up.
  child peer({kCli, "sync", "--db", s.path("a.sqlite"), "--remote",
              "ws://127.0.0.1:" + std::to_string(port) + "/hub", "--push"},
             s.path("peer.log"));
  BOOST_TEST(peer.wait_for_log("HTTP 503", kSyncTimeout), peer.log());
  BOOST_TEST(peer.log().find("the hub is full") != std::string::npos, peer.log());
  held.clear();
  BOOST_TEST(peer.wait_exit(kSyncTimeout) == 0, peer.log() << "\nHUB:\n" << hub.log());
  auto db = database::open(s.path("hub.sqlite"));
  BOOST_REQUIRE(db);
  auto n = db->document_count();
  BOOST_TEST((n && *n == 50u));
  hub.signal(SIGTERM);
  BOOST_TEST(hub.wait_exit(kHubTimeout) == 0);
}

BOOST_AUTO_TEST_CASE(one_address_cannot_take_every_slot) {
  scratch s("limits");
  child hub({kCli, "serve", "--db", s.path("hub.sqlite"), "--listen", "ws://127.0.0.1:0",
             "--max-connections-per-address", "2", "--handshake-timeout", "60"},
            s.path("hub.log"));
  BOOST_REQUIRE(hub.wait_for_log("serving ", kHubTimeout));
  auto port = port_in(hub.log());
  asio::io_context io;
  std::vector<tcp::socket> held;
  for (int i = 0; i < 2; ++i) held.push_back(dial(io, port));
  auto third = dial(io, port);
  auto answer = ask(third);
  BOOST_TEST(answer.find("HTTP/1.1 503") == 0u, answer);
  BOOST_TEST(answer.find("too many connections from 127.0.0.1 (2, "
                         "--max-connections-per-address)") != std::string::npos,
             answer);
  /// Another address is admitted (and then answered on its merits: 404 for a wrong path).
  auto other = dial(io, port, "127.0.0.2");
  auto elsewhere = ask(other, "/nope/_blipsync");
  BOOST_TEST(elsewhere.find("HTTP/1.1 404") == 0u, elsewhere);
  /// A slot given back is free again.
  held.pop_back();
  std::this_thread::sleep_for(300ms);
  auto again = dial(io, port);
  auto ok = ask(again);
  BOOST_TEST(ok.find("HTTP/1.1 101") == 0u, ok);
  hub.signal(SIGTERM);
  BOOST_TEST(hub.wait_exit(kHubTimeout) == 0);
}

BOOST_AUTO_TEST_CASE(headers_a_byte_at_a_time_are_dropped_at_the_handshake_timeout) {
  scratch s("limits");
  child hub({kCli, "serve", "--db", s.path("hub.sqlite"), "--listen", "ws://127.0.0.1:0",
             "--handshake-timeout", "1"},
            s.path("hub.log"));
  BOOST_REQUIRE(hub.wait_for_log("serving ", kHubTimeout));
  auto port = port_in(hub.log());
  asio::io_context io;
  auto slow = dial(io, port);
  std::string req = "GET /hub/_blipsync HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n";
  auto t0 = std::chrono::steady_clock::now();
  bool dropped = false;
  for (char c : req) {
    boost::system::error_code ec;
    asio::write(slow, asio::buffer(&c, 1), ec);
    if (ec) {
      dropped = true;
      break;
    }
    std::this_thread::sleep_for(200ms);
    if (hub.log().find("within 1 s") != std::string::npos) {
      dropped = true;
      break;
    }
  }
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  BOOST_TEST(dropped);
  BOOST_TEST(secs < 5.0, secs);
  BOOST_TEST(hub.wait_for_log("no complete HTTP upgrade request within 1 s", kHubTimeout),
             hub.log());
  hub.signal(SIGTERM);
  BOOST_TEST(hub.wait_exit(kHubTimeout) == 0);
}

/// --max-unreplied-requests reaches every connection: a hub allowing 2 unanswered requests
/// closes an honest pushing peer (which keeps hundreds of revs in flight) with a protocol error
/// that names the limit, the peer stops with it, and the same push completes against the
/// default limit.
BOOST_AUTO_TEST_CASE(a_peer_over_the_unreplied_requests_limit_is_closed_with_the_reason) {
  scratch s("limits");
  fill(s.path("a.sqlite"), 2000);
  child hub({kCli, "serve", "--db", s.path("hub.sqlite"), "--listen", "ws://127.0.0.1:0",
             "--max-unreplied-requests", "2"},
            s.path("hub.log"));
  BOOST_REQUIRE(hub.wait_for_log("serving ", kHubTimeout));
  auto url = "ws://127.0.0.1:" + std::to_string(port_in(hub.log())) + "/hub";
  child peer({kCli, "sync", "--db", s.path("a.sqlite"), "--remote", url, "--push"},
             s.path("peer.log"));
  BOOST_TEST(peer.wait_exit(kSyncTimeout) != 0, peer.log());
  BOOST_TEST(peer.log().find("protocol error") != std::string::npos, peer.log());
  BOOST_TEST(hub.wait_for_log("more than 2 requests we had not answered yet", kHubTimeout),
             hub.log());
  hub.signal(SIGTERM);
  BOOST_TEST(hub.wait_exit(kHubTimeout) == 0);

  child fair({kCli, "serve", "--db", s.path("hub.sqlite"), "--listen", "ws://127.0.0.1:0"},
             s.path("fair.log"));
  BOOST_REQUIRE(fair.wait_for_log("serving ", kHubTimeout));
  auto fair_url = "ws://127.0.0.1:" + std::to_string(port_in(fair.log())) + "/hub";
  child again({kCli, "sync", "--db", s.path("a.sqlite"), "--remote", fair_url, "--push"},
              s.path("again.log"));
  BOOST_TEST(again.wait_exit(kSyncTimeout) == 0, again.log());
  auto db = database::open(s.path("hub.sqlite"));
  BOOST_REQUIRE(db);
  auto n = db->document_count();
  BOOST_TEST((n && *n == 2000u));
  fair.signal(SIGTERM);
  BOOST_TEST(fair.wait_exit(kHubTimeout) == 0);
}
