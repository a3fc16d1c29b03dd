// Seed "Push/Pull Replication", receive(): bytes that are not peerlite's protocol close that
// one connection with a protocol error; the passive peer keeps serving the others, and
// nothing committed is lost.
#define BOOST_TEST_MODULE seed_bad_input
#include "tests/actors/seed_harness.hpp"

using namespace peerlite;
using namespace peerlite::test;

BOOST_AUTO_TEST_CASE(push_pull_replication_garbage_to_receive_closes_one_connection) {
  for (auto protocol : {protocol_type::message_stream, protocol_type::byte_stream}) {
    temp_db hub("hub"), one("one"), two("two");
    passive_host host(hub.db);
    loop_endpoint ep1(host, protocol, {}, "peer-1"), ep2(host, protocol, {}, "peer-2");
    std::vector<std::unique_ptr<replicator>> repls;
    for (auto* p : {&one, &two}) {
      put_docs(p->db, p == &one ? "one-" : "two-", 50);
      replicator_config cfg;
      cfg.db = p->db;
      cfg.target = p == &one ? ep1.endpoint : ep2.endpoint;
      cfg.continuous = true;
      cfg.max_attempts = 1;
      repls.push_back(std::make_unique<replicator>(cfg));
      /// One after the other, so connection 1 is peer one's.
      repls.back()->start();
      BOOST_REQUIRE(wait_until(
          [&] { return repls.back()->status().activity == activity_level::idle; }, 10s));
    }
    BOOST_REQUIRE(wait_until([&] { return contents(hub.db).size() == 100u; }, 5s));
    /// Garbage arrives on the hub's side of connection 1.
    /// As a BLIP frame: request number 127 (out of order), garbage payload, wrong CRC; as a
    /// WebSocket frame: reserved bits set.
    host.probe(0)->inject(std::string("\x7f\x00 this is not BLIP \x00\x01\x02\x03", 27));
    BOOST_TEST(wait_until([&] { return host.record->last(1).activity == activity_level::stopped; },
                          5s));
    BOOST_TEST(host.record->last(1).err.code == errc::protocol_error,
               host.record->last(1).err.message);
    BOOST_TEST(wait_until([&] { return is_stopped(*repls[0]); }, 10s));
    /// Connection 2 still works, and nothing committed was lost.
    BOOST_TEST(host.record->last(2).activity != activity_level::stopped);
    BOOST_REQUIRE(two.db.put("after", R"({"ok":true})").has_value());
    BOOST_TEST(wait_until([&] { return hub.db.get("after").has_value(); }, 2s));
    BOOST_TEST(contents(hub.db).size() == 101u);
    repls[1]->stop();
    BOOST_TEST(wait_until([&] { return is_stopped(*repls[1]); }, 10s));
  }
}
