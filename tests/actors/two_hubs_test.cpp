// Two hubs on one store. A hub keeps no state of its own: documents, sequences, the change
// feed and checkpoints all live in the shared database, so peers may reach any hub. In the
// PostgreSQL run (actors_two_hubs_test_pg) the hubs are two sessions of one PostgreSQL
// database, which is what two `peerlite serve` processes on different machines are; in the
// SQLite run they are two connections to one file, as two processes on one machine are. Each
// hub is its own database handle: its own db actor, writer, readers and commit watch.
#define BOOST_TEST_MODULE two_hubs
#include <nlohmann/json.hpp>

#include <set>

#include "tests/actors/seed_harness.hpp"
#include "tests/actors/wire_tap.hpp"

using namespace peerlite;
using namespace peerlite::test;

namespace {

/// Peers in the convergence test, and what each writes.
constexpr int kPeers = 50;
constexpr int kOwnDocs = 40;      ///< "peerI-K", written by peer I only
constexpr int kSharedDocs = 8;    ///< "shared-J", written by every peer: 50-way conflicts
constexpr int kEditRounds = 3;    ///< rounds of edits made while replication runs
/// Until every peer and both hubs hold the same documents (conflicts resolved, every edit
/// through): 11 s on PostgreSQL, 5 s on SQLite, on an idle 2-core machine.
constexpr auto kConvergeTimeout = 120s;
/// A one-shot replication, start to STOPPED.
constexpr auto kRunTimeout = 30s;

/// Feed test: rounds of concurrent writes on both hubs, each round's documents.
constexpr int kFeedRounds = 40;
constexpr int kFeedDocsPerWriter = 15;
/// Until a round's documents have all reached the continuous puller.
constexpr auto kRoundTimeout = 15s;

database open_again(const std::string& location) {
  auto d = database::open(location);
  BOOST_REQUIRE_MESSAGE(d.has_value(), (d ? std::string() : d.err().message));
  return *d;
}

/// The shared store and its two hubs.
struct two_hubs {
  temp_db store{"hub"};
  database second = open_again(store.location);
  passive_host a{store.db}, b{second};
  std::vector<passive_host*> both() { return {&a, &b}; }
};

/// The convergence check reads 52 databases: it runs every kPollPeriod.
constexpr auto kPollPeriod = 200ms;


/// Every (sequence, id, rev) the hub offered the puller in `changes` requests, in wire order.
struct offered_change {
  uint64_t seq;
  std::string id, rev;
};
std::vector<offered_change> offered(wire_log& log) {
  std::vector<offered_change> out;
  for (auto& m : log.requests("changes")) {
    if (m.from_active) continue;
    auto rows = nlohmann::json::parse(m.msg.body, nullptr, false);
    BOOST_REQUIRE(rows.is_array());
    for (auto& r : rows)
      out.push_back({r.at(0).get<uint64_t>(), r.at(1).get<std::string>(),
                     r.at(2).get<std::string>()});
  }
  return out;
}

}  // namespace

/// 50 continuous push-and-pull peers, alternately on hub A and hub B, each with its own
/// documents and all writing the same shared documents (conflicts across hubs), then editing,
/// deleting and conflicting again while replication runs: every peer and both hubs end with the
/// same documents, revisions and bodies.
BOOST_AUTO_TEST_CASE(fifty_peers_on_two_hubs_converge_through_edits_and_conflicts) {
  two_hubs hubs;
  peer_set peers(hubs.both(), kPeers, kOwnDocs, /*continuous=*/true);
  auto shared_body = [](int peer, int round) {
    return "{\"by\":" + std::to_string(peer) + ",\"round\":" + std::to_string(round) + "}";
  };
  for (int i = 0; i < kPeers; ++i)
    for (int j = 0; j < kSharedDocs; ++j)
      BOOST_REQUIRE(peers.dbs[i]->db.put("shared-" + std::to_string(j), shared_body(i, 0)));
  auto t0 = std::chrono::steady_clock::now();
  for (auto& r : peers.repls) r->start();
  /// Edits while replicating: own documents updated, one deleted, shared documents rewritten.
  for (int round = 1; round <= kEditRounds; ++round) {
    for (int i = 0; i < kPeers; ++i) {
      auto& db = peers.dbs[i]->db;
      std::string own = "peer" + std::to_string(i) + "-";
      for (int k = 0; k < 5; ++k)
        BOOST_REQUIRE(db.put(own + std::to_string(k), "{\"round\":" + std::to_string(round) + "}"));
      if (round == 2) BOOST_REQUIRE(db.remove(own + std::to_string(kOwnDocs - 1)));
      BOOST_REQUIRE(db.put("shared-" + std::to_string((i + round) % kSharedDocs),
                           shared_body(i, round)));
    }
    std::this_thread::sleep_for(100ms);
  }
  const size_t expected = size_t(kPeers) * (kOwnDocs - 1) + kSharedDocs;
  bool converged = wait_slowly(
      [&] {
        auto want = revisions(hubs.store.db);
        if (want.size() != expected || revisions(hubs.second) != want) return false;
        for (auto& d : peers.dbs)
          if (revisions(d->db) != want) return false;
        return true;
      },
      kConvergeTimeout, kPollPeriod);
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0);
  BOOST_TEST_MESSAGE("two hubs, " << kPeers << " peers converged in " << ms.count() << " ms");
  BOOST_TEST(converged);
  auto want = contents(hubs.store.db);
  BOOST_TEST(want.size() == expected);
  for (int i = 0; i < kPeers; ++i) {
    auto got = contents(peers.dbs[i]->db);
    if (got == want) continue;
    BOOST_TEST(false, "peer " << i << " holds " << got.size() << " documents, the hub " << want.size());
    for (auto& [id, v] : want)
      if (got[id] != v) {
        BOOST_TEST_MESSAGE("peer " << i << " " << id << ": " << got[id].first << " vs hub " << v.first);
        break;
      }
  }
  /// The shared documents ended as one revision everywhere, with the losing branches closed.
  for (int j = 0; j < kSharedDocs; ++j) {
    auto c = hubs.store.db.conflicts("shared-" + std::to_string(j));
    BOOST_REQUIRE(c.has_value());
    BOOST_TEST(c->size() == 1u, "shared-" << j << " still has " << c->size() << " leaves");
  }
  for (auto& r : peers.repls) {
    BOOST_TEST(r->status().err.code == errc::ok, r->status().err.message);
    r->stop();
  }
  for (auto& r : peers.repls) BOOST_TEST(wait_until([&] { return is_stopped(*r); }, 15s));

  /// A peer that synced through hub A comes back through hub B with 5 new documents: it
  /// resumes from the checkpoint both hubs share, so it pushes the 5 and pulls nothing.
  auto& mover = peers.dbs[0]->db;  // peer 0 was on hub A
  put_docs(mover, "moved-", 5);
  loop_endpoint via_b(hubs.b, protocol_type::message_stream, link_plan{}, "peer-0");
  replicator_config cfg;
  cfg.db = mover;
  cfg.target = via_b.endpoint;
  replicator again(cfg);
  std::mutex mx;
  std::map<replication_direction, size_t> moved;
  auto token = again.add_document_listener([&](const std::vector<replicated_document>& ev) {
    std::lock_guard<std::mutex> g{mx};
    for (auto& e : ev) moved[e.direction] += 1;
  });
  auto s = run_to_stop(again, kRunTimeout);
  token.remove();
  BOOST_TEST(s.err.code == errc::ok, s.err.message);
  BOOST_TEST(*via_b.calls == 1);
  {
    std::lock_guard<std::mutex> g{mx};
    BOOST_TEST(moved[replication_direction::push] == 5u);
    BOOST_TEST(moved[replication_direction::pull] == 0u);
  }
  for (int k = 0; k < 5; ++k) BOOST_TEST(hubs.second.get("moved-" + std::to_string(k)).has_value());
}

/// A continuous puller on hub A while two writers, one through each hub, write at once, in
/// many rounds: the feed offers every document exactly once, in increasing sequences, and the
/// puller ends with all of them. Writes on hub B reach it only through the shared store's
/// commit notice (LISTEN/NOTIFY on PostgreSQL).
BOOST_AUTO_TEST_CASE(writers_on_both_hubs_reach_a_continuous_puller_exactly_once) {
  two_hubs hubs;
  temp_db peer("peer", placement::device_file);
  auto log = std::make_shared<wire_log>();
  replicator_config cfg;
  cfg.db = peer.db;
  cfg.target = tapped_endpoint(hubs.a, log, "puller");
  cfg.type = replicator_type::pull;
  cfg.continuous = true;
  replicator repl(cfg);
  repl.start();
  size_t total = 0;
  for (int round = 0; round < kFeedRounds; ++round) {
    std::atomic<int> failed{0};
    auto write = [&](database db, char who) {  // Boost.Test's macros are for the main thread
      for (int k = 0; k < kFeedDocsPerWriter; ++k)
        failed += !db.put(std::string(1, who) + std::to_string(round) + "-" + std::to_string(k),
                          "{\"k\":" + std::to_string(k) + "}");
    };
    std::thread on_a(write, hubs.store.db, 'a'), on_b(write, hubs.second, 'b');
    on_a.join();
    on_b.join();
    BOOST_REQUIRE_EQUAL(failed.load(), 0);
    total += 2 * kFeedDocsPerWriter;
    bool all = wait_slowly([&] { return revisions(peer.db).size() == total; }, kRoundTimeout, 10ms);
    BOOST_REQUIRE_MESSAGE(all, "round " << round << ": the puller has " << revisions(peer.db).size()
                                        << " of " << total);
  }
  repl.stop();
  BOOST_TEST(wait_until([&] { return is_stopped(repl); }, 15s));
  BOOST_TEST(repl.status().err.code == errc::ok, repl.status().err.message);
  BOOST_TEST(!log->failed(), log->why());
  auto changes = offered(*log);
  std::set<std::string> ids;
  uint64_t last = 0;
  size_t out_of_order = 0;
  for (auto& c : changes) {
    BOOST_TEST(ids.insert(c.id).second, c.id << " offered twice");
    out_of_order += c.seq <= last;
    last = c.seq;
  }
  BOOST_TEST(out_of_order == 0u);
  BOOST_TEST(ids.size() == total);
  BOOST_TEST(contents(peer.db) == contents(hubs.second));
}
