// Seed "Peer Discovery" at scale: one passive peer and 50 active peers, continuous
// push-and-pull, each writing 100 documents; every database converges.
#define BOOST_TEST_MODULE seed_many_peers
#include "tests/actors/seed_harness.hpp"

using namespace peerlite;
using namespace peerlite::test;

BOOST_AUTO_TEST_CASE(peer_discovery_fifty_peers_converge) {
  constexpr int kPeers = 50, kDocs = 100;
  temp_db hub("hub");
  passive_host host(hub.db);
  std::vector<std::unique_ptr<temp_db>> dbs;
  std::vector<std::unique_ptr<loop_endpoint>> eps;
  std::vector<std::unique_ptr<replicator>> repls;
  for (int i = 0; i < kPeers; ++i) {
    dbs.push_back(std::make_unique<temp_db>("peer" + std::to_string(i)));
    put_docs(dbs.back()->db, "peer" + std::to_string(i) + "-", kDocs);
    eps.push_back(std::make_unique<loop_endpoint>(host, protocol_type::message_stream, link_plan{},
                                                  "peer-" + std::to_string(i)));
    replicator_config cfg;
    cfg.db = dbs.back()->db;
    cfg.target = eps.back()->endpoint;
    cfg.continuous = true;
    repls.push_back(std::make_unique<replicator>(cfg));
  }
  for (auto& r : repls) r->start();
  auto expected = static_cast<size_t>(kPeers * kDocs);
  BOOST_REQUIRE(wait_until([&] { return contents(hub.db).size() == expected; }, 60s));
  auto want = contents(hub.db);
  for (auto& d : dbs)
    BOOST_TEST(wait_until([&] { return contents(d->db) == want; }, 60s));
  for (auto& r : repls) {
    BOOST_TEST(r->status().err.code == errc::ok);
    r->stop();
  }
  for (auto& r : repls) BOOST_TEST(wait_until([&] { return is_stopped(*r); }, 15s));
}
