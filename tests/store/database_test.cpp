#define BOOST_TEST_MODULE store_database
#include "store/database.hpp"

#include <libpq-fe.h>
#include <sqlite3.h>
#include <sys/stat.h>

#include <algorithm>
#include <boost/test/unit_test.hpp>
#include <fstream>

#include "backend.hpp"
#include "store/pg.hpp"
#include "store/rev_id.hpp"
#include "temp_dir.hpp"

using namespace peerlite;
using namespace peerlite::store;

namespace {

/// The database at `path`, or on PostgreSQL a fresh database standing for that file (tests
/// that reopen the same file are SQLite's own and skip themselves there).
std::unique_ptr<database> open_db(const std::string& path, options o = {}) {
  static temp_dir unused;
  auto db = database::open(test::on_postgresql() ? test::fresh_location(unused, "db") : path, o);
  BOOST_REQUIRE_MESSAGE(db, (db ? "" : db.err().message));
  return std::move(*db);
}

/// The database exactly at `where` (a path or a URL).
std::unique_ptr<database> open_at(const std::string& where, options o = {}) {
  auto db = database::open(where, o);
  BOOST_REQUIRE_MESSAGE(db, (db ? "" : db.err().message));
  return std::move(*db);
}

}  // namespace

BOOST_AUTO_TEST_CASE(put_get_and_sequences) {
  temp_dir dir;
  auto db = open_db(dir.file("a.db"));
  auto r1 = db->put("doc", R"({"b":2,"a":1})");
  BOOST_REQUIRE(r1);
  BOOST_TEST(*r1 == compute_rev_id("", false, R"({"a":1,"b":2})"));
  auto r2 = db->put("doc", R"({"a":2})");
  BOOST_REQUIRE(r2);
  BOOST_TEST(rev_generation(*r2) == 2u);
  BOOST_REQUIRE(db->put("other", "{}"));
  auto d = db->get("doc");
  BOOST_REQUIRE(d);
  BOOST_TEST(d->rev == *r2);
  BOOST_TEST(d->body == R"({"a":2})");
  BOOST_TEST(d->sequence == 2u);
  BOOST_TEST(*db->last_sequence() == 3u);
  BOOST_TEST((db->get("nope").err().code == errc::not_found));
  // The old revision's body is dropped once it has a child.
  BOOST_TEST((db->get("doc", *r1).err().code == errc::not_found));
  BOOST_TEST((db->get("doc", std::string("9-zz")).err().code == errc::not_found));
}

BOOST_AUTO_TEST_CASE(same_edit_on_two_databases_gives_the_same_rev) {
  temp_dir dir;
  auto a = open_db(dir.file("a.db"));
  auto b = open_db(":memory:");
  BOOST_TEST(*a->put("x", R"({"k":[1,2],"j":"s"})") == *b->put("x", R"({"j":"s","k":[1,2]})"));
  BOOST_TEST(*a->remove("x") == *b->remove("x"));
  BOOST_TEST(a->public_uuid() != b->public_uuid());
  BOOST_TEST(a->private_uuid().size() == 32u);
}

BOOST_AUTO_TEST_CASE(bad_bodies_are_refused) {
  auto db = open_db(":memory:");
  for (const char* bad : {"[1]", "{", "", "42", R"({"_id":"x"})", R"({"_rev":"1-a"})"}) {
    auto r = db->put("d", bad);
    BOOST_TEST((!r && r.err().code == errc::invalid_argument), bad);
  }
  BOOST_TEST((db->put("", "{}").err().code == errc::invalid_argument));
  BOOST_TEST(*db->last_sequence() == 0u);
}

BOOST_AUTO_TEST_CASE(fail_on_conflict_needs_the_current_parent) {
  auto db = open_db(":memory:");
  auto r1 = *db->put("d", R"({"v":1})");
  auto r2 = *db->put("d", R"({"v":2})", r1, concurrency::fail_on_conflict);
  auto stale = db->put("d", R"({"v":3})", r1, concurrency::fail_on_conflict);
  BOOST_TEST((stale.err().code == errc::conflict));
  BOOST_TEST((db->put("d", "{}", std::nullopt, concurrency::fail_on_conflict).err().code ==
              errc::conflict));
  BOOST_TEST((db->put("new", "{}", std::string("1-x"), concurrency::fail_on_conflict).err().code ==
              errc::conflict));
  // Last-write-wins saves on top of the current revision whatever parent it is given.
  auto r3 = db->put("d", R"({"v":3})", r1);
  BOOST_REQUIRE(r3);
  BOOST_TEST(rev_generation(*r3) == 3u);
  BOOST_TEST(db->get("d")->rev == *r3);
  (void)r2;
}

BOOST_AUTO_TEST_CASE(tombstones_stay_in_changes) {
  auto db = open_db(":memory:");
  db->put("a", "{}");
  db->put("b", "{}");
  auto del = db->remove("a");
  BOOST_REQUIRE(del);
  BOOST_TEST((db->remove("a").err().code == errc::not_found));
  BOOST_TEST((db->remove("zz").err().code == errc::not_found));
  auto d = db->get("a");
  BOOST_REQUIRE(d);
  BOOST_TEST(d->deleted);
  BOOST_TEST(d->rev == *del);
  auto ch = db->changes(0, 100);
  BOOST_REQUIRE(ch);
  BOOST_REQUIRE(ch->size() == 2u);  // one entry per document, its latest change
  BOOST_TEST((*ch)[0].id == "b");
  BOOST_TEST((*ch)[1].id == "a");
  BOOST_TEST((*ch)[1].deleted);
  BOOST_TEST((*ch)[1].sequence == 3u);
  BOOST_TEST(db->changes(2, 100)->size() == 1u);
  BOOST_TEST(db->changes(0, 1)->size() == 1u);
  auto live = db->list_documents();
  BOOST_REQUIRE(live->size() == 1u);
  BOOST_TEST(live->front().first == "b");
  // A new save on a tombstone resurrects the document, one generation later.
  auto back = db->put("a", R"({"back":true})", std::nullopt, concurrency::fail_on_conflict);
  BOOST_REQUIRE(back);
  BOOST_TEST(rev_generation(*back) == 3u);
}

BOOST_AUTO_TEST_CASE(changes_of_named_documents_match_the_filtered_feed) {
  auto db = open_db(":memory:");
  for (int i = 0; i < 20; ++i) db->put("d" + std::to_string(i), "{}");
  db->put("d3", R"({"v":2})");  // d3 moves to the end of the feed
  BOOST_REQUIRE(db->remove("d7"));
  std::vector<std::string> ids{"d7", "d3", "nope", "d3", "d12", "d0"};
  auto all = db->changes(0, 100);
  BOOST_REQUIRE(all);
  std::vector<store::change> want;
  for (auto& c : *all)
    if (std::find(ids.begin(), ids.end(), c.id) != ids.end()) want.push_back(c);
  auto got = db->changes_of(ids, 0, 100);
  BOOST_REQUIRE(got);
  BOOST_REQUIRE(got->size() == want.size());  // unknown skipped, duplicate once
  for (size_t i = 0; i < want.size(); ++i) {
    BOOST_TEST((*got)[i].id == want[i].id);
    BOOST_TEST((*got)[i].rev == want[i].rev);
    BOOST_TEST((*got)[i].sequence == want[i].sequence);
    BOOST_TEST((*got)[i].deleted == want[i].deleted);
  }
  BOOST_TEST((*got)[0].id == "d0");
  BOOST_TEST(got->back().id == "d7");
  BOOST_TEST(got->back().deleted);
  // since and limit as in changes(): after d0's sequence, the first two.
  auto later = db->changes_of(ids, (*got)[0].sequence, 2);
  BOOST_REQUIRE(later);
  BOOST_REQUIRE(later->size() == 2u);
  BOOST_TEST((*later)[0].id == "d12");
  BOOST_TEST((*later)[1].id == "d3");
}

BOOST_AUTO_TEST_CASE(purge_is_local_and_sequences_are_never_reused) {
  auto db = open_db(":memory:");
  db->put("a", "{}");
  db->put("b", "{}");
  BOOST_TEST(db->purge("b").ok());
  BOOST_TEST((db->purge("b").code() == errc::not_found));
  BOOST_TEST((db->get("b").err().code == errc::not_found));
  BOOST_TEST(db->changes(0, 10)->size() == 1u);
  db->put("c", "{}");
  BOOST_TEST(db->get("c")->sequence == 3u);
}

BOOST_AUTO_TEST_CASE(expiration_purges_due_documents) {
  auto db = open_db(":memory:");
  db->put("a", "{}");
  db->put("b", "{}");
  BOOST_TEST(db->set_expiration("a", 1000).ok());
  BOOST_TEST(db->set_expiration("b", 2000).ok());
  BOOST_TEST(db->set_expiration("b", 0).ok());  // cleared
  BOOST_TEST((db->set_expiration("zz", 5).code() == errc::not_found));
  BOOST_TEST(*db->get_expiration("a") == 1000);
  BOOST_TEST(*db->expire(999) == 0u);
  BOOST_TEST(*db->expire(1000) == 1u);
  BOOST_TEST(!db->get("a").has_value());
  BOOST_TEST(db->get("b").has_value());
}

BOOST_AUTO_TEST_CASE(checkpoints_use_revs_and_refuse_mismatches) {
  auto db = open_db(":memory:");
  BOOST_TEST((db->get_checkpoint(checkpoint_store::local, "cp-x").err().code == errc::not_found));
  auto r1 = db->set_checkpoint(checkpoint_store::peer, "cp-x", R"({"remote":5})", std::nullopt);
  BOOST_REQUIRE(r1);
  BOOST_TEST(*r1 == "1-cc");
  auto mismatch = db->set_checkpoint(checkpoint_store::peer, "cp-x", "{}", std::nullopt);
  BOOST_TEST((mismatch.err().code == errc::conflict));
  BOOST_TEST(
      (db->set_checkpoint(checkpoint_store::peer, "cp-x", "{}", std::string("7-cc")).err().code ==
       errc::conflict));
  BOOST_TEST(*db->set_checkpoint(checkpoint_store::peer, "cp-x", R"({"remote":9})", *r1) == "2-cc");
  auto cp = db->get_checkpoint(checkpoint_store::peer, "cp-x");
  BOOST_TEST(cp->rev == "2-cc");
  BOOST_TEST(cp->body == R"({"remote":9})");
  // The two stores are separate.
  BOOST_TEST(!db->get_checkpoint(checkpoint_store::local, "cp-x").has_value());
}

/// Runs one SQL command on a PostgreSQL database through libpq, as another program would.
void pg_command(const std::string& url, const std::string& sql) {
  PGconn* c = PQconnectdb(url.c_str());
  BOOST_REQUIRE_MESSAGE(PQstatus(c) == CONNECTION_OK, PQerrorMessage(c));
  PGresult* r = PQexec(c, sql.c_str());
  BOOST_CHECK_MESSAGE(PQresultStatus(r) == PGRES_COMMAND_OK, PQresultErrorMessage(r));
  PQclear(r);
  PQfinish(c);
}

BOOST_AUTO_TEST_CASE(files_that_are_not_peerlite_databases_are_refused_untouched) {
  temp_dir dir;
  if (test::on_postgresql()) {
    /// Another program's database, a newer peerlite schema, and no server at all.
    std::string other = test::fresh_location(dir, "other");
    pg_command(other, "CREATE TABLE t(x int)");
    auto r = database::open(other);
    BOOST_REQUIRE(!r);
    BOOST_TEST((r.err().code == errc::not_a_database));
    std::string mine = test::fresh_location(dir, "new");
    BOOST_REQUIRE(database::open(mine));
    pg_command(mine, "UPDATE meta SET value = '99' WHERE key = 'schema_version'");
    auto newer = database::open(mine);
    BOOST_REQUIRE(!newer);
    BOOST_TEST((newer.err().code == errc::not_a_database));
    BOOST_TEST(newer.err().message.find("newer") != std::string::npos);
    auto none = database::open("postgresql:///x?host=" + dir.path.string() + "&port=1");
    BOOST_REQUIRE(!none);
    BOOST_TEST((none.err().code == errc::io_error));
    BOOST_TEST(none.err().message.find("cannot connect") != std::string::npos, none.err().message);
    return;
  }
  { std::ofstream(dir.file("text")) << "hello, this is not a database at all, just some text\n"; }
  auto r = database::open(dir.file("text"));
  BOOST_TEST((r.err().code == errc::not_a_database));
  BOOST_TEST(std::filesystem::file_size(dir.file("text")) == 53u);
  BOOST_TEST((database::open(dir.path.string()).err().code == errc::io_error));
  // Another program's SQLite file.
  sqlite3* other = nullptr;
  sqlite3_open(dir.file("other.db").c_str(), &other);
  sqlite3_exec(other, "CREATE TABLE t(x)", nullptr, nullptr, nullptr);
  sqlite3_close(other);
  BOOST_TEST((database::open(dir.file("other.db")).err().code == errc::not_a_database));
  // A newer peerlite schema.
  { open_db(dir.file("new.db")); }
  sqlite3_open(dir.file("new.db").c_str(), &other);
  sqlite3_exec(other, "PRAGMA user_version = 99", nullptr, nullptr, nullptr);
  sqlite3_close(other);
  auto newer = database::open(dir.file("new.db"));
  BOOST_REQUIRE(!newer);
  BOOST_TEST((newer.err().code == errc::not_a_database));
  BOOST_TEST(newer.err().message.find("newer") != std::string::npos);
  BOOST_TEST((database::open(dir.file("missing.db"), {.create_if_missing = false}).err().code ==
              errc::not_found));
}

BOOST_AUTO_TEST_CASE(read_only_files_refuse_writes_but_read) {
  temp_dir dir;
  std::string path = test::fresh_location(dir, "ro");
  { open_at(path)->put("a", R"({"x":1})"); }
  /// A file nobody may write opens read-only; a PostgreSQL database when asked to.
  options o;
  if (test::on_postgresql())
    o.read_only = true;
  else
    ::chmod(path.c_str(), 0444);
  auto db = open_at(path, o);
  BOOST_TEST(db->is_read_only());
  BOOST_TEST(db->get("a")->body == R"({"x":1})");
  BOOST_TEST((db->put("b", "{}").err().code == errc::read_only));
  BOOST_TEST(*db->last_sequence() == 1u);
}

BOOST_AUTO_TEST_CASE(reopen_keeps_everything) {
  temp_dir dir;
  std::string uuid, rev, where = test::fresh_location(dir, "a");
  {
    auto db = open_at(where);
    rev = *db->put("a", R"({"x":1})");
    uuid = db->public_uuid();
  }
  auto db = open_at(where);
  BOOST_TEST(db->public_uuid() == uuid);
  BOOST_TEST(db->get("a")->rev == rev);
  BOOST_TEST(*db->last_sequence() == 1u);
}

BOOST_AUTO_TEST_CASE(in_transaction_commits_or_rolls_back_together) {
  auto db = open_db(":memory:");
  auto st = db->in_transaction([&]() -> status {
    db->put("a", "{}");
    db->put("b", "{}");
    return error{errc::io_error, "changed my mind"};
  });
  BOOST_TEST(!st.ok());
  BOOST_TEST(!db->get("a").has_value());
  BOOST_TEST(*db->last_sequence() == 0u);
  BOOST_TEST(db->in_transaction([&]() -> status { return db->put("a", "{}").to_status(); }).ok());
  BOOST_TEST(db->get("a").has_value());
}

BOOST_AUTO_TEST_CASE(postgresql_urls_lose_their_passwords_in_messages) {
  BOOST_TEST(redact_pg_url("postgresql://hub:secret@db.example/sync") ==
             "postgresql://hub@db.example/sync");
  BOOST_TEST(redact_pg_url("postgresql:///sync?host=/run/pg&password=secret&port=5432") ==
             "postgresql:///sync?host=/run/pg&port=5432");
  BOOST_TEST(redact_pg_url("postgresql:///sync?password=secret") == "postgresql:///sync");
  BOOST_TEST(redact_pg_url("postgresql:///sync?port=1&password=secret") ==
             "postgresql:///sync?port=1");
  BOOST_TEST(redact_pg_url("postgres://h/db") == "postgres://h/db");
  BOOST_TEST(is_pg_url("postgres://h/db"));
  BOOST_TEST(!is_pg_url("/var/lib/hub.sqlite"));
}
