// Seed "Push/Pull Replication": deletions replicate, purges do not; conflicts converge.
#define BOOST_TEST_MODULE seed_deletions_conflicts
#include "tests/actors/seed_harness.hpp"

#include "actors/database_core.hpp"
#include "actors/store_types.hpp"
#include "actors/type_ids.hpp"

using namespace peerlite;
using namespace peerlite::test;

namespace {

struct peers {
  temp_db active{"active"}, passive{"passive"};
  passive_host host{passive.db};
  loop_endpoint ep{host, protocol_type::message_stream};

  replicator_config config(replicator_type type) {
    replicator_config cfg;
    cfg.db = active.db;
    cfg.target = ep.endpoint;
    cfg.type = type;
    return cfg;
  }
  /// One one-shot run; returns the document events it produced.
  std::vector<replicated_document> run(replicator_config cfg) {
    replicator repl(std::move(cfg));
    auto events = std::make_shared<std::vector<replicated_document>>();
    auto mtx = std::make_shared<std::mutex>();
    auto token = repl.add_document_listener([events, mtx](const std::vector<replicated_document>& e) {
      std::lock_guard<std::mutex> g{*mtx};
      events->insert(events->end(), e.begin(), e.end());
    });
    auto s = run_to_stop(repl);
    BOOST_TEST(s.err.code == errc::ok, s.err.message);
    std::lock_guard<std::mutex> g{*mtx};
    return *events;
  }
};

std::string body_of(const database& db, const std::string& id) {
  auto d = db.get(id);
  return d ? d->body : std::string("<missing>");
}

/// Writes the peer's revision `rev` (with `history`, newest first) into `db` as a puller
/// commits it, conflicts allowed, and nothing more: what a peer holds when its process ended
/// between a pulled conflict's commit and the resolution's.
store::insert_outcome pull_without_resolving(const database& db, const std::string& id,
                                             const std::string& rev,
                                             std::vector<std::string> history,
                                             const std::string& body, bool deleted) {
  auto& core = db.core();
  caf::scoped_actor self{*core->sys};
  store::incoming_revision r;
  r.id = id;
  r.rev = rev;
  r.history = std::move(history);
  r.body = body;
  r.deleted = deleted;
  std::vector<store::incoming_revision> revs{std::move(r)};
  store::insert_outcome out{};
  std::string err;
  self->request(core->writer, caf::infinite, actors::insert_atom::value, std::move(revs), true,
                uint64_t{0}, store::collection_id{0})
      .receive([&](std::vector<store::insert_result>& res) { out = res.at(0).outcome; },
               [&](caf::error& e) { err = to_string(e); });
  BOOST_REQUIRE_MESSAGE(err.empty(), "insert: " << err);
  return out;
}

/// The history of `db`'s revision `rev` of `id`, newest first, without `rev` itself.
std::vector<std::string> history_of(const database& db, const std::string& id,
                                    const std::string& rev) {
  auto reader = db.core()->acquire_reader(0);
  BOOST_REQUIRE(reader.has_value());
  auto r = (*reader)->read_revision(id, rev, 1000);
  BOOST_REQUIRE(r.has_value());
  return r->history;
}

/// `id`'s current revision in `db`, deleted or not.
store::document current(const database& db, const std::string& id) {
  auto reader = db.core()->acquire_reader(0);
  BOOST_REQUIRE(reader.has_value());
  auto d = (*reader)->get(id);
  BOOST_REQUIRE(d.has_value());
  return *d;
}

}  // namespace

BOOST_AUTO_TEST_CASE(push_pull_replication_deletions_replicate_purges_do_not) {
  peers p;
  put_docs(p.active.db, "d", 10);
  p.run(p.config(replicator_type::push));
  BOOST_REQUIRE(p.passive.db.get("d1").has_value());
  BOOST_REQUIRE(p.active.db.remove("d1").has_value());
  BOOST_REQUIRE(p.active.db.purge("d2").ok());
  auto events = p.run(p.config(replicator_type::push));
  BOOST_TEST(p.passive.db.get("d1").err().code == errc::not_found);  // deletion pushed
  BOOST_TEST(p.passive.db.get("d2").has_value());                     // purge stayed local
  BOOST_TEST(!p.active.db.get("d2").has_value());
  bool saw_deleted = false;
  for (auto& e : events) saw_deleted |= e.id == "d1" && e.flags.deleted;
  BOOST_TEST(saw_deleted);
  BOOST_TEST(contents(p.passive.db).size() == 9u);
  /// The other way: a deletion on the passive side is pulled.
  BOOST_REQUIRE(p.passive.db.remove("d3").has_value());
  p.run(p.config(replicator_type::pull));
  BOOST_TEST(p.active.db.get("d3").err().code == errc::not_found);
  BOOST_TEST(p.passive.db.get("d1").err().code == errc::not_found);
}

BOOST_AUTO_TEST_CASE(push_pull_replication_conflicts_default_rule) {
  for (bool local_longer : {false, true}) {
    peers p;
    BOOST_REQUIRE(p.active.db.put("c", R"({"v":"base"})").has_value());
    p.run(p.config(replicator_type::push));
    BOOST_REQUIRE(p.active.db.put("c", R"({"v":"active1"})").has_value());
    BOOST_REQUIRE(p.passive.db.put("c", R"({"v":"passive1"})").has_value());
    if (local_longer)
      BOOST_REQUIRE(p.active.db.put("c", R"({"v":"active2"})").has_value());
    else
      BOOST_REQUIRE(p.passive.db.put("c", R"({"v":"passive2"})").has_value());
    p.run(p.config(replicator_type::push_and_pull));
    auto a = p.active.db.get("c"), b = p.passive.db.get("c");
    BOOST_REQUIRE(a.has_value());
    BOOST_REQUIRE(b.has_value());
    BOOST_TEST(a->rev == b->rev);
    BOOST_TEST(a->body == b->body);
    /// Higher generation wins.
    BOOST_TEST(a->body == (local_longer ? R"({"v":"active2"})" : R"({"v":"passive2"})"));
    BOOST_TEST(p.active.db.conflicts("c")->size() == 1u);
  }
}

BOOST_AUTO_TEST_CASE(push_pull_replication_conflicts_custom_resolver) {
  peers p;
  BOOST_REQUIRE(p.active.db.put("c", R"({"v":"base"})").has_value());
  p.run(p.config(replicator_type::push));
  BOOST_REQUIRE(p.active.db.put("c", R"({"v":"active"})").has_value());
  BOOST_REQUIRE(p.passive.db.put("c", R"({"v":"passive"})").has_value());
  auto cfg = p.config(replicator_type::push_and_pull);
  auto calls = std::make_shared<std::atomic<int>>(0);
  cfg.resolver = [calls](const conflict& c) -> std::optional<document> {
    ++*calls;
    BOOST_TEST(c.local.has_value());
    BOOST_TEST(c.remote.has_value());
    document merged;
    merged.body = R"({"v":"merged"})";
    return merged;
  };
  p.run(cfg);
  BOOST_TEST(*calls == 1);
  BOOST_TEST(body_of(p.active.db, "c") == R"({"v":"merged"})");
  BOOST_TEST(body_of(p.passive.db, "c") == R"({"v":"merged"})");
  BOOST_TEST(p.active.db.get("c")->rev == p.passive.db.get("c")->rev);
}

BOOST_AUTO_TEST_CASE(push_pull_replication_conflicts_passive_answers_409) {
  peers p;
  BOOST_REQUIRE(p.active.db.put("c", R"({"v":"base"})").has_value());
  p.run(p.config(replicator_type::push));
  BOOST_REQUIRE(p.active.db.put("c", R"({"v":"active"})").has_value());
  BOOST_REQUIRE(p.passive.db.put("c", R"({"v":"passive"})").has_value());
  auto events = p.run(p.config(replicator_type::push));
  bool conflict_seen = false;
  for (auto& e : events) conflict_seen |= e.id == "c" && e.err.code == errc::conflict;
  BOOST_TEST(conflict_seen);
  /// No incoming conflicts: the passive side kept its own revision and has no branch.
  BOOST_TEST(body_of(p.passive.db, "c") == R"({"v":"passive"})");
  BOOST_TEST(p.passive.db.conflicts("c")->size() == 1u);
}

/// A conflict pulled in an earlier run and never resolved there (the process ended between the
/// pulled revision's commit and the resolution's), and then edited over locally, is resolved
/// by the next push-and-pull run: both sides end on the same revision, with no failed document.
/// Before, the puller would not pull a revision it held, the pusher waited for it to, and the
/// document failed in every run for good (soak seed 4212825462674726375: two tombstones).
///  - deleted: the passive side deleted the document, we deleted our own edit of it;
///  - live: both edited it, we edited ours again;
///  - told: a pull-only run first recorded that the passive side holds its revision, so the
///    push proposes ours with that parent (accepted, then not sendable) instead of getting 409.
BOOST_AUTO_TEST_CASE(push_pull_replication_resolves_a_conflict_an_ended_run_left) {
  for (bool deleted : {true, false}) {
    for (bool told : {false, true}) {
      BOOST_TEST_CONTEXT((deleted ? "deleted" : "live") << (told ? ", told" : "")) {
        peers p;
        BOOST_REQUIRE(p.active.db.put("c", R"({"v":"base"})").has_value());
        p.run(p.config(replicator_type::push));
        BOOST_REQUIRE(p.active.db.put("c", R"({"v":"ours"})").has_value());
        BOOST_REQUIRE(p.passive.db.put("c", R"({"v":"theirs"})").has_value());
        auto theirs = deleted ? p.passive.db.remove("c") : p.passive.db.put("c", R"({"v":"theirs2"})");
        BOOST_REQUIRE(theirs.has_value());
        auto outcome = pull_without_resolving(
            p.active.db, "c", *theirs, history_of(p.passive.db, "c", *theirs),
            deleted ? "{}" : R"({"v":"theirs2"})", deleted);
        BOOST_REQUIRE(outcome == store::insert_outcome::conflict);
        if (told) p.run(p.config(replicator_type::pull));
        auto ours = deleted ? p.active.db.remove("c") : p.active.db.put("c", R"({"v":"ours2"})");
        BOOST_REQUIRE(ours.has_value());
        BOOST_REQUIRE(current(p.active.db, "c").rev == *ours);  // ours won locally
        auto events = p.run(p.config(replicator_type::push_and_pull));
        for (auto& e : events) BOOST_TEST(e.err.code == errc::ok, e.id << ": " << e.err.message);
        auto a = current(p.active.db, "c"), b = current(p.passive.db, "c");
        BOOST_TEST(a.rev == b.rev);
        BOOST_TEST(a.deleted == b.deleted);
        BOOST_TEST(a.body == b.body);
        /// The default rule: a deletion wins; else the higher generation (ours, "ours2").
        if (deleted)
          BOOST_TEST(a.rev == *theirs);
        else
          BOOST_TEST(a.body == R"({"v":"ours2"})");
      }
    }
  }
}
