// The TCP and WebSocket adapters carrying real replications: a hub accepting sockets through
// tcp_listener / ws_listener (one passive replicator per connection), and active replicators
// dialling it through make_endpoint, all in one process over 127.0.0.1.
#define BOOST_TEST_MODULE adapters_sync
#include <atomic>
#include <boost/asio/ip/tcp.hpp>
#include <boost/test/unit_test.hpp>
#include <chrono>
#include <filesystem>
#include <map>
#include <mutex>
#include <thread>

#include "actors/connection.hpp"
#include "actors/passive_replicator.hpp"
#include "actors/runtime.hpp"
#include "adapters/tcp/io_runtime.hpp"
#include "adapters/tcp/tcp_listener.hpp"
#include "adapters/websocket/net_endpoint.hpp"
#include "adapters/websocket/ws_listener.hpp"
#include "peerlite/database.hpp"
#include "peerlite/replicator.hpp"

using namespace peerlite;
using namespace std::chrono_literals;

namespace peerlite {
inline std::ostream& operator<<(std::ostream& os, errc c) { return os << to_string(c); }
}  // namespace peerlite

/// Longest one replication of a few hundred documents may take on a loaded 2-core machine.
constexpr auto kRunTimeout = 60s;
/// Longest the hub may take to see every connection closed after the peers stopped.
constexpr auto kDrainTimeout = 15s;

namespace {

bool wait_until(const std::function<bool()>& pred, std::chrono::milliseconds timeout) {
  auto end = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < end) {
    if (pred()) return true;
    std::this_thread::sleep_for(5ms);
  }
  return pred();
}

struct temp_dir {
  std::filesystem::path path;
  temp_dir() {
    static std::atomic<int> n{0};
    path = std::filesystem::temp_directory_path() /
           ("peerlite-adapters-" + std::to_string(::getpid()) + "-" + std::to_string(n++));
    std::filesystem::create_directories(path);
  }
  ~temp_dir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
  database open(const std::string& name) {
    auto d = database::open((path / (name + ".sqlite")).string());
    if (!d) BOOST_FAIL(d.err().message);
    return *d;
  }
};

std::map<std::string, std::string> contents(const database& db) {
  std::map<std::string, std::string> out;
  uint64_t since = 0;
  for (;;) {
    auto cs = db.changes(since, 5000);
    BOOST_REQUIRE(cs.has_value());
    if (cs->empty()) break;
    since = cs->back().sequence;
    for (auto& c : *cs) {
      if (c.deleted) continue;
      auto d = db.get(c.id);
      BOOST_REQUIRE(d.has_value());
      out[c.id] = d->rev + " " + d->body;
    }
  }
  return out;
}

void put_docs(database& db, const std::string& prefix, int n) {
  for (int i = 0; i < n; ++i)
    BOOST_REQUIRE(db.put(prefix + std::to_string(i), "{\"n\":" + std::to_string(i) + "}"));
}

/// The hub: one passive replicator per accepted connection, on both transports.
struct hub {
  database db;
  std::shared_ptr<caf::actor_system> sys = actors::shared_system();
  net::io_runtime io{1};
  std::unique_ptr<net::ws_listener> ws;
  std::unique_ptr<net::tcp_listener> tcp;
  std::atomic<uint64_t> ids{0};
  std::atomic<int> open_connections{0};
  std::mutex mx;
  std::vector<net::connection_event> events;

  explicit hub(database d, net::credentials required = {}) : db(std::move(d)) {
    auto observer = [this](const net::connection_event& e) {
      if (e.kind == net::connection_event::opened) ++open_connections;
      if (e.kind == net::connection_event::closed) --open_connections;
      std::lock_guard lk(mx);
      events.push_back(e);
    };
    net::ws_listener_options o;
    o.db_name = "hub";
    o.required = std::move(required);
    auto w = net::ws_listener::start(
        io, o, [this](auto c) { accept(std::move(c), protocol_type::message_stream); }, observer);
    if (!w) BOOST_FAIL(w.err().message);
    ws = std::move(*w);
    auto t = net::tcp_listener::start(
        io, "127.0.0.1", 0, [this](auto c) { accept(std::move(c), protocol_type::byte_stream); },
        observer);
    if (!t) BOOST_FAIL(t.err().message);
    tcp = std::move(*t);
  }
  void accept(std::unique_ptr<message_endpoint_connection> c, protocol_type p) {
    auto owner = actors::spawn_passive_replicator(*sys, db, actors::passive_observer{}, ++ids);
    actors::spawn_connection(*sys, std::move(c), p, actors::role::passive, owner);
  }
  std::string url(const std::string& scheme, const std::string& db_name = "hub") {
    auto port = scheme == "ws" ? ws->port() : tcp->port();
    return scheme + "://127.0.0.1:" + std::to_string(port) + "/" + db_name;
  }
  /// Sockets must be gone before the io threads stop.
  ~hub() {
    ws->stop();
    tcp->stop();
    wait_until([this] { return open_connections.load() == 0; }, kDrainTimeout);
  }
};

/// Runs a one-shot replication to its final status; counts delegate calls.
struct run_result {
  replicator_status status;
  int connects = 0;
};

run_result run_once(database db, net::io_runtime& io, const std::string& url, replicator_type type,
                    net::credentials creds = {}) {
  auto ep = net::make_endpoint(io, url, creds);
  if (!ep) BOOST_FAIL(ep.err().message);
  auto connects = std::make_shared<std::atomic<int>>(0);
  auto inner = ep->delegate;
  ep->delegate = [inner, connects](const message_endpoint& e) {
    ++*connects;
    return inner(e);
  };
  replicator_config cfg;
  cfg.db = std::move(db);
  cfg.target = std::move(*ep);
  cfg.type = type;
  cfg.min_attempt_wait_time = 50ms;
  cfg.max_attempt_wait_time = 200ms;
  replicator r(cfg);
  std::atomic<bool> stopped{false};
  auto token = r.add_change_listener([&](const replicator_status& s) {
    if (s.activity == activity_level::stopped) stopped = true;
  });
  r.start();
  BOOST_REQUIRE_MESSAGE(wait_until([&] { return stopped.load(); }, kRunTimeout),
                        "replicator did not stop");
  token.remove();
  return {r.status(), connects->load()};
}

}  // namespace

BOOST_AUTO_TEST_CASE(push_then_pull_over_each_transport) {
  for (std::string scheme : {"ws", "tcp"}) {
    BOOST_TEST_CONTEXT(scheme) {
      temp_dir dir;
      hub h(dir.open("hub"));
      auto a = dir.open("a");
      put_docs(a, "a-", 300);
      net::io_runtime io(1);
      auto pushed = run_once(a, io, h.url(scheme), replicator_type::push);
      BOOST_TEST(pushed.status.err.code == errc::ok, pushed.status.err.message);
      BOOST_TEST((contents(h.db) == contents(a)));
      auto b = dir.open("b");
      auto pulled = run_once(b, io, h.url(scheme), replicator_type::pull);
      BOOST_TEST(pulled.status.err.code == errc::ok, pulled.status.err.message);
      BOOST_TEST(contents(b).size() == 300u);
      BOOST_TEST((contents(b) == contents(h.db)));
    }
  }
}

BOOST_AUTO_TEST_CASE(push_and_pull_converges_both_ways) {
  temp_dir dir;
  hub h(dir.open("hub"));
  put_docs(h.db, "hub-", 100);
  auto a = dir.open("a");
  put_docs(a, "a-", 100);
  net::io_runtime io(1);
  auto r = run_once(a, io, h.url("ws"), replicator_type::push_and_pull);
  BOOST_TEST(r.status.err.code == errc::ok, r.status.err.message);
  BOOST_TEST(contents(a).size() == 200u);
  BOOST_TEST((contents(a) == contents(h.db)));
}

BOOST_AUTO_TEST_CASE(wrong_password_stops_at_once_without_retrying) {
  temp_dir dir;
  hub h(dir.open("hub"), {"alice", "s3cret"});
  net::io_runtime io(1);
  auto r = run_once(dir.open("a"), io, h.url("ws"), replicator_type::push, {"alice", "nope"});
  BOOST_TEST(r.status.err.code != errc::ok);
  BOOST_TEST(r.status.err.message.find("401") != std::string::npos, r.status.err.message);
  BOOST_TEST(r.connects == 1);
  auto ok = run_once(dir.open("b"), io, h.url("ws"), replicator_type::pull, {"alice", "s3cret"});
  BOOST_TEST(ok.status.err.code == errc::ok, ok.status.err.message);
}

BOOST_AUTO_TEST_CASE(unknown_database_is_a_permanent_404) {
  temp_dir dir;
  hub h(dir.open("hub"));
  net::io_runtime io(1);
  auto r = run_once(dir.open("a"), io, h.url("ws", "other"), replicator_type::push);
  BOOST_TEST(r.status.err.message.find("404") != std::string::npos, r.status.err.message);
  BOOST_TEST(r.connects == 1);
}

BOOST_AUTO_TEST_CASE(refused_connections_are_retried_until_the_hub_is_back) {
  temp_dir dir;
  auto hub_db = dir.open("hub");
  uint16_t port = 0;
  {  /// A free port: bind it, note it, close it (synchronously) again.
    boost::asio::io_context probe;
    boost::asio::ip::tcp::acceptor acc(probe, {boost::asio::ip::make_address("127.0.0.1"), 0});
    port = acc.local_endpoint().port();
  }
  auto a = dir.open("a");
  put_docs(a, "a-", 50);
  net::io_runtime io(1);
  auto url = "tcp://127.0.0.1:" + std::to_string(port) + "/hub";
  /// Start the hub on that port only after the peer has been refused a few times.
  std::unique_ptr<net::tcp_listener> late;
  std::shared_ptr<caf::actor_system> sys = actors::shared_system();
  net::io_runtime hub_io(1);
  std::thread starter([&] {
    std::this_thread::sleep_for(400ms);
    auto l = net::tcp_listener::start(
        hub_io, "127.0.0.1", port, [&](std::unique_ptr<message_endpoint_connection> c) {
          auto owner =
              actors::spawn_passive_replicator(*sys, hub_db, actors::passive_observer{}, 1);
          actors::spawn_connection(*sys, std::move(c), protocol_type::byte_stream,
                                   actors::role::passive, owner);
        });
    if (!l) BOOST_FAIL(l.err().message);
    late = std::move(*l);
  });
  auto r = run_once(a, io, url, replicator_type::push);
  starter.join();
  BOOST_TEST(r.status.err.code == errc::ok, r.status.err.message);
  BOOST_TEST(r.connects > 1);
  BOOST_TEST((contents(hub_db) == contents(a)));
  std::this_thread::sleep_for(200ms);  // let the hub side close before its io threads stop
}
