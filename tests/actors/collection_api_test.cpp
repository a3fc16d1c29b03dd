// The public collection API (include/peerlite/collection.hpp): database::create_collection /
// get_collection / collections / delete_collection / default_collection and the document
// calls of a collection handle, each collection with its own documents and sequences.
#define BOOST_TEST_MODULE collection_api
#include <boost/test/unit_test.hpp>

#include <atomic>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "actors/database_core.hpp"
#include "actors/store_types.hpp"
#include "actors/type_ids.hpp"
#include "actors/tuning.hpp"
#include "peerlite/collection.hpp"
#include "peerlite/database.hpp"
#include "tests/store/backend.hpp"

using namespace peerlite;

namespace {

/// A fresh temporary directory, removed at the end, where path(name) is a database: a file
/// in it, or on PostgreSQL runs one database per name (tests/store/backend.hpp).
struct temp_place {
  std::filesystem::path dir;
  temp_place() {
    static std::atomic<int> counter{0};
    dir = std::filesystem::temp_directory_path() /
          ("peerlite-capi-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
    std::filesystem::create_directories(dir);
  }
  ~temp_place() {
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }
  std::string path(const std::string& name = "db") const {
    return test::location_for((dir / (name + ".sqlite")).string());
  }
};

database open_db(const std::string& path) {
  auto d = database::open(path);
  BOOST_REQUIRE_MESSAGE(d.has_value(), (d ? std::string() : d.err().message));
  return *d;
}

template <class T>
T must(expected<T> r, const char* what) {
  BOOST_REQUIRE_MESSAGE(r.has_value(), what << ": " << (r ? std::string() : r.err().message));
  return std::move(*r);
}

template <class T>
errc code_of(const expected<T>& r) {
  return r ? errc::ok : r.err().code;
}
errc code_of(const status& s) { return s.code(); }

std::vector<std::string> names_of(const std::vector<collection>& cs) {
  std::vector<std::string> out;
  for (auto& c : cs) out.push_back(c.full_name());
  return out;
}

std::vector<std::string> ids_of(const std::vector<change_entry>& cs) {
  std::vector<std::string> out;
  for (auto& c : cs) out.push_back(c.id);
  return out;
}

/// Peer revisions written to collection `coll` through the db actor, as a puller writes them
/// (conflicts allowed): the way to make a conflict without a replication.
std::vector<store::insert_result> insert(const database& db, store::collection_id coll,
                                         std::vector<store::incoming_revision> revs) {
  auto& core = db.core();
  caf::scoped_actor self{*core->sys};
  std::vector<store::insert_result> out;
  bool ok = false;
  std::string err;
  self->request(core->writer, caf::infinite, actors::insert_atom::value, std::move(revs), true,
                uint64_t{0}, coll)
      .receive(
          [&](std::vector<store::insert_result>& r) {
            out = std::move(r);
            ok = true;
          },
          [&](caf::error& e) { err = to_string(e); });
  BOOST_REQUIRE_MESSAGE(ok, "insert: " << err);
  return out;
}

store::incoming_revision rev(std::string id, std::string r, std::vector<std::string> history,
                             std::string body) {
  store::incoming_revision x;
  x.id = std::move(id);
  x.rev = std::move(r);
  x.history = std::move(history);
  x.body = std::move(body);
  return x;
}

}  // namespace

BOOST_AUTO_TEST_CASE(create_get_list_delete) {
  temp_place t;
  auto db = open_db(t.path());

  auto all = must(db.collections(), "collections");
  BOOST_TEST(names_of(all) == std::vector<std::string>{"_default._default"});
  BOOST_TEST(all[0].id() == 0);

  auto users = must(db.create_collection("inv.users"), "create inv.users");
  BOOST_TEST(users.scope() == "inv");
  BOOST_TEST(users.name() == "users");
  BOOST_TEST(users.full_name() == "inv.users");
  BOOST_TEST(users.id() != 0);
  BOOST_TEST(users.db().path() == db.path());

  auto things = must(db.create_collection("things"), "create things");
  BOOST_TEST(things.scope() == "_default");
  BOOST_TEST(things.name() == "things");
  BOOST_TEST(things.full_name() == "_default.things");
  BOOST_TEST(things.id() != users.id());

  /// Creating an existing collection returns it (and keeps its documents).
  BOOST_REQUIRE(users.put("u1", R"({"n":1})"));
  auto again = must(db.create_collection("inv.users"), "create inv.users again");
  BOOST_TEST((again == users));
  BOOST_TEST(again.get("u1").has_value());
  BOOST_TEST((must(db.create_collection("_default.things"), "create things again") == things));

  BOOST_TEST((must(db.get_collection("inv.users"), "get inv.users") == users));
  BOOST_TEST((must(db.get_collection("things"), "get things") == things));
  BOOST_TEST((must(db.get_collection("_default.things"), "get _default.things") == things));
  BOOST_TEST(must(db.get_collection("_default.things"), "get").full_name() == "_default.things");
  BOOST_TEST((code_of(db.get_collection("inv.absent")) == errc::not_found));
  BOOST_TEST((code_of(db.get_collection("Inv.users")) == errc::not_found));  // case matters

  all = must(db.collections(), "collections");
  BOOST_TEST(names_of(all) ==
                 (std::vector<std::string>{"_default._default", "inv.users", "_default.things"}),
             boost::test_tools::per_element());
  BOOST_TEST((all[1] == users));
  BOOST_TEST((all[2] == things));

  /// A pooled reader keeps the collection it last read selected: the next read of the deleted
  /// collection must still be not_found (not an error about a dropped table).
  BOOST_REQUIRE(users.get("u1").has_value());
  BOOST_REQUIRE(db.delete_collection("inv.users").ok());
  BOOST_TEST((code_of(users.get("u1")) == errc::not_found));
  BOOST_TEST((code_of(users.changes(0)) == errc::not_found));
  BOOST_TEST((code_of(users.document_count()) == errc::not_found));
  BOOST_TEST((code_of(users.last_sequence()) == errc::not_found));
  BOOST_TEST((code_of(users.conflicts("u1")) == errc::not_found));
  BOOST_TEST((code_of(users.put("u2", "{}")) == errc::not_found));
  BOOST_TEST((code_of(users.remove("u1")) == errc::not_found));
  BOOST_TEST((code_of(users.purge("u1")) == errc::not_found));
  BOOST_TEST((code_of(db.get_collection("inv.users")) == errc::not_found));
  BOOST_TEST((db.delete_collection("inv.users").code() == errc::not_found));
  BOOST_TEST(names_of(must(db.collections(), "collections")) ==
                 (std::vector<std::string>{"_default._default", "_default.things"}),
             boost::test_tools::per_element());

  /// The same name again is a new, empty collection; the old handle stays dead.
  auto users2 = must(db.create_collection("inv.users"), "create inv.users anew");
  BOOST_TEST(users2.id() != users.id());
  BOOST_TEST(!(users2 == users));
  BOOST_TEST(*users2.document_count() == 0u);
  BOOST_TEST(*users2.last_sequence() == 0u);
  BOOST_TEST((code_of(users2.get("u1")) == errc::not_found));
  BOOST_TEST((code_of(users.get("u1")) == errc::not_found));
  BOOST_TEST((code_of(users.put("u3", "{}")) == errc::not_found));
  BOOST_TEST(*users2.document_count() == 0u);

  /// The other collections are untouched.
  BOOST_TEST(*things.document_count() == 0u);
  BOOST_TEST(*db.document_count() == 0u);
}

BOOST_AUTO_TEST_CASE(name_validation) {
  temp_place t;
  auto db = open_db(t.path());
  for (const char* bad : {"", "no spaces", "a.b.c", "_x", "%x", "s._default", "s.", ".c", "s.c!",
                          "x/y"}) {
    BOOST_TEST_CONTEXT("name \"" << bad << "\"") {
      BOOST_TEST((code_of(db.create_collection(bad)) == errc::invalid_argument));
      BOOST_TEST((code_of(db.get_collection(bad)) == errc::invalid_argument));
      BOOST_TEST((db.delete_collection(bad).code() == errc::invalid_argument));
    }
  }
  /// The message says what is allowed.
  auto e = db.create_collection("no spaces");
  BOOST_REQUIRE(!e);
  BOOST_TEST(e.err().message.find("no spaces") != std::string::npos);

  std::string longest(251, 'x'), too_long(252, 'x');
  BOOST_TEST(db.create_collection("s." + longest).has_value());
  BOOST_TEST((code_of(db.create_collection("s." + too_long)) == errc::invalid_argument));
  for (const char* good : {"a-b_c%d", "S1.C_2", "_default.x%", "0.9"})
    BOOST_TEST_CONTEXT(good) { BOOST_TEST(db.create_collection(good).has_value()); }

  /// The default collection: found under both names, never deleted.
  auto d1 = must(db.get_collection("_default"), "get _default");
  auto d2 = must(db.create_collection("_default._default"), "create _default._default");
  BOOST_TEST((d1 == db.default_collection()));
  BOOST_TEST((d2 == db.default_collection()));
  BOOST_TEST(d1.full_name() == "_default._default");
  BOOST_TEST((db.delete_collection("_default").code() == errc::invalid_argument));
  BOOST_TEST((db.delete_collection("_default._default").code() == errc::invalid_argument));
  BOOST_TEST((db.delete_collection("nope").code() == errc::not_found));

  /// Empty handles fail cleanly.
  database none;
  BOOST_TEST((code_of(none.create_collection("a")) == errc::invalid_argument));
  BOOST_TEST((code_of(none.get_collection("a")) == errc::invalid_argument));
  BOOST_TEST((code_of(none.collections()) == errc::invalid_argument));
  BOOST_TEST((none.delete_collection("a").code() == errc::invalid_argument));
  BOOST_TEST(!none.default_collection());
  collection empty;
  BOOST_TEST(!empty);
  BOOST_TEST((code_of(empty.put("a", "{}")) == errc::invalid_argument));
  BOOST_TEST((code_of(empty.get("a")) == errc::invalid_argument));
  BOOST_TEST((code_of(empty.remove("a")) == errc::invalid_argument));
  BOOST_TEST((empty.purge("a").code() == errc::invalid_argument));
  BOOST_TEST((code_of(empty.changes(0)) == errc::invalid_argument));
  BOOST_TEST((code_of(empty.conflicts("a")) == errc::invalid_argument));
  BOOST_TEST((code_of(empty.document_count()) == errc::invalid_argument));
  BOOST_TEST((code_of(empty.last_sequence()) == errc::invalid_argument));
}

BOOST_AUTO_TEST_CASE(same_id_in_two_collections_is_independent) {
  temp_place t;
  auto db = open_db(t.path());
  auto a = must(db.create_collection("s.a"), "create s.a");
  auto b = must(db.create_collection("s.b"), "create s.b");

  auto rd = must(db.put("doc", R"({"in":"default"})"), "put default");
  auto ra = must(a.put("doc", R"({"in":"a"})"), "put a");
  auto rb = must(b.put("doc", R"({"in":"b"})"), "put b");
  BOOST_TEST(ra != rb);

  /// Sequences start at 1 in every collection.
  auto da = must(a.get("doc"), "get a");
  auto db_ = must(b.get("doc"), "get b");
  auto dd = must(db.get("doc"), "get default");
  BOOST_TEST(da.body == R"({"in":"a"})");
  BOOST_TEST(db_.body == R"({"in":"b"})");
  BOOST_TEST(dd.body == R"({"in":"default"})");
  BOOST_TEST(da.rev == ra);
  BOOST_TEST(db_.rev == rb);
  BOOST_TEST(dd.rev == rd);
  BOOST_TEST(da.sequence == 1u);
  BOOST_TEST(db_.sequence == 1u);
  BOOST_TEST(dd.sequence == 1u);
  BOOST_TEST(*a.last_sequence() == 1u);
  BOOST_TEST(*b.last_sequence() == 1u);
  BOOST_TEST(*db.last_sequence() == 1u);

  /// The same body in two collections: the same revID (it hashes body and parent), two docs.
  auto same_a = must(a.put("twin", R"({"x":1})"), "twin a");
  auto same_b = must(b.put("twin", R"({"x":1})"), "twin b");
  BOOST_TEST(same_a == same_b);
  BOOST_TEST(*a.last_sequence() == 2u);
  BOOST_TEST(*b.last_sequence() == 2u);
  BOOST_TEST(*db.last_sequence() == 1u);
  BOOST_TEST((code_of(db.get("twin")) == errc::not_found));

  /// Updating in a moves only a.
  auto ra2 = must(a.put("doc", R"({"in":"a","v":2})"), "update a");
  BOOST_TEST(ra2.substr(0, 2) == "2-");
  BOOST_TEST(*a.last_sequence() == 3u);
  BOOST_TEST(*b.last_sequence() == 2u);
  BOOST_TEST(must(b.get("doc"), "get b").rev == rb);

  /// fail_on_conflict checks the parent within the collection.
  BOOST_TEST((code_of(b.put("doc", R"({"v":3})", concurrency_control::fail_on_conflict, ra2)) ==
              errc::conflict));
  BOOST_TEST((code_of(b.put("doc", R"({"v":3})", concurrency_control::fail_on_conflict)) ==
              errc::conflict));
  auto rb2 = must(b.put("doc", R"({"v":3})", concurrency_control::fail_on_conflict, rb),
                  "put b with parent");
  BOOST_TEST(must(b.get("doc"), "get b").rev == rb2);
  BOOST_TEST(must(b.put("fresh", "{}", concurrency_control::fail_on_conflict), "new doc in b")
                 .substr(0, 2) == "1-");
  BOOST_TEST((code_of(a.put("fresh", "[]")) == errc::invalid_argument));
  BOOST_TEST((code_of(a.put("", "{}")) == errc::invalid_argument));

  /// An old revision by its revID, per collection.
  BOOST_TEST(must(a.get("doc", ra2), "get a rev").body == R"({"in":"a","v":2})");
  BOOST_TEST((code_of(a.get("doc", rb2)) == errc::not_found));

  /// Removing in b leaves a alone; a deleted doc is not_found without a rev, found with it.
  auto tomb = must(b.remove("doc"), "remove b");
  BOOST_TEST((code_of(b.get("doc")) == errc::not_found));
  auto gone = must(b.get("doc", tomb), "get b tombstone");
  BOOST_TEST(gone.deleted);
  BOOST_TEST((code_of(b.remove("doc")) == errc::not_found));
  BOOST_TEST((code_of(b.remove("never")) == errc::not_found));
  BOOST_TEST(must(a.get("doc"), "get a").rev == ra2);
  BOOST_TEST(must(db.get("doc"), "get default").rev == rd);

  BOOST_TEST(*a.document_count() == 2u);
  BOOST_TEST(*b.document_count() == 2u);  // twin, fresh
  BOOST_TEST(*db.document_count() == 1u);
}

BOOST_AUTO_TEST_CASE(changes_per_collection) {
  temp_place t;
  auto db = open_db(t.path());
  auto a = must(db.create_collection("s.a"), "create s.a");
  auto b = must(db.create_collection("s.b"), "create s.b");
  BOOST_REQUIRE(db.put("d1", "{}"));
  for (auto id : {"x1", "x2", "x3"}) BOOST_REQUIRE(a.put(id, "{}"));
  BOOST_REQUIRE(b.put("y1", "{}"));
  BOOST_REQUIRE(a.remove("x2"));
  BOOST_REQUIRE(db.put("d2", "{}"));

  auto ca = must(a.changes(0), "changes a");
  BOOST_TEST(ids_of(ca) == (std::vector<std::string>{"x1", "x3", "x2"}),
             boost::test_tools::per_element());
  BOOST_REQUIRE(ca.size() == 3u);
  BOOST_TEST(ca[0].sequence == 1u);
  BOOST_TEST(ca[1].sequence == 3u);
  BOOST_TEST(ca[2].sequence == 4u);
  BOOST_TEST(ca[2].deleted);
  BOOST_TEST(!ca[0].deleted);

  auto cb = must(b.changes(0), "changes b");
  BOOST_REQUIRE(cb.size() == 1u);
  BOOST_TEST(cb[0].id == "y1");
  BOOST_TEST(cb[0].sequence == 1u);

  BOOST_TEST(ids_of(must(db.changes(0), "changes default")) ==
                 (std::vector<std::string>{"d1", "d2"}),
             boost::test_tools::per_element());
  BOOST_TEST(ids_of(must(db.default_collection().changes(0), "changes default coll")) ==
                 (std::vector<std::string>{"d1", "d2"}),
             boost::test_tools::per_element());

  /// since and limit.
  BOOST_TEST(ids_of(must(a.changes(1), "since 1")) == (std::vector<std::string>{"x3", "x2"}),
             boost::test_tools::per_element());
  BOOST_TEST(ids_of(must(a.changes(0, 1), "limit 1")) == (std::vector<std::string>{"x1"}),
             boost::test_tools::per_element());
  BOOST_TEST(must(a.changes(4), "since last").empty());
  BOOST_TEST(*a.document_count() == 2u);
  BOOST_TEST(*a.last_sequence() == 4u);
}

BOOST_AUTO_TEST_CASE(delete_removes_documents) {
  temp_place t;
  auto db = open_db(t.path());
  auto c = must(db.create_collection("s.c"), "create s.c");
  for (int i = 0; i < 20; ++i) BOOST_REQUIRE(c.put("doc" + std::to_string(i), R"({"i":1})"));
  BOOST_REQUIRE(db.put("doc0", R"({"kept":true})"));
  BOOST_TEST(*c.document_count() == 20u);
  BOOST_REQUIRE(db.delete_collection("s.c").ok());

  auto again = must(db.create_collection("s.c"), "recreate s.c");
  BOOST_TEST(*again.document_count() == 0u);
  BOOST_TEST(*again.last_sequence() == 0u);
  BOOST_TEST(must(again.changes(0), "changes").empty());
  BOOST_TEST((code_of(again.get("doc0")) == errc::not_found));
  /// Its sequences start again at 1.
  BOOST_REQUIRE(again.put("doc0", "{}"));
  BOOST_TEST(must(again.get("doc0"), "get").sequence == 1u);
  /// The default collection's document of the same id is untouched.
  BOOST_TEST(must(db.get("doc0"), "default doc0").body == R"({"kept":true})");
}

BOOST_AUTO_TEST_CASE(default_collection_is_the_database) {
  temp_place t;
  auto db = open_db(t.path());
  auto dc = db.default_collection();
  BOOST_TEST(static_cast<bool>(dc));
  BOOST_TEST(dc.full_name() == "_default._default");
  BOOST_TEST(dc.scope() == "_default");
  BOOST_TEST(dc.name() == "_default");
  BOOST_TEST(dc.id() == 0);
  BOOST_TEST((dc == must(db.get_collection("_default"), "get _default")));
  BOOST_TEST((dc == must(db.collections(), "collections").front()));
  BOOST_TEST(dc.db().path() == db.path());
  BOOST_TEST((dc.db().core() == db.core()));

  auto r1 = must(dc.put("a", R"({"v":1})"), "put via collection");
  BOOST_TEST(must(db.get("a"), "get via db").rev == r1);
  auto r2 = must(db.put("b", R"({"v":2})"), "put via db");
  BOOST_TEST(must(dc.get("b"), "get via collection").rev == r2);
  BOOST_TEST(*dc.document_count() == *db.document_count());
  BOOST_TEST(*dc.last_sequence() == *db.last_sequence());
  BOOST_TEST(*dc.last_sequence() == 2u);
  auto via_db = must(db.changes(0), "db changes");
  auto via_dc = must(dc.changes(0), "collection changes");
  BOOST_REQUIRE(via_db.size() == via_dc.size());
  for (size_t i = 0; i < via_db.size(); ++i) {
    BOOST_TEST(via_db[i].id == via_dc[i].id);
    BOOST_TEST(via_db[i].rev == via_dc[i].rev);
    BOOST_TEST(via_db[i].sequence == via_dc[i].sequence);
  }
  BOOST_TEST(must(dc.conflicts("a"), "conflicts").size() == 1u);

  BOOST_REQUIRE(db.remove("a"));
  BOOST_TEST((code_of(dc.get("a")) == errc::not_found));
  BOOST_REQUIRE(dc.purge("b").ok());
  BOOST_TEST((code_of(db.get("b")) == errc::not_found));
  BOOST_TEST((db.purge("b").code() == errc::not_found));
  BOOST_TEST(*db.document_count() == 0u);

  /// A listener on the database hears writes made through the default collection handle.
  std::atomic<int> heard{0};
  auto token = db.add_change_listener([&](const std::vector<change_entry>& cs) {
    for (auto& c : cs)
      if (c.id == "heard") ++heard;
  });
  BOOST_REQUIRE(dc.put("heard", "{}"));
  for (int i = 0; i < 200 && heard == 0; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  BOOST_TEST(heard.load() == 1);
}

BOOST_AUTO_TEST_CASE(handles_outlive_database_handle_and_reopen) {
  temp_place t;
  std::string path = t.path();
  collection kept;
  {
    auto db = open_db(path);
    auto c = must(db.create_collection("app.notes"), "create");
    BOOST_REQUIRE(c.put("n1", R"({"t":"one"})"));
    BOOST_REQUIRE(c.put("n2", R"({"t":"two"})"));
    kept = c;
  }
  /// The collection handle keeps the database open.
  BOOST_TEST(must(kept.get("n1"), "get through kept handle").body == R"({"t":"one"})");
  BOOST_REQUIRE(kept.put("n3", "{}"));
  BOOST_TEST(*kept.last_sequence() == 3u);
  BOOST_TEST(kept.db().path() == path);
  BOOST_TEST(names_of(must(kept.db().collections(), "collections")) ==
                 (std::vector<std::string>{"_default._default", "app.notes"}),
             boost::test_tools::per_element());
  kept = collection{};

  /// Reopened: the collection, its documents and its sequence counter are in the file.
  auto db = open_db(path);
  auto c = must(db.get_collection("app.notes"), "get after reopen");
  BOOST_TEST(*c.document_count() == 3u);
  BOOST_TEST(must(c.get("n2"), "n2").body == R"({"t":"two"})");
  BOOST_REQUIRE(c.put("n4", "{}"));
  BOOST_TEST(must(c.get("n4"), "n4").sequence == 4u);
  BOOST_TEST(*db.last_sequence() == 0u);
  BOOST_TEST(ids_of(must(c.changes(2), "changes")) == (std::vector<std::string>{"n3", "n4"}),
             boost::test_tools::per_element());

  /// A second, concurrent open of the same file sees the same collection.
  auto other = open_db(path);
  auto c2 = must(other.get_collection("app.notes"), "get from second open");
  BOOST_TEST(c2.id() == c.id());
  BOOST_TEST(!(c2 == c));  // another open database
  BOOST_TEST(*c2.document_count() == 4u);
}

BOOST_AUTO_TEST_CASE(conflicts_and_purge_per_collection) {
  temp_place t;
  auto db = open_db(t.path());
  auto a = must(db.create_collection("s.a"), "create s.a");
  auto b = must(db.create_collection("s.b"), "create s.b");

  /// Two branches of "c" in a: 1-aa, then 2-bb and 2-cc on top of it.
  auto res = insert(db, a.id(),
                    {rev("c", "1-aa", {}, R"({"v":1})"), rev("c", "2-bb", {"1-aa"}, R"({"v":"b"})"),
                     rev("c", "2-cc", {"1-aa"}, R"({"v":"c"})")});
  BOOST_REQUIRE(res.size() == 3u);
  BOOST_TEST((res[2].outcome == store::insert_outcome::conflict));
  BOOST_REQUIRE(b.put("c", R"({"in":"b"})"));

  auto ca = must(a.conflicts("c"), "conflicts a");
  BOOST_REQUIRE(ca.size() == 2u);
  /// Current: 2-bb, which was current when 2-cc arrived on a conflict branch (rev_tree.hpp).
  BOOST_TEST(ca[0].rev == "2-bb");
  BOOST_TEST(ca[0].body == R"({"v":"b"})");
  BOOST_TEST(ca[1].rev == "2-cc");
  BOOST_TEST(ca[1].body == R"({"v":"c"})");
  BOOST_TEST(must(a.get("c"), "get a").rev == "2-bb");
  BOOST_TEST(*a.last_sequence() == 3u);

  auto cb = must(b.conflicts("c"), "conflicts b");
  BOOST_REQUIRE(cb.size() == 1u);
  BOOST_TEST(cb[0].body == R"({"in":"b"})");
  BOOST_TEST((code_of(db.conflicts("c")) == errc::not_found));
  BOOST_TEST((code_of(a.conflicts("nope")) == errc::not_found));

  /// Purge in a: gone there (documents, conflicts, changes), b untouched.
  BOOST_REQUIRE(a.purge("c").ok());
  BOOST_TEST((code_of(a.get("c")) == errc::not_found));
  BOOST_TEST((code_of(a.get("c", "2-bb")) == errc::not_found));
  BOOST_TEST((code_of(a.conflicts("c")) == errc::not_found));
  BOOST_TEST(must(a.changes(0), "changes a").empty());
  BOOST_TEST(*a.last_sequence() == 3u);  // never decreases
  BOOST_TEST((a.purge("c").code() == errc::not_found));
  BOOST_TEST(must(b.get("c"), "b still").body == R"({"in":"b"})");
  BOOST_TEST((b.purge("nope").code() == errc::not_found));
  BOOST_TEST((db.purge("c").code() == errc::not_found));
  BOOST_TEST(*b.document_count() == 1u);

  /// A purge in b of a tombstoned doc works too.
  BOOST_REQUIRE(b.remove("c"));
  BOOST_REQUIRE(b.purge("c").ok());
  BOOST_TEST(must(b.changes(0), "changes b").empty());
}

BOOST_AUTO_TEST_CASE(concurrent_writers_on_two_collections) {
  temp_place t;
  auto db = open_db(t.path());
  auto a = must(db.create_collection("s.a"), "create s.a");
  auto b = must(db.create_collection("s.b"), "create s.b");
  constexpr int kPerThread = 50;
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int w = 0; w < 4; ++w) {
    threads.emplace_back([&, w] {
      collection c = w % 2 == 0 ? a : b;
      for (int i = 0; i < kPerThread; ++i) {
        std::string id = std::to_string(w);  // (not "w" + ...: GCC 12 -Wrestrict false alarm)
        id += '-';
        id += std::to_string(i);
        if (!c.put(id, "{}")) ++failures;
        if (!c.get(id)) ++failures;
      }
    });
  }
  for (auto& th : threads) th.join();
  BOOST_TEST(failures.load() == 0);
  BOOST_TEST(*a.document_count() == uint64_t{2 * kPerThread});
  BOOST_TEST(*b.document_count() == uint64_t{2 * kPerThread});
  BOOST_TEST(*a.last_sequence() == uint64_t{2 * kPerThread});
  BOOST_TEST(*b.last_sequence() == uint64_t{2 * kPerThread});
  BOOST_TEST(*db.document_count() == 0u);
}
