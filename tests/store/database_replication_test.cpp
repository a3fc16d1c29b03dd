// What replication asks of the store: group commit, revs_diff, proposeChanges, conflicts.
#include <sqlite3.h>

#include <algorithm>
#include <atomic>
#include <boost/test/unit_test.hpp>
#include <chrono>
#include <map>
#include <thread>

#include "backend.hpp"
#include "store/database.hpp"
#include "store/rev_id.hpp"
#include "temp_dir.hpp"

using namespace peerlite;
using namespace peerlite::store;

namespace {

/// An in-memory SQLite database, or a fresh PostgreSQL one (backend.hpp).
std::unique_ptr<database> open_mem(options o = {}) {
  static temp_dir unused;
  auto db = database::open(
      test::on_postgresql() ? test::fresh_location(unused, "mem") : std::string(":memory:"), o);
  BOOST_REQUIRE_MESSAGE(db, (db ? "" : db.err().message));
  return std::move(*db);
}

incoming_revision rev(std::string id, std::string r, std::vector<std::string> history,
                      std::string body = "{}", bool deleted = false) {
  return {std::move(id), std::move(r), std::move(history), std::move(body), deleted};
}

}  // namespace

BOOST_AUTO_TEST_CASE(batch_inserts_assign_sequences_and_report_outcomes) {
  auto db = open_mem();
  std::vector<incoming_revision> batch{rev("a", "1-a", {}), rev("b", "1-b", {}),
                                       rev("a", "2-a", {"1-a"}, R"({"v":2})"), rev("b", "1-b", {})};
  auto out = db->insert_batch(batch);
  BOOST_REQUIRE(out);
  BOOST_REQUIRE(out->size() == 4u);
  BOOST_TEST(((*out)[0].outcome == insert_outcome::inserted));
  BOOST_TEST((*out)[2].sequence == 3u);
  BOOST_TEST((*out)[2].current_rev == "2-a");
  BOOST_TEST(((*out)[3].outcome == insert_outcome::already_had));
  BOOST_TEST((*out)[3].sequence == 0u);
  BOOST_TEST(*db->last_sequence() == 3u);
  BOOST_TEST(db->get("a")->body == R"({"v":2})");
}

BOOST_AUTO_TEST_CASE(a_failing_batch_leaves_nothing_half_written) {
  auto db = open_mem();
  db->put("keep", "{}");
  std::vector<incoming_revision> batch{rev("x", "1-x", {}), rev("y", "1-y", {}, "[not an object]"),
                                       rev("z", "1-z", {})};
  auto out = db->insert_batch(batch);
  BOOST_REQUIRE(!out);
  BOOST_TEST((out.err().code == errc::invalid_argument));
  BOOST_TEST(out.err().message.find("\"y\"") != std::string::npos);
  BOOST_TEST(!db->get("x").has_value());
  BOOST_TEST(*db->last_sequence() == 1u);
}

BOOST_AUTO_TEST_CASE(a_batch_failing_midway_rolls_back_every_item) {
  temp_dir dir;
  std::string path = dir.file("mid.db");
  auto opened = database::open(path);
  BOOST_REQUIRE(opened.has_value());
  auto& db = *opened;
  db->insert_with_history(rev("t", "1-t", {}));
  // Corrupt t's stored tree behind the store's back: the batch fails only when it reaches t,
  // after "w" has already been written inside the transaction.
  sqlite3* raw = nullptr;
  BOOST_REQUIRE(sqlite3_open(path.c_str(), &raw) == SQLITE_OK);
  BOOST_REQUIRE(sqlite3_exec(raw, "UPDATE docs SET tree = x'ff' WHERE id = 't'", nullptr, nullptr,
                             nullptr) == SQLITE_OK);
  sqlite3_close(raw);
  std::vector<incoming_revision> batch{rev("w", "1-w", {}), rev("w2", "2-w", {"1-w"}),
                                       rev("t", "2-t", {"1-t"}), rev("z", "1-z", {})};
  auto out = db->insert_batch(batch);
  BOOST_REQUIRE(!out.has_value());
  BOOST_TEST((out.err().code == errc::io_error));
  BOOST_TEST(!db->get("w").has_value());
  BOOST_TEST(!db->get("w2").has_value());
  BOOST_TEST(*db->last_sequence() == 1u);
  BOOST_TEST(db->changes(0, 10)->size() == 1u);
}

BOOST_AUTO_TEST_CASE(conflicts_and_resolution) {
  auto db = open_mem();
  auto base = *db->put("d", R"({"v":0})");
  auto local = *db->put("d", R"({"v":"local"})");
  std::string remote = "2-ffff";  // sorts above local's digest? either way the branch loses
  auto r = db->insert_with_history(rev("d", remote, {base}, R"({"v":"remote"})"));
  BOOST_REQUIRE(r);
  BOOST_TEST((r->outcome == insert_outcome::conflict));
  BOOST_TEST(r->current_rev == local);
  auto d = db->get("d");
  BOOST_TEST(d->conflicted);
  auto c = db->conflicts("d");
  BOOST_REQUIRE(c->size() == 1u);
  BOOST_TEST(c->front().rev == remote);
  BOOST_TEST(c->front().body == R"({"v":"remote"})");
  BOOST_TEST(db->info()->conflicts == 1u);
  // Refusing conflicts (passive side, "no incoming conflicts") rejects a new branch.
  auto rej = db->insert_with_history(rev("d", "2-0000", {base}), false);
  BOOST_TEST((rej->outcome == insert_outcome::rejected));
  BOOST_TEST(rej->sequence == 0u);
  // Resolve: remote wins with a merged body; local's branch is closed by a tombstone.
  auto merged = db->resolve("d", remote, local, std::string(R"({"v":"merged"})"));
  BOOST_REQUIRE(merged);
  BOOST_TEST(rev_generation(*merged) == 3u);
  d = db->get("d");
  BOOST_TEST(d->rev == *merged);
  BOOST_TEST(d->body == R"({"v":"merged"})");
  BOOST_TEST(!d->conflicted);
  BOOST_TEST(db->conflicts("d")->empty());
  auto hist = db->read_revision("d", *merged);
  BOOST_TEST(hist->history == (std::vector<std::string>{remote, base}),
             boost::test_tools::per_element());
  BOOST_TEST((db->resolve("d", "9-x", local).err().code == errc::invalid_argument));
  BOOST_TEST((db->conflicts("zz").err().code == errc::not_found));
}

BOOST_AUTO_TEST_CASE(resolve_without_merge_keeps_the_winning_side) {
  auto db = open_mem();
  auto base = *db->put("d", "{}");
  auto local = *db->put("d", R"({"side":"local"})");
  db->insert_with_history(rev("d", "2-remote", {base}, R"({"side":"remote"})"));
  auto cur = db->resolve("d", local, "2-remote");
  BOOST_REQUIRE(cur);
  BOOST_TEST(*cur == local);
  BOOST_TEST(db->conflicts("d")->empty());
  BOOST_TEST(db->get("d")->body == R"({"side":"local"})");
}

BOOST_AUTO_TEST_CASE(revs_diff_reports_missing_and_known_ancestors) {
  auto db = open_mem();
  auto r1 = *db->put("a", R"({"v":1})");
  auto r2 = *db->put("a", R"({"v":2})");
  std::vector<rev_ref> q{{"a", r2}, {"a", "5-x"}, {"new", "1-n"}, {"a", "1-other"}};
  auto d = db->revs_diff(q);
  BOOST_REQUIRE(d);
  BOOST_TEST(!(*d)[0].missing);
  BOOST_TEST((*d)[1].missing);
  BOOST_TEST((*d)[1].known_ancestors == (std::vector<std::string>{r2, r1}),
             boost::test_tools::per_element());
  BOOST_TEST((*d)[2].missing);
  BOOST_TEST((*d)[2].known_ancestors.empty());
  BOOST_TEST((*d)[3].missing);
  BOOST_TEST((*d)[3].known_ancestors.empty());  // nothing below generation 1
}

BOOST_AUTO_TEST_CASE(proposed_changes_follow_no_incoming_conflicts) {
  auto db = open_mem();
  auto a1 = *db->put("a", R"({"v":1})");
  auto d1 = *db->put("dead", "{}");
  db->remove("dead");
  auto dead_rev = db->get("dead")->rev;
  std::vector<proposed_change> p{
      {"a", "2-next", a1},       // extends our current: send it
      {"a", a1, ""},             // we have it: 304
      {"a", "2-other", "1-zz"},  // based on something else: 409 with our rev
      {"fresh", "1-f", ""},      // unknown doc, no parent: send it
      {"fresh", "2-f", "1-f"},   // unknown doc with a parent: 409
      {"dead", "1-new", ""},     // deleted doc, no parent: send it
      {"a", "1-new", ""},        // live doc, no parent: 409
  };
  auto ans = db->propose(p);
  BOOST_REQUIRE(ans);
  std::vector<int> want{0, 304, 409, 0, 409, 0, 409};
  for (size_t i = 0; i < want.size(); ++i) BOOST_TEST((*ans)[i].status == want[i], i);
  BOOST_TEST((*ans)[2].current_rev == a1);
  BOOST_TEST((*ans)[6].current_rev == a1);
  (void)d1;
  (void)dead_rev;
}

BOOST_AUTO_TEST_CASE(read_revision_gives_body_and_history) {
  auto db = open_mem();
  std::vector<std::string> revs;
  for (int i = 0; i < 5; ++i) revs.push_back(*db->put("a", cat("{\"i\":", std::to_string(i), "}")));
  auto r = db->read_revision("a", revs.back(), 3);
  BOOST_REQUIRE(r);
  BOOST_TEST(r->body == R"({"i":4})");
  BOOST_TEST(r->sequence == 5u);
  BOOST_TEST(r->history == (std::vector<std::string>{revs[3], revs[2], revs[1]}),
             boost::test_tools::per_element());
  BOOST_TEST((db->read_revision("a", revs[0]).err().code == errc::not_found));  // body dropped
  BOOST_TEST((db->read_revision("zz", revs[0]).err().code == errc::not_found));
}

BOOST_AUTO_TEST_CASE(deep_histories_are_pruned_to_the_configured_depth) {
  auto db = open_mem({.max_rev_tree_depth = 5});
  std::string last;
  for (int i = 0; i < 12; ++i) last = *db->put("a", cat("{\"i\":", std::to_string(i), "}"));
  auto r = db->read_revision("a", last, 100);
  BOOST_TEST(r->history.size() == 4u);
  BOOST_TEST(rev_generation(last) == 12u);
}

BOOST_AUTO_TEST_CASE(readers_see_commits_from_their_own_thread) {
  temp_dir pg_dir;
  std::vector<std::string> wheres{"file", ":memory:"};
  if (test::on_postgresql()) wheres.push_back(test::fresh_location(pg_dir, "readers"));
  for (const std::string& where : wheres) {
    temp_dir dir;
    auto opened = database::open(where == "file" ? dir.file("r.db") : where);
    BOOST_REQUIRE(opened);
    auto& db = *opened;
    auto rd = db->open_reader();
    BOOST_REQUIRE_MESSAGE(rd, (rd ? "" : rd.err().message));
    BOOST_TEST((*rd)->public_uuid() == db->public_uuid());
    std::vector<incoming_revision> batch;
    for (int i = 0; i < 500; ++i) batch.push_back(rev(cat("d", std::to_string(i)), "1-x", {}));
    std::thread writer([&] {
      for (int b = 0; b < 10; ++b) {
        for (auto& r : batch) r.id = cat("b", std::to_string(b), "-", r.id.substr(r.id.find('d')));
        BOOST_REQUIRE(db->insert_batch(batch));
      }
    });
    uint64_t seen = 0;
    for (int i = 0; i < 200 && seen < 5000; ++i) {
      auto seq = (*rd)->last_sequence();
      BOOST_REQUIRE(seq);
      BOOST_TEST(*seq % 500 == 0u);  // whole batches only
      BOOST_TEST(*seq >= seen);
      seen = *seq;
    }
    writer.join();
    BOOST_TEST(*(*rd)->last_sequence() == 5000u, where);
    BOOST_TEST((*rd)->changes(0, 10000)->size() == 5000u);
  }
}

BOOST_AUTO_TEST_CASE(readers_do_not_wait_for_an_open_write_transaction) {
  temp_dir dir;
  auto opened = database::open(dir.file("wal.db"));
  BOOST_REQUIRE(opened.has_value());
  auto& db = *opened;
  db->put("old", "{}");
  auto rd = db->open_reader();
  BOOST_REQUIRE(rd.has_value());
  auto st = db->in_transaction([&]() -> status {
    db->put("new", "{}");  // written, not committed: the write lock is held
    std::chrono::duration<double> took{};
    uint64_t seen = 99;
    bool saw_new = true;
    std::thread reader([&] {
      auto start = std::chrono::steady_clock::now();
      seen = *(*rd)->last_sequence();
      saw_new = (*rd)->get("new").has_value();
      took = std::chrono::steady_clock::now() - start;
    });
    reader.join();
    BOOST_TEST(seen == 1u);  // the committed state only
    BOOST_TEST(!saw_new);
    BOOST_TEST(took.count() < 1.0);  // far below the 5 s busy timeout: no waiting
    BOOST_TEST(std::filesystem::exists(dir.file("wal.db-wal")));  // WAL mode
    return {};
  });
  BOOST_TEST(st.ok());
  BOOST_TEST(*(*rd)->last_sequence() == 2u);
}

/// Two writers on one database (two hubs on one PostgreSQL database, or two handles on one
/// SQLite file) insert batches at once while a reader follows the feed by `seq > last seen`,
/// as a continuous puller does. Every change must arrive exactly once: a sequence that
/// committed after a higher one would be skipped for good (Sync Gateway's "skipped
/// sequences"); the store's writers take turns, so sequences commit in order.
BOOST_AUTO_TEST_CASE(two_writers_feed_delivers_every_change_exactly_once) {
  constexpr int kBatches = 60, kPerBatch = 20;
  temp_dir dir;
  std::string where = test::on_postgresql() ? test::fresh_location(dir, "two") : dir.file("two.db");
  auto a = database::open(where), b = database::open(where);
  BOOST_REQUIRE_MESSAGE(a && b, (a ? (b ? "" : b.err().message) : a.err().message));
  auto rd = (*a)->open_reader();
  BOOST_REQUIRE(rd);
  std::atomic<int> writers_done{0};
  auto write = [&](database& db, const std::string& prefix) {
    for (int i = 0; i < kBatches; ++i) {
      std::vector<incoming_revision> batch;
      for (int k = 0; k < kPerBatch; ++k)
        batch.push_back(rev(cat(prefix, std::to_string(i), "-", std::to_string(k)), "1-x", {}));
      auto out = db.insert_batch(batch);
      BOOST_REQUIRE_MESSAGE(out, (out ? "" : out.err().message));
    }
    ++writers_done;
  };
  std::thread ta(write, std::ref(**a), "a"), tb(write, std::ref(**b), "b");
  std::map<std::string, int> seen;
  uint64_t since = 0;
  bool out_of_order = false;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (std::chrono::steady_clock::now() < deadline) {
    bool finished = writers_done == 2;  // read once more after both writers are done
    auto feed = (*rd)->changes(since, 100);
    BOOST_REQUIRE_MESSAGE(feed, (feed ? "" : feed.err().message));
    for (const auto& c : *feed) {
      if (c.sequence <= since) out_of_order = true;
      since = c.sequence;
      ++seen[c.id];
    }
    if (finished && feed->empty()) break;
  }
  ta.join();
  tb.join();
  BOOST_TEST(!out_of_order);
  BOOST_TEST(seen.size() == size_t{2 * kBatches * kPerBatch});
  BOOST_TEST(std::all_of(seen.begin(), seen.end(), [](const auto& e) { return e.second == 1; }));
  BOOST_TEST(*(*rd)->last_sequence() == uint64_t{2 * kBatches * kPerBatch});
}
