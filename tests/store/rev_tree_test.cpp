#define BOOST_TEST_MODULE store_rev_tree
#include "store/rev_tree.hpp"

#include <boost/test/unit_test.hpp>

#include "store/rev_id.hpp"

using namespace peerlite::store;

namespace {

/// A chain 1-r1 .. N-rN of local revisions; returns the leaf index.
int32_t make_chain(rev_tree& t, int n, const std::string& tag = "r") {
  int32_t parent = -1;
  for (int g = 1; g <= n; ++g) {
    parent = t.add_child(parent, std::to_string(g) + "-" + tag + std::to_string(g),
                         "{\"g\":" + std::to_string(g) + "}", false);
  }
  return parent;
}

std::string winner_rev(const rev_tree& t) { return t.nodes()[t.winner()].rev; }

}  // namespace

BOOST_AUTO_TEST_CASE(rev_ids_parse_and_order) {
  auto p = parse_rev("12-abc");
  BOOST_REQUIRE(p);
  BOOST_TEST(p->generation == 12u);
  BOOST_TEST(p->digest == "abc");
  for (const char* bad : {"", "abc", "-abc", "0-abc", "3-", "x-1", "3-a b", "3x-ab"}) {
    BOOST_TEST(!parse_rev(bad), bad);
  }
  BOOST_TEST(compare_revs("2-a", "10-a") < 0);  // generation before text
  BOOST_TEST(compare_revs("2-b", "2-a") > 0);
  BOOST_TEST(compare_revs("2-a", "2-a") == 0);
}

BOOST_AUTO_TEST_CASE(digest_is_deterministic_and_canonical) {
  auto a = canonical_json(R"({ "b" : [true, null], "a": 1 })");
  auto b = canonical_json(R"({"a":1,"b":[true,null]})");
  BOOST_REQUIRE(a && b);
  BOOST_TEST(*a == R"({"a":1,"b":[true,null]})");
  BOOST_TEST(*a == *b);
  // SHA-1(0x00, 0x00, canonical body), computed independently.
  BOOST_TEST(compute_rev_id("", false, *a) == "1-dd15872f6f187b473b04279da113c98314bdebd5");
  // SHA-1(len "1-abc", "1-abc", 0x01, "{}"): a tombstone on 1-abc.
  BOOST_TEST(compute_rev_id("1-abc", true, "{}") == "2-7f8f249c1126ec3a00703b87fa1569504cd4572d");
  BOOST_TEST(compute_rev_id("1-abc", false, "{}") != compute_rev_id("1-abc", true, "{}"));
  BOOST_TEST(!canonical_json("[1,2]"));
  BOOST_TEST(!canonical_json("{\"a\":"));
}

BOOST_AUTO_TEST_CASE(linear_history_drops_non_leaf_bodies) {
  rev_tree t;
  int32_t leaf = make_chain(t, 5);
  BOOST_TEST(winner_rev(t) == "5-r5");
  for (const auto& n : t.nodes()) BOOST_TEST(n.has_body == (n.rev == "5-r5"), n.rev);
  auto h = t.history(leaf, 3);
  BOOST_TEST(h == (std::vector<std::string>{"4-r4", "3-r3", "2-r2"}),
             boost::test_tools::per_element());
  BOOST_TEST(!t.has_conflict());
}

BOOST_AUTO_TEST_CASE(diverging_history_grows_a_conflict_branch) {
  rev_tree t;
  make_chain(t, 2);  // 1-r1 -> 2-r2 (local)
  // A peer's 2-zz extends 1-r1 too; it sorts above 2-r2 but a conflict branch loses.
  auto r = t.insert_history("2-zz", {"1-r1"}, "{\"peer\":1}", false, true);
  BOOST_REQUIRE(r);
  BOOST_TEST((*r == tree_insert::conflict));
  BOOST_TEST(winner_rev(t) == "2-r2");
  BOOST_REQUIRE(t.conflicting_leaves().size() == 1u);
  BOOST_TEST(t.nodes()[t.conflicting_leaves()[0]].rev == "2-zz");
  BOOST_TEST(t.nodes()[t.find("1-r1")].has_body == false);
  // The same revision again changes nothing.
  BOOST_TEST((*t.insert_history("2-zz", {"1-r1"}, "{}", false, true) == tree_insert::already_had));
  // With conflicts refused, a new branch is rejected and nothing is added.
  auto size = t.nodes().size();
  BOOST_TEST(
      (*t.insert_history("2-yy", {"1-r1"}, "{}", false, false) == tree_insert::rejected_conflict));
  BOOST_TEST(t.nodes().size() == size);
  // Extending the current leaf is a plain update even with conflicts refused.
  BOOST_TEST(
      (*t.insert_history("3-x", {"2-r2", "1-r1"}, "{}", false, false) == tree_insert::inserted));
  BOOST_TEST(winner_rev(t) == "3-x");
}

BOOST_AUTO_TEST_CASE(missing_ancestors_are_added_without_bodies) {
  rev_tree t;
  make_chain(t, 1);
  auto r = t.insert_history("4-d", {"3-c", "2-b", "1-r1"}, "{\"v\":4}", false, true);
  BOOST_REQUIRE(r);
  BOOST_TEST((*r == tree_insert::inserted));
  BOOST_TEST(winner_rev(t) == "4-d");
  BOOST_TEST(!t.nodes()[t.find("3-c")].has_body);
  BOOST_TEST(t.history(t.find("4-d"), 10) == (std::vector<std::string>{"3-c", "2-b", "1-r1"}),
             boost::test_tools::per_element());
  // Generations that do not descend by one are refused.
  BOOST_TEST(!t.insert_history("5-e", {"3-c"}, "{}", false, true));
  BOOST_TEST(!t.insert_history("junk", {}, "{}", false, true));
}

BOOST_AUTO_TEST_CASE(winner_rule_prefers_leaves_then_live_then_highest) {
  rev_tree t;
  int32_t root = t.add_child(-1, "1-a", "{}", false);
  t.add_child(root, "2-zz", "{}", true);  // deleted, highest revID
  t.add_child(root, "2-bb", "{}", false);
  BOOST_TEST(winner_rev(t) == "2-bb");  // live beats deleted
  t.add_child(root, "2-cc", "{}", false);
  BOOST_TEST(winner_rev(t) == "2-cc");  // both live: highest revID
  t.add_child(t.find("2-cc"), "3-a", "{}", true);
  BOOST_TEST(winner_rev(t) == "2-bb");  // 2-cc is no longer a leaf; 3-a is a deletion
  t.add_child(t.find("2-bb"), "3-b", "{}", true);
  BOOST_TEST(winner_rev(t) == "3-b");  // all deleted: highest revID
  BOOST_TEST(!t.has_conflict());
}

BOOST_AUTO_TEST_CASE(fully_deleted_document_is_resurrected_without_conflict) {
  rev_tree t;
  int32_t root = t.add_child(-1, "1-a", "{}", false);
  t.add_child(root, "2-del", "{}", true);
  auto r = t.insert_history("1-new", {}, "{\"x\":1}", false, false);
  BOOST_REQUIRE(r);
  BOOST_TEST((*r == tree_insert::inserted));
  BOOST_TEST(winner_rev(t) == "1-new");
}

BOOST_AUTO_TEST_CASE(pruning_keeps_max_depth_per_branch) {
  rev_tree t;
  int32_t leaf = make_chain(t, 60);
  BOOST_TEST(t.prune(50) == 10u);
  BOOST_TEST(t.nodes().size() == 50u);
  BOOST_TEST(t.find("10-r10") < 0);
  BOOST_TEST(t.find("11-r11") >= 0);
  leaf = t.find("60-r60");
  BOOST_TEST(t.history(leaf, 100).size() == 49u);
  BOOST_TEST(winner_rev(t) == "60-r60");
  // A short branch off revision 55 keeps its own ancestors within depth too.
  t.insert_history("56-side", {"55-r55"}, "{}", false, true);
  BOOST_TEST(t.prune(3) > 0u);
  BOOST_TEST(t.find("55-r55") >= 0);  // depth 2 from 56-side
  BOOST_TEST(t.find("57-r57") < 0);   // depth 4 from 60-r60, depth >3 from 56-side
  BOOST_TEST(t.find("58-r58") >= 0);
}

BOOST_AUTO_TEST_CASE(known_ancestors_lists_leaves_first_below_the_generation) {
  rev_tree t;
  make_chain(t, 3);
  t.insert_history("3-zz", {"2-r2", "1-r1"}, "{}", false, true);
  auto a = t.known_ancestors("5-x", 10);
  BOOST_REQUIRE(a.size() == 4u);
  BOOST_TEST(a[0] == "3-r3");  // the winner first
  BOOST_TEST(a[1] == "3-zz");
  BOOST_TEST(t.known_ancestors("3-q", 10).size() == 2u);  // only generations below 3
  BOOST_TEST(t.known_ancestors("5-x", 2).size() == 2u);
}

BOOST_AUTO_TEST_CASE(encoding_round_trips) {
  rev_tree t;
  make_chain(t, 3);
  t.insert_history("3-zz", {"2-r2", "1-r1"}, "{\"peer\":true}", true, true);
  int32_t w = t.winner();
  auto decoded = rev_tree::decode(t.encode(w));
  BOOST_REQUIRE(decoded);
  decoded->set_body(w, t.nodes()[w].body);
  BOOST_REQUIRE(decoded->nodes().size() == t.nodes().size());
  for (size_t i = 0; i < t.nodes().size(); ++i) {
    const auto& a = t.nodes()[i];
    const auto& b = decoded->nodes()[i];
    BOOST_TEST(a.rev == b.rev);
    BOOST_TEST(a.parent == b.parent);
    BOOST_TEST(a.deleted == b.deleted);
    BOOST_TEST(a.conflict == b.conflict);
    BOOST_TEST(a.body == b.body);
  }
  std::string bytes = t.encode(w);
  BOOST_TEST(!rev_tree::decode(bytes.substr(0, bytes.size() - 3)));
  BOOST_TEST(!rev_tree::decode("\xff\xff\xff"));
}

/// An edit that raced a deletion (both proposals answered before either revision arrived) must
/// not revive the deleted document when conflicts are refused: the editing peer, pulling the
/// deletion, closes its edit, so a hub that accepted it would disagree with it forever (soak
/// test, issue 13). A tombstone on such a branch, and a brand-new root, are still taken.
BOOST_AUTO_TEST_CASE(a_live_edit_off_an_older_revision_of_a_deleted_doc_is_refused) {
  rev_tree t;
  make_chain(t, 2);  // 1-r1 -> 2-r2
  BOOST_REQUIRE((*t.insert_history("3-del", {"2-r2", "1-r1"}, "{}", true, false) ==
                 tree_insert::inserted));
  auto size = t.nodes().size();
  BOOST_TEST((*t.insert_history("3-x", {"2-r2", "1-r1"}, "{\"v\":1}", false, false) ==
              tree_insert::rejected_conflict));
  BOOST_TEST(t.nodes().size() == size);
  BOOST_TEST((*t.insert_history("3-y", {"2-r2", "1-r1"}, "{}", true, false) ==
              tree_insert::inserted));
  BOOST_TEST((*t.insert_history("1-new", {}, "{\"v\":2}", false, false) == tree_insert::inserted));
  BOOST_TEST(winner_rev(t) == "1-new");
}

/// Two peers delete one document concurrently (3-aaa on the passive side, 3-zzz on the active
/// side, whose proposal the passive side refused). Both must end on the passive side's
/// tombstone, whichever revID is higher: the active side takes the pulled one, the passive side
/// keeps its own when the other is pushed to it.
BOOST_AUTO_TEST_CASE(concurrent_tombstones_end_on_the_passive_sides_on_both_sides) {
  for (auto [passive_rev, active_rev] : {std::pair{"3-aaa", "3-zzz"}, {"3-zzz", "3-aaa"}}) {
    rev_tree active;
    make_chain(active, 2);
    BOOST_REQUIRE((*active.insert_history(active_rev, {"2-r2", "1-r1"}, "{}", true, true) ==
                   tree_insert::inserted));
    // Pulled: not a conflict (no live leaf), and it wins over the local tombstone.
    BOOST_TEST((*active.insert_history(passive_rev, {"2-r2", "1-r1"}, "{}", true, true) ==
                tree_insert::inserted));
    BOOST_TEST(winner_rev(active) == passive_rev);
    BOOST_TEST(!active.has_conflict());

    rev_tree passive;
    make_chain(passive, 2);
    BOOST_REQUIRE((*passive.insert_history(passive_rev, {"2-r2", "1-r1"}, "{}", true, false) ==
                   tree_insert::inserted));
    // Pushed (no conflicts): taken, but ours stays current.
    BOOST_TEST((*passive.insert_history(active_rev, {"2-r2", "1-r1"}, "{}", true, false) ==
                tree_insert::inserted));
    BOOST_TEST(winner_rev(passive) == passive_rev);

    // Survives encoding, and a later re-creation on the closed branch still wins.
    auto copy = rev_tree::decode(passive.encode(-1));
    BOOST_REQUIRE(copy);
    BOOST_TEST(winner_rev(*copy) == passive_rev);
    BOOST_TEST((*copy->insert_history("4-live", {active_rev, "2-r2", "1-r1"}, "{\"v\":1}", false,
                                      true) == tree_insert::inserted));
    BOOST_TEST(winner_rev(*copy) == "4-live");
  }
}
