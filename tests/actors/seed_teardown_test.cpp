// Seed "Connection Teardown": initiated by the active peer or by the passive peer (close_all),
// with the app's close completion called synchronously, from another thread, or never.
#define BOOST_TEST_MODULE seed_teardown
#include "tests/actors/seed_harness.hpp"

using namespace peerlite;
using namespace peerlite::test;

namespace {

struct connected_peers {
  temp_db active{"active"}, passive{"passive"};
  passive_host host{passive.db};
  std::unique_ptr<loop_endpoint> ep;
  std::unique_ptr<replicator> repl;

  explicit connected_peers(loopback::options active_opts = {}, loopback::options passive_opts = {}) {
    put_docs(active.db, "a", 20);
    put_docs(passive.db, "p", 20);
    link_plan plan;
    plan.active = {active_opts};
    plan.passive = {passive_opts};
    ep = std::make_unique<loop_endpoint>(host, protocol_type::message_stream, plan);
    replicator_config cfg;
    cfg.db = active.db;
    cfg.target = ep->endpoint;
    cfg.continuous = true;
    repl = std::make_unique<replicator>(cfg);
    repl->start();
    BOOST_REQUIRE(wait_until([&] { return repl->status().activity == activity_level::idle; }, 10s));
  }
  std::shared_ptr<loopback::link_probe> active_probe() { return ep->active_probes->at(0); }
  std::shared_ptr<loopback::link_probe> passive_probe() { return host.probe(0); }

  void expect_clean_stop(std::chrono::milliseconds within) {
    BOOST_TEST(wait_until([&] { return is_stopped(*repl); }, within));
    BOOST_TEST(repl->status().err.code == errc::ok, repl->status().err.message);
    BOOST_TEST(active_probe()->wait_closed(within));   // the app's close() was called
    BOOST_TEST(passive_probe()->wait_closed(within));
    BOOST_TEST(wait_until([&] { return host.record->last(1).activity == activity_level::stopped; },
                          within));
    BOOST_TEST((contents(active.db) == contents(passive.db)));
  }
};

loopback::options close_mode(loopback::completion_mode m) {
  loopback::options o;
  o.close_completion = m;
  return o;
}

}  // namespace

BOOST_AUTO_TEST_CASE(connection_teardown_initiated_by_active_peer_app) {
  connected_peers p;
  p.active_probe()->disconnect();  // replicatorConnection.close(null) on the active peer
  p.expect_clean_stop(5s);
}

BOOST_AUTO_TEST_CASE(connection_teardown_initiated_by_active_peer_stop) {
  connected_peers p;
  p.repl->stop();
  p.expect_clean_stop(5s);
}

BOOST_AUTO_TEST_CASE(connection_teardown_initiated_by_passive_peer_close_all) {
  connected_peers p;
  p.host.close_all();  // listener.closeAll()
  p.expect_clean_stop(5s);
}

BOOST_AUTO_TEST_CASE(connection_teardown_close_completion_sync_and_threaded) {
  for (auto m : {loopback::completion_mode::synchronous, loopback::completion_mode::threaded}) {
    connected_peers p(close_mode(m), close_mode(m));
    auto t0 = std::chrono::steady_clock::now();
    p.repl->stop();
    p.expect_clean_stop(5s);
    BOOST_TEST((std::chrono::steady_clock::now() - t0 < 2s));
  }
}

BOOST_AUTO_TEST_CASE(connection_teardown_close_completion_never_called) {
  connected_peers p(close_mode(loopback::completion_mode::never),
                    close_mode(loopback::completion_mode::never));
  auto t0 = std::chrono::steady_clock::now();
  p.repl->stop();
  BOOST_TEST(wait_until([&] { return is_stopped(*p.repl); }, 15s));
  BOOST_TEST_MESSAGE("stopped after " << std::chrono::duration_cast<std::chrono::milliseconds>(
                                             std::chrono::steady_clock::now() - t0).count()
                                      << " ms");
  BOOST_TEST(wait_until(
      [&] { return p.host.record->last(1).activity == activity_level::stopped; }, 15s));
}
