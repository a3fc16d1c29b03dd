// Seed "Push/Pull Replication" at volume: 1 MiB documents and 10,000 documents, in both
// directions and both protocol types.
#define BOOST_TEST_MODULE seed_volume
#include "tests/actors/seed_harness.hpp"

using namespace peerlite;
using namespace peerlite::test;

namespace {

void transfer(replicator_type type, protocol_type protocol, int docs, size_t body_size) {
  temp_db active("active"), passive("passive");
  auto& source = type == replicator_type::push ? active.db : passive.db;
  put_docs(source, "d", docs, body_size);
  passive_host host(passive.db);
  loop_endpoint ep(host, protocol);
  replicator_config cfg;
  cfg.db = active.db;
  cfg.target = ep.endpoint;
  cfg.type = type;
  replicator repl(cfg);
  auto s = run_to_stop(repl, 120s);
  BOOST_TEST(s.err.code == errc::ok, s.err.message);
  auto a = contents(active.db), p = contents(passive.db);
  BOOST_TEST(a.size() == static_cast<size_t>(docs));
  BOOST_TEST((a == p));
  if (!a.empty()) BOOST_TEST(a.begin()->second.second.size() + 16 >= body_size);
}

constexpr size_t kMiB = 1 << 20;

}  // namespace

BOOST_AUTO_TEST_CASE(push_pull_replication_large_documents) {
  for (auto protocol : {protocol_type::message_stream, protocol_type::byte_stream}) {
    transfer(replicator_type::push, protocol, 4, kMiB);
    transfer(replicator_type::pull, protocol, 4, kMiB);
  }
}

BOOST_AUTO_TEST_CASE(push_pull_replication_many_documents) {
  for (auto protocol : {protocol_type::message_stream, protocol_type::byte_stream}) {
    transfer(replicator_type::push, protocol, 10000, 100);
    transfer(replicator_type::pull, protocol, 10000, 100);
  }
}
