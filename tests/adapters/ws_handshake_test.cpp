// The HTTP upgrade request and response as bytes on the wire. Couchbase Lite's listener
// compares `Connection: Upgrade` case-sensitively and answers 405 to anything else (issue 10),
// so our client must send exactly that header, once; our server, like RFC 7230 says, must
// accept the token in any case and inside a list.
#define BOOST_TEST_MODULE adapters_ws_handshake
#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/write.hpp>
#include <boost/test/unit_test.hpp>
#include <chrono>
#include <condition_variable>
#include <future>
#include <mutex>
#include <string>

#include "adapters/tcp/io_runtime.hpp"
#include "adapters/websocket/ws_pipe.hpp"
#include "adapters/websocket/ws_server.hpp"

using namespace peerlite;
using namespace peerlite::net;
namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using boost::system::error_code;

/// Longest any single step may take on a loaded 2-core machine before the test fails.
constexpr auto kStepTimeout = std::chrono::seconds(15);

namespace {

size_t count_of(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

/// The HTTP head (up to and including the blank line) in `buf`, as received.
std::string head_of(asio::streambuf& buf, size_t n) {
  auto data = buf.data();
  return std::string(asio::buffers_begin(data), asio::buffers_begin(data) + n);
}

/// A raw TCP acceptor on 127.0.0.1 standing in for a WebSocket server: it records the first
/// HTTP request head a client sends, then hangs up without answering.
std::string capture_client_request(io_runtime& io) {
  asio::io_context ctx;
  tcp::acceptor acceptor(ctx, {asio::ip::make_address("127.0.0.1"), 0});
  tcp::socket conn(ctx);
  asio::streambuf buf;
  std::string request;
  acceptor.async_accept(conn, [&](const error_code& ec) {
    BOOST_REQUIRE_MESSAGE(!ec, ec.message());
    asio::async_read_until(conn, buf, "\r\n\r\n", [&](const error_code& ec, size_t n) {
      BOOST_REQUIRE_MESSAGE(!ec, ec.message());
      request = head_of(buf, n);
      error_code ignored;
      conn.close(ignored);
    });
  });

  auto url =
      *parse_url("ws://127.0.0.1:" + std::to_string(acceptor.local_endpoint().port()) + "/db");
  auto pipe =
      std::make_shared<ws_pipe>(tcp::socket(asio::make_strand(io.context())), url.to_string());
  std::promise<bool> done;
  pipe->connect(url, {}, [&](bool ok, std::optional<messaging_error>) { done.set_value(ok); });
  ctx.run_for(kStepTimeout);
  /// The fake server hung up: the client's upgrade fails, and it must say so in time.
  auto f = done.get_future();
  BOOST_REQUIRE(f.wait_for(kStepTimeout) == std::future_status::ready);
  BOOST_TEST(!f.get());
  std::promise<void> closed;
  pipe->close(std::nullopt, [&] { closed.set_value(); });
  BOOST_REQUIRE(closed.get_future().wait_for(kStepTimeout) == std::future_status::ready);
  return request;
}

/// A hub on 127.0.0.1 (ws_server serving "hub") that keeps each upgraded pipe until the end.
struct hub_fixture {
  io_runtime io{1};
  std::mutex mx;
  std::condition_variable cv;
  std::vector<std::shared_ptr<ws_pipe>> upgraded;
  std::unique_ptr<ws_server> server;

  hub_fixture() {
    ws_listener_options o;
    o.db_name = "hub";
    auto s = ws_server::start(io, o, [this](std::shared_ptr<ws_pipe> p) {
      std::lock_guard lk(mx);
      upgraded.push_back(std::move(p));
      cv.notify_all();
    });
    if (!s) BOOST_FAIL(s.err().message);
    server = std::move(*s);
  }
  ~hub_fixture() {
    server->stop();
    std::vector<std::shared_ptr<ws_pipe>> pipes;
    {
      std::lock_guard lk(mx);
      pipes.swap(upgraded);
    }
    for (auto& p : pipes) {
      std::promise<void> closed;
      p->close(std::nullopt, [&] { closed.set_value(); });
      closed.get_future().wait_for(kStepTimeout);
    }
  }

  /// Sends an upgrade request whose Connection header is `connection`, written by hand so the
  /// bytes are exactly those; returns the response head ("" if none came in time).
  std::string upgrade_with(const std::string& connection) {
    asio::io_context ctx;
    tcp::socket sock(ctx);
    asio::streambuf buf;
    std::string request =
        "GET /hub/_blipsync HTTP/1.1\r\n"
        "Host: 127.0.0.1:" +
        std::to_string(server->port()) +
        "\r\n"
        "Upgrade: websocket\r\n"
        "Connection: " +
        connection +
        "\r\n"
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
        "Sec-WebSocket-Version: 13\r\n"
        "Sec-WebSocket-Protocol: " +
        std::string(kBlipSubprotocol) + "\r\n\r\n";
    std::string response;
    sock.async_connect(
        {asio::ip::make_address("127.0.0.1"), server->port()}, [&](const error_code& ec) {
          BOOST_REQUIRE_MESSAGE(!ec, ec.message());
          asio::async_write(sock, asio::buffer(request), [&](const error_code& ec, size_t) {
            BOOST_REQUIRE_MESSAGE(!ec, ec.message());
            asio::async_read_until(sock, buf, "\r\n\r\n", [&](const error_code& ec, size_t n) {
              if (!ec) response = head_of(buf, n);
            });
          });
        });
    ctx.run_for(kStepTimeout);
    return response;
  }

  size_t upgraded_count() {
    std::unique_lock lk(mx);
    return upgraded.size();
  }
};

}  // namespace

BOOST_AUTO_TEST_CASE(client_sends_connection_upgrade_capitalized_exactly_once) {
  io_runtime io(1);
  auto request = capture_client_request(io);
  BOOST_TEST_MESSAGE("client request:\n" << request);
  BOOST_REQUIRE_MESSAGE(!request.empty(), "no HTTP request reached the raw acceptor");
  BOOST_TEST(request.rfind("GET /db/_blipsync HTTP/1.1\r\n", 0) == 0, request);
  /// Exactly this line: Couchbase Lite refuses `Connection: upgrade` with 405.
  BOOST_TEST(count_of(request, "\r\nConnection: Upgrade\r\n") == 1, request);
  /// ...and no second Connection header from Beast, in any spelling.
  BOOST_TEST(count_of(request, "\r\nConnection:") == 1, request);
  BOOST_TEST(count_of(request, "\r\nSec-WebSocket-Protocol: BLIP_3+CBMobile_3\r\n") == 1, request);
  BOOST_TEST(count_of(request, "\r\nUpgrade: websocket\r\n") == 1, request);
}

BOOST_FIXTURE_TEST_CASE(server_accepts_the_upgrade_token_in_any_case, hub_fixture) {
  size_t n = 0;
  for (std::string connection : {"upgrade", "Upgrade", "UPGRADE", "keep-alive, Upgrade"}) {
    BOOST_TEST_CONTEXT("Connection: " << connection) {
      auto response = upgrade_with(connection);
      BOOST_TEST(response.rfind("HTTP/1.1 101 ", 0) == 0, response);
      BOOST_TEST(count_of(response, "\r\nSec-WebSocket-Protocol: BLIP_3+CBMobile_3\r\n") == 1,
                 response);
      /// Our answer spells the header the way Couchbase Lite spells it too.
      BOOST_TEST(count_of(response, "\r\nConnection: Upgrade\r\n") == 1, response);
      BOOST_TEST(count_of(response, "\r\nConnection:") == 1, response);
      ++n;
      std::unique_lock lk(mx);
      BOOST_TEST(cv.wait_for(lk, kStepTimeout, [&] { return upgraded.size() == n; }));
    }
  }
}

BOOST_FIXTURE_TEST_CASE(server_still_refuses_a_request_without_the_upgrade_token, hub_fixture) {
  auto response = upgrade_with("keep-alive");
  BOOST_TEST(response.rfind("HTTP/1.1 400 ", 0) == 0, response);
  BOOST_TEST(upgraded_count() == 0);
}
