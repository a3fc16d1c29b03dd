// The TCP adapter's socket layer over real loopback sockets: bytes arrive whole and in order,
// send completions mean "written", and each failure is classified the way the replicator
// needs (recoverable = retry).
#define BOOST_TEST_MODULE adapters_tcp_pipe
#include "adapters/tcp/tcp_pipe.hpp"

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/strand.hpp>
#include <boost/test/unit_test.hpp>
#include <chrono>
#include <future>
#include <mutex>

#include "adapters/tcp/io_runtime.hpp"

using namespace peerlite;
using namespace peerlite::net;
namespace asio = boost::asio;
using tcp = asio::ip::tcp;

/// Longest any single step may take on a loaded 2-core machine before the test fails.
constexpr auto kStepTimeout = std::chrono::seconds(10);

namespace {

struct completion_result {
  bool ok = false;
  std::optional<messaging_error> error;
};

/// A completion that fulfils a future, and fails the test if called twice.
struct completion_probe {
  std::shared_ptr<std::promise<completion_result>> promise =
      std::make_shared<std::promise<completion_result>>();
  std::shared_ptr<std::atomic<int>> calls = std::make_shared<std::atomic<int>>(0);
  messaging_completion fn() {
    return [p = promise, c = calls](bool ok, std::optional<messaging_error> e) {
      if (c->fetch_add(1) == 0) p->set_value({ok, std::move(e)});
    };
  }
  completion_result wait() {
    auto f = promise->get_future();
    BOOST_REQUIRE(f.wait_for(kStepTimeout) == std::future_status::ready);
    return f.get();
  }
};

/// Collects what a pipe reads, and how it ended.
struct sink {
  std::mutex mx;
  std::string bytes;
  std::optional<messaging_error> ended;
  std::condition_variable cv;
  void start(tcp_pipe& p) {
    p.start(
        [this](message m) {
          std::lock_guard lk(mx);
          bytes += m.data();
          cv.notify_all();
        },
        [this](const messaging_error& e) {
          std::lock_guard lk(mx);
          ended = e;
          cv.notify_all();
        });
  }
  bool wait_for(std::function<bool()> pred) {
    std::unique_lock lk(mx);
    return cv.wait_for(lk, kStepTimeout, pred);
  }
};

struct fixture {
  io_runtime io{1};
  tcp::acceptor acceptor{io.context(), tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)};
  std::shared_ptr<tcp_pipe> client, server, extra;
  sink at_client, at_server, at_extra;

  /// Pipes call their sinks until closed: close them before the sinks go away.
  ~fixture() {
    for (auto& p : {client, server, extra}) {
      if (!p) continue;
      std::promise<void> closed;
      p->close([&] { closed.set_value(); });
      closed.get_future().wait_for(kStepTimeout);
    }
  }

  uint16_t port() { return acceptor.local_endpoint().port(); }
  std::shared_ptr<tcp_pipe> fresh(std::string label) {
    return std::make_shared<tcp_pipe>(tcp::socket(asio::make_strand(io.context())), label);
  }
  /// Connects a client pipe to an accepted server pipe.
  void connect_pair() {
    client = fresh("tcp://127.0.0.1:" + std::to_string(port()) + "/db");
    completion_probe connected;
    client->connect("127.0.0.1", port(), connected.fn());
    tcp::socket s(asio::make_strand(io.context()));
    acceptor.accept(s);
    server = std::make_shared<tcp_pipe>(std::move(s), "");
    auto r = connected.wait();
    BOOST_REQUIRE(r.ok);
  }
};

}  // namespace

BOOST_FIXTURE_TEST_CASE(bytes_arrive_whole_and_in_order_both_ways, fixture) {
  connect_pair();
  BOOST_TEST(server->peer().rfind("127.0.0.1:", 0) == 0);
  at_server.start(*server);
  at_client.start(*client);
  std::string expected;
  std::vector<completion_probe> sends(200);
  for (int i = 0; i < 200; ++i) {
    /// Short chunks too: they live inside the string (SSO) and move with it.
    std::string chunk(i % 3 == 0 ? size_t(1 + i % 15) : size_t(1000 + i * 37), char('a' + i % 26));
    expected += chunk;
    client->write(message(chunk), sends[i].fn());
  }
  for (auto& s : sends) BOOST_TEST(s.wait().ok);
  BOOST_REQUIRE(at_server.wait_for([&] { return at_server.bytes.size() >= expected.size(); }));
  BOOST_TEST((at_server.bytes == expected));
  completion_probe back;
  server->write(message("pong"), back.fn());
  BOOST_TEST(back.wait().ok);
  BOOST_REQUIRE(at_client.wait_for([&] { return at_client.bytes == "pong"; }));
}

BOOST_FIXTURE_TEST_CASE(refused_connect_is_recoverable, fixture) {
  auto p = port();
  acceptor.close();
  auto c = fresh("tcp://127.0.0.1:" + std::to_string(p) + "/db");
  completion_probe connected;
  c->connect("127.0.0.1", p, connected.fn());
  auto r = connected.wait();
  BOOST_TEST(!r.ok);
  BOOST_REQUIRE(r.error);
  BOOST_TEST(r.error->recoverable);
  BOOST_TEST(r.error->what.find("refused") != std::string::npos, r.error->what);
}

BOOST_FIXTURE_TEST_CASE(unknown_host_is_permanent, fixture) {
  auto c = fresh("tcp://no-such-host.invalid:1/db");
  completion_probe connected;
  c->connect("no-such-host.invalid", 1, connected.fn());
  auto r = connected.wait();
  BOOST_TEST(!r.ok);
  BOOST_REQUIRE(r.error);
  BOOST_TEST(!r.error->recoverable, r.error->what);
}

BOOST_FIXTURE_TEST_CASE(peer_hanging_up_ends_the_pipe_recoverably, fixture) {
  connect_pair();
  at_client.start(*client);
  std::promise<void> closed;
  server->close([&] { closed.set_value(); });
  BOOST_REQUIRE(closed.get_future().wait_for(kStepTimeout) == std::future_status::ready);
  BOOST_REQUIRE(at_client.wait_for([&] { return at_client.ended.has_value(); }));
  BOOST_TEST(at_client.ended->recoverable);
  BOOST_TEST(at_client.ended->what.find("peer closed the connection") != std::string::npos,
             at_client.ended->what);
}

BOOST_FIXTURE_TEST_CASE(reset_by_peer_is_recoverable, fixture) {
  /// A connection whose server end is a raw socket we abort (RST instead of FIN).
  extra = fresh("tcp://127.0.0.1/db");
  completion_probe connected;
  extra->connect("127.0.0.1", port(), connected.fn());
  tcp::socket raw(io.context());
  acceptor.accept(raw);
  BOOST_REQUIRE(connected.wait().ok);
  at_extra.start(*extra);
  raw.set_option(asio::socket_base::linger(true, 0));
  raw.close();
  BOOST_REQUIRE(at_extra.wait_for([&] { return at_extra.ended.has_value(); }));
  BOOST_TEST(at_extra.ended->recoverable, at_extra.ended->what);
  BOOST_TEST(at_extra.ended->what.find("reset") != std::string::npos, at_extra.ended->what);
}

BOOST_FIXTURE_TEST_CASE(close_completes_every_send_once_and_refuses_new_ones, fixture) {
  connect_pair();
  std::vector<completion_probe> sends(50);
  for (auto& s : sends) client->write(message(std::string(64 * 1024, 'x')), s.fn());
  std::promise<void> closed;
  client->close([&] { closed.set_value(); });
  BOOST_REQUIRE(closed.get_future().wait_for(kStepTimeout) == std::future_status::ready);
  for (auto& s : sends) s.wait();  // each called (ok or not) exactly once
  for (auto& s : sends) BOOST_TEST(s.calls->load() == 1);
  completion_probe late;
  client->write(message("late"), late.fn());
  auto r = late.wait();
  BOOST_TEST(!r.ok);
  BOOST_REQUIRE(r.error);
  BOOST_TEST(!r.error->recoverable);
  std::promise<void> again;
  client->close([&] { again.set_value(); });  // idempotent
  BOOST_TEST((again.get_future().wait_for(kStepTimeout) == std::future_status::ready));
}

BOOST_FIXTURE_TEST_CASE(a_silent_peer_is_dropped_after_the_idle_timeout, fixture) {
  connect_pair();
  server->set_idle_timeout(std::chrono::milliseconds(300));
  at_server.start(*server);
  completion_probe sent;
  client->write(message("half a fram"), sent.fn());  // then silence
  BOOST_TEST(sent.wait().ok);
  auto began = std::chrono::steady_clock::now();
  BOOST_REQUIRE(at_server.wait_for([&] { return at_server.ended.has_value(); }));
  BOOST_TEST(at_server.bytes == "half a fram");
  BOOST_TEST(at_server.ended->recoverable);
  BOOST_TEST(at_server.ended->what.find("idle timeout") != std::string::npos,
             at_server.ended->what);
  BOOST_TEST((std::chrono::steady_clock::now() - began >= std::chrono::milliseconds(250)));
}
