#define BOOST_TEST_MODULE store_blob_store
// Blobs in the store: digests, finding blob references in bodies, storing and streaming blobs,
// and compact() keeping exactly the blobs some kept revision (of any collection) references.
#include <sqlite3.h>

#include <boost/test/unit_test.hpp>
#include <algorithm>
#include <cstring>
#include <random>
#include <set>

#include "store/database.hpp"
#include "backend.hpp"
#include "temp_dir.hpp"

using namespace peerlite;
using namespace peerlite::store;

namespace peerlite {
inline std::ostream& operator<<(std::ostream& os, errc c) { return os << static_cast<int>(c); }
}  // namespace peerlite

namespace {

std::unique_ptr<database> open_db(const std::string& path, options o = {}) {
  auto db = database::open(test::location_for(path), o);
  BOOST_REQUIRE_MESSAGE(db, (db ? "" : db.err().message));
  return std::move(*db);
}

/// One integer from the file through a separate raw SQLite handle.
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

/// `n` pseudo-random (incompressible, reproducible) bytes.
std::string random_bytes(size_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::string out(n, '\0');
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    uint64_t v = rng();
    std::memcpy(out.data() + i, &v, 8);
  }
  for (; i < n; ++i) out[i] = static_cast<char>(rng());
  return out;
}

std::string put_blob(database& db, std::string_view data, const std::string& type = {}) {
  auto d = db.put_blob(data, type);
  BOOST_REQUIRE_MESSAGE(d, (d ? "" : d.err().message));
  return *d;
}

/// A body referencing `digest` (of `len` bytes) under "file".
std::string body_with(const std::string& digest, size_t len, const std::string& extra = "1") {
  return R"({"x":)" + extra + R"(,"file":{"@type":"blob","digest":")" + digest +
         R"(","length":)" + std::to_string(len) + "}}";
}

bool has_blob(reader& r, const std::string& digest) {
  auto b = r.blob(digest);
  if (!b) BOOST_TEST((b.err().code == errc::not_found), b.err().message);
  return b.has_value();
}

incoming_revision rev(std::string id, std::string r, std::vector<std::string> history,
                      std::string body) {
  return {std::move(id), std::move(r), std::move(history), std::move(body), false};
}

}  // namespace

BOOST_AUTO_TEST_CASE(blob_digest_of_known_inputs) {
  /// SHA-1 test vectors (FIPS 180 / RFC 3174), base64 of the 20-byte digest.
  BOOST_TEST(blob_digest("") == "sha1-2jmj7l5rSw0yVb/vlWAYkK/YBwk=");
  BOOST_TEST(blob_digest("abc") == "sha1-qZk+NkcGgWq6PiVxeFDCbJzQ2J0=");
  BOOST_TEST(blob_digest("The quick brown fox jumps over the lazy dog") ==
             "sha1-L9ThxnotKPzthJ7hu3bnORuT6xI=");
  BOOST_TEST(blob_digest(std::string(1000000, 'a')) == "sha1-NKqXPNTE2qT2Husr260nMWU0AW8=");
  /// Binary data with NULs is hashed whole, not up to the first NUL.
  std::string nul("a\0b", 3);
  BOOST_TEST(blob_digest(nul) != blob_digest("a"));
  BOOST_TEST(blob_digest(nul).size() == 5u + 28u);
}

BOOST_AUTO_TEST_CASE(find_blobs_walks_dicts_arrays_and_attachments) {
  std::string body = R"({
    "a": {"@type":"blob","content_type":"text/plain","digest":"sha1-A","length":3},
    "list": [1, {"@type":"blob","digest":"sha1-B","length":5},
             [{"x": {"@type":"blob","digest":"sha1-C"}}]],
    "no_digest": {"@type":"blob","length":4},
    "digest_not_a_string": {"@type":"blob","digest":42},
    "not_a_blob": {"digest":"sha1-N","length":1},
    "outer": {"@type":"blob","digest":"sha1-O","inner":{"@type":"blob","digest":"sha1-I"}},
    "we/ir~d": {"@type":"blob","digest":"sha1-W","length":-1},
    "_attachments": {"f.txt": {"digest":"sha1-F","length":7,"content_type":"text/plain"},
                     "bad": {"length":1}},
    "deep": {"_attachments": {"g": {"@type":"blob","digest":"sha1-G"}}}
  })";
  auto refs = find_blobs(body);
  std::vector<std::string> got;
  for (auto& r : refs) got.push_back(r.path + " " + r.digest);
  std::vector<std::string> want{"/a sha1-A",          "/list/1 sha1-B",
                                "/list/2/0/x sha1-C", "/outer sha1-O",
                                "/we~1ir~0d sha1-W",  "_attachments/f.txt sha1-F",
                                "/deep/_attachments/g sha1-G"};
  BOOST_TEST(got == want, boost::test_tools::per_element());
  BOOST_REQUIRE_EQUAL(refs.size(), 7u);
  BOOST_TEST(refs[0].length == 3u);
  BOOST_TEST(refs[0].content_type == "text/plain");
  BOOST_TEST(refs[1].length == 5u);
  BOOST_TEST(refs[1].content_type == "");
  BOOST_TEST(refs[2].length == 0u);  // no length given
  BOOST_TEST(refs[4].length == 0u);  // a negative length is no length
  BOOST_TEST(refs[5].length == 7u);
  BOOST_TEST(refs[5].content_type == "text/plain");

  /// Bodies that reference nothing.
  BOOST_TEST(find_blobs(R"({"a":1,"b":[{"c":"d"}]})").empty());
  BOOST_TEST(find_blobs(R"({"digest":"sha1-top"})").empty());  // the root is not a blob dict
  BOOST_TEST(find_blobs(R"({"a":{"@type":"blob","digest":)").empty());  // invalid JSON
  BOOST_TEST(find_blobs(R"([{"@type":"blob","digest":"sha1-X"}])").empty());  // not an object
  BOOST_TEST(find_blobs("").empty());
  /// A length too big for 32 bits survives.
  auto big = find_blobs(R"({"v":{"@type":"blob","digest":"sha1-V","length":21474836480}})");
  BOOST_REQUIRE_EQUAL(big.size(), 1u);
  BOOST_TEST(big[0].length == 21474836480ull);
}

BOOST_AUTO_TEST_CASE(put_blob_checks_the_expected_digest_and_is_idempotent) {
  temp_dir dir;
  auto path = dir.file("b.db");
  auto db = open_db(path);
  std::string data = "hello blob";
  std::string digest = blob_digest(data);

  auto wrong = db->put_blob(data, "text/plain", blob_digest("something else"));
  BOOST_REQUIRE(!wrong);
  BOOST_TEST((wrong.err().code == errc::invalid_argument), wrong.err().message);
  BOOST_TEST(!has_blob(*db, digest));
  BOOST_TEST(raw_int(path, "SELECT count(*) FROM blobs") == 0);

  auto right = db->put_blob(data, "text/plain", digest);
  BOOST_REQUIRE_MESSAGE(right, (right ? "" : right.err().message));
  BOOST_TEST(*right == digest);
  /// Storing the same bytes again is a no-op: one row, the first content type kept.
  auto again = db->put_blob(data, "application/octet-stream");
  BOOST_REQUIRE(again);
  BOOST_TEST(*again == digest);
  BOOST_TEST(raw_int(path, "SELECT count(*) FROM blobs") == 1);
  auto info = db->blob(digest);
  BOOST_REQUIRE(info);
  BOOST_TEST(info->digest == digest);
  BOOST_TEST(info->length == data.size());
  BOOST_TEST(info->content_type == "text/plain");
  auto bytes = db->read_blob(digest);
  BOOST_REQUIRE(bytes);
  BOOST_TEST(*bytes == data);

  /// Unknown digests are not_found, for every read.
  auto missing = blob_digest("never stored");
  BOOST_TEST((db->blob(missing).err().code == errc::not_found));
  BOOST_TEST((db->read_blob(missing).err().code == errc::not_found));
  int calls = 0;
  auto st = db->read_blob(missing, [&](std::string_view) {
    ++calls;
    return status{};
  });
  BOOST_TEST((st.code() == errc::not_found));
  BOOST_TEST(calls == 0);

  /// A read-only database stores nothing.
  db.reset();
  options ro;
  ro.read_only = true;
  auto rodb = open_db(path, ro);
  auto refused = rodb->put_blob("other bytes");
  BOOST_REQUIRE(!refused);
  BOOST_TEST((refused.err().code == errc::read_only));
  BOOST_TEST(*rodb->read_blob(digest) == data);
}

BOOST_AUTO_TEST_CASE(zero_byte_blob_round_trip) {
  temp_dir dir;
  auto path = dir.file("z.db");
  auto db = open_db(path);
  auto digest = put_blob(*db, "", "text/plain");
  BOOST_TEST(digest == "sha1-2jmj7l5rSw0yVb/vlWAYkK/YBwk=");
  auto info = db->blob(digest);
  BOOST_REQUIRE_MESSAGE(info, (info ? "" : info.err().message));
  BOOST_TEST(info->length == 0u);
  auto whole = db->read_blob(digest);
  BOOST_REQUIRE_MESSAGE(whole, (whole ? "" : whole.err().message));
  BOOST_TEST(whole->empty());
  std::vector<size_t> chunks;
  auto st = db->read_blob(digest, [&](std::string_view c) {
    chunks.push_back(c.size());
    return status{};
  });
  BOOST_TEST(st.ok(), st.message());
  BOOST_TEST(chunks == std::vector<size_t>{0}, boost::test_tools::per_element());
  /// Stored as a zero-length BLOB (not NULL) and readable through another connection.
  BOOST_TEST(raw_int(path, "SELECT length(data) FROM blobs WHERE length = 0") == 0);
  auto r = db->open_reader();
  BOOST_REQUIRE(r);
  auto other = (*r)->read_blob(digest);
  BOOST_REQUIRE(other);
  BOOST_TEST(other->empty());
}

BOOST_AUTO_TEST_CASE(twenty_mib_blob_streams_back_in_64_kib_chunks) {
  temp_dir dir;
  auto db = open_db(dir.file("big.db"));
  const size_t size = 20u << 20;
  std::string data = random_bytes(size, 42);
  auto digest = put_blob(*db, data, "application/octet-stream");
  BOOST_TEST(digest == blob_digest(data));
  auto info = db->blob(digest);
  BOOST_REQUIRE(info);
  BOOST_TEST(info->length == size);

  /// Streamed through a separate reader connection.
  auto r = db->open_reader();
  BOOST_REQUIRE(r);
  std::string back;
  back.reserve(size);
  std::vector<size_t> sizes;
  auto st = (*r)->read_blob(
      digest,
      [&](std::string_view c) {
        sizes.push_back(c.size());
        back.append(c);
        return status{};
      },
      65536);
  BOOST_REQUIRE_MESSAGE(st.ok(), st.message());
  BOOST_TEST(sizes.size() == size / 65536);
  BOOST_TEST(std::all_of(sizes.begin(), sizes.end(), [](size_t s) { return s == 65536; }));
  BOOST_TEST(back.size() == size);
  BOOST_TEST((back == data));

  /// An odd chunk size: the last chunk is the rest.
  sizes.clear();
  size_t total = 0;
  st = db->read_blob(
      digest,
      [&](std::string_view c) {
        sizes.push_back(c.size());
        total += c.size();
        return status{};
      },
      1000000);
  BOOST_REQUIRE(st.ok());
  BOOST_TEST(sizes.size() == 21u);
  BOOST_TEST(sizes.back() == size - 20 * 1000000);
  BOOST_TEST(total == size);

  /// A sink error stops the read at once and is returned.
  int calls = 0;
  st = db->read_blob(digest, [&](std::string_view) -> status {
    if (++calls == 3) return error{errc::stopped, "enough"};
    return {};
  });
  BOOST_TEST((st.code() == errc::stopped));
  BOOST_TEST(st.message() == "enough");
  BOOST_TEST(calls == 3);

  /// The whole-blob read agrees.
  auto whole = db->read_blob(digest);
  BOOST_REQUIRE(whole);
  BOOST_TEST((*whole == data));
}

BOOST_AUTO_TEST_CASE(compact_keeps_only_blobs_that_kept_revisions_reference) {
  temp_dir dir;
  auto path = dir.file("c.db");
  auto db = open_db(path);
  auto blob = [&](const std::string& name) { return put_blob(*db, "bytes of " + name); };
  auto len = [](const std::string& name) { return ("bytes of " + name).size(); };
  /// Default collection.
  auto current = blob("current");       // current revision of "cur"
  auto att = blob("att");               // legacy _attachments of the current revision of "att"
  auto leaf_a = blob("leaf a");         // one branch of the conflicted "conf"
  auto leaf_b = blob("leaf b");         // the other branch
  auto overwritten = blob("old");       // only in rev 1 of "upd", whose rev 2 drops it
  auto deleted = blob("deleted");       // only in the revision before "del"'s tombstone
  auto purged = blob("purged");         // only in the purged "pur"
  auto orphan = blob("orphan");         // never referenced
  auto shared = blob("shared");         // overwritten in "upd2", current in "keep"
  /// Named collection.
  auto n_current = blob("named current");
  auto n_leaf_a = blob("named leaf a");
  auto n_leaf_b = blob("named leaf b");
  auto n_overwritten = blob("named old");

  BOOST_REQUIRE(db->put("cur", body_with(current, len("current"))));
  BOOST_REQUIRE(db->put("att", R"({"_attachments":{"a.txt":{"digest":")" + att +
                                   R"(","length":)" + std::to_string(len("att")) + "}}}"));
  BOOST_REQUIRE(db->insert_batch(std::vector<incoming_revision>{
      rev("conf", "1-a", {}, R"({"v":1})"),
      rev("conf", "2-b", {"1-a"}, body_with(leaf_a, len("leaf a"))),
      rev("conf", "2-c", {"1-a"}, body_with(leaf_b, len("leaf b"))),
  }));
  BOOST_REQUIRE(db->put("upd", body_with(overwritten, len("old"))));
  BOOST_REQUIRE(db->put("upd", R"({"v":2})"));
  BOOST_REQUIRE(db->put("del", body_with(deleted, len("deleted"))));
  BOOST_REQUIRE(db->remove("del"));
  BOOST_REQUIRE(db->put("pur", body_with(purged, len("purged"))));
  BOOST_REQUIRE(db->purge("pur").ok());
  BOOST_REQUIRE(db->put("upd2", body_with(shared, len("shared"))));
  BOOST_REQUIRE(db->put("upd2", R"({"v":2})"));
  BOOST_REQUIRE(db->put("keep", body_with(shared, len("shared"), "2")));
  {
    auto c = db->conflicts("conf");
    BOOST_REQUIRE(c);
    BOOST_REQUIRE_EQUAL(c->size(), 1u);  // one open conflict besides the current revision
  }

  auto named = db->create_collection("s.named");
  BOOST_REQUIRE(named);
  BOOST_REQUIRE(db->use_collection(*named).ok());
  BOOST_REQUIRE(db->put("n1", body_with(n_current, len("named current"))));
  BOOST_REQUIRE(db->insert_batch(std::vector<incoming_revision>{
      rev("nconf", "1-a", {}, R"({"v":1})"),
      rev("nconf", "2-b", {"1-a"}, body_with(n_leaf_a, len("named leaf a"))),
      rev("nconf", "2-c", {"1-a"}, body_with(n_leaf_b, len("named leaf b"))),
  }));
  BOOST_REQUIRE(db->put("nupd", body_with(n_overwritten, len("named old"))));
  BOOST_REQUIRE(db->put("nupd", R"({"v":2})"));

  BOOST_REQUIRE_EQUAL(raw_int(path, "SELECT count(*) FROM blobs"), 13);
  /// compact() runs with the named collection current, and leaves it current.
  auto removed = db->compact();
  BOOST_REQUIRE_MESSAGE(removed, (removed ? "" : removed.err().message));
  BOOST_TEST(*removed == 5u);
  BOOST_TEST(db->current_collection() == *named);
  BOOST_TEST(db->get("n1").has_value());

  std::set<std::string> kept{current, att, leaf_a, leaf_b, shared, n_current, n_leaf_a, n_leaf_b};
  std::set<std::string> gone{overwritten, deleted, purged, orphan, n_overwritten};
  for (auto& d : kept) BOOST_TEST(has_blob(*db, d), "should be kept: " << d);
  for (auto& d : gone) BOOST_TEST(!has_blob(*db, d), "should be removed: " << d);
  BOOST_TEST(raw_int(path, "SELECT count(*) FROM blobs") == 8);
  /// What is kept still reads back whole.
  BOOST_TEST(*db->read_blob(leaf_b) == "bytes of leaf b");

  /// Nothing more to remove; then resolving the conflict frees the losing branch's blob.
  auto again = db->compact();
  BOOST_REQUIRE(again);
  BOOST_TEST(*again == 0u);
  BOOST_REQUIRE(db->use_collection(0).ok());
  auto cur = db->get("conf");
  BOOST_REQUIRE(cur);
  std::string lose = cur->rev == "2-b" ? "2-c" : "2-b";
  auto resolved = db->resolve("conf", cur->rev, lose);
  BOOST_REQUIRE_MESSAGE(resolved, (resolved ? "" : resolved.err().message));
  auto third = db->compact();
  BOOST_REQUIRE(third);
  BOOST_TEST(*third == 1u);
  BOOST_TEST(has_blob(*db, cur->rev == "2-b" ? leaf_a : leaf_b));
  BOOST_TEST(!has_blob(*db, cur->rev == "2-b" ? leaf_b : leaf_a));

  /// Deleting the named collection frees what only it referenced.
  BOOST_REQUIRE(db->delete_collection("s.named").ok());
  auto fourth = db->compact();
  BOOST_REQUIRE(fourth);
  BOOST_TEST(*fourth == 3u);
  BOOST_TEST(!has_blob(*db, n_current));
  BOOST_TEST(has_blob(*db, current));
}
