#define BOOST_TEST_MODULE store_collections
// Named collections: one file, independent documents, sequences and feeds per collection.
#include <sqlite3.h>

#include <boost/test/unit_test.hpp>
#include <regex>

#include "store/database.hpp"
#include "store/schema.hpp"
#include "store/sqlite.hpp"
#include "backend.hpp"
#include "temp_dir.hpp"

using namespace peerlite;
using namespace peerlite::store;

namespace {

std::unique_ptr<database> open_db(const std::string& path, options o = {}) {
  auto db = database::open(test::location_for(path), o);
  BOOST_REQUIRE_MESSAGE(db, (db ? "" : db.err().message));
  return std::move(*db);
}

incoming_revision rev(std::string id, std::string r, std::vector<std::string> history,
                      std::string body = "{}", bool deleted = false) {
  return {std::move(id), std::move(r), std::move(history), std::move(body), deleted};
}

collection_id create(database& db, std::string_view name) {
  auto id = db.create_collection(name);
  BOOST_REQUIRE_MESSAGE(id, (id ? "" : id.err().message));
  return *id;
}

void use(reader& r, collection_id c) {
  auto st = r.use_collection(c);
  BOOST_REQUIRE_MESSAGE(st.ok(), st.message());
}

std::vector<std::string> full_names(reader& r) {
  auto list = r.list_collections();
  BOOST_REQUIRE_MESSAGE(list, (list ? "" : list.err().message));
  std::vector<std::string> out;
  for (const auto& c : *list) out.push_back(std::to_string(c.id) + ":" + c.full_name());
  return out;
}

/// One value from the file through a separate raw SQLite handle.
int64_t raw_int(const std::string& path, const std::string& sql) {
  if (test::on_postgresql()) return test::pg_int(test::location_for(path), sql);
  sqlite3* db = nullptr;
  BOOST_REQUIRE(sqlite3_open(path.c_str(), &db) == SQLITE_OK);
  sqlite3_stmt* s = nullptr;
  BOOST_REQUIRE_MESSAGE(sqlite3_prepare_v2(db, sql.c_str(), -1, &s, nullptr) == SQLITE_OK,
                        sqlite3_errmsg(db));
  int64_t v = sqlite3_step(s) == SQLITE_ROW ? sqlite3_column_int64(s, 0) : -1;
  sqlite3_finalize(s);
  sqlite3_close(db);
  return v;
}

void raw_exec(const std::string& path, const char* sql) {
  sqlite3* db = nullptr;
  BOOST_REQUIRE(sqlite3_open(path.c_str(), &db) == SQLITE_OK);
  BOOST_REQUIRE_MESSAGE(sqlite3_exec(db, sql, nullptr, nullptr, nullptr) == SQLITE_OK,
                        sqlite3_errmsg(db));
  sqlite3_close(db);
}

}  // namespace

BOOST_AUTO_TEST_CASE(collection_names_follow_couchbase_lite_rules) {
  using split = std::pair<std::string, std::string>;
  std::string longest(251, 'a');
  const std::pair<std::string, split> good[] = {
      {"_default", {"_default", "_default"}},
      {"_default._default", {"_default", "_default"}},
      {"users", {"_default", "users"}},
      {"_default.users", {"_default", "users"}},
      {"inventory.users", {"inventory", "users"}},
      {"Sc-1%x_.Na_m%e-9", {"Sc-1%x_", "Na_m%e-9"}},
      {longest + "." + longest, {longest, longest}},
  };
  for (const auto& [name, want] : good) {
    auto got = parse_collection_name(name);
    BOOST_TEST_REQUIRE(got.has_value(), name);
    BOOST_TEST((*got == want), name);
  }
  const std::string bad[] = {"",
                             ".",
                             "a.",
                             ".b",
                             "_x",
                             "%x",
                             "s._x",
                             "s.%x",
                             "_s.x",
                             "a.b.c",
                             "a b",
                             "a/b",
                             "caf\xc3\xa9",
                             "s._default",
                             "_Default",
                             longest + "a",
                             "s." + longest + "a"};
  for (const auto& name : bad) {
    auto got = parse_collection_name(name);
    BOOST_TEST((!got && got.err().code == errc::invalid_argument), name);
  }
  auto db = open_db(":memory:");
  BOOST_TEST((db->create_collection("no spaces").err().code == errc::invalid_argument));
  BOOST_TEST((db->find_collection("").err().code == errc::invalid_argument));
  BOOST_TEST((db->delete_collection("a.b.c").err().code == errc::invalid_argument));
  BOOST_TEST(full_names(*db) == std::vector<std::string>{"0:_default._default"});
}

BOOST_AUTO_TEST_CASE(create_list_find_and_delete) {
  temp_dir dir;
  std::string path = dir.file("c.db");
  auto db = open_db(path);
  BOOST_TEST(create(*db, "inv.users") == 1);
  BOOST_TEST(create(*db, "inv.users") == 1);  // exists: same id, nothing new
  BOOST_TEST(create(*db, "things") == 2);
  BOOST_TEST(create(*db, "_default") == 0);
  BOOST_TEST(full_names(*db) ==
             (std::vector<std::string>{"0:_default._default", "1:inv.users", "2:_default.things"}));
  BOOST_TEST(*db->find_collection("things") == 2);
  BOOST_TEST(*db->find_collection("_default.things") == 2);
  BOOST_TEST(*db->find_collection("inv.users") == 1);
  BOOST_TEST(*db->find_collection("_default") == 0);
  BOOST_TEST(*db->find_collection("_default._default") == 0);
  BOOST_TEST((db->find_collection("users").err().code == errc::not_found));
  BOOST_TEST((db->find_collection("Inv.users").err().code == errc::not_found));  // case matters

  // Each collection has its tables with uniquely named indexes, copied from the default's.
  BOOST_TEST(raw_int(path,
                     "SELECT count(*) FROM sqlite_master WHERE name IN ('docs_1', "
                     "'remote_revs_1', 'docs_1_seq', 'docs_1_expires', 'docs_2_seq')") == 5);
  BOOST_TEST(raw_int(path, "SELECT count(*) FROM sqlite_master WHERE tbl_name = 'docs_2'") ==
             raw_int(path, "SELECT count(*) FROM sqlite_master WHERE tbl_name = 'docs'"));

  BOOST_TEST(db->current_collection() == 0);
  BOOST_TEST((db->use_collection(7).err().code == errc::not_found));
  BOOST_TEST((db->use_collection(-1).err().code == errc::not_found));
  BOOST_TEST(db->current_collection() == 0);

  BOOST_TEST(db->delete_collection("inv.users").ok());
  BOOST_TEST((db->delete_collection("inv.users").code() == errc::not_found));
  BOOST_TEST((db->delete_collection("_default").code() == errc::invalid_argument));
  BOOST_TEST((db->delete_collection("_default._default").code() == errc::invalid_argument));
  BOOST_TEST((db->find_collection("inv.users").err().code == errc::not_found));
  BOOST_TEST((db->use_collection(1).err().code == errc::not_found));
  BOOST_TEST(full_names(*db) ==
             (std::vector<std::string>{"0:_default._default", "2:_default.things"}));
  BOOST_TEST(raw_int(path,
                     "SELECT count(*) FROM sqlite_master WHERE tbl_name IN ('docs_1', "
                     "'remote_revs_1')") == 0);
  // Ids are not reused, even for the same name (nor after the highest one is deleted).
  BOOST_TEST(create(*db, "inv.users") == 3);
  BOOST_TEST(db->delete_collection("inv.users").ok());
  BOOST_TEST(create(*db, "more") == 4);

  // An in-memory database has collections too.
  auto mem = open_db(":memory:");
  BOOST_TEST(create(*mem, "s.c") == 1);
  use(*mem, 1);
  BOOST_REQUIRE(mem->put("d", R"({"m":1})"));
  BOOST_TEST(mem->get("d")->sequence == 1u);
  BOOST_TEST(mem->delete_collection("s.c").ok());
  BOOST_TEST(mem->current_collection() == 0);
}

BOOST_AUTO_TEST_CASE(same_document_id_is_independent_per_collection) {
  auto db = open_db(":memory:");
  collection_id c = create(*db, "s.c");
  auto d0 = *db->put("doc", R"({"in":"default"})");
  BOOST_REQUIRE(db->put("x", "{}"));
  BOOST_REQUIRE(db->put("y", "{}"));
  use(*db, c);
  BOOST_TEST(db->current_collection() == c);
  BOOST_TEST((db->get("x").err().code == errc::not_found));
  BOOST_TEST(*db->last_sequence() == 0u);
  auto c1 = *db->put("doc", R"({"in":"named"})");
  auto c2 = *db->put("doc", R"({"in":"named","v":2})", c1, concurrency::fail_on_conflict);
  BOOST_TEST(d0 != c1);
  auto got = db->get("doc");
  BOOST_REQUIRE(got);
  BOOST_TEST(got->rev == c2);
  BOOST_TEST(got->body == R"({"in":"named","v":2})");
  BOOST_TEST(got->sequence == 2u);  // sequences start at 1 in each collection
  BOOST_TEST(*db->last_sequence() == 2u);
  // The parent check is against this collection's revision, not the default's.
  BOOST_TEST(
      (db->put("doc", "{}", d0, concurrency::fail_on_conflict).err().code == errc::conflict));
  auto feed = db->changes(0, 100);
  BOOST_REQUIRE(feed);
  BOOST_REQUIRE(feed->size() == 1u);
  BOOST_TEST(feed->front().id == "doc");
  BOOST_TEST(feed->front().sequence == 2u);
  BOOST_TEST(feed->front().rev == c2);

  use(*db, 0);
  got = db->get("doc");
  BOOST_TEST(got->rev == d0);
  BOOST_TEST(got->body == R"({"in":"default"})");
  BOOST_TEST(got->sequence == 1u);
  BOOST_TEST(*db->last_sequence() == 3u);
  feed = db->changes(0, 100);
  BOOST_REQUIRE(feed->size() == 3u);
  BOOST_TEST((*feed)[2].id == "y");
  BOOST_TEST(db->put("z", "{}").has_value());
  BOOST_TEST(db->get("z")->sequence == 4u);
  use(*db, c);
  BOOST_TEST(*db->last_sequence() == 2u);  // untouched by the default's writes
}

BOOST_AUTO_TEST_CASE(every_store_call_works_per_collection) {
  auto db = open_db(":memory:");
  collection_id a = create(*db, "s.a");
  collection_id b = create(*db, "s.b");
  auto remote = db->remote("peer-1");
  BOOST_REQUIRE(remote);

  // In collection a: a conflict, a deleted doc, a purged doc, remote revisions.
  use(*db, a);
  auto out = db->insert_batch(
      std::vector<incoming_revision>{
          rev("d", "1-a", {}, R"({"v":1})"),
          rev("d", "2-b", {"1-a"}, R"({"v":2})"),
          rev("d", "2-c", {"1-a"}, R"({"v":3})"),
          rev("gone", "1-g", {}),
          rev("purged", "1-p", {}),
      },
      true, false, *remote);
  BOOST_REQUIRE(out);
  BOOST_TEST(((*out)[2].outcome == insert_outcome::conflict));
  BOOST_TEST((*out)[4].sequence == 5u);
  BOOST_TEST(*db->remote_rev(*remote, "d") == "2-c");
  BOOST_REQUIRE(db->remove("gone"));
  BOOST_TEST(db->purge("purged").ok());
  std::string win = db->get("d")->rev;
  BOOST_TEST((win == "2-b" || win == "2-c"));
  std::string lose = win == "2-b" ? "2-c" : "2-b";
  auto conflicts = db->conflicts("d");
  BOOST_REQUIRE(conflicts);
  BOOST_REQUIRE(conflicts->size() == 1u);
  BOOST_TEST(conflicts->front().rev == lose);
  BOOST_REQUIRE(db->set_expiration("d", 1000).ok());
  BOOST_TEST(*db->get_expiration("d") == 1000);

  // In collection b the same ids mean nothing yet.
  use(*db, b);
  BOOST_TEST((db->conflicts("d").err().code == errc::not_found));
  BOOST_TEST(*db->remote_rev(*remote, "d") == "");
  BOOST_TEST((db->purge("gone").code() == errc::not_found));
  BOOST_TEST((db->remove("d").err().code == errc::not_found));
  BOOST_TEST((db->get_expiration("d").err().code == errc::not_found));
  BOOST_TEST(*db->expire(5000) == 0u);
  auto diff = db->revs_diff(std::vector<rev_ref>{{"d", "2-b"}});
  BOOST_REQUIRE(diff);
  BOOST_TEST((*diff)[0].missing);
  BOOST_TEST((*diff)[0].known_ancestors.empty());
  auto prop = db->propose(std::vector<proposed_change>{{"d", "1-a", ""}});
  BOOST_TEST((*prop)[0].status == 0);
  BOOST_REQUIRE(db->insert_with_history(rev("d", "1-a", {}, R"({"v":1})")));
  BOOST_REQUIRE(db->put("other", R"({"b":1})"));
  auto info = db->info();
  BOOST_TEST(info->docs == 2u);
  BOOST_TEST(info->tombstones == 0u);
  BOOST_TEST(info->conflicts == 0u);
  BOOST_TEST(info->last_sequence == 2u);
  BOOST_TEST(db->list_documents()->size() == 2u);
  BOOST_TEST(db->changes(0, 10, *remote)->front().remote_rev == "");

  // Back in a: every read sees a's state only.
  use(*db, a);
  diff = db->revs_diff(std::vector<rev_ref>{{"d", "2-b"}, {"d", "3-x"}});
  BOOST_TEST(!(*diff)[0].missing);
  BOOST_TEST((*diff)[1].missing);
  BOOST_TEST(!(*diff)[1].known_ancestors.empty());
  prop = db->propose(
      std::vector<proposed_change>{{"d", win, "1-a"}, {"other", "1-o", ""}, {"d", "1-a", ""}});
  BOOST_TEST((*prop)[0].status == 304);
  BOOST_TEST((*prop)[1].status == 0);
  BOOST_TEST((*prop)[2].status == 409);
  BOOST_TEST((*prop)[2].current_rev == win);
  info = db->info();
  BOOST_TEST(info->docs == 1u);
  BOOST_TEST(info->tombstones == 1u);
  BOOST_TEST(info->conflicts == 1u);
  BOOST_TEST(info->last_sequence == 6u);
  auto docs = db->list_documents();
  BOOST_REQUIRE(docs->size() == 1u);
  BOOST_TEST(docs->front().first == "d");
  auto feed = db->changes(0, 10, *remote);
  BOOST_REQUIRE(feed->size() == 2u);  // purged is gone, gone is a tombstone
  BOOST_TEST(feed->front().id == "d");
  BOOST_TEST(feed->front().remote_rev == "2-c");
  BOOST_TEST(feed->back().deleted);
  std::vector<std::string> ids{"d", "other"};
  BOOST_TEST(db->changes_of(ids, 0, 10)->size() == 1u);
  auto sent = db->read_revision("d", lose);
  BOOST_REQUIRE(sent);
  BOOST_TEST(sent->history == std::vector<std::string>{"1-a"});
  auto winner = db->resolve("d", win, lose);
  BOOST_REQUIRE(winner);
  BOOST_TEST(db->conflicts("d")->empty());
  BOOST_TEST(*db->expire(5000) == 1u);
  BOOST_TEST((db->get("d").err().code == errc::not_found));

  // And b still has its two documents; the default has none.
  use(*db, b);
  BOOST_TEST(db->list_documents()->size() == 2u);
  BOOST_TEST(db->get("d")->rev == "1-a");
  use(*db, 0);
  BOOST_TEST(db->list_documents()->empty());
  BOOST_TEST(*db->last_sequence() == 0u);

  // A transaction spans collections: a failure rolls back the writes in each.
  auto st = db->in_transaction([&]() -> status {
    if (auto r = db->put("t", "{}"); !r) return r.err();
    if (auto s = db->use_collection(a); !s.ok()) return s;
    if (auto r = db->put("t", "{}"); !r) return r.err();
    return error{errc::io_error, "roll back"};
  });
  BOOST_TEST(!st.ok());
  BOOST_TEST(db->current_collection() == a);
  BOOST_TEST((db->get("t").err().code == errc::not_found));
  use(*db, 0);
  BOOST_TEST((db->get("t").err().code == errc::not_found));
}

BOOST_AUTO_TEST_CASE(readers_see_collections_the_writer_creates) {
  temp_dir dir;
  auto db = open_db(dir.file("r.db"));
  auto r = db->open_reader();
  BOOST_REQUIRE(r);
  reader& rd = **r;
  BOOST_TEST(full_names(rd) == std::vector<std::string>{"0:_default._default"});
  BOOST_REQUIRE(db->put("doc", R"({"c":0})"));
  collection_id c = create(*db, "s.c");
  use(*db, c);
  BOOST_REQUIRE(db->put("doc", R"({"c":1})"));
  BOOST_REQUIRE(db->put("doc2", "{}"));

  BOOST_TEST(*rd.find_collection("s.c") == c);
  BOOST_TEST(full_names(rd) == (std::vector<std::string>{"0:_default._default", "1:s.c"}));
  BOOST_TEST(rd.current_collection() == 0);  // a reader starts on the default collection
  BOOST_TEST(rd.get("doc")->body == R"({"c":0})");
  use(rd, c);
  BOOST_TEST(rd.get("doc")->body == R"({"c":1})");
  BOOST_TEST(*rd.last_sequence() == 2u);
  BOOST_TEST(rd.changes(0, 10)->size() == 2u);
  {
    // One snapshot across collections: both reads see the state before the writes below.
    reader::snapshot snap(rd);
    BOOST_TEST(rd.get("doc")->body == R"({"c":1})");
    BOOST_REQUIRE(db->put("doc", R"({"c":11})"));
    use(*db, 0);
    BOOST_REQUIRE(db->put("doc", R"({"c":10})"));
    use(rd, 0);
    BOOST_TEST(rd.get("doc")->body == R"({"c":0})");
    use(rd, c);
    BOOST_TEST(rd.get("doc")->body == R"({"c":1})");
  }
  BOOST_TEST(rd.get("doc")->body == R"({"c":11})");

  // The writer deletes the collection the reader is on: the reader's calls fail, cleanly.
  BOOST_TEST(db->delete_collection("s.c").ok());
  auto gone = rd.get("doc");
  BOOST_TEST(!gone.has_value());
  BOOST_TEST((rd.use_collection(c).code() == errc::not_found));
  use(rd, 0);
  BOOST_TEST(rd.get("doc")->body == R"({"c":10})");
}

BOOST_AUTO_TEST_CASE(reopening_keeps_collections_documents_and_sequences) {
  temp_dir dir;
  std::string path = dir.file("k.db");
  std::string rev_a, rev_b;
  {
    auto db = open_db(path);
    create(*db, "s.a");
    create(*db, "s.b");
    use(*db, 1);
    rev_a = *db->put("doc", R"({"a":1})");
    BOOST_REQUIRE(db->put("doc", R"({"a":2})"));
    use(*db, 2);
    rev_b = *db->put("doc", R"({"b":1})");
  }
  auto db = open_db(path);
  BOOST_TEST(db->current_collection() == 0);
  BOOST_TEST(full_names(*db) ==
             (std::vector<std::string>{"0:_default._default", "1:s.a", "2:s.b"}));
  use(*db, *db->find_collection("s.a"));
  BOOST_TEST(db->get("doc")->body == R"({"a":2})");
  BOOST_TEST(*db->last_sequence() == 2u);
  BOOST_TEST(db->put("next", "{}").has_value());
  BOOST_TEST(db->get("next")->sequence == 3u);
  use(*db, *db->find_collection("s.b"));
  BOOST_TEST(db->get("doc")->rev == rev_b);
  BOOST_TEST(*db->last_sequence() == 1u);
  BOOST_TEST(create(*db, "s.c") == 3);
}

BOOST_AUTO_TEST_CASE(version_2_files_are_upgraded_or_read_as_they_are) {
  if (test::on_postgresql()) return;  // SQLite files from older peerlite versions only
  temp_dir dir;
  std::string path = dir.file("v2.db");
  std::string rev;
  {
    auto db = open_db(path);
    rev = *db->put("doc", R"({"old":true})");
  }
  // What a version-2 peerlite wrote: no collections (nor blobs) table.
  raw_exec(path, "DROP TABLE collections; DROP TABLE blobs; PRAGMA user_version = 2;");
  BOOST_REQUIRE(raw_int(path, "PRAGMA user_version") == 2);
  {
    auto ro = open_db(path, {.read_only = true});
    BOOST_TEST(full_names(*ro) == std::vector<std::string>{"0:_default._default"});
    BOOST_TEST(*ro->find_collection("_default") == 0);
    BOOST_TEST((ro->find_collection("s.c").err().code == errc::not_found));
    BOOST_TEST((ro->use_collection(1).code() == errc::not_found));
    BOOST_TEST(ro->use_collection(0).ok());
    BOOST_TEST(ro->get("doc")->rev == rev);
    BOOST_TEST((ro->create_collection("s.c").err().code == errc::read_only));
    auto rd = ro->open_reader();
    BOOST_REQUIRE(rd);
    BOOST_TEST(full_names(**rd) == std::vector<std::string>{"0:_default._default"});
  }
  BOOST_TEST(raw_int(path, "PRAGMA user_version") == 2);  // read-only left it as it was

  auto db = open_db(path);
  BOOST_TEST(raw_int(path, "PRAGMA user_version") == 3);
  BOOST_TEST(full_names(*db) == std::vector<std::string>{"0:_default._default"});
  use(*db, create(*db, "s.c"));
  BOOST_REQUIRE(db->put("doc", R"({"new":true})"));
  BOOST_TEST(db->get("doc")->sequence == 1u);
  use(*db, 0);
  BOOST_TEST(db->get("doc")->rev == rev);
  BOOST_TEST(*db->last_sequence() == 1u);
}

BOOST_AUTO_TEST_CASE(deleting_a_collection_drops_only_its_documents) {
  temp_dir dir;
  std::string path = dir.file("d.db");
  auto db = open_db(path);
  collection_id a = create(*db, "s.a");
  collection_id b = create(*db, "s.b");
  auto remote = *db->remote("peer");
  BOOST_REQUIRE(db->put("doc", R"({"d":0})"));
  for (collection_id c : {a, b}) {
    use(*db, c);
    BOOST_REQUIRE(db->insert_batch(
        std::vector<incoming_revision>{rev("doc", "1-x", {}), rev("doc2", "1-y", {})}, true, false,
        remote));
  }
  BOOST_TEST(raw_int(path, "SELECT count(*) FROM meta WHERE key = 'last_seq_1'") == 1);
  use(*db, a);
  BOOST_TEST(db->delete_collection("s.a").ok());
  BOOST_TEST(db->current_collection() == 0);  // it was current: back to the default
  BOOST_TEST(raw_int(path,
                     "SELECT count(*) FROM sqlite_master WHERE tbl_name IN ('docs_1', "
                     "'remote_revs_1')") == 0);
  BOOST_TEST(raw_int(path, "SELECT count(*) FROM meta WHERE key = 'last_seq_1'") == 0);
  BOOST_TEST(raw_int(path, "SELECT count(*) FROM meta WHERE key = 'last_seq_2'") == 1);
  BOOST_TEST(db->get("doc")->body == R"({"d":0})");
  use(*db, b);
  BOOST_TEST(db->list_documents()->size() == 2u);
  BOOST_TEST(*db->remote_rev(remote, "doc2") == "1-y");
  BOOST_TEST(*db->last_sequence() == 2u);
  // Deleting a collection that is not current leaves the current one selected.
  collection_id c = create(*db, "s.a");
  BOOST_TEST(db->delete_collection("s.a").ok());
  BOOST_TEST(db->current_collection() == b);
  BOOST_TEST((db->use_collection(c).code() == errc::not_found));
  // A new collection of the deleted name starts empty.
  use(*db, create(*db, "s.a"));
  BOOST_TEST(db->list_documents()->empty());
  BOOST_TEST(*db->last_sequence() == 0u);
  BOOST_TEST(*db->remote_rev(remote, "doc2") == "");
}

BOOST_AUTO_TEST_CASE(every_statement_is_rewritten_for_a_collection) {
  // Whole words only, and never inside a string literal.
  BOOST_TEST(collection_sql("SELECT d.seq FROM docs d LEFT JOIN remote_revs r ON r.doc = d.id "
                            "INDEXED BY docs_seq WHERE x = 'docs' AND \"docs\".y = mydocs",
                            7) ==
             "SELECT d.seq FROM docs_7 d LEFT JOIN remote_revs_7 r ON r.doc = d.id "
             "INDEXED BY docs_seq WHERE x = 'docs' AND \"docs_7\".y = mydocs");
  BOOST_TEST(collection_sql("UPDATE docs SET v = 'it''s docs' WHERE id=?1;docs", 12) ==
             "UPDATE docs_12 SET v = 'it''s docs' WHERE id=?1;docs_12");
  BOOST_TEST(collection_sql("SELECT * FROM docs", 0) == "SELECT * FROM docs");

  // Every statement of schema.hpp, as rewritten, prepares against a collection's tables
  // and names no default table (in SQLite's dialect; on PostgreSQL the suites above prepare
  // them all).
  if (test::on_postgresql()) return;
  temp_dir dir;
  std::string path = dir.file("s.db");
  { BOOST_TEST(create(*open_db(path), "s.c") == 1); }
  sqlite3* raw = nullptr;
  BOOST_REQUIRE(sqlite3_open(path.c_str(), &raw) == SQLITE_OK);
  const char* statements[] = {sql::kSelectRow,
                              sql::kSelectCurrent,
                              sql::kSelectHead,
                              sql::kInsertRow,
                              sql::kInsertRowIfAbsent,
                              sql::kUpdateRow,
                              sql::kDeleteRow,
                              sql::kChanges,
                              sql::kChangeOf,
                              sql::kChangesForRemote,
                              sql::kChangeOfForRemote,
                              sql::kFindRemote,
                              sql::kAddRemote,
                              sql::kGetRemoteRev,
                              sql::kSetRemoteRev,
                              sql::kListLive,
                              sql::kInfo,
                              sql::kSetExpires,
                              sql::kGetExpires,
                              sql::kExpire,
                              sql::kGetMeta,
                              sql::kSetMeta,
                              sql::kGetCheckpoint,
                              sql::kSetCheckpoint,
                              sql::kGetPeerCheckpoint,
                              sql::kSetPeerCheckpoint,
                              sql::kCountTables};
  const std::regex default_table(R"(\b(docs|remote_revs)\b)");
  for (const char* text : statements) {
    std::string rewritten = collection_sql(text, 1);
    BOOST_TEST(!std::regex_search(rewritten, default_table), rewritten);
    sqlite3_stmt* s = nullptr;
    BOOST_TEST(sqlite3_prepare_v2(raw, rewritten.c_str(), -1, &s, nullptr) == SQLITE_OK,
               rewritten << ": " << sqlite3_errmsg(raw));
    sqlite3_finalize(s);
  }
  sqlite3_close(raw);
}

/// conflicted_documents() lists the documents with open conflicts (live leaves beside the
/// current revision) and no other, in every collection, through the docs_conflicted index; a
/// version-3 file made before that index gets it when opened for writing.
BOOST_AUTO_TEST_CASE(conflicted_documents_are_listed_from_their_index) {
  temp_dir dir;
  std::string path = dir.file("conflicts.db");
  auto conflicted = [](reader& r) {
    auto ids = r.conflicted_documents(100);
    BOOST_REQUIRE_MESSAGE(ids, (ids ? "" : ids.err().message));
    return *ids;
  };
  {
    auto db = open_db(path);
    collection_id c = create(*db, "s.c");
    for (collection_id coll : {collection_id{0}, c}) {
      use(*db, coll);
      BOOST_REQUIRE(db->insert_batch(
          std::vector<incoming_revision>{
              rev("both", "1-a", {}), rev("both", "2-b", {"1-a"}), rev("both", "2-c", {"1-a"}),
              rev("plain", "1-p", {}), rev("plain", "2-q", {"1-p"}),
              /// A deleted leaf beside the current revision is no open conflict.
              rev("tomb", "1-t", {}), rev("tomb", "2-u", {"1-t"}),
              rev("tomb", "2-v", {"1-t"}, "{}", true),
              rev("also", "1-x", {}), rev("also", "2-y", {"1-x"}), rev("also", "2-z", {"1-x"})},
          true, false, 0));
      auto r = db->open_reader();
      BOOST_REQUIRE(r);
      use(**r, coll);
      BOOST_TEST(conflicted(**r) == (std::vector<std::string>{"also", "both"}));
      auto one = (*r)->conflicted_documents(1);
      BOOST_TEST(one->size() == 1u);
      /// Resolved: no longer listed.
      auto leaves = (*r)->conflicts("both");
      BOOST_REQUIRE(leaves && leaves->size() == 1u);
      auto cur = (*r)->get("both");
      BOOST_REQUIRE(db->resolve("both", cur->rev, leaves->front().rev, std::nullopt, false));
      BOOST_TEST(conflicted(**r) == std::vector<std::string>{"also"});
    }
  }
  BOOST_TEST(raw_int(path, "SELECT count(*) FROM " +
                               std::string(test::on_postgresql() ? "pg_indexes WHERE indexname"
                                                                 : "sqlite_master WHERE name") +
                               " = 'docs_conflicted'") == 1);
  if (test::on_postgresql()) return;  // SQLite files from older peerlite versions only
  raw_exec(path, "DROP INDEX docs_conflicted;");
  {
    auto ro = open_db(path, {.read_only = true});
    auto r = ro->open_reader();
    BOOST_REQUIRE(r);
    BOOST_TEST(conflicted(**r) == std::vector<std::string>{"also"});  // read without the index
  }
  BOOST_TEST(raw_int(path, "SELECT count(*) FROM sqlite_master WHERE name = 'docs_conflicted'") ==
             0);
  auto db = open_db(path);
  BOOST_TEST(raw_int(path, "SELECT count(*) FROM sqlite_master WHERE name = 'docs_conflicted'") ==
             1);
}
