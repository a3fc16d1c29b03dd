// The reader pool stays bounded: workers borrow a reader per batch instead of holding one each
// for their whole life, and the pool closes readers beyond kMaxIdleReaders. Before, a hub kept
// one or two SQLite readers (each with its own page cache) per connection it ever served.
#define BOOST_TEST_MODULE reader_pool
#include <thread>

#include "actors/database_core.hpp"
#include "tests/actors/seed_harness.hpp"

using namespace peerlite;
using namespace peerlite::test;

namespace {

/// Samples the hub's idle-reader count on a thread until stopped; keeps the largest seen.
struct pool_watch {
  std::shared_ptr<actors::database_core> core;
  std::atomic<bool> stop{false};
  std::atomic<size_t> max_idle{0};
  std::thread thread;

  explicit pool_watch(std::shared_ptr<actors::database_core> c) : core(std::move(c)) {
    thread = std::thread([this] {
      while (!stop) {
        size_t n = core->idle_readers();
        if (n > max_idle) max_idle = n;
        std::this_thread::sleep_for(1ms);
      }
    });
  }
  ~pool_watch() {
    stop = true;
    thread.join();
  }
};

}  // namespace

BOOST_AUTO_TEST_CASE(fifty_concurrent_replications_keep_the_pool_bounded) {
  constexpr int kPeers = 50, kDocs = 40;
  temp_db hub("hub");
  put_docs(hub.db, "hub-", kDocs);
  passive_host host(hub.db);
  peer_set peers(host, kPeers, kDocs, /*continuous=*/false);
  auto& dbs = peers.dbs;
  auto& repls = peers.repls;
  auto stopped = std::make_shared<std::atomic<int>>(0);
  std::vector<listener_token> tokens;
  for (auto& r : repls)
    tokens.push_back(r->add_change_listener([stopped](const replicator_status& st) {
      if (st.activity == activity_level::stopped) ++*stopped;
    }));
  pool_watch watch(hub.db.core());
  for (auto& r : repls) r->start();
  BOOST_TEST_REQUIRE(wait_until([&] { return stopped->load() >= kPeers; }, 60s));
  for (auto& r : repls) BOOST_TEST(r->status().err.code == errc::ok);
  /// Every peer pushed its documents into the hub: the hub's readers did real work.
  BOOST_TEST(contents(hub.db).size() == static_cast<size_t>(kDocs * (kPeers + 1)));
  BOOST_TEST(host.accepted.load() == static_cast<uint64_t>(kPeers));
  size_t idle = hub.db.core()->idle_readers();
  BOOST_TEST_MESSAGE("hub idle readers after: " << idle << ", most seen: " << watch.max_idle.load()
                                                << ", cap: " << actors::kMaxIdleReaders);
  BOOST_TEST(idle >= 1u);  // readers were borrowed and returned
  BOOST_TEST(idle <= actors::kMaxIdleReaders);
  BOOST_TEST(watch.max_idle.load() <= actors::kMaxIdleReaders);
  /// Every peer's own pool is bounded the same way.
  for (auto& d : dbs) BOOST_TEST(d->db.core()->idle_readers() <= actors::kMaxIdleReaders);
}

BOOST_AUTO_TEST_CASE(a_returned_reader_is_reused_and_the_surplus_closed) {
  temp_db db("pool");
  auto core = db.db.core();
  std::vector<actors::reader_lease> leases;
  for (size_t i = 0; i < actors::kMaxIdleReaders + 5; ++i) {
    auto r = core->acquire_reader();
    BOOST_TEST_REQUIRE(static_cast<bool>(r));
    leases.push_back(std::move(*r));
  }
  BOOST_TEST(core->idle_readers() == 0u);
  leases.clear();
  BOOST_TEST(core->idle_readers() == actors::kMaxIdleReaders);
  {
    auto r = core->acquire_reader();
    BOOST_TEST_REQUIRE(static_cast<bool>(r));
    BOOST_TEST(core->idle_readers() == actors::kMaxIdleReaders - 1);
  }
  BOOST_TEST(core->idle_readers() == actors::kMaxIdleReaders);
}
