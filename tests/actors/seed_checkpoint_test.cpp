// Seed "Replication Setup": checkpoints make a second run transfer only what is new.
#define BOOST_TEST_MODULE seed_checkpoint
#include "tests/actors/seed_harness.hpp"

using namespace peerlite;
using namespace peerlite::test;

namespace {

/// Runs one one-shot replication; returns the revisions transferred without error.
size_t run_counting(replicator& repl, replication_direction dir, bool reset = false) {
  auto count = std::make_shared<std::atomic<size_t>>(0);
  auto token = repl.add_document_listener([count, dir](const std::vector<replicated_document>& ev) {
    for (auto& e : ev)
      if (e.direction == dir && e.err.code == errc::ok) ++*count;
  });
  auto s = run_to_stop(repl, 30s, reset);
  BOOST_TEST(s.err.code == errc::ok, s.err.message);
  token.remove();
  return count->load();
}

void checkpoints(replicator_type type) {
  temp_db active("active"), passive("passive");
  auto& source = type == replicator_type::push ? active.db : passive.db;
  auto dir = type == replicator_type::push ? replication_direction::push
                                           : replication_direction::pull;
  put_docs(source, "d", 100);
  passive_host host(passive.db);
  loop_endpoint ep(host, protocol_type::message_stream);
  replicator_config cfg;
  cfg.db = active.db;
  cfg.target = ep.endpoint;
  cfg.type = type;
  replicator repl(cfg);
  BOOST_TEST(run_counting(repl, dir) == 100u);
  BOOST_TEST(run_counting(repl, dir) == 0u);
  BOOST_TEST(repl.status().progress.total == 0u);
  put_docs(source, "new", 10);
  BOOST_TEST(run_counting(repl, dir) == 10u);
  /// reset: every change is looked at again, but the peer already has them all. A pusher
  /// knows that from what the database recorded the peer holds, so it offers none of them
  /// (as Couchbase Lite does); a puller is offered them all and answers that it has them.
  BOOST_TEST(run_counting(repl, dir, true) == 0u);
  if (type == replicator_type::push) BOOST_TEST(repl.status().progress.total == 0u);
  BOOST_TEST((contents(active.db) == contents(passive.db)));
}

}  // namespace

BOOST_AUTO_TEST_CASE(replication_setup_checkpoints_push) { checkpoints(replicator_type::push); }

BOOST_AUTO_TEST_CASE(replication_setup_checkpoints_pull) { checkpoints(replicator_type::pull); }
