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
  peer_set peers(host, kPeers, kDocs, /*continuous=*/true);
  auto& dbs = peers.dbs;
  auto& repls = peers.repls;
  for (auto& r : repls) r->start();
  auto expected = static_cast<size_t>(kPeers * kDocs);
  BOOST_REQUIRE(wait_slowly([&] { return revisions(hub.db).size() == expected; }, 60s));
  auto revs = revisions(hub.db);
  for (auto& d : dbs) BOOST_TEST(wait_slowly([&] { return revisions(d->db) == revs; }, 60s));
  auto want = contents(hub.db);
  for (auto& d : dbs) BOOST_TEST((contents(d->db) == want));
  for (auto& r : repls) {
    BOOST_TEST(r->status().err.code == errc::ok);
    r->stop();
  }
  for (auto& r : repls) BOOST_TEST(wait_until([&] { return is_stopped(*r); }, 15s));
}
