// listener_config::read_only and the deflate knobs: a read-only listener serves pulls, answers a
// push with HTTP 403 (the active replicator stops with errc::read_only after one attempt, no
// retry loop) and writes nothing but checkpoints; a small deflate window still replicates.
#define BOOST_TEST_MODULE listener_read_only
#include <boost/test/unit_test.hpp>

#include "peerlite/message_endpoint_listener.hpp"
#include "tests/actors/seed_harness.hpp"

using namespace peerlite;
using namespace peerlite::test;

namespace {

/// An endpoint whose delegate makes a fresh loopback pair and has `listener` accept one end.
message_endpoint endpoint_to(message_endpoint_listener& listener, protocol_type protocol,
                             std::shared_ptr<std::atomic<int>> calls) {
  message_endpoint ep;
  ep.uid = "UID:read-only";
  ep.target = "hub";
  ep.protocol = protocol;
  ep.delegate = [&listener, protocol, calls](const message_endpoint&) {
    ++*calls;
    loopback::options o;
    o.protocol = protocol;
    auto [a, b] = loopback::make_pair(o, o);
    BOOST_TEST(listener.accept(std::move(b.connection)).has_value());
    return std::move(a.connection);
  };
  return ep;
}

replicator_status replicate(database db, message_endpoint ep, replicator_type type) {
  replicator_config cfg;
  cfg.db = std::move(db);
  cfg.target = std::move(ep);
  cfg.type = type;
  cfg.min_attempt_wait_time = 20ms;
  cfg.max_attempt_wait_time = 100ms;
  replicator repl(cfg);
  return run_to_stop(repl);
}

}  // namespace

BOOST_AUTO_TEST_CASE(read_only_listener_refuses_push_without_retry) {
  for (auto protocol : {protocol_type::message_stream, protocol_type::byte_stream}) {
    temp_db active("active"), hub("hub");
    put_docs(active.db, "a", 10);
    listener_config lc{hub.db, protocol};
    lc.read_only = true;
    message_endpoint_listener listener(lc);
    auto calls = std::make_shared<std::atomic<int>>(0);
    for (auto type : {replicator_type::push, replicator_type::push_and_pull}) {
      auto s = replicate(active.db, endpoint_to(listener, protocol, calls), type);
      BOOST_TEST(s.activity == activity_level::stopped);
      BOOST_TEST(s.err.code == errc::read_only, s.err.message);
      BOOST_TEST(s.err.message.find("403") != std::string::npos, s.err.message);
      BOOST_TEST(s.err.message.find("read-only") != std::string::npos, s.err.message);
    }
    BOOST_TEST(calls->load() == 2);  // one connection per run: a refusal is not retried
    BOOST_TEST(contents(hub.db).empty());
    BOOST_TEST(listener.wait_closed(5s));
  }
}

BOOST_AUTO_TEST_CASE(read_only_listener_serves_pull) {
  temp_db active("active"), hub("hub");
  put_docs(hub.db, "h", 25);
  listener_config lc{hub.db, protocol_type::message_stream};
  lc.read_only = true;
  message_endpoint_listener listener(lc);
  auto calls = std::make_shared<std::atomic<int>>(0);
  auto ep = endpoint_to(listener, protocol_type::message_stream, calls);
  auto s = replicate(active.db, ep, replicator_type::pull);
  BOOST_TEST(s.err.code == errc::ok, s.err.message);
  BOOST_TEST((contents(active.db) == contents(hub.db)));
  BOOST_TEST(contents(active.db).size() == 25u);
  /// The pull's checkpoint was stored at the hub: a second run transfers nothing.
  s = replicate(active.db, ep, replicator_type::pull);
  BOOST_TEST(s.err.code == errc::ok, s.err.message);
  BOOST_TEST(s.progress.completed == 0u);
  BOOST_TEST(listener.wait_closed(5s));
}

BOOST_AUTO_TEST_CASE(small_deflate_window_at_the_listener_replicates) {
  temp_db active("active"), hub("hub");
  put_docs(active.db, "a", 300, 400);
  put_docs(hub.db, "h", 300, 400);
  listener_config lc{hub.db, protocol_type::byte_stream};
  lc.deflate_window_bits = 9;
  lc.deflate_mem_level = 1;
  message_endpoint_listener listener(lc);
  auto calls = std::make_shared<std::atomic<int>>(0);
  auto s = replicate(active.db, endpoint_to(listener, protocol_type::byte_stream, calls),
                     replicator_type::push_and_pull);
  BOOST_TEST(s.err.code == errc::ok, s.err.message);
  BOOST_TEST((contents(active.db) == contents(hub.db)));
  BOOST_TEST(contents(hub.db).size() == 600u);
  BOOST_TEST(listener.wait_closed(5s));
}
