// How connections end: teardown by either peer (the seed's "Connection Teardown"), close
// completions that are never called, transport errors, bad input, pending requests, many
// connections at once.
#define BOOST_TEST_MODULE connection_close
#include <boost/test/unit_test.hpp>

#include "tests/actors/test_owner.hpp"

using namespace peerlite;
using namespace peerlite::test;
using loopback::completion_mode;

namespace {

void connect_ok(pair_fixture& f, protocol_type p, loopback::options o = {}) {
  f.connect(p, o);
  BOOST_TEST_REQUIRE(f.a.log->wait_connected());
  BOOST_TEST_REQUIRE(f.b.log->wait_connected());
}

void close_by_owner(side& s) {
  close_info info;
  info.message = "done";
  caf::anon_send(s.log->handle(), actors::close_atom::value, info);
}

}  // namespace

BOOST_AUTO_TEST_CASE(connection_teardown_initiated_by_active_peer) {
  for (auto p : kBoth) {
    BOOST_TEST_CONTEXT(name(p)) {
      pair_fixture f;
      connect_ok(f, p);
      /// The active app learns of a disconnect and calls replicatorConnection.close(null).
      f.a.probe->disconnect();
      auto ca = f.a.log->wait_closed(3s);
      auto cb = f.b.log->wait_closed(3s);
      BOOST_TEST_REQUIRE(ca.has_value());
      BOOST_TEST_REQUIRE(cb.has_value());
      BOOST_TEST((ca->code == errc::ok));
      BOOST_TEST((cb->code == errc::ok));
      BOOST_TEST(cb->by_peer);
      /// peerlite then calls back MessageEndpointConnection.close() on both sides.
      BOOST_TEST(f.a.probe->wait_closed(1s));
      BOOST_TEST(f.b.probe->wait_closed(1s));
      BOOST_TEST(!f.a.probe->close_error().has_value());
    }
  }
}

BOOST_AUTO_TEST_CASE(connection_teardown_initiated_by_owner_handshakes) {
  for (auto p : kBoth) {
    BOOST_TEST_CONTEXT(name(p)) {
      pair_fixture f;
      connect_ok(f, p);
      close_by_owner(f.b);
      auto cb = f.b.log->wait_closed(3s);
      auto ca = f.a.log->wait_closed(3s);
      BOOST_TEST_REQUIRE(ca.has_value());
      BOOST_TEST_REQUIRE(cb.has_value());
      BOOST_TEST((ca->code == errc::ok));
      BOOST_TEST((cb->code == errc::ok));
      BOOST_TEST(ca->by_peer);
      BOOST_TEST(!cb->by_peer);
      BOOST_TEST(f.a.probe->wait_closed(1s));
      BOOST_TEST(f.b.probe->wait_closed(1s));
      std::this_thread::sleep_for(50ms);
      BOOST_TEST(f.a.log->close_count() == 1u);  // exactly once
      BOOST_TEST(f.b.log->close_count() == 1u);
    }
  }
}

/// A close right after a reply too big for one ACK window (128,000 bytes) waits for the
/// peer's ACKs and sends all of it first (a 160 KiB getAttachment reply was cut off this way).
BOOST_AUTO_TEST_CASE(graceful_close_sends_a_reply_waiting_for_acks) {
  for (auto p : kBoth) {
    BOOST_TEST_CONTEXT(name(p)) {
      pair_fixture f;
      connect_ok(f, p);
      std::string body(400000, 'b');
      auto got = ask(*f.sys, f.a.log->handle(), make_request("echo_close", body));
      BOOST_TEST_REQUIRE(got.reply.has_value(), "no reply: " << got.err.message);
      BOOST_TEST(got.reply->body.size() == body.size());
      auto cb = f.b.log->wait_closed(3s);
      BOOST_TEST_REQUIRE(cb.has_value());
      BOOST_TEST((cb->code == errc::ok));
    }
  }
}

BOOST_AUTO_TEST_CASE(close_completion_never_called_closes_after_timeout) {
  for (auto p : kBoth) {
    BOOST_TEST_CONTEXT(name(p)) {
      pair_fixture f;
      loopback::options o;
      o.close_completion = completion_mode::never;
      connect_ok(f, p, o);
      auto t0 = std::chrono::steady_clock::now();
      close_by_owner(f.a);
      auto ca = f.a.log->wait_closed(actors::kCloseTimeout + 5s);
      auto took = std::chrono::steady_clock::now() - t0;
      BOOST_TEST_REQUIRE(ca.has_value());
      BOOST_TEST((ca->code == errc::ok));
      BOOST_TEST(f.a.probe->closed());
      BOOST_TEST((took >= actors::kCloseTimeout - 100ms));
      BOOST_TEST((took < actors::kCloseTimeout + 3s));
      BOOST_TEST(f.b.log->wait_closed(1s).has_value());
    }
  }
}

BOOST_AUTO_TEST_CASE(bad_input_garbage_closes_only_that_connection) {
  for (auto p : kBoth) {
    BOOST_TEST_CONTEXT(name(p)) {
      pair_fixture bad, good;
      connect_ok(bad, p);
      connect_ok(good, p);
      bad.b.probe->inject(std::string("\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff garbage", 19));
      auto cb = bad.b.log->wait_closed(3s);
      BOOST_TEST_REQUIRE(cb.has_value());
      BOOST_TEST((cb->code == errc::protocol_error));
      BOOST_TEST(cb->message.find("protocol error") != std::string::npos);
      BOOST_TEST(!cb->recoverable);
      BOOST_TEST(bad.b.probe->wait_closed(1s));
      BOOST_TEST(bad.a.log->wait_closed(3s).has_value());
      auto ans = ask(*good.sys, good.a.log->handle(), make_request("echo", "unaffected"));
      BOOST_TEST_REQUIRE(ans.reply.has_value());
      BOOST_TEST(ans.reply->body == "unaffected");
      BOOST_TEST(good.a.log->close_count() == 0u);
    }
  }
}

BOOST_AUTO_TEST_CASE(send_failure_recoverable_and_permanent) {
  for (auto p : kBoth)
    for (bool recoverable : {true, false}) {
      BOOST_TEST_CONTEXT(name(p) << " recoverable=" << recoverable) {
        pair_fixture f;
        loopback::options o;
        o.protocol = p;
        loopback::options bad = o;
        bad.fail_send_after = 0;
        bad.send_error = messaging_error{"radio off", recoverable};
        f.connect(bad, o);
        BOOST_TEST_REQUIRE(f.a.log->wait_connected());
        auto ans = ask(*f.sys, f.a.log->handle(), make_request("echo", "x"), 5s);
        BOOST_TEST(!ans.reply.has_value());
        BOOST_TEST((ans.err.code == errc::disconnected));
        auto ca = f.a.log->wait_closed(3s);
        BOOST_TEST_REQUIRE(ca.has_value());
        BOOST_TEST(ca->recoverable == recoverable);
        BOOST_TEST(
            (ca->code == (recoverable ? errc::transport_transient : errc::transport_permanent)));
        BOOST_TEST(ca->ws_code == (recoverable ? 4001 : 4002));
        BOOST_TEST(ca->message.find("radio off") != std::string::npos);
        /// The app's close hears the same error.
        BOOST_TEST_REQUIRE(f.a.probe->wait_closed(2s));
        BOOST_TEST_REQUIRE(f.a.probe->close_error().has_value());
        BOOST_TEST(f.a.probe->close_error()->recoverable == recoverable);
      }
    }
}

BOOST_AUTO_TEST_CASE(open_failure_reports_closed_without_connecting) {
  for (bool recoverable : {true, false}) {
    pair_fixture f;
    loopback::options o;
    loopback::options bad = o;
    bad.open_error = messaging_error{"peer refused", recoverable};
    f.connect(bad, o);
    auto ca = f.a.log->wait_closed(3s);
    BOOST_TEST_REQUIRE(ca.has_value());
    BOOST_TEST(ca->recoverable == recoverable);
    BOOST_TEST(ca->message.find("peer refused") != std::string::npos);
    BOOST_TEST(!f.a.log->handle());  // never connected
  }
}

BOOST_AUTO_TEST_CASE(link_dropped_mid_stream_closes_both_recoverably) {
  for (auto p : kBoth) {
    BOOST_TEST_CONTEXT(name(p)) {
      pair_fixture f;
      loopback::options o;
      o.protocol = p;
      loopback::options flaky = o;
      flaky.drop_after_bytes = 100'000;
      f.connect(flaky, o);
      BOOST_TEST_REQUIRE(f.a.log->wait_connected());
      auto ok = fire(*f.sys, f.a.log->handle(), 100, std::string(5000, 'x'));
      BOOST_TEST_REQUIRE((ok.wait_for(10s) == std::future_status::ready));
      BOOST_TEST(ok.get() < 100u);
      auto ca = f.a.log->wait_closed(3s);
      auto cb = f.b.log->wait_closed(3s);
      BOOST_TEST_REQUIRE(ca.has_value());
      BOOST_TEST_REQUIRE(cb.has_value());
      BOOST_TEST(ca->recoverable);
      BOOST_TEST(cb->recoverable);
    }
  }
}

BOOST_AUTO_TEST_CASE(pending_requests_fail_disconnected_on_close) {
  pair_fixture f;
  loopback::options o;
  o.delay = 300ms;  // replies cannot arrive before the close
  connect_ok(f, protocol_type::message_stream, o);
  auto ok = fire(*f.sys, f.a.log->handle(), 20, "never answered");
  std::this_thread::sleep_for(20ms);
  f.a.probe->disconnect(messaging_error{"gone", true});
  BOOST_TEST_REQUIRE((ok.wait_for(5s) == std::future_status::ready));
  BOOST_TEST(ok.get() == 0u);
  auto ca = f.a.log->wait_closed(3s);
  BOOST_TEST_REQUIRE(ca.has_value());
  BOOST_TEST((ca->code == errc::transport_transient));
  BOOST_TEST(ca->by_peer);
}

BOOST_AUTO_TEST_CASE(owner_going_away_closes_its_connection) {
  pair_fixture f;
  connect_ok(f, protocol_type::byte_stream);
  caf::anon_send_exit(f.a.owner, caf::exit_reason::user_shutdown);
  auto cb = f.b.log->wait_closed(3s);
  BOOST_TEST_REQUIRE(cb.has_value());
  BOOST_TEST(cb->by_peer);
  BOOST_TEST(cb->ws_code == 1001);
  BOOST_TEST(f.a.probe->wait_closed(3s));
}

BOOST_AUTO_TEST_CASE(heartbeat_keeps_a_live_byte_stream_open) {
  pair_fixture f;
  actors::connection_options co;
  co.heartbeat = 50ms;
  loopback::options o;
  o.protocol = protocol_type::byte_stream;
  f.connect(o, o, co);
  BOOST_TEST_REQUIRE(f.a.log->wait_connected());
  /// A PING every heartbeat while PONGs come back, not one per PONG timeout (20 s): a hub
  /// PINGing idle tcp:// peers at half its idle timeout dropped them after the first PONG.
  /// Each side PINGs and answers the other's: about 4 sends per 50 ms on an idle line.
  auto sends_before = f.a.probe->sends();
  std::this_thread::sleep_for(1000ms);
  auto sends = f.a.probe->sends() - sends_before;
  BOOST_TEST(sends >= 10u, sends << " sends in 1 s with a 50 ms heartbeat");
  BOOST_TEST(f.a.log->close_count() == 0u);
  auto ans = ask(*f.sys, f.a.log->handle(), make_request("echo", "alive"));
  BOOST_TEST(ans.reply.has_value());
}

BOOST_AUTO_TEST_CASE(many_connections_at_once) {
  constexpr int kPairs = 50;
  std::vector<std::unique_ptr<pair_fixture>> pairs;
  for (int i = 0; i < kPairs; ++i) {
    pairs.push_back(std::make_unique<pair_fixture>());
    pairs.back()->connect(i % 2 ? protocol_type::byte_stream : protocol_type::message_stream);
  }
  std::vector<std::future<size_t>> results;
  for (auto& f : pairs) {
    BOOST_TEST_REQUIRE(f->a.log->wait_connected());
    results.push_back(fire(*f->sys, f->a.log->handle(), 100, "many"));
  }
  for (auto& r : results) {
    BOOST_TEST_REQUIRE((r.wait_for(30s) == std::future_status::ready));
    BOOST_TEST(r.get() == 100u);
  }
  for (auto& f : pairs) close_by_owner(f->a);
  for (auto& f : pairs) {
    BOOST_TEST(f->a.log->wait_closed(5s).has_value());
    BOOST_TEST(f->b.log->wait_closed(5s).has_value());
  }
}
