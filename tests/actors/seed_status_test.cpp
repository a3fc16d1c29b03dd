// Seed "Push/Pull Replication" as the app watches it: activity levels, progress, document
// events on both sides, pending document IDs.
#define BOOST_TEST_MODULE seed_status
#include "tests/actors/seed_harness.hpp"

using namespace peerlite;
using namespace peerlite::test;

namespace {

size_t first_index(const std::vector<replicator_status>& seen, activity_level level) {
  for (size_t i = 0; i < seen.size(); ++i)
    if (seen[i].activity == level) return i;
  return seen.size();
}

}  // namespace

BOOST_AUTO_TEST_CASE(push_pull_replication_status_progress_and_events) {
  temp_db active("active"), passive("passive");
  put_docs(active.db, "a", 100);
  put_docs(passive.db, "p", 100);
  passive_host host(passive.db);
  loop_endpoint ep(host, protocol_type::message_stream);
  replicator_config cfg;
  cfg.db = active.db;
  cfg.target = ep.endpoint;
  replicator repl(cfg);
  status_log log;
  log.attach(repl);
  std::mutex mtx;
  size_t pushed = 0, pulled = 0;
  repl.start();
  /// Added after start(): must still get every event (the reference drops them).
  auto token = repl.add_document_listener([&](const std::vector<replicated_document>& ev) {
    std::lock_guard<std::mutex> g{mtx};
    for (auto& e : ev) (e.direction == replication_direction::push ? pushed : pulled) += 1;
  });
  BOOST_REQUIRE(wait_until([&] { return is_stopped(repl) && !log.all().empty() &&
                                        log.all().back().activity == activity_level::stopped; },
                           20s));
  auto seen = log.all();
  auto connecting = first_index(seen, activity_level::connecting);
  auto busy = first_index(seen, activity_level::busy);
  BOOST_TEST(connecting == 0u);
  BOOST_TEST(busy > connecting);
  BOOST_TEST(busy < seen.size());
  BOOST_TEST(first_index(seen, activity_level::stopped) == seen.size() - 1);  // final, once
  auto last = seen.back();
  BOOST_TEST(last.err.code == errc::ok, last.err.message);
  BOOST_TEST(last.progress.total == 200u);
  BOOST_TEST(last.progress.completed == last.progress.total);
  {
    std::lock_guard<std::mutex> g{mtx};
    BOOST_TEST(pushed == 100u);
    BOOST_TEST(pulled == 100u);
  }
  /// The passive side reports events too: what it received and what it sent.
  BOOST_TEST(wait_until([&] { return host.record->event_count(replication_direction::pull) == 100u &&
                                     host.record->event_count(replication_direction::push) == 100u; },
                        5s));
}

BOOST_AUTO_TEST_CASE(push_pull_replication_pending_document_ids) {
  temp_db active("active"), passive("passive");
  put_docs(active.db, "a", 30);
  passive_host host(passive.db);
  loop_endpoint ep(host, protocol_type::message_stream);
  replicator_config cfg;
  cfg.db = active.db;
  cfg.target = ep.endpoint;
  cfg.type = replicator_type::push;
  replicator repl(cfg);
  auto pending = repl.pending_document_ids();
  BOOST_REQUIRE(pending.has_value());
  BOOST_TEST(pending->size() == 30u);
  BOOST_TEST(*repl.is_document_pending("a7"));
  auto s = run_to_stop(repl);
  BOOST_TEST(s.err.code == errc::ok, s.err.message);
  BOOST_TEST(repl.pending_document_ids()->empty());
  BOOST_REQUIRE(active.db.put("new", R"({"n":1})").has_value());
  BOOST_TEST((*repl.pending_document_ids() == std::set<std::string>{"new"}));
  BOOST_TEST(*repl.is_document_pending("new"));
  BOOST_TEST(!*repl.is_document_pending("a7"));
  cfg.type = replicator_type::pull;
  replicator puller(cfg);
  BOOST_TEST(puller.pending_document_ids().err().code == errc::invalid_argument);
}
