// Bad input to a running `peerlite serve`: random bytes, a correct WebSocket upgrade followed by
// garbage frames, HTTP sent to the TCP port, half a frame and then silence, and 1,000
// connections opened and dropped. Each is closed with a log line saying why, a well-behaved
// peer syncing at the same time finishes, and the hub's memory comes back.
#define BOOST_TEST_MODULE adapters_cli_bad_input
#include <sys/socket.h>

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/test/unit_test.hpp>
#include <filesystem>
#include <random>
#include <regex>

#include "peerlite/database.hpp"
#include "tests/adapters/fill.hpp"
#include "tests/adapters/process.hpp"

using namespace peerlite;
using namespace peerlite::test;
using namespace std::chrono_literals;
namespace asio = boost::asio;
namespace websocket = boost::beast::websocket;
using tcp = asio::ip::tcp;

/// Longest a one-shot sync of 5,000 documents may take on a loaded 2-core machine.
constexpr auto kSyncTimeout = 120s;
/// Longest a hub may take to print its "serving" line, or to exit after SIGTERM.
constexpr auto kHubTimeout = 15s;
/// The hub's idle timeout in this test: a silent peer is dropped after it.
constexpr int kIdleSeconds = 2;
/// Longest the test waits for the hub to close a bad connection (idle timeout + slack).
constexpr auto kCloseWait = 10s;
/// Connections opened and dropped at once.
constexpr int kDropped = 1000;
/// Dropped before the memory test's baseline (see there).
constexpr int kWarmDropped = 20;
/// How long the hub has, once every dropped connection is logged closed, to hand the freed
/// heap back: its trim check runs every 500 ms (serve's kTrimCheckInterval), and connection
/// actors free their memory a moment after their close is logged.
constexpr auto kSettle = 5s;

namespace {

const std::string kCli = PEERLITE_CLI;

std::string random_bytes(size_t n) {
  static std::mt19937 rng(42);
  std::string s(n, '\0');
  for (auto& c : s) c = static_cast<char>(rng());
  return s;
}

/// Waits until the hub closes `s` (EOF or reset); false if it stays open past kCloseWait.
bool closed_by_hub(tcp::socket& s) {
  timeval tv{static_cast<time_t>(kCloseWait.count()), 0};
  setsockopt(s.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  char buf[4096];
  for (;;) {
    ssize_t n = ::recv(s.native_handle(), buf, sizeof buf, 0);
    if (n == 0) return true;
    if (n < 0) return errno == ECONNRESET;
  }
}

tcp::socket dial(asio::io_context& io, uint16_t port) {
  tcp::socket s(io);
  s.connect({asio::ip::make_address("127.0.0.1"), port});
  return s;
}

uint16_t port_of(const std::string& url) {
  return static_cast<uint16_t>(std::stoi(url.substr(url.rfind(':') + 1)));
}

/// A WebSocket upgraded the way a peerlite peer does it.
std::unique_ptr<websocket::stream<tcp::socket>> upgraded(asio::io_context& io, uint16_t port) {
  auto ws = std::make_unique<websocket::stream<tcp::socket>>(dial(io, port));
  ws->set_option(websocket::stream_base::decorator([](websocket::request_type& r) {
    r.set(boost::beast::http::field::sec_websocket_protocol, "BLIP_3+CBMobile_3");
  }));
  ws->handshake("127.0.0.1", "/hub/_blipsync");
  ws->binary(true);
  return ws;
}

size_t count(const std::string& text, const std::string& pattern) {
  std::regex re(pattern);
  return std::distance(std::sregex_iterator(text.begin(), text.end(), re), std::sregex_iterator());
}

}  // namespace

BOOST_AUTO_TEST_CASE(bad_input_is_closed_with_a_reason_while_a_good_peer_finishes) {
  scratch s("bad");
  fill(s.path("warm.sqlite"), 5000, "warm");
  fill(s.path("good.sqlite"), 5000, "good");
  child hub({kCli, "serve", "--db", s.path("hub.sqlite"), "--listen", "ws://127.0.0.1:0",
             "--listen", "tcp://127.0.0.1:0", "--idle-timeout", std::to_string(kIdleSeconds)},
            s.path("hub.log"));
  BOOST_REQUIRE(hub.wait_for_log("serving ", kHubTimeout));
  auto ws_url = served_url(hub.log(), "ws");
  auto tcp_url = served_url(hub.log(), "tcp");
  BOOST_REQUIRE(!ws_url.empty() && !tcp_url.empty());
  uint16_t ws_port = port_of(std::string(ws_url).substr(0, ws_url.size() - 4));
  uint16_t tcp_port = port_of(std::string(tcp_url).substr(0, tcp_url.size() - 4));

  /// A first sync, so the bad input arrives at a hub that has already served a peer.
  auto warm = run({kCli, "sync", "--db", s.path("warm.sqlite"), "--remote", ws_url, "--push"},
                  s.path("warm.log"), kSyncTimeout);
  BOOST_REQUIRE_MESSAGE(warm.first == 0, warm.second);

  child good({kCli, "sync", "--db", s.path("good.sqlite"), "--remote", tcp_url, "--push"},
             s.path("good.log"));
  asio::io_context io;
  {  // random bytes to each port
    auto a = dial(io, ws_port);
    asio::write(a, asio::buffer(random_bytes(4096)));
    BOOST_TEST(closed_by_hub(a));
    auto b = dial(io, tcp_port);
    asio::write(b, asio::buffer(random_bytes(4096)));
    BOOST_TEST(closed_by_hub(b));
  }
  {  // a correct upgrade, then garbage frames
    auto ws = upgraded(io, ws_port);
    for (int i = 0; i < 5; ++i) ws->write(asio::buffer(random_bytes(1000)));
    BOOST_TEST(closed_by_hub(ws->next_layer()));
  }
  {  // HTTP to the TCP port
    auto h = dial(io, tcp_port);
    asio::write(
        h, asio::buffer(std::string(
               "GET /hub/_blipsync HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n\r\n")));
    BOOST_TEST(closed_by_hub(h));
  }
  {  // half a frame, then silence: dropped by the idle timeout
    auto ws = upgraded(io, ws_port);
    asio::write(ws->next_layer(), asio::buffer(std::string("\x82\x7e\x10", 3)));
    auto t = dial(io, tcp_port);
    asio::write(t, asio::buffer(std::string("\x82\x7e\x10", 3)));
    BOOST_TEST(closed_by_hub(ws->next_layer()));
    BOOST_TEST(closed_by_hub(t));
  }
  {  // 1,000 connections opened and dropped
    std::vector<tcp::socket> socks;
    for (int i = 0; i < kDropped; ++i) socks.push_back(dial(io, i % 2 ? ws_port : tcp_port));
    socks.clear();
  }
  BOOST_TEST(good.wait_exit(kSyncTimeout) == 0, good.log());

  /// Every connection the hub opened has been closed, each with a log line and a reason.
  bool drained = false;
  for (auto end = std::chrono::steady_clock::now() + kCloseWait;
       !drained && std::chrono::steady_clock::now() < end; std::this_thread::sleep_for(100ms)) {
    auto log = hub.log();
    drained = count(log, "opened (ws|tcp) ") == count(log, "closed (ws|tcp) [0-9.:]+: .+");
  }
  auto log = hub.log();
  BOOST_TEST(drained, log.substr(log.size() > 4000 ? log.size() - 4000 : 0));
  BOOST_TEST(count(log, "refused ws [0-9.:]+: not an HTTP upgrade request") >= 1u);
  BOOST_TEST(count(log, "closed ws [0-9.:]+: .*(protocol|BLIP|frame|CRC)") >= 1u);
  BOOST_TEST(count(log, "closed tcp [0-9.:]+: .*(protocol|websocket|frame)") >= 2u);
  BOOST_TEST(count(log, "silent for 2 s") >= 2u);
  BOOST_TEST(count(log, "opened tcp ") >= size_t(kDropped / 2));

  hub.signal(SIGTERM);
  BOOST_TEST(hub.wait_exit(kHubTimeout) == 0);
}

/// The hub's RSS after 1,000 connections come and go (twice) is back within 10% of its level
/// before. Three causes kept it up, each fixed in serve (measured on this test, 6 runs each):
///  - connection actors kept a pending 300 s heartbeat timer after closing (+5 KiB per
///    connection, growing without end): they cancel their timers now (actors/timer_service.hpp);
///  - serve trimmed only when it saw the live count drop between two of its 500 ms checks, and a
///    burst that opens and closes within one interval never shows a drop: nothing was trimmed
///    (+10 to +14 MiB, thread arenas full of free pages). It counts ended connections now, and
///    trims on every check for 5 s after (return_freed_memory): +10% to +19% left;
///  - Asio's reactor keeps one state block per socket ever open at once, made during the burst
///    between the connections' own blocks, so they pinned free pages after it: serve opens and
///    closes 1,024 sockets at start (io_runtime::prewarm): +4% to +8%.
BOOST_AUTO_TEST_CASE(hub_memory_returns_after_connections_are_dropped) {
  scratch s("bad");
  fill(s.path("warm.sqlite"), 2000, "warm");
  child hub({kCli, "serve", "--db", s.path("hub.sqlite"), "--listen", "tcp://127.0.0.1:0"},
            s.path("hub.log"));
  BOOST_REQUIRE(hub.wait_for_log("serving ", kHubTimeout));
  auto url = served_url(hub.log(), "tcp");
  BOOST_REQUIRE(!url.empty());
  auto warm = run({kCli, "sync", "--db", s.path("warm.sqlite"), "--remote", url, "--push"},
                  s.path("warm.log"), kSyncTimeout);
  BOOST_REQUIRE_MESSAGE(warm.first == 0, warm.second);
  asio::io_context io;
  uint16_t port = port_of(url.substr(0, url.size() - 4));
  /// A few connections dropped the same way first, so that the code their accept, log and
  /// close run is paged in before the baseline (up to 0.7 MiB of the binary's own pages,
  /// mapped from the file, not memory the hub keeps); 20 are far from the 1,000 whose heap
  /// must come back.
  {
    std::vector<tcp::socket> socks;
    for (int i = 0; i < kWarmDropped; ++i) socks.push_back(dial(io, port));
  }
  for (auto end = std::chrono::steady_clock::now() + kCloseWait;
       count(hub.log(), "closed tcp ") < size_t(kWarmDropped) + 1 &&
       std::chrono::steady_clock::now() < end;)
    std::this_thread::sleep_for(100ms);
  std::this_thread::sleep_for(1s);
  long baseline = rss_kib(hub.pid());
  size_t closed_before = count(hub.log(), "closed tcp ");
  for (int round = 0; round < 2; ++round) {
    std::vector<tcp::socket> socks;
    for (int i = 0; i < kDropped; ++i) socks.push_back(dial(io, port));
    socks.clear();
    size_t want = closed_before + size_t(kDropped * (round + 1));
    for (auto end = std::chrono::steady_clock::now() + kCloseWait;
         count(hub.log(), "closed tcp ") < want && std::chrono::steady_clock::now() < end;)
      std::this_thread::sleep_for(100ms);
    BOOST_TEST_REQUIRE(count(hub.log(), "closed tcp ") >= want,
                       "round " << round << ": the hub has not closed every dropped connection");
  }
  /// The hub hands freed heap back within a few of its trim checks once connections are gone;
  /// the last sample of kSettle counts (or the first back within 10%).
  long after = 0;
  long first = 0;
  for (auto end = std::chrono::steady_clock::now() + kSettle;;) {
    std::this_thread::sleep_for(250ms);
    after = rss_kib(hub.pid());
    if (!first) first = after;
    if (after <= baseline * 11 / 10 || std::chrono::steady_clock::now() >= end) break;
  }
  BOOST_TEST_MESSAGE("hub RSS: " << baseline << " KiB before, " << after << " KiB after (first "
                                 << first << " KiB)");
  BOOST_TEST(after <= baseline * 11 / 10, "RSS " << baseline << " -> " << after << " KiB");
  hub.signal(SIGTERM);
  hub.wait_exit(kHubTimeout);
}
