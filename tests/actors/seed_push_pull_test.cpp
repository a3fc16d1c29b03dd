// Seed "Push/Pull Replication": push only, pull only, push-and-pull; one-shot and continuous.
#define BOOST_TEST_MODULE seed_push_pull
#include "tests/actors/seed_harness.hpp"

using namespace peerlite;
using namespace peerlite::test;

namespace {

replicator_config config_for(database db, loop_endpoint& ep, replicator_type type,
                             bool continuous = false) {
  replicator_config cfg;
  cfg.db = std::move(db);
  cfg.target = ep.endpoint;
  cfg.type = type;
  cfg.continuous = continuous;
  cfg.min_attempt_wait_time = 20ms;
  cfg.max_attempt_wait_time = 100ms;
  return cfg;
}

void one_shot(replicator_type type, protocol_type protocol) {
  temp_db active("active"), passive("passive");
  put_docs(active.db, "a", 50);
  put_docs(passive.db, "p", 40);
  passive_host host(passive.db);
  loop_endpoint ep(host, protocol);
  replicator repl(config_for(active.db, ep, type));
  auto s = run_to_stop(repl);
  BOOST_TEST(s.err.code == errc::ok, s.err.message);
  auto a = contents(active.db), p = contents(passive.db);
  if (type == replicator_type::push_and_pull) {
    BOOST_TEST(a.size() == 90u);
    BOOST_TEST((a == p));
  } else if (type == replicator_type::push) {
    BOOST_TEST(a.size() == 50u);
    BOOST_TEST(p.size() == 90u);
  } else {
    BOOST_TEST(a.size() == 90u);
    BOOST_TEST(p.size() == 40u);
  }
  BOOST_TEST(*ep.calls == 1);
}

}  // namespace

BOOST_AUTO_TEST_CASE(push_pull_replication_one_shot_push) {
  one_shot(replicator_type::push, protocol_type::message_stream);
}

BOOST_AUTO_TEST_CASE(push_pull_replication_one_shot_pull) {
  one_shot(replicator_type::pull, protocol_type::message_stream);
}

BOOST_AUTO_TEST_CASE(push_pull_replication_one_shot_push_and_pull) {
  one_shot(replicator_type::push_and_pull, protocol_type::message_stream);
  one_shot(replicator_type::push_and_pull, protocol_type::byte_stream);
}
