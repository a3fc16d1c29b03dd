// `peerlite put --attach`, `peerlite blob` and `peerlite compact`, through the real executable.
#define BOOST_TEST_MODULE tools_blob_cli
#include <boost/test/unit_test.hpp>
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "../store/temp_dir.hpp"
#include "run_cli.hpp"

namespace {

struct fixture {
  temp_dir dir;
  std::string db = dir.file("blobs.db");
  cli_result run(std::vector<std::string> args) { return run_cli(args, dir.path.string()); }
  std::string ok(std::vector<std::string> args) {
    auto r = run(args);
    BOOST_TEST_REQUIRE(r.rc == 0, args[0] << ": " << r.err);
    BOOST_TEST(r.err.empty(), args[0] << ": " << r.err);
    return r.out;
  }
  /// A failure: non-zero exit, nothing on stdout, exactly one line on stderr.
  std::string fails(std::vector<std::string> args) {
    auto r = run(args);
    BOOST_TEST(r.rc != 0, args[0]);
    BOOST_TEST(r.out.empty(), args[0] << ": " << r.out);
    BOOST_TEST(r.err_lines() == 1u, args[0] << ": " << r.err);
    return r.err;
  }
  std::string write(const std::string& name, const std::string& bytes) {
    std::string path = dir.file(name);
    std::ofstream(path, std::ios::binary) << bytes;
    return path;
  }
  nlohmann::json get(const std::string& id, const std::string& collection = "_default") {
    return nlohmann::json::parse(ok({"get", "--db", db, id, "--collection", collection}));
  }
};

/// `n` bytes covering every byte value, NULs included, in no simple pattern.
std::string binary_bytes(size_t n) {
  std::string out(n, '\0');
  uint32_t x = 12345;
  for (size_t i = 0; i < n; ++i) {
    x = x * 1103515245u + 12345u;
    out[i] = static_cast<char>(i % 7 == 0 ? 0 : (x >> 16) & 0xff);
  }
  return out;
}

/// "sha1-" + base64 of the file's SHA-1, computed by the openssl and base64 tools; "" when they
/// are not installed.
std::string openssl_digest(const std::string& path) {
  std::string cmd = "openssl dgst -sha1 -binary '" + path + "' 2>/dev/null | base64 2>/dev/null";
  FILE* p = ::popen(cmd.c_str(), "r");
  if (!p) return "";
  std::string out;
  char buf[128];
  while (size_t n = std::fread(buf, 1, sizeof buf, p)) out.append(buf, n);
  ::pclose(p);
  while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) out.pop_back();
  return out.size() == 28 ? "sha1-" + out : "";
}

}  // namespace

BOOST_FIXTURE_TEST_CASE(attach_round_trip, fixture) {
  // Larger than one 64 KiB chunk and not a multiple of it, with NUL bytes.
  const std::string bytes = binary_bytes(200001);
  std::string photo = write("photo.png", bytes);
  std::string rev = ok({"put", "--db", db, "doc", R"({"title":"t","image":"old"})", "--attach",
                        "image=" + photo});
  BOOST_TEST(rev.substr(0, 2) == "1-");
  auto doc = get("doc");
  BOOST_TEST(doc["title"] == "t");
  const nlohmann::json& blob = doc["image"];  // replaced the body's own value
  BOOST_TEST(blob["@type"] == "blob");
  BOOST_TEST(blob["content_type"] == "image/png");
  BOOST_TEST(blob["length"] == 200001);
  BOOST_TEST(blob.size() == 4u);
  const std::string digest = blob["digest"];
  BOOST_TEST(digest.substr(0, 5) == "sha1-");
  if (std::string independent = openssl_digest(photo); !independent.empty())
    BOOST_TEST(digest == independent);
  else
    BOOST_TEST_MESSAGE("openssl/base64 not installed: digest checked by known vector only");

  // The bytes come back exactly, on stdout and into --out.
  std::string out = ok({"blob", "--db", db, digest});
  BOOST_TEST(out.size() == bytes.size());
  BOOST_TEST((out == bytes));
  std::string copy = dir.file("copy.png");
  BOOST_TEST(ok({"blob", "--db", db, digest, "--out", copy}) ==
             "wrote 200001 bytes to " + copy + "\n");
  BOOST_TEST((slurp(copy) == bytes));

  // Known vector: SHA-1("abc") = a9993e36 4706816a ba3e2571 7850c26c 9cd0d89d; explicit TYPE.
  std::string abc = write("abc.txt", "abc");
  ok({"put", "--db", db, "note", "{}", "--attach", "text=" + abc + ":text/x-custom; charset=ascii",
      "--attach", "plain=" + abc});
  auto note = get("note");
  BOOST_TEST(note["text"]["digest"] == "sha1-qZk+NkcGgWq6PiVxeFDCbJzQ2J0=");
  BOOST_TEST(note["text"]["content_type"] == "text/x-custom; charset=ascii");
  BOOST_TEST(note["text"]["length"] == 3);
  BOOST_TEST(note["plain"]["content_type"] == "text/plain");
  BOOST_TEST(ok({"blob", "--db", db, "sha1-qZk+NkcGgWq6PiVxeFDCbJzQ2J0="}) == "abc");

  // Guessed types, an empty file, and a named collection.
  std::string upper = write("CAMERA.JPG", "jpeg?");
  std::string odd = write("data.weird", "??");
  std::string empty = write("empty.bin", "");
  ok({"put", "--db", db, "misc", "{}", "--collection", "media.files", "--attach", "a=" + upper,
      "--attach", "b=" + odd, "--attach", "c=" + empty});
  auto misc = get("misc", "media.files");
  BOOST_TEST(misc["a"]["content_type"] == "image/jpeg");
  BOOST_TEST(misc["b"]["content_type"] == "application/octet-stream");
  BOOST_TEST(misc["c"]["length"] == 0);
  BOOST_TEST(misc["c"]["digest"] == "sha1-2jmj7l5rSw0yVb/vlWAYkK/YBwk=");  // SHA-1("")
  BOOST_TEST(ok({"blob", "--db", db, misc["c"]["digest"].get<std::string>()}).empty());

  // --list: the referenced blobs of every collection, sorted by digest.
  std::string list = ok({"blob", "--db", db, "--list"});
  BOOST_TEST(list.find(digest + "\t200001\timage/png\n") != std::string::npos);
  BOOST_TEST(list.find("sha1-qZk+NkcGgWq6PiVxeFDCbJzQ2J0=\t3\ttext/x-custom; charset=ascii\n") !=
             std::string::npos);  // stored with the type it was first stored with
  BOOST_TEST(list.find("sha1-2jmj7l5rSw0yVb/vlWAYkK/YBwk=\t0\tapplication/octet-stream\n") !=
             std::string::npos);
  size_t lines = 0;
  for (char c : list) lines += c == '\n';
  BOOST_TEST(lines == 5u);  // photo, abc, jpeg, weird, empty
  BOOST_TEST(list.find("missing") == std::string::npos);
}

BOOST_FIXTURE_TEST_CASE(a_bad_attachment_writes_nothing, fixture) {
  std::string present = write("present.png", "png bytes");
  std::string missing = dir.file("missing.png");
  // Not even the database file is created.
  BOOST_TEST(fails({"put", "--db", db, "x", "{}", "--attach", "a=" + missing})
                 .find(missing + ": cannot open") != std::string::npos);
  BOOST_TEST(!std::filesystem::exists(db));

  ok({"put", "--db", db, "keep", R"({"k":1})"});
  std::string before = slurp(db);
  BOOST_TEST(fails({"put", "--db", db, "x", "{}", "--attach", "a=" + present, "--attach",
                    "b=" + missing})
                 .find("missing.png") != std::string::npos);
  fails({"put", "--db", db, "keep", "{}", "--attach", "a=" + dir.path.string()});  // directory
  fails({"put", "--db", db, "x", "{}", "--attach", present});                      // no PROPERTY=
  fails({"put", "--db", db, "x", "{}", "--attach", "=" + present});
  fails({"put", "--db", db, "x", "{}", "--attach", "_attachments=" + present});
  fails({"put", "--db", db, "x", "{}", "--attach", "a=" + present, "--attach", "a=" + present});
  BOOST_TEST(fails({"put", "--db", db, "x", "{nope", "--attach", "a=" + present}).find("JSON") !=
             std::string::npos);
  BOOST_TEST(fails({"put", "--db", db, "x", "[1]", "--attach", "a=" + present})
                 .find("not a JSON object") != std::string::npos);
  BOOST_TEST(fails({"put", "--db", db, "x", R"({"_id":"y"})", "--attach", "a=" + present})
                 .find("reserved") != std::string::npos);
  BOOST_TEST(slurp(db) == before);
  fails({"get", "--db", db, "x"});
  BOOST_TEST(fails({"blob", "--db", db, "sha1-" + std::string("OBMdF9pA5kmOeLTcWb7jB/n9UPQ=")})
                 .find("no blob") != std::string::npos);
  BOOST_TEST(ok({"compact", "--db", db}) == "removed 0 unreferenced blobs\n");  // none stored
}

BOOST_FIXTURE_TEST_CASE(compact_removes_only_unreferenced_blobs, fixture) {
  std::string one = write("one.bin", std::string("first\0blob", 10));
  std::string two = write("two.bin", "second blob");
  std::string three = write("three.txt", "third blob");
  std::string shared = write("shared.gif", "GIF89a shared");
  ok({"put", "--db", db, "a", "{}", "--attach", "img=" + one, "--attach", "s=" + shared});
  ok({"put", "--db", db, "b", "{}", "--attach", "img=" + two, "--attach", "s=" + shared});
  ok({"put", "--db", db, "c", "{}", "--collection", "inv.items", "--attach", "f=" + three});
  auto digest = [&](const std::string& id, const std::string& prop,
                    const std::string& coll = "_default") {
    return get(id, coll)[prop]["digest"].get<std::string>();
  };
  std::string d1 = digest("a", "img"), d2 = digest("b", "img"), d3 = digest("c", "f", "inv.items");
  std::string ds = digest("a", "s");
  BOOST_TEST(ok({"compact", "--db", db}) == "removed 0 unreferenced blobs\n");

  // Overwritten without its blob: the old revision's body is not kept, so the blob goes.
  ok({"put", "--db", db, "a", R"({"no":"image"})"});
  BOOST_TEST(ok({"compact", "--db", db}) == "removed 1 unreferenced blobs\n");
  BOOST_TEST(fails({"blob", "--db", db, d1}) == "peerlite blob: no blob " + d1 + " in " + db + "\n");
  BOOST_TEST(ok({"blob", "--db", db, d2}) == "second blob");
  BOOST_TEST(ok({"blob", "--db", db, d3}) == "third blob");  // referenced from another collection
  BOOST_TEST(ok({"blob", "--db", db, ds}) == "GIF89a shared");  // b still references it
  std::string list = ok({"blob", "--db", db, "--list"});
  BOOST_TEST(list.find(d1) == std::string::npos);
  BOOST_TEST(list.find(d2 + "\t11\tapplication/octet-stream\n") != std::string::npos);
  BOOST_TEST(list.find(d3 + "\t10\ttext/plain\n") != std::string::npos);
  BOOST_TEST(list.find(ds + "\t13\timage/gif\n") != std::string::npos);

  // A deleted document keeps nothing alive either.
  ok({"rm", "--db", db, "b"});
  BOOST_TEST(ok({"compact", "--db", db}) == "removed 2 unreferenced blobs\n");
  fails({"blob", "--db", db, d2});
  fails({"blob", "--db", db, ds});
  BOOST_TEST(ok({"blob", "--db", db, d3}) == "third blob");
  BOOST_TEST(ok({"compact", "--db", db}) == "removed 0 unreferenced blobs\n");

  // A document that references a blob the file lacks (as one pulled before its blob would).
  ok({"put", "--db", db, "ghost", R"({"f":{"@type":"blob","digest":"sha1-AAAAAAAAAAAAAAAAAAAAAAAAAAA=","length":5,"content_type":"text/plain"}})"});
  BOOST_TEST(ok({"blob", "--db", db, "--list"}).find(
                 "sha1-AAAAAAAAAAAAAAAAAAAAAAAAAAA=\t5\ttext/plain\tmissing\n") != std::string::npos);

  fails({"compact", "--db", dir.file("none.db")});
  BOOST_TEST(!std::filesystem::exists(dir.file("none.db")));
}

BOOST_FIXTURE_TEST_CASE(blob_usage_errors, fixture) {
  std::string f = write("f.txt", "x");
  ok({"put", "--db", db, "d", "{}", "--attach", "f=" + f});
  std::string d = get("d")["f"]["digest"];
  fails({"blob", "--db", db});                      // neither DIGEST nor --list
  fails({"blob", "--db", db, d, "--list"});         // both
  std::string out = dir.file("never.bin");
  fails({"blob", "--db", db, "sha1-nothere", "--out", out});
  BOOST_TEST(!std::filesystem::exists(out));        // not created for a missing blob
  fails({"blob", "--db", db, d, "--out", dir.path.string()});
  fails({"blob", "--db", dir.file("missing.db"), d});
  BOOST_TEST(!std::filesystem::exists(dir.file("missing.db")));
}

BOOST_FIXTURE_TEST_CASE(help_explains_every_option, fixture) {
  auto put = run({"put", "--help"});
  BOOST_TEST(put.rc == 0);
  for (const char* word : {"--attach", "PROPERTY=FILE[:TYPE]", "application/octet-stream",
                           "digest", "Repeatable", "memory"})
    BOOST_TEST(put.out.find(word) != std::string::npos, word);
  auto blob = run({"blob", "--help"});
  BOOST_TEST(blob.rc == 0);
  for (const char* word : {"--db", "--out", "--list", "DIGEST", "64 KiB", "missing"})
    BOOST_TEST(blob.out.find(word) != std::string::npos, word);
  auto compact = run({"compact", "--help"});
  BOOST_TEST(compact.rc == 0);
  for (const char* word : {"--db", "unreferenced"})
    BOOST_TEST(compact.out.find(word) != std::string::npos, word);
  auto top = run({"--help"});
  BOOST_TEST(top.out.find("blob") != std::string::npos);
  BOOST_TEST(top.out.find("compact") != std::string::npos);
}
