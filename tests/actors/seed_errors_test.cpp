// Seed "Replication Setup" error handling: a recoverable MessagingError makes the replicator go
// OFFLINE and retry through a NEW connection from the delegate; a permanent one stops it.
#define BOOST_TEST_MODULE seed_errors
#include "tests/actors/seed_harness.hpp"

using namespace peerlite;
using namespace peerlite::test;

namespace {

struct run_result {
  replicator_status final_status;
  std::vector<replicator_status> seen;
  int delegate_calls = 0;
  bool converged = false;
};

run_result run_with(link_plan plan, uint32_t max_attempts = 0, int docs = 300) {
  temp_db active("active"), passive("passive");
  put_docs(active.db, "a", docs, 200);
  put_docs(passive.db, "p", docs, 200);
  passive_host host(passive.db);
  loop_endpoint ep(host, protocol_type::message_stream, std::move(plan));
  replicator_config cfg;
  cfg.db = active.db;
  cfg.target = ep.endpoint;
  cfg.max_attempts = max_attempts;
  cfg.min_attempt_wait_time = 10ms;
  cfg.max_attempt_wait_time = 40ms;
  replicator repl(cfg);
  status_log log;
  log.attach(repl);
  run_result out;
  out.final_status = run_to_stop(repl);
  out.seen = log.all();
  out.delegate_calls = *ep.calls;
  out.converged = contents(active.db) == contents(passive.db);
  return out;
}

bool saw(const std::vector<replicator_status>& seen, activity_level level) {
  for (auto& s : seen)
    if (s.activity == level) return true;
  return false;
}

loopback::options failing(std::function<void(loopback::options&)> f) {
  loopback::options o;
  f(o);
  return o;
}

void expect_recovered(const run_result& r) {
  BOOST_TEST(r.final_status.err.code == errc::ok, r.final_status.err.message);
  BOOST_TEST(saw(r.seen, activity_level::offline));
  BOOST_TEST(r.delegate_calls == 2);
  BOOST_TEST(r.converged);
}

}  // namespace

BOOST_AUTO_TEST_CASE(replication_setup_recoverable_error_during_open) {
  link_plan plan;
  plan.active = {failing([](auto& o) { o.open_error = messaging_error{"radio busy", true}; }),
                 loopback::options{}};
  expect_recovered(run_with(plan));
}

BOOST_AUTO_TEST_CASE(replication_setup_recoverable_error_during_send) {
  link_plan plan;
  plan.active = {failing([](auto& o) { o.fail_send_after = 3; }), loopback::options{}};
  expect_recovered(run_with(plan));
}

BOOST_AUTO_TEST_CASE(replication_setup_recoverable_error_mid_stream) {
  link_plan plan;
  plan.active = {failing([](auto& o) { o.drop_after_bytes = 30000; }), loopback::options{}};
  expect_recovered(run_with(plan));
}

BOOST_AUTO_TEST_CASE(replication_setup_permanent_error_stops) {
  link_plan plan;
  plan.active = {failing([](auto& o) { o.open_error = messaging_error{"peer refused", false}; })};
  auto r = run_with(plan);
  BOOST_TEST(r.final_status.activity == activity_level::stopped);
  BOOST_TEST(r.final_status.err.code != errc::ok);
  BOOST_TEST(r.final_status.err.message.find("peer refused") != std::string::npos,
             r.final_status.err.message);
  BOOST_TEST(r.delegate_calls == 1);
  BOOST_TEST(!saw(r.seen, activity_level::offline));
}

BOOST_AUTO_TEST_CASE(replication_setup_max_attempts_honoured) {
  link_plan plan;
  plan.active = {failing([](auto& o) { o.open_error = messaging_error{"radio busy", true}; })};
  auto r = run_with(plan, 3);
  BOOST_TEST(r.final_status.err.code == errc::transport_transient, r.final_status.err.message);
  BOOST_TEST(r.delegate_calls == 3);
  /// The one-shot default is 10 attempts.
  auto d = run_with(plan, 0, 5);
  BOOST_TEST(d.delegate_calls == 10);
}
