// Named collections over the replication protocol: an active replicator given
// replicator_config::collections against our passive replicator, both ways, through a hub,
// with a checkpoint per collection, and the stop for a collection the peer does not serve.
#define BOOST_TEST_MODULE collections_replication
#include <boost/test/unit_test.hpp>
#include <map>
#include <set>

#include <peerlite/message_endpoint_listener.hpp>

#include "actors/tuning.hpp"
#include "store/database.hpp"
#include "tests/actors/seed_harness.hpp"
#include "tests/actors/wire_tap.hpp"

using namespace peerlite;
using namespace peerlite::test;

namespace {

constexpr auto kRunTimeout = 20s;  ///< one one-shot replication, start to STOPPED

/// A second connection on the peer's file, in collection `name` (created when missing): the
/// public database handle speaks of the default collection only.
struct in_collection {
  std::unique_ptr<store::database> db;
  in_collection(const temp_db& t, const std::string& name) {
    auto d = store::database::open(t.location);
    BOOST_REQUIRE_MESSAGE(d.has_value(), (d ? std::string() : d.err().message));
    db = std::move(*d);
    auto id = db->create_collection(name);
    BOOST_REQUIRE_MESSAGE(id.has_value(), (id ? std::string() : id.err().message));
    BOOST_REQUIRE(db->use_collection(*id).ok());
  }
  void put(const std::string& id, const std::string& body) {
    auto r = db->put(id, body);
    BOOST_REQUIRE_MESSAGE(r.has_value(), id << ": " << (r ? std::string() : r.err().message));
  }
  /// id -> body of every live document.
  std::map<std::string, std::string> docs() {
    std::map<std::string, std::string> out;
    auto list = db->list_documents();
    BOOST_REQUIRE(list.has_value());
    for (auto& [id, rev] : *list) out[id] = db->get(id)->body;
    return out;
  }
};

message_endpoint endpoint_to(passive_host& host, std::shared_ptr<wire_log> log,
                             const std::string& uid) {
  message_endpoint ep;
  ep.uid = uid;
  ep.target = "loopback:" + uid;
  ep.protocol = protocol_type::message_stream;
  ep.delegate = [&host, log](const message_endpoint&) -> std::unique_ptr<message_endpoint_connection> {
    loopback::options o;
    o.protocol = protocol_type::message_stream;
    auto [a, b] = loopback::make_pair(o, o);
    host.accept(std::move(b), protocol_type::message_stream);
    if (log) return std::make_unique<tapped_connection>(std::move(a.connection), log, true);
    return std::move(a.connection);
  };
  return ep;
}

/// One one-shot run; `events` (when given) collects the active side's document events as
/// "direction collection id".
replicator_status run(const temp_db& local, message_endpoint ep, replicator_type type,
                      const std::vector<std::string>& collections,
                      std::set<std::string>* events = nullptr) {
  replicator_config cfg;
  cfg.db = local.db;
  cfg.target = std::move(ep);
  cfg.type = type;
  cfg.max_attempts = 1;
  for (auto& c : collections) cfg.collections.push_back({c, {}, {}, {}, {}});
  replicator r(cfg);
  auto mtx = std::make_shared<std::mutex>();
  auto seen = std::make_shared<std::set<std::string>>();
  auto token = r.add_document_listener([mtx, seen](const std::vector<replicated_document>& ev) {
    std::lock_guard<std::mutex> g{*mtx};
    for (auto& e : ev)
      seen->insert(std::string(e.direction == replication_direction::push ? "push " : "pull ") +
                   e.collection + " " + e.id);
  });
  auto status = run_to_stop(r, kRunTimeout);
  if (events) {
    wait_until(
        [&] {
          std::lock_guard<std::mutex> g{*mtx};
          return !seen->empty();
        },
        2s);
    std::lock_guard<std::mutex> g{*mtx};
    *events = *seen;
  }
  return status;
}

/// The bodies of the active side's setCheckpoint requests, by their collection index.
std::map<std::string, std::vector<std::string>> saved_checkpoints(wire_log& log) {
  std::map<std::string, std::vector<std::string>> out;
  for (auto& m : log.requests("setCheckpoint"))
    if (m.from_active) out[m.property("collection")].push_back(m.msg.body);
  return out;
}

/// The `rev` requests the active side sent, by their collection index.
std::map<std::string, std::set<std::string>> pushed_revs(wire_log& log) {
  std::map<std::string, std::set<std::string>> out;
  for (auto& m : log.requests("rev"))
    if (m.from_active) out[m.property("collection")].insert(m.property("id"));
  return out;
}

const std::vector<std::string> kThree = {"store.a", "store.b", "_default"};

}  // namespace

BOOST_AUTO_TEST_CASE(two_named_collections_and_the_default_push_and_pull) {
  temp_db a("a"), b("b");
  in_collection a_a(a, "store.a"), a_b(a, "store.b"), b_a(b, "store.a"), b_b(b, "store.b");
  a_a.put("a1", R"({"n":1})");
  a_a.put("same", R"({"in":"a.a"})");
  a_b.put("b1", R"({"n":2})");
  a_b.put("same", R"({"in":"a.b"})");
  BOOST_REQUIRE(a.db.put("d1", R"({"n":3})"));
  b_a.put("x1", R"({"n":4})");
  BOOST_REQUIRE(b.db.put("y1", R"({"n":5})"));
  passive_host hub(b.db);
  std::set<std::string> events;
  auto s = run(a, endpoint_to(hub, nullptr, "a"), replicator_type::push_and_pull, kThree, &events);
  BOOST_TEST(s.err.code == errc::ok, s.err.message);
  /// Document events name the collection, on both sides.
  std::set<std::string> want_events{"push store.a a1",   "push store.a same",
                                    "push store.b b1",   "push store.b same",
                                    "push _default._default d1", "pull store.a x1",
                                    "pull _default._default y1"};
  BOOST_TEST((events == want_events));
  {
    wait_until(
        [&] {
          std::lock_guard<std::mutex> g{hub.record->mtx};
          return hub.record->events.size() >= 7;
        },
        5s);
    std::lock_guard<std::mutex> g{hub.record->mtx};
    std::set<std::string> hub_events;
    for (auto& e : hub.record->events)
      hub_events.insert(std::string(e.direction == replication_direction::push ? "push " : "pull ") +
                        e.collection + " " + e.id);
    std::set<std::string> want_hub{"pull store.a a1",   "pull store.a same",
                                   "pull store.b b1",   "pull store.b same",
                                   "pull _default._default d1", "push store.a x1",
                                   "push _default._default y1"};
    BOOST_TEST((hub_events == want_hub));
  }
  using docs = std::map<std::string, std::string>;
  docs want_a{{"a1", R"({"n":1})"}, {"same", R"({"in":"a.a"})"}, {"x1", R"({"n":4})"}};
  docs want_b{{"b1", R"({"n":2})"}, {"same", R"({"in":"a.b"})"}};
  BOOST_TEST((b_a.docs() == want_a));
  BOOST_TEST((a_a.docs() == want_a));
  BOOST_TEST((b_b.docs() == want_b));
  BOOST_TEST((a_b.docs() == want_b));
  BOOST_TEST(b.db.get("d1").has_value());
  BOOST_TEST(a.db.get("y1").has_value());
  /// Nothing leaked into the default collection.
  BOOST_TEST(!b.db.get("a1").has_value());
  BOOST_TEST(!a.db.get("x1").has_value());
}

BOOST_AUTO_TEST_CASE(through_a_hub) {
  temp_db phone("phone"), hub_db("hub"), laptop("laptop");
  in_collection p_a(phone, "store.a"), p_b(phone, "store.b");
  in_collection h_a(hub_db, "store.a"), h_b(hub_db, "store.b");
  in_collection l_a(laptop, "store.a"), l_b(laptop, "store.b");
  for (int i = 0; i < 50; ++i) p_a.put("a" + std::to_string(i), R"({"i":)" + std::to_string(i) + "}");
  p_b.put("b1", R"({"only":"b"})");
  passive_host hub(hub_db.db);
  auto push = run(phone, endpoint_to(hub, nullptr, "phone"), replicator_type::push, kThree);
  BOOST_TEST(push.err.code == errc::ok, push.err.message);
  auto pull = run(laptop, endpoint_to(hub, nullptr, "laptop"), replicator_type::pull, kThree);
  BOOST_TEST(pull.err.code == errc::ok, pull.err.message);
  BOOST_TEST(l_a.docs().size() == 50u);
  BOOST_TEST((l_a.docs() == p_a.docs()));
  BOOST_TEST((l_b.docs() == p_b.docs()));
  BOOST_TEST(l_b.docs().size() == 1u);
}

/// However many collections a session pushes, their pushers share one window of unanswered
/// revs (kMaxRevsInFlight): with one each, ten collections could leave 60,000 unanswered, and
/// a hub closes a connection past max_unreplied_requests (16,384 by default; bench
/// push_collections_ws, 100,000 docs over 10 collections, failed so).
BOOST_AUTO_TEST_CASE(collections_share_one_window_of_unanswered_revs) {
  constexpr int kCollections = 10, kDocsEach = 2000;
  temp_db phone("phone"), hub_db("hub");
  std::vector<std::string> names;
  std::vector<std::unique_ptr<in_collection>> on_phone, on_hub;
  for (int c = 0; c < kCollections; ++c) {
    names.push_back("store.c" + std::to_string(c));
    on_phone.push_back(std::make_unique<in_collection>(phone, names.back()));
    on_hub.push_back(std::make_unique<in_collection>(hub_db, names.back()));
    auto& db = *on_phone.back()->db;
    auto written = db.in_transaction([&db]() -> status {
      for (int i = 0; i < kDocsEach; ++i)
        if (auto r = db.put("d" + std::to_string(i), R"({"i":)" + std::to_string(i) + "}"); !r)
          return r.err();
      return {};
    });
    BOOST_REQUIRE_MESSAGE(written.ok(), written.message());
  }
  passive_host hub(hub_db.db);
  auto log = std::make_shared<wire_log>();
  auto push = run(phone, tapped_endpoint(hub, log, "phone"), replicator_type::push, names);
  BOOST_TEST(push.err.code == errc::ok, push.err.message);
  BOOST_TEST(!log->failed(), log->why());
  /// The most revs one side had sent and not yet seen answered, in wire order.
  auto most_unanswered = [](wire_log& wire, bool from_active) {
    std::set<uint64_t> unanswered;
    size_t most = 0;
    for (auto& m : wire.all()) {
      if (m.from_active == from_active && m.msg.type == protocol::message_type::request &&
          m.msg.profile() == "rev") {
        unanswered.insert(m.msg.number);
        most = std::max(most, unanswered.size());
      } else if (m.from_active != from_active &&
                 m.msg.type != protocol::message_type::request) {
        unanswered.erase(m.msg.number);
      }
    }
    return most;
  };
  size_t pushed = most_unanswered(*log, true);
  BOOST_TEST_MESSAGE("push: most revs unanswered at once: " << pushed);
  BOOST_TEST(pushed > 0u);
  BOOST_TEST(pushed <= actors::kMaxRevsInFlight);
  for (int c = 0; c < kCollections; ++c) BOOST_TEST(on_hub[c]->docs().size() == size_t(kDocsEach));
  /// The hub's pushers, one per collection the laptop pulls, share theirs the same way.
  temp_db laptop("laptop");
  std::vector<std::unique_ptr<in_collection>> on_laptop;
  for (auto& name : names) on_laptop.push_back(std::make_unique<in_collection>(laptop, name));
  auto pull_log = std::make_shared<wire_log>();
  auto pull = run(laptop, tapped_endpoint(hub, pull_log, "laptop"), replicator_type::pull, names);
  BOOST_TEST(pull.err.code == errc::ok, pull.err.message);
  size_t pulled = most_unanswered(*pull_log, false);
  BOOST_TEST_MESSAGE("pull: most revs unanswered at once: " << pulled);
  BOOST_TEST(pulled > 0u);
  BOOST_TEST(pulled <= actors::kMaxRevsInFlight);
  for (int c = 0; c < kCollections; ++c)
    BOOST_TEST(on_laptop[c]->docs().size() == size_t(kDocsEach));
}

BOOST_AUTO_TEST_CASE(each_collection_keeps_its_own_checkpoint) {
  temp_db a("a"), b("b");
  in_collection a_a(a, "store.a"), a_b(a, "store.b"), b_a(b, "store.a"), b_b(b, "store.b");
  for (int i = 0; i < 20; ++i) {
    a_a.put("a" + std::to_string(i), R"({"i":1})");
    a_b.put("b" + std::to_string(i), R"({"i":1})");
  }
  passive_host hub(b.db);
  auto log1 = std::make_shared<wire_log>();
  auto s1 = run(a, endpoint_to(hub, log1, "a"), replicator_type::push, kThree);
  BOOST_TEST(s1.err.code == errc::ok, s1.err.message);
  auto first = pushed_revs(*log1);
  BOOST_TEST(first["0"].size() == 20u);
  BOOST_TEST(first["1"].size() == 20u);
  /// Each collection saved its own checkpoint at its own last sequence (each counts from 1).
  auto cps1 = saved_checkpoints(*log1);
  BOOST_REQUIRE(!cps1["0"].empty());
  BOOST_REQUIRE(!cps1["1"].empty());
  BOOST_TEST(cps1["0"].back().find("\"local\":20") != std::string::npos, cps1["0"].back());
  BOOST_TEST(cps1["1"].back().find("\"local\":20") != std::string::npos, cps1["1"].back());
  /// Only store.a changes: the second run proposes and sends store.a's two changes, and
  /// nothing at all of store.b (its checkpoint says everything was pushed).
  a_a.put("a3", R"({"i":2})");
  a_a.put("new", R"({"i":3})");
  auto log2 = std::make_shared<wire_log>();
  auto s2 = run(a, endpoint_to(hub, log2, "a"), replicator_type::push, kThree);
  BOOST_TEST(s2.err.code == errc::ok, s2.err.message);
  auto second = pushed_revs(*log2);
  BOOST_TEST((second["0"] == std::set<std::string>{"a3", "new"}));
  BOOST_TEST(second["1"].empty());
  size_t proposed_b = 0;
  for (auto& m : log2->requests("proposeChanges"))
    if (m.property("collection") == "1") ++proposed_b;
  BOOST_TEST(proposed_b == 0u);
  /// store.a's checkpoint moves to its new last sequence; store.b's has nothing to save.
  auto cps2 = saved_checkpoints(*log2);
  BOOST_REQUIRE(!cps2["0"].empty());
  BOOST_TEST(cps2["0"].back().find("\"local\":22") != std::string::npos, cps2["0"].back());
  BOOST_TEST(cps2["1"].empty());
  BOOST_TEST(b_a.docs().at("a3") == R"({"i":2})");
  BOOST_TEST(b_b.docs().size() == 20u);
}

BOOST_AUTO_TEST_CASE(a_collection_the_peer_does_not_serve_stops_the_replicator) {
  temp_db a("a"), b("b");
  in_collection a_a(a, "store.a"), a_c(a, "store.private");
  a_a.put("a1", R"({"n":1})");
  in_collection b_a(b, "store.a");  // b serves store.a only
  passive_host hub(b.db);
  auto log = std::make_shared<wire_log>();
  auto s = run(a, endpoint_to(hub, log, "a"), replicator_type::push, {"store.a", "store.private"});
  BOOST_TEST((s.err.code == errc::not_found), s.err.message);
  BOOST_TEST(s.err.message.find("Collection 'store.private' is not found on the remote server") !=
                 std::string::npos,
             s.err.message);
  BOOST_TEST(log->requests("rev").empty());
  BOOST_TEST(b_a.docs().empty());
}

BOOST_AUTO_TEST_CASE(an_unknown_local_collection_is_a_clear_error) {
  temp_db a("a"), b("b");
  passive_host hub(b.db);
  auto s = run(a, endpoint_to(hub, nullptr, "a"), replicator_type::push, {"store.missing"});
  BOOST_TEST((s.err.code == errc::not_found), s.err.message);
  BOOST_TEST(s.err.message.find("store.missing") != std::string::npos, s.err.message);
}

/// A listener configured with a subset serves only that subset: another collection of its
/// database is answered `null`, which stops the peer's replicator.
BOOST_AUTO_TEST_CASE(a_listener_serves_only_its_configured_collections) {
  temp_db a("a"), b("b");
  in_collection a_a(a, "store.a"), a_b(a, "store.b");
  a_a.put("a1", R"({"n":1})");
  a_b.put("b1", R"({"n":2})");
  in_collection b_a(b, "store.a"), b_b(b, "store.b");
  listener_config lc;
  lc.db = b.db;
  lc.collections = {"store.a"};
  message_endpoint_listener listener(lc);
  auto endpoint = [&listener](const std::string& uid) {
    message_endpoint ep;
    ep.uid = uid;
    ep.target = "loopback:" + uid;
    ep.delegate = [&listener](const message_endpoint&) -> std::unique_ptr<message_endpoint_connection> {
      auto [x, y] = loopback::make_pair();
      auto accepted = listener.accept(std::move(y.connection));
      BOOST_TEST(accepted.has_value());
      return std::move(x.connection);
    };
    return ep;
  };
  auto refused = run(a, endpoint("a1"), replicator_type::push, {"store.a", "store.b"});
  BOOST_TEST((refused.err.code == errc::not_found), refused.err.message);
  BOOST_TEST(refused.err.message.find("'store.b'") != std::string::npos, refused.err.message);
  BOOST_TEST(b_b.docs().empty());
  auto served = run(a, endpoint("a2"), replicator_type::push, {"store.a"});
  BOOST_TEST(served.err.code == errc::ok, served.err.message);
  BOOST_TEST(b_a.docs().count("a1") == 1u);
  listener.close_all();
}
