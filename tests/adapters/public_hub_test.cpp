// The embedding API: peerlite::hub (peerlite/hub.hpp) and make_url_endpoint (peerlite/net.hpp),
// used as an app would, through the public headers only. A hub on ws:// and tcp:// serves one
// database; replicators sync two more through URLs; the hub's events, counts and option errors
// are what an app would read.
#define BOOST_TEST_MODULE public_hub
#include <unistd.h>

#include <boost/test/unit_test.hpp>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <mutex>
#include <optional>
#include <peerlite/database.hpp>
#include <peerlite/hub.hpp>
#include <peerlite/net.hpp>
#include <peerlite/replicator.hpp>
#include <string>
#include <thread>
#include <vector>

using namespace peerlite;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

/// Longest one replication of a few documents may take here.
constexpr auto kSyncTimeout = 30s;

/// The error text of a failed result, empty on success (err() is only valid on failure).
template <class T>
std::string why(const expected<T>& r) {
  return r ? std::string() : r.err().message;
}

/// Basic-auth credentials for make_url_endpoint.
url_endpoint_options login(std::string user, std::string password) {
  url_endpoint_options o;
  o.user = std::move(user);
  o.password = std::move(password);
  return o;
}

struct scratch {
  fs::path dir = fs::temp_directory_path() / ("peerlite-public-hub-" + std::to_string(getpid()));
  scratch() { fs::create_directories(dir); }
  ~scratch() {
    std::error_code ec;
    fs::remove_all(dir, ec);
  }
  database open(const std::string& name) {
    auto db = database::open((dir / name).string());
    BOOST_TEST_REQUIRE(static_cast<bool>(db), why(db));
    return *db;
  }
};

/// One-shot replication of `db` with `url`; the error it stopped with.
error sync_once(const database& db, const std::string& url, replicator_type type,
                const url_endpoint_options& o = {}) {
  auto ep = make_url_endpoint(url, o);
  if (!ep) return ep.err();
  replicator_config cfg;
  cfg.db = db;
  cfg.target = *ep;
  cfg.type = type;
  replicator repl(cfg);
  /// Its next STOPPED report (status() reads STOPPED before start() too).
  std::mutex mtx;
  std::condition_variable cv;
  std::optional<error> stopped;
  auto token = repl.add_change_listener([&](const replicator_status& st) {
    if (st.activity != activity_level::stopped) return;
    std::lock_guard lock(mtx);
    if (!stopped) stopped = st.err;
    cv.notify_all();
  });
  repl.start();
  std::unique_lock lock(mtx);
  if (cv.wait_for(lock, kSyncTimeout, [&] { return stopped.has_value(); })) return *stopped;
  lock.unlock();
  repl.stop();
  return error{errc::timeout, "the replication did not stop within 30 s"};
}

std::string url_of(const hub& h, const std::string& scheme) {
  for (auto& u : h.urls())
    if (u.rfind(scheme + "://", 0) == 0) return u;
  return {};
}

}  // namespace

BOOST_AUTO_TEST_CASE(a_hub_serves_peers_over_ws_and_tcp_urls) {
  scratch s;
  auto hub_db = s.open("hub.sqlite");
  for (int i = 0; i < 20; ++i)
    BOOST_TEST_REQUIRE(hub_db.put("h" + std::to_string(i), R"({"from":"hub"})").has_value());
  std::mutex mtx;
  std::vector<hub_event> events;
  hub_options o;
  o.listen = {"ws://127.0.0.1:0", "tcp://127.0.0.1:0"};
  o.on_event = [&](const hub_event& e) {
    std::lock_guard lock(mtx);
    events.push_back(e);
  };
  auto started = hub::start(hub_db, o);
  BOOST_TEST_REQUIRE(static_cast<bool>(started), why(started));
  auto& h = **started;
  BOOST_TEST_REQUIRE(h.urls().size() == 2u);
  auto ws = url_of(h, "ws"), tcp = url_of(h, "tcp");
  BOOST_TEST(ws.size() > 0u);
  BOOST_TEST(tcp.find("/hub") != std::string::npos, tcp);

  auto a = s.open("a.sqlite"), b = s.open("b.sqlite");
  BOOST_TEST_REQUIRE(a.put("from-a", R"({"n":1})").has_value());
  BOOST_TEST_REQUIRE(b.put("from-b", R"({"n":2})").has_value());
  auto ea = sync_once(a, ws, replicator_type::push_and_pull);
  BOOST_TEST((ea.code == errc::ok), ea.message);
  auto eb = sync_once(b, tcp, replicator_type::push_and_pull);
  BOOST_TEST((eb.code == errc::ok), eb.message);
  auto ea2 = sync_once(a, ws, replicator_type::pull);
  BOOST_TEST((ea2.code == errc::ok), ea2.message);
  for (auto* db : {&hub_db, &a}) {
    BOOST_TEST(db->get("from-a").has_value());
    BOOST_TEST(db->get("from-b").has_value());
    BOOST_TEST(db->get("h19").has_value());
  }
  BOOST_TEST(b.get("from-a").has_value());  // a pushed it before b synced
  // In: from-a and from-b. Out: the 20 hub docs to a, those and from-a to b, from-b to a.
  BOOST_TEST(h.docs_in() == 2u);
  BOOST_TEST(h.docs_out() == 42u);
  BOOST_TEST(h.accepted_connections() == 3u);
  BOOST_TEST(h.wait_all_stopped(10s));
  auto snap = h.snapshot();
  BOOST_TEST(snap.accepted["ws"] == 2u);
  BOOST_TEST(snap.accepted["tcp"] == 1u);
  BOOST_TEST(snap.connections.empty());
  {
    std::lock_guard lock(mtx);
    size_t opened = 0, closed = 0;
    for (auto& e : events) {
      opened += e.kind == hub_event::opened;
      closed += e.kind == hub_event::closed;
      BOOST_TEST(e.peer.rfind("127.0.0.1:", 0) == 0u, e.peer);
    }
    BOOST_TEST(opened == 3u);
    BOOST_TEST(closed == 3u);
  }
}

BOOST_AUTO_TEST_CASE(a_hub_with_a_password_and_read_only) {
  scratch s;
  auto hub_db = s.open("hub.sqlite");
  BOOST_TEST_REQUIRE(hub_db.put("h", R"({"x":1})").has_value());
  hub_options o;
  o.listen = {"ws://127.0.0.1:0"};
  o.name = "books";
  o.user = "alice";
  o.password = "secret";
  o.read_only = true;
  auto started = hub::start(hub_db, o);
  BOOST_TEST_REQUIRE(static_cast<bool>(started), why(started));
  auto url = (*started)->urls().front();
  BOOST_TEST(url.find("/books") != std::string::npos, url);
  auto a = s.open("a.sqlite");
  auto denied = sync_once(a, url, replicator_type::pull, login("alice", "wrong"));
  BOOST_TEST((denied.code != errc::ok));
  BOOST_TEST(denied.message.find("HTTP 401") != std::string::npos, denied.message);
  auto pulled = sync_once(a, url, replicator_type::pull, login("alice", "secret"));
  BOOST_TEST((pulled.code == errc::ok), pulled.message);
  BOOST_TEST(a.get("h").has_value());
  BOOST_TEST_REQUIRE(a.put("mine", R"({"y":2})").has_value());
  auto pushed = sync_once(a, url, replicator_type::push, login("alice", "secret"));
  BOOST_TEST((pushed.code == errc::read_only), pushed.message);
  BOOST_TEST(!hub_db.get("mine").has_value());
  auto snap = (*started)->snapshot();
  BOOST_TEST(snap.auth_failures >= 1u);
}

BOOST_AUTO_TEST_CASE(bad_options_fail_with_a_clear_error_and_bind_nothing) {
  scratch s;
  auto db = s.open("hub.sqlite");
  auto fails = [&](hub_options o, const std::string& expected) {
    auto h = hub::start(db, o);
    BOOST_TEST(!h);
    if (!h) BOOST_TEST(h.err().message.find(expected) != std::string::npos, h.err().message);
  };
  fails({}, "nothing to listen on");
  hub_options bad_name;
  bad_name.listen = {"ws://127.0.0.1:0"};
  bad_name.name = "Books";
  fails(bad_name, "start with a lower-case letter");
  hub_options bad_url;
  bad_url.listen = {"http://127.0.0.1:0"};
  fails(bad_url, "http://127.0.0.1:0");
  hub_options user_on_tcp;
  user_on_tcp.listen = {"tcp://127.0.0.1:0"};
  user_on_tcp.user = "alice";
  user_on_tcp.password = "x";
  fails(user_on_tcp, "ws:// or wss://");
  hub_options tls_without_cert;
  tls_without_cert.listen = {"wss://127.0.0.1:0"};
  fails(tls_without_cert, "certificate");

  // A port in use: the second hub fails and the first still serves.
  hub_options o;
  o.listen = {"ws://127.0.0.1:0"};
  auto first = hub::start(db, o);
  BOOST_TEST_REQUIRE(static_cast<bool>(first), why(first));
  auto url = (*first)->urls().front();
  auto port = url.substr(url.rfind(':') + 1);
  port = port.substr(0, port.find('/'));
  hub_options same;
  same.listen = {"ws://127.0.0.1:" + port};
  fails(same, "in use");
  auto a = s.open("a.sqlite");
  auto e = sync_once(a, url, replicator_type::pull);
  BOOST_TEST((e.code == errc::ok), e.message);

  // Endpoint errors.
  BOOST_TEST(!make_url_endpoint("ws://127.0.0.1:1"));  // no database name
  BOOST_TEST(!make_url_endpoint("tcp://127.0.0.1:1/db", login("alice", "x")));
  url_endpoint_options pin;
  pin.pinned_cert_sha256 = "00";
  BOOST_TEST(!make_url_endpoint("ws://127.0.0.1:1/db", pin));
}

BOOST_AUTO_TEST_CASE(a_self_signed_hub_is_reached_over_wss_with_its_pin) {
  scratch s;
  auto hub_db = s.open("hub.sqlite");
  BOOST_TEST_REQUIRE(hub_db.put("secret-doc", R"({"x":1})").has_value());
  hub_options o;
  o.listen = {"wss://127.0.0.1:0"};
  o.self_signed = true;
  auto started = hub::start(hub_db, o);
  BOOST_TEST_REQUIRE(static_cast<bool>(started), why(started));
  auto& cert = (*started)->certificate();
  BOOST_TEST_REQUIRE(cert.has_value());
  BOOST_TEST(cert->created);
  BOOST_TEST(fs::exists(cert->cert_file));
  auto url = (*started)->urls().front();
  auto a = s.open("a.sqlite");
  auto unpinned = sync_once(a, url, replicator_type::pull);
  BOOST_TEST((unpinned.code != errc::ok));
  url_endpoint_options pinned;
  pinned.pinned_cert_sha256 = cert->sha256;
  auto ok = sync_once(a, url, replicator_type::pull, pinned);
  BOOST_TEST((ok.code == errc::ok), ok.message);
  BOOST_TEST(a.get("secret-doc").has_value());
}
