// Issue 10's behaviour cases, peerlite against peerlite with the wire tapped: what a real
// Couchbase Lite 3.2 peer showed to diverge (updates, deletions, conflicts, activeOnly, pulled
// revisions offered back). Each case asserts on the messages peerlite sends, as the captures
// in tests/vectors/cbl-3.2 show them, and on the databases both sides end with. The captures
// themselves are replayed by tests/conformance.
#define BOOST_TEST_MODULE cbl_cases
#include <boost/test/unit_test.hpp>

#include <nlohmann/json.hpp>

#include "tests/actors/seed_harness.hpp"
#include "tests/actors/wire_tap.hpp"

using namespace peerlite;
using namespace peerlite::test;

namespace {

constexpr auto kRunTimeout = 30s;  ///< one one-shot replication, start to STOPPED

/// The result of one one-shot run: its final status, document events and the wire.
struct run_result {
  replicator_status status;
  std::vector<replicated_document> events;
  std::shared_ptr<wire_log> wire;
  size_t failed() const {
    size_t n = 0;
    for (auto& e : events) n += e.err.code != errc::ok;
    return n;
  }
  std::string failures() const {
    std::string s;
    for (auto& e : events)
      if (e.err.code != errc::ok) s += e.id + ": " + e.err.message + "; ";
    return s;
  }
};

run_result run_once(database db, passive_host& host, replicator_type type,
                    const std::string& uid = "peer-a") {
  run_result out;
  out.wire = std::make_shared<wire_log>();
  replicator_config cfg;
  cfg.db = db;
  cfg.target = tapped_endpoint(host, out.wire, uid);
  cfg.type = type;
  replicator r(cfg);
  auto mtx = std::make_shared<std::mutex>();
  auto events = std::make_shared<std::vector<replicated_document>>();
  auto token = r.add_document_listener([mtx, events](const std::vector<replicated_document>& ev) {
    std::lock_guard<std::mutex> g{*mtx};
    events->insert(events->end(), ev.begin(), ev.end());
  });
  out.status = run_to_stop(r, kRunTimeout);
  BOOST_REQUIRE_MESSAGE(!out.wire->failed(), "the wire tap could not decode a frame");
  std::lock_guard<std::mutex> g{*mtx};
  out.events = *events;
  return out;
}

/// proposeChanges entries as [docID, revID, parent] (bodySize left out).
std::vector<std::vector<std::string>> proposals(wire_log& w) {
  std::vector<std::vector<std::string>> out;
  for (auto& m : w.requests("proposeChanges"))
    for (auto& e : nlohmann::json::parse(m.msg.body))
      out.push_back({e[0].get<std::string>(), e[1].get<std::string>(),
                     e.size() > 2 ? e[2].get<std::string>() : std::string("(none)")});
  return out;
}

std::vector<tapped_message> revs_from(wire_log& w, bool active) {
  std::vector<tapped_message> out;
  for (auto& m : w.requests("rev"))
    if (m.from_active == active) out.push_back(m);
  return out;
}

std::string rev_of(const database& db, const std::string& id) {
  auto d = db.get(id);
  BOOST_REQUIRE_MESSAGE(d.has_value(), id + ": " + (d ? std::string() : d.err().message));
  return d->rev;
}

bool no_conflicts(const database& db, const std::vector<std::string>& ids) {
  for (auto& id : ids) {
    auto c = db.conflicts(id);
    /// conflicts() lists the current revision first, then any open conflict.
    if (c && c->size() > 1) {
      BOOST_TEST_MESSAGE(id << ": current " << c->front().rev << ", open conflict "
                            << (*c)[1].rev);
      return false;
    }
  }
  return true;
}

/// Both databases hold the same live documents at the same revisions, and the same tombstones.
void require_same(const database& a, const database& b, const std::string& what) {
  BOOST_TEST_CONTEXT(what) {
    BOOST_TEST((contents(a) == contents(b)));
    auto ca = a.changes(0, 100000), cb = b.changes(0, 100000);
    BOOST_REQUIRE(ca && cb);
    std::map<std::string, std::pair<std::string, bool>> ma, mb;
    for (auto& c : *ca) ma[c.id] = {c.rev, c.deleted};
    for (auto& c : *cb) mb[c.id] = {c.rev, c.deleted};
    BOOST_TEST((ma == mb));
  }
}

}  // namespace

/// Case 3: an update and a deletion of documents the peer has go out as proposeChanges
/// entries naming the peer's revision as parent; the peer accepts them (no 409), and the revs
/// carry noconflicts, history and deleted (capture update-push).
BOOST_AUTO_TEST_CASE(update_and_delete_are_proposed_with_the_peers_revision_as_parent) {
  temp_db hub_db("hub"), a("a");
  passive_host hub(hub_db.db);
  put_docs(a.db, "u", 3);
  auto first = run_once(a.db, hub, replicator_type::push);
  BOOST_REQUIRE_EQUAL(first.status.err.code, errc::ok);
  auto u0_1 = rev_of(a.db, "u0"), u1_1 = rev_of(a.db, "u1"), u2_1 = rev_of(a.db, "u2");

  BOOST_REQUIRE(a.db.put("u0", R"({"v":2})"));
  BOOST_REQUIRE(a.db.put("u1", R"({"v":2})"));
  BOOST_REQUIRE(a.db.put("u1", R"({"v":3})"));
  BOOST_REQUIRE(a.db.remove("u2"));
  BOOST_REQUIRE(a.db.put("n1", R"({"new":1})"));
  auto r = run_once(a.db, hub, replicator_type::push);
  BOOST_REQUIRE_EQUAL(r.status.err.code, errc::ok);
  BOOST_TEST(r.failed() == 0u, r.failures());

  auto props = proposals(*r.wire);
  std::vector<std::vector<std::string>> want{{"u0", rev_of(a.db, "u0"), u0_1},
                                             {"u1", rev_of(a.db, "u1"), u1_1},
                                             {"n1", rev_of(a.db, "n1"), ""}};
  auto u2 = a.db.changes(0, 100);
  BOOST_REQUIRE(u2);
  std::string u2_rev;
  for (auto& c : *u2)
    if (c.id == "u2") u2_rev = c.rev;
  want.insert(want.begin() + 2, {"u2", u2_rev, u2_1});
  BOOST_TEST((props == want));
  /// The untouched documents are not proposed at all, and nothing is refused.
  /// A refusal is an entry 409 or {"status":409,...} of a reply's array; a substring search
  /// for "409" also matched the checkpoint reply's time ({"time":1796593409,...}).
  auto refuses = [](const std::string& body) {
    auto j = nlohmann::json::parse(body, nullptr, false);
    if (!j.is_array()) return false;
    for (auto& e : j)
      if (e == 409 || (e.is_object() && e.value("status", 0) == 409)) return true;
    return false;
  };
  for (auto& m : r.wire->all())
    if (!m.from_active && m.msg.type == protocol::message_type::reply && refuses(m.msg.body))
      BOOST_ERROR("a proposeChanges entry was refused: " << m.msg.body);
  auto revs = revs_from(*r.wire, true);
  BOOST_REQUIRE_EQUAL(revs.size(), 4u);
  for (auto& m : revs) {
    BOOST_TEST(m.property("noconflicts") == "1", m.property("id"));
    if (m.property("id") == "u2") BOOST_TEST(m.property("deleted") == "1");
    if (m.property("id") == "u1") {
      /// gen 3: the history stops at the revision the peer holds (gen 1), and includes it.
      auto h = m.property("history");
      BOOST_TEST(h.substr(h.find(',') + 1) == u1_1);
    }
    if (m.property("id") == "n1") BOOST_TEST(!m.has_property("history"));
  }
  require_same(a.db, hub_db.db, "after the update push");
}

/// Cases 3 and 4: a push-only run that meets a conflict sends no rev for the refused document,
/// reports it as a 409 conflict, and still pushes every other document (capture conflict-push).
BOOST_AUTO_TEST_CASE(no_rev_follows_a_409_and_the_rest_of_the_batch_goes_through) {
  temp_db hub_db("hub"), a("a");
  passive_host hub(hub_db.db);
  put_docs(a.db, "c", 3);
  BOOST_REQUIRE_EQUAL(run_once(a.db, hub, replicator_type::push).status.err.code, errc::ok);
  BOOST_REQUIRE(hub_db.db.put("c0", R"({"by":"hub"})"));
  BOOST_REQUIRE(hub_db.db.remove("c1"));
  BOOST_REQUIRE(a.db.put("c0", R"({"by":"a"})"));
  BOOST_REQUIRE(a.db.put("c1", R"({"by":"a"})"));
  BOOST_REQUIRE(a.db.put("c2", R"({"by":"a"})"));
  auto r = run_once(a.db, hub, replicator_type::push);
  BOOST_TEST(r.status.err.code == errc::ok, r.status.err.message);
  auto revs = revs_from(*r.wire, true);
  BOOST_REQUIRE_EQUAL(revs.size(), 1u);
  BOOST_TEST(revs[0].property("id") == "c2");
  BOOST_TEST(r.failed() == 2u, r.failures());
  for (auto& e : r.events)
    if (e.id != "c2") BOOST_TEST((e.err.code == errc::conflict), e.id);
  BOOST_TEST(rev_of(hub_db.db, "c2") == rev_of(a.db, "c2"));
  BOOST_TEST(contents(hub_db.db).at("c0").second == R"({"by":"hub"})");
}

/// Case 2: revs answering `changes` carry no noconflicts, so a pull that meets a conflict
/// stores the peer's revision as a branch (and resolves it) instead of refusing it.
BOOST_AUTO_TEST_CASE(pulled_revs_carry_no_noconflicts_and_conflicts_arrive) {
  temp_db hub_db("hub"), a("a");
  passive_host hub(hub_db.db);
  put_docs(a.db, "c", 2);
  BOOST_REQUIRE_EQUAL(run_once(a.db, hub, replicator_type::push).status.err.code, errc::ok);
  BOOST_REQUIRE(hub_db.db.put("c0", R"({"by":"hub","v":2})"));
  BOOST_REQUIRE(a.db.put("c0", R"({"by":"a"})"));
  auto hub_rev = rev_of(hub_db.db, "c0");
  auto r = run_once(a.db, hub, replicator_type::pull);
  BOOST_TEST(r.status.err.code == errc::ok, r.status.err.message);
  BOOST_TEST(r.failed() == 0u, r.failures());
  auto revs = revs_from(*r.wire, false);
  BOOST_REQUIRE_EQUAL(revs.size(), 1u);
  BOOST_TEST(!revs[0].has_property("noconflicts"));
  /// The peer's revision reached the tree: the resolution sits on top of it (or is it).
  auto doc = a.db.get("c0");
  BOOST_REQUIRE(doc);
  BOOST_TEST(no_conflicts(a.db, {"c0"}));
  BOOST_TEST((doc->rev == hub_rev || doc->rev.rfind("3-", 0) == 0), doc->rev);
}

/// Cases 4 and 5: one push-and-pull that meets conflicts ends with both sides identical, every
/// document reported as replicated (none failed), and the merged revisions pushed in the same
/// run with the peer's revision as parent (capture retry-push's message sequence).
BOOST_AUTO_TEST_CASE(one_push_and_pull_resolves_and_pushes_conflicts) {
  temp_db hub_db("hub"), a("a");
  passive_host hub(hub_db.db);
  put_docs(a.db, "c", 4);
  BOOST_REQUIRE_EQUAL(run_once(a.db, hub, replicator_type::push).status.err.code, errc::ok);
  BOOST_REQUIRE(hub_db.db.put("c0", R"({"by":"hub"})"));
  BOOST_REQUIRE(hub_db.db.remove("c1"));
  BOOST_REQUIRE(hub_db.db.put("c2", R"({"by":"hub"})"));
  BOOST_REQUIRE(hub_db.db.put("c2", R"({"by":"hub","v":3})"));
  BOOST_REQUIRE(a.db.put("c0", R"({"by":"a","v":2})"));
  BOOST_REQUIRE(a.db.put("c0", R"({"by":"a","v":3})"));
  BOOST_REQUIRE(a.db.put("c1", R"({"by":"a"})"));
  BOOST_REQUIRE(a.db.remove("c2"));
  BOOST_REQUIRE(a.db.put("c3", R"({"by":"a"})"));
  auto r = run_once(a.db, hub, replicator_type::push_and_pull);
  BOOST_TEST(r.status.err.code == errc::ok, r.status.err.message);
  BOOST_TEST(r.failed() == 0u, r.failures());
  require_same(a.db, hub_db.db, "after one push-and-pull");
  BOOST_TEST(no_conflicts(a.db, {"c0", "c1", "c2", "c3"}));
  BOOST_TEST(no_conflicts(hub_db.db, {"c0", "c1", "c2", "c3"}));
  /// A second run has nothing to do.
  auto again = run_once(a.db, hub, replicator_type::push_and_pull);
  BOOST_TEST(again.failed() == 0u, again.failures());
  BOOST_TEST(proposals(*again.wire).empty());
  BOOST_TEST(revs_from(*again.wire, false).empty());
}

/// Case 5: two peers and a hub that meet conflicts converge after each peer's one
/// push-and-pull, in either order: the second peer resolves against the first one's push and
/// pushes the result, and the first peer's next run only pulls it (no new conflict, nothing
/// failed anywhere).
BOOST_AUTO_TEST_CASE(two_peers_and_a_hub_converge_in_either_order) {
  for (bool a_first : {true, false}) {
    BOOST_TEST_CONTEXT((a_first ? "A syncs first" : "B syncs first")) {
      temp_db hub_db("hub"), a("a"), b("b");
      passive_host hub(hub_db.db);
      put_docs(hub_db.db, "d", 5);
      BOOST_REQUIRE_EQUAL(run_once(a.db, hub, replicator_type::pull, "peer-a").status.err.code, errc::ok);
      BOOST_REQUIRE_EQUAL(run_once(b.db, hub, replicator_type::pull, "peer-b").status.err.code, errc::ok);
      BOOST_REQUIRE(a.db.put("d0", R"({"by":"a"})"));
      BOOST_REQUIRE(b.db.put("d0", R"({"by":"b"})"));
      BOOST_REQUIRE(a.db.remove("d1"));
      BOOST_REQUIRE(b.db.put("d1", R"({"by":"b"})"));
      BOOST_REQUIRE(a.db.put("d2", R"({"by":"a"})"));
      BOOST_REQUIRE(b.db.remove("d2"));
      BOOST_REQUIRE(a.db.put("d3", R"({"by":"a"})"));
      BOOST_REQUIRE(b.db.put("d4", R"({"by":"b"})"));
      auto& first = a_first ? a : b;
      auto& second = a_first ? b : a;
      std::string first_uid = a_first ? "peer-a" : "peer-b";
      std::string second_uid = a_first ? "peer-b" : "peer-a";
      auto r1 = run_once(first.db, hub, replicator_type::push_and_pull, first_uid);
      auto r2 = run_once(second.db, hub, replicator_type::push_and_pull, second_uid);
      BOOST_TEST(r1.failed() == 0u, r1.failures());
      BOOST_TEST(r2.failed() == 0u, r2.failures());
      require_same(second.db, hub_db.db, "the second peer and the hub");
      auto r3 = run_once(first.db, hub, replicator_type::push_and_pull, first_uid);
      BOOST_TEST(r3.failed() == 0u, r3.failures());
      BOOST_TEST(proposals(*r3.wire).empty(), "the first peer offered something back");
      require_same(first.db, hub_db.db, "the first peer and the hub");
      for (auto* db : {&a.db, &b.db, &hub_db.db})
        BOOST_TEST(no_conflicts(*db, {"d0", "d1", "d2", "d3", "d4"}));
    }
  }
}

/// Case 6: a first pull into an empty database asks for live documents only (activeOnly), and
/// the passive side leaves tombstones out; the next pull brings them (captures active-only-*).
BOOST_AUTO_TEST_CASE(a_first_pull_into_an_empty_database_gets_no_tombstones) {
  temp_db hub_db("hub"), a("a");
  passive_host hub(hub_db.db);
  put_docs(hub_db.db, "k", 3);
  put_docs(hub_db.db, "t", 3);
  for (auto id : {"t0", "t1", "t2"}) BOOST_REQUIRE(hub_db.db.remove(id));
  auto r = run_once(a.db, hub, replicator_type::pull);
  BOOST_REQUIRE_EQUAL(r.status.err.code, errc::ok);
  auto subs = r.wire->requests("subChanges");
  BOOST_REQUIRE_EQUAL(subs.size(), 1u);
  BOOST_TEST(subs[0].property("activeOnly") == "true");
  BOOST_TEST(!subs[0].has_property("since"));
  auto cs = a.db.changes(0, 100);
  BOOST_REQUIRE(cs);
  BOOST_TEST(cs->size() == 3u);
  for (auto& c : *cs) BOOST_TEST(!c.deleted, c.id);

  auto again = run_once(a.db, hub, replicator_type::pull);
  BOOST_REQUIRE_EQUAL(again.status.err.code, errc::ok);
  auto subs2 = again.wire->requests("subChanges");
  BOOST_REQUIRE_EQUAL(subs2.size(), 1u);
  BOOST_TEST(!subs2[0].has_property("activeOnly"));
  BOOST_TEST(subs2[0].property("since") != "");
  require_same(a.db, hub_db.db, "after the second pull");
}

/// Case 7: revisions pulled from a peer are not proposed back to it, in the same run or in a
/// later push (a real peer answered 650 such proposals with 304).
BOOST_AUTO_TEST_CASE(pulled_revisions_are_not_proposed_back) {
  temp_db hub_db("hub"), a("a");
  passive_host hub(hub_db.db);
  put_docs(hub_db.db, "h", 50);
  BOOST_REQUIRE(hub_db.db.put("h0", R"({"v":2})"));
  BOOST_REQUIRE(hub_db.db.remove("h1"));
  auto pull = run_once(a.db, hub, replicator_type::pull);
  BOOST_REQUIRE_EQUAL(pull.status.err.code, errc::ok);
  auto push = run_once(a.db, hub, replicator_type::push);
  BOOST_REQUIRE_EQUAL(push.status.err.code, errc::ok);
  BOOST_TEST(proposals(*push.wire).empty());
  BOOST_TEST(push.status.progress.total == 0u);
  /// A push-and-pull after new documents on both sides offers only the local one.
  put_docs(hub_db.db, "x", 5);
  BOOST_REQUIRE(a.db.put("mine", R"({"v":1})"));
  auto both = run_once(a.db, hub, replicator_type::push_and_pull);
  BOOST_REQUIRE_EQUAL(both.status.err.code, errc::ok);
  auto props = proposals(*both.wire);
  BOOST_REQUIRE_EQUAL(props.size(), 1u);
  BOOST_TEST(props[0][0] == "mine");
  require_same(a.db, hub_db.db, "after the push-and-pull");
}
