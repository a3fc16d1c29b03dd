// The WebSocket adapter's socket layer (ws_server + ws_pipe) over real loopback sockets:
// message boundaries are kept, refusals carry the right HTTP status and are permanent, close
// codes tell the peer whether to retry, silent peers are dropped, and a standard client
// (Beast's) sees its pings answered and its text messages refused.
#define BOOST_TEST_MODULE adapters_ws_pipe
#include "adapters/websocket/ws_pipe.hpp"

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/test/unit_test.hpp>
#include <chrono>
#include <condition_variable>
#include <future>
#include <mutex>
#include <thread>

#include "adapters/tcp/io_runtime.hpp"
#include "adapters/websocket/ws_server.hpp"

using namespace peerlite;
using namespace peerlite::net;
namespace asio = boost::asio;
using tcp = asio::ip::tcp;

/// Longest any single step may take on a loaded 2-core machine before the test fails.
constexpr auto kStepTimeout = std::chrono::seconds(15);

namespace {

struct outcome {
  bool ok = false;
  std::optional<messaging_error> error;
};

/// Everything the test observes, guarded by one mutex.
struct observed {
  std::mutex mx;
  std::condition_variable cv;
  std::vector<std::shared_ptr<ws_pipe>> upgraded;
  std::vector<connection_event> events;
  std::vector<std::string> at_server, at_client;
  std::optional<std::optional<messaging_error>> server_ended, client_ended;

  template <class Pred>
  bool wait(Pred pred) {
    std::unique_lock lk(mx);
    return cv.wait_for(lk, kStepTimeout, pred);
  }
  template <class Fn>
  void update(Fn fn) {
    std::lock_guard lk(mx);
    fn();
    cv.notify_all();
  }
  std::string last_refusal() {
    std::lock_guard lk(mx);
    for (auto it = events.rbegin(); it != events.rend(); ++it)
      if (it->kind == connection_event::refused) return it->reason;
    return {};
  }
};

struct fixture {
  io_runtime io{1};
  observed seen;
  std::unique_ptr<ws_server> server;
  std::vector<std::shared_ptr<ws_pipe>> clients;

  void serve(credentials required = {}, std::chrono::milliseconds idle = kWsIdleTimeout) {
    ws_listener_options o;
    o.db_name = "hub";
    o.required = std::move(required);
    o.idle_timeout = idle;
    auto s = ws_server::start(
        io, o,
        [this](std::shared_ptr<ws_pipe> p) { seen.update([&] { seen.upgraded.push_back(p); }); },
        [this](const connection_event& e) { seen.update([&] { seen.events.push_back(e); }); });
    if (!s) BOOST_FAIL(s.err().message);
    server = std::move(*s);
  }
  endpoint_url url(std::string db = "hub") {
    return *parse_url("ws://127.0.0.1:" + std::to_string(server->port()) + "/" + db);
  }
  outcome dial(std::string db = "hub", credentials creds = {}) {
    auto p = std::make_shared<ws_pipe>(tcp::socket(asio::make_strand(io.context())),
                                       url(db).to_string());
    clients.push_back(p);
    std::promise<outcome> done;
    p->connect(url(db), creds, [&](bool ok, std::optional<messaging_error> e) {
      done.set_value({ok, std::move(e)});
    });
    auto f = done.get_future();
    BOOST_REQUIRE(f.wait_for(kStepTimeout) == std::future_status::ready);
    return f.get();
  }
  /// Connects and starts both ends, collecting messages and endings.
  std::pair<std::shared_ptr<ws_pipe>, std::shared_ptr<ws_pipe>> connected_pair() {
    BOOST_REQUIRE(dial().ok);
    BOOST_REQUIRE(seen.wait([&] { return !seen.upgraded.empty(); }));
    auto srv = seen.upgraded.back();
    auto cli = clients.back();
    srv->start([this](message m) { seen.update([&] { seen.at_server.push_back(m.take()); }); },
               [this](auto& e) { seen.update([&] { seen.server_ended = e; }); });
    cli->start([this](message m) { seen.update([&] { seen.at_client.push_back(m.take()); }); },
               [this](auto& e) { seen.update([&] { seen.client_ended = e; }); });
    return {srv, cli};
  }
  static void close_and_wait(const std::shared_ptr<ws_pipe>& p,
                             std::optional<messaging_error> why = std::nullopt) {
    std::promise<void> closed;
    p->close(std::move(why), [&] { closed.set_value(); });
    BOOST_REQUIRE(closed.get_future().wait_for(kStepTimeout) == std::future_status::ready);
  }
  ~fixture() {
    for (auto& p : clients) close_and_wait(p);
    for (auto& p : seen.upgraded) close_and_wait(p);
  }
};

}  // namespace

BOOST_FIXTURE_TEST_CASE(each_send_arrives_as_one_message, fixture) {
  serve();
  auto [srv, cli] = connected_pair();
  std::vector<std::string> sent;
  std::vector<std::future<outcome>> dones;
  for (int i = 0; i < 300; ++i) {
    sent.push_back(std::string(1 + (i * 997) % 20000, char('A' + i % 26)));
    auto p = std::make_shared<std::promise<outcome>>();
    dones.push_back(p->get_future());
    cli->write(message(sent.back()), [p](bool ok, auto e) { p->set_value({ok, e}); });
  }
  for (auto& d : dones) {
    BOOST_REQUIRE(d.wait_for(kStepTimeout) == std::future_status::ready);
    BOOST_TEST(d.get().ok);
  }
  BOOST_REQUIRE(seen.wait([&] { return seen.at_server.size() == sent.size(); }));
  BOOST_TEST((seen.at_server == sent));
  srv->write(message("reply"), [](bool, auto) {});
  BOOST_REQUIRE(seen.wait([&] { return seen.at_client.size() == 1; }));
  BOOST_TEST(seen.at_client[0] == "reply");
}

BOOST_FIXTURE_TEST_CASE(other_database_gets_404_permanently, fixture) {
  serve();
  auto r = dial("nope");
  BOOST_TEST(!r.ok);
  BOOST_REQUIRE(r.error);
  BOOST_TEST(!r.error->recoverable);
  BOOST_TEST(r.error->what.find("404") != std::string::npos, r.error->what);
  BOOST_TEST(seen.last_refusal().find("404 no database at /nope/_blipsync") != std::string::npos,
             seen.last_refusal());
}

BOOST_FIXTURE_TEST_CASE(basic_auth_gets_401_without_the_right_password, fixture) {
  serve({"alice", "s3cret"});
  auto none = dial("hub");
  BOOST_TEST(!none.ok);
  BOOST_REQUIRE(none.error);
  BOOST_TEST(none.error->what.find("401") != std::string::npos, none.error->what);
  BOOST_TEST(!none.error->recoverable);
  auto wrong = dial("hub", {"alice", "guess"});
  BOOST_TEST(!wrong.ok);
  BOOST_TEST(seen.last_refusal().find("401 wrong user or password") != std::string::npos);
  auto right = dial("hub", {"alice", "s3cret"});
  BOOST_TEST(right.ok);
}

BOOST_FIXTURE_TEST_CASE(garbage_instead_of_http_is_refused_with_a_reason, fixture) {
  serve();
  tcp::socket raw(io.context());
  raw.connect({asio::ip::make_address("127.0.0.1"), server->port()});
  std::string junk(3000, '\x17');
  asio::write(raw, asio::buffer(junk));
  BOOST_REQUIRE(seen.wait([&] {
    for (auto& e : seen.events)
      if (e.kind == connection_event::refused) return true;
    return false;
  }));
  BOOST_TEST(seen.last_refusal().find("not an HTTP upgrade request") != std::string::npos,
             seen.last_refusal());
  /// The hub answers a bare 400 (so a TLS client that dialled a plain port learns it is not
  /// speaking TLS) and hangs up: FIN, or RST over the junk it did not read.
  std::string answer;
  char buf[512];
  boost::system::error_code ec;
  while (!ec) answer.append(buf, raw.read_some(asio::buffer(buf), ec));
  BOOST_TEST((ec == asio::error::eof || ec == asio::error::connection_reset), ec.message());
  BOOST_TEST((answer.empty() || answer.rfind("HTTP/1.1 400 Bad Request", 0) == 0), answer);
}

BOOST_FIXTURE_TEST_CASE(close_codes_say_whether_to_retry, fixture) {
  serve();
  auto [srv, cli] = connected_pair();
  close_and_wait(cli, messaging_error{"link flapped", true});
  BOOST_REQUIRE(seen.wait([&] { return seen.server_ended.has_value(); }));
  BOOST_REQUIRE(seen.server_ended->has_value());
  BOOST_TEST((*seen.server_ended)->recoverable);
  BOOST_TEST((*seen.server_ended)->what.find("4001") != std::string::npos);
}

BOOST_FIXTURE_TEST_CASE(normal_close_is_no_error, fixture) {
  serve();
  auto [srv, cli] = connected_pair();
  close_and_wait(srv);
  BOOST_REQUIRE(seen.wait([&] { return seen.client_ended.has_value(); }));
  BOOST_TEST(!seen.client_ended->has_value());
}

BOOST_FIXTURE_TEST_CASE(a_silent_peer_is_dropped_after_the_idle_timeout, fixture) {
  serve({}, std::chrono::milliseconds(1000));
  /// A raw client that upgrades and then never reads: it never answers the hub's PING.
  boost::beast::websocket::stream<tcp::socket> raw(io.context());
  raw.next_layer().connect({asio::ip::make_address("127.0.0.1"), server->port()});
  raw.set_option(
      boost::beast::websocket::stream_base::decorator([](boost::beast::websocket::request_type& r) {
        r.set(boost::beast::http::field::sec_websocket_protocol, kBlipSubprotocol);
      }));
  raw.handshake("127.0.0.1", "/hub/_blipsync");
  BOOST_REQUIRE(seen.wait([&] { return !seen.upgraded.empty(); }));
  auto srv = seen.upgraded.back();
  srv->start([](message) {}, [this](auto& e) { seen.update([&] { seen.server_ended = e; }); });
  BOOST_REQUIRE(seen.wait([&] { return seen.server_ended.has_value(); }));
  BOOST_REQUIRE(seen.server_ended->has_value());
  BOOST_TEST((*seen.server_ended)->recoverable);
  BOOST_TEST((*seen.server_ended)->what.find("timeout") != std::string::npos,
             (*seen.server_ended)->what);
}

/// A raw Beast client upgraded to the fixture's hub; the hub's pipe is started and collects
/// what arrives in `seen`.
std::unique_ptr<boost::beast::websocket::stream<tcp::socket>> raw_client(fixture& f) {
  auto raw = std::make_unique<boost::beast::websocket::stream<tcp::socket>>(f.io.context());
  raw->next_layer().connect({asio::ip::make_address("127.0.0.1"), f.server->port()});
  raw->set_option(
      boost::beast::websocket::stream_base::decorator([](boost::beast::websocket::request_type& r) {
        r.set(boost::beast::http::field::sec_websocket_protocol, kBlipSubprotocol);
      }));
  raw->handshake("127.0.0.1", "/hub/_blipsync");
  BOOST_REQUIRE(f.seen.wait([&] { return !f.seen.upgraded.empty(); }));
  auto srv = f.seen.upgraded.back();
  srv->start([&f, srv](message m) {
               auto text = m.take();
               /// Answered after the frames that came with it: a reply proves they were handled.
               srv->write(message("re: " + text), [](bool, std::optional<messaging_error>) {});
               f.seen.update([&] { f.seen.at_server.push_back(std::move(text)); });
             },
             [&f](auto& e) { f.seen.update([&] { f.seen.server_ended = e; }); });
  return raw;
}

/// The pipe frames with the engine's codec after Beast's upgrade: a peer's PING is answered
/// with a PONG carrying its payload (a Couchbase Lite peer's heartbeat), ahead of the reply to
/// the message sent after it.
BOOST_FIXTURE_TEST_CASE(a_peers_ping_is_answered_with_its_pong, fixture) {
  serve();
  auto raw = raw_client(*this);
  std::string pong;
  raw->control_callback([&](boost::beast::websocket::frame_type kind, boost::beast::string_view p) {
    if (kind == boost::beast::websocket::frame_type::pong) pong.assign(p.data(), p.size());
  });
  raw->binary(true);
  raw->ping("are you there");
  raw->write(asio::buffer(std::string("m1")));
  boost::beast::flat_buffer in;
  raw->read(in);
  BOOST_TEST(pong == "are you there");
  BOOST_TEST(boost::beast::buffers_to_string(in.data()) == "re: m1");
  raw->close(boost::beast::websocket::close_code::normal);
}

/// Many messages in one burst and one message far bigger than a socket read arrive whole and
/// in order (the pipe frames whatever each read returns).
BOOST_FIXTURE_TEST_CASE(a_burst_and_a_big_message_arrive_whole_and_in_order, fixture) {
  serve();
  auto raw = raw_client(*this);
  raw->binary(true);
  std::vector<std::string> sent;
  for (int i = 0; i < 200; ++i) sent.push_back("message " + std::to_string(i));
  sent.push_back(std::string(900 * 1024, 'b'));  /// 900 KiB: many reads, under the 1 MiB cap
  for (auto& m : sent) raw->write(asio::buffer(m));
  BOOST_REQUIRE(seen.wait([&] { return seen.at_server.size() == sent.size(); }));
  std::lock_guard lk(seen.mx);
  BOOST_TEST((seen.at_server == sent));
}

/// A text message is refused: BLIP needs binary. The peer gets close code 1003, and the pipe
/// ends with a permanent error.
BOOST_FIXTURE_TEST_CASE(a_text_message_is_refused_with_1003, fixture) {
  serve();
  auto raw = raw_client(*this);
  raw->text(true);
  raw->write(asio::buffer(std::string("hello")));
  boost::beast::flat_buffer in;
  boost::system::error_code ec;
  raw->read(in, ec);
  BOOST_TEST((ec == boost::beast::websocket::error::closed), ec.message());
  BOOST_TEST(raw->reason().code == 1003);
  BOOST_REQUIRE(seen.wait([&] { return seen.server_ended.has_value(); }));
  BOOST_REQUIRE(seen.server_ended->has_value());
  BOOST_TEST(!(*seen.server_ended)->recoverable);
  BOOST_TEST((*seen.server_ended)->what.find("text") != std::string::npos,
             (*seen.server_ended)->what);
}

BOOST_AUTO_TEST_CASE(credentials_round_trip) {
  auto h = basic_auth_header({"bob", "pa:ss"});
  BOOST_TEST(h == "Basic Ym9iOnBhOnNz");
  auto padded = parse_basic_auth(basic_auth_header({"alice", "guess"}));  // "...=" padding
  BOOST_REQUIRE(padded);
  BOOST_TEST(padded->password == "guess");
  auto c = parse_basic_auth(h);
  BOOST_REQUIRE(c);
  BOOST_TEST(c->user == "bob");
  BOOST_TEST(c->password == "pa:ss");
  BOOST_TEST(!parse_basic_auth("Bearer x"));
  BOOST_TEST(!parse_user_option("nocolon"));
  BOOST_TEST(same_credentials({"a", "b"}, {"a", "b"}));
  BOOST_TEST(!same_credentials({"a", "b"}, {"a", "c"}));
  BOOST_TEST(!same_credentials({"a", "b"}, {"a", "bb"}));
}
