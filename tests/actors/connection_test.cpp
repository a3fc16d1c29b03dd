// The connection actor over the loopback transport: request/reply both ways in both protocol
// types, write credit with large and many messages, completions sync/threaded/never, every
// way a connection can close, and bad input closing only the connection that got it.
#define BOOST_TEST_MODULE connection
#include <boost/test/unit_test.hpp>

#include "tests/actors/test_owner.hpp"

using namespace peerlite;
using namespace peerlite::test;
using loopback::completion_mode;

namespace {

void expect_echo(pair_fixture& f, const connection_api& c, const std::string& body) {
  auto ans = ask(*f.sys, c, make_request("echo", body));
  BOOST_TEST_REQUIRE(ans.reply.has_value(), "no reply: " << ans.err.message);
  BOOST_TEST((ans.reply->type == protocol::message_type::reply));
  BOOST_TEST(ans.reply->property("Echo") == "echo");
  BOOST_TEST(ans.reply->body.size() == body.size());
  BOOST_TEST((ans.reply->body == body));
}

std::string pattern(size_t n) {
  std::string s(n, '\0');
  for (size_t i = 0; i < n; ++i) s[i] = static_cast<char>((i * 131 + i / 7) & 0xff);
  return s;
}

}  // namespace

BOOST_AUTO_TEST_CASE(replication_setup_open_completion_connects_both_peers) {
  for (auto p : kBoth) {
    BOOST_TEST_CONTEXT(name(p)) {
      pair_fixture f;
      f.connect(p);
      BOOST_TEST(f.a.probe->wait_opened(5s));
      BOOST_TEST(f.b.probe->wait_opened(5s));
      BOOST_TEST(f.a.log->wait_connected());
      BOOST_TEST(f.b.log->wait_connected());
      BOOST_TEST(f.a.log->close_count() == 0u);
    }
  }
}

BOOST_AUTO_TEST_CASE(push_pull_request_reply_both_directions) {
  for (auto p : kBoth) {
    BOOST_TEST_CONTEXT(name(p)) {
      pair_fixture f;
      f.connect(p);
      BOOST_TEST_REQUIRE(f.a.log->wait_connected());
      BOOST_TEST_REQUIRE(f.b.log->wait_connected());
      expect_echo(f, f.a.log->handle(), "hello from the active peer");
      expect_echo(f, f.b.log->handle(), "hello from the passive peer");
      expect_echo(f, f.a.log->handle(), "");
    }
  }
}

BOOST_AUTO_TEST_CASE(large_messages_of_one_mebibyte_both_ways) {
  for (auto p : kBoth) {
    BOOST_TEST_CONTEXT(name(p)) {
      pair_fixture f;
      f.connect(p);
      BOOST_TEST_REQUIRE(f.a.log->wait_connected());
      BOOST_TEST_REQUIRE(f.b.log->wait_connected());
      expect_echo(f, f.a.log->handle(), pattern(1 << 20));
      expect_echo(f, f.b.log->handle(), pattern((1 << 20) + 17));
    }
  }
}

BOOST_AUTO_TEST_CASE(many_requests_in_flight_respect_write_credit) {
  for (auto p : kBoth) {
    BOOST_TEST_CONTEXT(name(p)) {
      pair_fixture f;
      f.connect(p);
      BOOST_TEST_REQUIRE(f.a.log->wait_connected());
      BOOST_TEST_REQUIRE(f.b.log->wait_connected());
      /// 3,000 x 2 KB = 6 MB queued at once: far beyond the write credit, so most frames
      /// wait for send completions.
      auto ok_a = fire(*f.sys, f.a.log->handle(), 3000, pattern(2000));
      auto ok_b = fire(*f.sys, f.b.log->handle(), 3000, pattern(1000));
      BOOST_TEST_REQUIRE((ok_a.wait_for(60s) == std::future_status::ready));
      BOOST_TEST_REQUIRE((ok_b.wait_for(60s) == std::future_status::ready));
      BOOST_TEST(ok_a.get() == 3000u);
      BOOST_TEST(ok_b.get() == 3000u);
    }
  }
}

BOOST_AUTO_TEST_CASE(completions_synchronous_or_from_another_thread) {
  const completion_mode modes[] = {completion_mode::synchronous, completion_mode::threaded};
  for (auto p : kBoth)
    for (auto m : modes) {
      BOOST_TEST_CONTEXT(name(p) << " mode " << static_cast<int>(m)) {
        pair_fixture f;
        loopback::options o;
        o.open_completion = m;
        o.send_completion = m;
        o.close_completion = m;
        f.connect(p, o);
        BOOST_TEST_REQUIRE(f.a.log->wait_connected());
        BOOST_TEST_REQUIRE(f.b.log->wait_connected());
        auto ok = fire(*f.sys, f.a.log->handle(), 200, pattern(5000));
        BOOST_TEST_REQUIRE((ok.wait_for(30s) == std::future_status::ready));
        BOOST_TEST(ok.get() == 200u);
        caf::anon_send(f.a.log->handle(), actors::close_atom::value, close_info{});
        auto ca = f.a.log->wait_closed(3s);
        auto cb = f.b.log->wait_closed(3s);
        BOOST_TEST_REQUIRE(ca.has_value());
        BOOST_TEST_REQUIRE(cb.has_value());
        BOOST_TEST((ca->code == errc::ok));
        BOOST_TEST((cb->code == errc::ok));
      }
    }
}

BOOST_AUTO_TEST_CASE(delayed_delivery_still_answers) {
  for (auto p : kBoth) {
    BOOST_TEST_CONTEXT(name(p)) {
      pair_fixture f;
      loopback::options o;
      o.delay = 20ms;
      f.connect(p, o);
      BOOST_TEST_REQUIRE(f.a.log->wait_connected());
      auto ok = fire(*f.sys, f.a.log->handle(), 100, "slow but sure");
      BOOST_TEST_REQUIRE((ok.wait_for(30s) == std::future_status::ready));
      BOOST_TEST(ok.get() == 100u);
    }
  }
}

BOOST_AUTO_TEST_CASE(handler_failure_is_err_501_and_owner_404_passes_through) {
  for (auto p : kBoth) {
    BOOST_TEST_CONTEXT(name(p)) {
      pair_fixture f;
      f.connect(p);
      BOOST_TEST_REQUIRE(f.a.log->wait_connected());
      auto failed = ask(*f.sys, f.a.log->handle(), make_request("fail"));
      BOOST_TEST_REQUIRE(failed.reply.has_value());
      BOOST_TEST(failed.reply->is_error());
      BOOST_TEST(failed.reply->error_domain() == "BLIP");
      BOOST_TEST(failed.reply->error_code() == 501);
      BOOST_TEST(failed.reply->body.find("handler failed on purpose") != std::string::npos);
      auto unknown = ask(*f.sys, f.a.log->handle(), make_request("nosuchthing"));
      BOOST_TEST_REQUIRE(unknown.reply.has_value());
      BOOST_TEST(unknown.reply->error_code() == 404);
      expect_echo(f, f.a.log->handle(), "still fine afterwards");
    }
  }
}

BOOST_AUTO_TEST_CASE(post_reaches_the_peer_owner_without_a_reply) {
  pair_fixture f;
  f.connect(protocol_type::message_stream);
  BOOST_TEST_REQUIRE(f.a.log->wait_connected());
  BOOST_TEST_REQUIRE(f.b.log->wait_connected());
  for (int i = 0; i < 10; ++i)
    caf::anon_send(f.a.log->handle(), actors::post_atom::value, make_request("post", "x"));
  expect_echo(f, f.a.log->handle(), "after the posts");  // ordered behind them
  BOOST_TEST(f.b.log->incoming_count() == 11u);
}

/// A peer that sends requests faster than they are answered: with max_unreplied_requests 100,
/// 100 unanswered requests are fine (the connection still answers), the 101st closes the
/// connection with a protocol error on the side that holds them, and the peer learns it.
BOOST_AUTO_TEST_CASE(a_flood_of_unanswered_requests_closes_the_connection) {
  for (auto p : kBoth) {
    BOOST_TEST_CONTEXT(name(p)) {
      pair_fixture f;
      actors::connection_options co;
      co.max_unreplied_requests = 100;
      loopback::options o;
      o.protocol = p;
      f.connect(o, o, co);
      BOOST_TEST_REQUIRE(f.a.log->wait_connected());
      BOOST_TEST_REQUIRE(f.b.log->wait_connected());
      auto held = fire_profile(*f.sys, f.a.log->handle(), 99, "hold");
      BOOST_TEST_REQUIRE(wait_until([&] { return f.b.log->incoming_count() == 99u; }, 10s));
      expect_echo(f, f.a.log->handle(), "the 100th unanswered request is still answered");
      auto last = fire_profile(*f.sys, f.a.log->handle(), 1, "hold");
      BOOST_TEST_REQUIRE(wait_until([&] { return f.b.log->incoming_count() == 101u; }, 10s));
      BOOST_TEST(f.b.log->close_count() == 0u);
      auto more = fire_profile(*f.sys, f.a.log->handle(), 1, "hold");
      auto closed = f.b.log->wait_closed();
      BOOST_TEST_REQUIRE(closed.has_value());
      BOOST_TEST((closed->code == errc::protocol_error));
      BOOST_TEST(closed->message.find("more than 100 requests") != std::string::npos,
                 closed->message);
      BOOST_TEST(f.a.log->wait_closed().has_value());
      BOOST_TEST((held.wait_for(10s) == std::future_status::ready));
      BOOST_TEST((last.wait_for(10s) == std::future_status::ready));
      BOOST_TEST((more.wait_for(10s) == std::future_status::ready));
    }
  }
}
