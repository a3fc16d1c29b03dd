// Requests timed by the requesting actor (actors/request_deadlines.hpp): a request past its
// deadline fails with sec::request_timeout in its own error handler, once; answered requests
// leave nothing behind, where CAF's own request timeouts held their memory until the deadline
// (a hub's RSS climbed with them).
#define BOOST_TEST_MODULE request_deadlines
#include "actors/request_deadlines.hpp"

#include <malloc.h>

#include <atomic>
#include <boost/test/unit_test.hpp>
#include <chrono>
#include <functional>
#include <future>
#include <thread>

using namespace std::chrono_literals;
using peerlite::actors::request_deadlines;
using peerlite::actors::timed_request;

namespace {

using go_atom = caf::atom_constant<caf::atom("go")>;

struct requester_state {
  request_deadlines deadlines;
};
using requester_self = caf::stateful_actor<requester_state>*;

/// Answers an int with the same int; leaves a string unanswered.
caf::behavior echo_or_hold(caf::event_based_actor* self) {
  return {
      [](int x) { return x; },
      [self](const std::string&) {
        /// A promise that nobody delivers: the request stays unanswered.
        auto rp = self->make_response_promise<int>();
        return rp;
      },
  };
}

/// How long to wait for any result in these tests.
constexpr auto kWait = 10s;

struct fixture {
  caf::actor_system_config cfg;
  caf::actor_system sys{cfg};
  caf::actor echo = sys.spawn(echo_or_hold);
  ~fixture() { caf::anon_send_exit(echo, caf::exit_reason::kill); }
};

}  // namespace

BOOST_FIXTURE_TEST_CASE(answered_requests_leave_nothing_pending, fixture) {
  std::promise<std::pair<int, size_t>> done;
  auto fut = done.get_future();
  sys.spawn([&, echo = echo](requester_self self) -> caf::behavior {
    auto sum = std::make_shared<int>(0);
    auto left = std::make_shared<int>(1000);
    for (int i = 1; i <= 1000; ++i)
      timed_request(self, echo, 120s, i)
          .then(
              [=, &done](int x) {
                *sum += x;
                if (--*left == 0) {
                  done.set_value({*sum, self->state.deadlines.size()});
                  self->quit();
                }
              },
              [=, &done](caf::error& err) {
                done.set_value({-1, 0});
                BOOST_ERROR("unexpected error " << caf::to_string(err));
                self->quit();
              });
    BOOST_CHECK_EQUAL(self->state.deadlines.size(), 1000u);
    return {[](go_atom) {}};
  });
  BOOST_REQUIRE(fut.wait_for(kWait) == std::future_status::ready);
  auto [sum, pending] = fut.get();
  BOOST_CHECK_EQUAL(sum, 1000 * 1001 / 2);
  BOOST_CHECK_EQUAL(pending, 0u);
}

BOOST_FIXTURE_TEST_CASE(unanswered_request_times_out_once, fixture) {
  std::promise<caf::error> failed;
  auto fut = failed.get_future();
  auto calls = std::make_shared<std::atomic<int>>(0);
  auto t0 = std::chrono::steady_clock::now();
  sys.spawn([&, echo = echo, calls](requester_self self) -> caf::behavior {
    timed_request(self, echo, 300ms, std::string{"hold"})
        .then([=](int) { BOOST_ERROR("a held request was answered"); },
              [=, &failed](caf::error& err) {
                if (++*calls == 1) failed.set_value(err);
              });
    /// Quit after a second sweep could have failed it again.
    self->delayed_send(self, 1500ms, go_atom::value);
    return {[=](go_atom) { self->quit(); }};
  });
  BOOST_REQUIRE(fut.wait_for(kWait) == std::future_status::ready);
  auto took = std::chrono::steady_clock::now() - t0;
  auto err = fut.get();
  BOOST_CHECK(err == caf::sec::request_timeout);
  BOOST_CHECK_GE(took, 300ms);
  BOOST_CHECK_LT(took, 3s);
  std::this_thread::sleep_for(2s);  // a second sweep finds nothing to fail again
  BOOST_CHECK_EQUAL(calls->load(), 1);
}

/// A short deadline set after a long one still fires on time (the wake-up is re-armed
/// earlier), and the answered requests around it are unaffected.
BOOST_FIXTURE_TEST_CASE(short_deadline_after_long_one, fixture) {
  std::promise<std::chrono::steady_clock::duration> failed;
  auto fut = failed.get_future();
  auto t0 = std::chrono::steady_clock::now();
  std::atomic<int> answered{0};
  sys.spawn([&, echo = echo](requester_self self) -> caf::behavior {
    timed_request(self, echo, 60s, std::string{"hold"}).then([](int) {}, [](caf::error&) {});
    timed_request(self, echo, 200ms, std::string{"hold"})
        .then([](int) {},
              [=, &failed](caf::error&) {
                failed.set_value(std::chrono::steady_clock::now() - t0);
                self->quit();
              });
    timed_request(self, echo, 60s, 7).then([&](int) { ++answered; }, [](caf::error&) {});
    return {[](go_atom) {}};
  });
  BOOST_REQUIRE(fut.wait_for(kWait) == std::future_status::ready);
  auto took = fut.get();
  BOOST_CHECK_GE(took, 200ms);
  BOOST_CHECK_LT(took, 900ms);  // well before the 1 s sweep interval
  BOOST_CHECK_EQUAL(answered.load(), 1);
}

/// CAF's own request timeouts stay in its clock until their deadline, answered or not: 50,000
/// answered requests with a 120 s timeout held ~9 MiB of heap. Timed by the requester, they
/// hold nothing once answered.
BOOST_FIXTURE_TEST_CASE(answered_requests_hold_no_memory, fixture) {
  constexpr int kRequests = 50000;
  auto before = mallinfo2().uordblks;
  std::promise<void> done;
  auto fut = done.get_future();
  auto requester = sys.spawn([&, echo = echo](requester_self self) -> caf::behavior {
    auto left = std::make_shared<int>(kRequests);
    /// In rounds of 100, so the mailboxes stay small and only the clock could hold memory.
    auto round = std::make_shared<std::function<void()>>();
    *round = [=, &done] {
      for (int i = 0; i < 100; ++i)
        timed_request(self, echo, 120s, i)
            .then(
                [=, &done](int) {
                  if (--*left == 0) {
                    done.set_value();  // measured while this actor lives (CAF drops an
                                       // actor's timeouts when it quits)
                  } else if (*left % 100 == 0) {
                    (*round)();
                  }
                },
                [](caf::error&) {});
    };
    (*round)();
    return {[=](go_atom) { self->quit(); }};
  });
  BOOST_REQUIRE(fut.wait_for(kWait) == std::future_status::ready);
  std::this_thread::sleep_for(100ms);
  auto after = mallinfo2().uordblks;
  caf::anon_send(requester, go_atom::value);
  auto grown = after > before ? after - before : 0;
  BOOST_TEST_MESSAGE("heap grew by " << grown << " bytes over " << kRequests << " requests");
  BOOST_CHECK_LT(grown, size_t{2} << 20);
}
