// `peerlite import` / `peerlite export`: JSON lines in and out, run through the real executable.
#define BOOST_TEST_MODULE tools_import_export
#include <boost/test/unit_test.hpp>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>

#include "../store/temp_dir.hpp"
#include "run_cli.hpp"

namespace {

using ordered = nlohmann::ordered_json;

/// run_cli with standard input read from `stdin_path` instead of /dev/null.
cli_result run_cli_with_stdin(const std::vector<std::string>& args, const std::string& dir,
                              const std::string& stdin_path) {
  std::string out_path = dir + "/.stdout", err_path = dir + "/.stderr";
  pid_t pid = fork();
  if (pid == 0) {
    int out = ::open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    int err = ::open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    int in = ::open(stdin_path.c_str(), O_RDONLY);
    dup2(out, 1);
    dup2(err, 2);
    dup2(in, 0);
    std::vector<char*> argv{const_cast<char*>(PEERLITE_CLI)};
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    execv(PEERLITE_CLI, argv.data());
    _exit(127);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  cli_result r;
  r.rc = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  r.out = slurp(out_path);
  r.err = slurp(err_path);
  return r;
}

struct fixture {
  temp_dir dir;
  std::string db = dir.file("io.db");
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
  std::string write(const std::string& name, const std::string& text) {
    std::string path = dir.file(name);
    std::ofstream(path, std::ios::binary) << text;
    return path;
  }
};

std::vector<ordered> parse_lines(const std::string& text) {
  std::vector<ordered> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(ordered::parse(line));
  return out;
}

/// Body of an exported line: everything but the meta properties.
nlohmann::json body_of(const ordered& line) {
  nlohmann::json body = nlohmann::json::parse(line.dump());
  body.erase("_id");
  body.erase("_rev");
  body.erase("_deleted");
  return body;
}

/// id -> body of every line.
std::map<std::string, nlohmann::json> bodies(const std::vector<ordered>& lines) {
  std::map<std::string, nlohmann::json> out;
  for (const auto& l : lines) out[l["_id"].get<std::string>()] = body_of(l);
  return out;
}

/// `n` documents with nested bodies, unicode in IDs, keys and values, and odd key orders.
std::string sample_docs(int n) {
  std::string text;
  for (int i = 0; i < n; ++i) {
    ordered doc;
    doc["_id"] = "doc-" + std::to_string(i) + (i % 7 == 0 ? "-é漢字🙂" : "");
    doc["z"] = i;
    doc["name"] = "näme \"quoted\" \\ 🙂 " + std::to_string(i);
    doc["nested"] = {{"list", {1, 2.5, "three", nullptr, true, ordered::object()}},
                     {"deep", {{"deeper", {{"deepest", std::to_string(i * i)}}}}},
                     {"ключ", "значение"}};
    if (i % 3 == 0) doc["empty"] = ordered::array();
    if (i % 5 == 0) doc["_rev"] = "1-0123456789abcdef0123456789abcdef01234567";  // ignored
    text += doc.dump() + "\n";
  }
  return text;
}

size_t live_docs(fixture& f, const std::string& db) {
  return nlohmann::json::parse(f.ok({"info", "--db", db}))["docs"].get<size_t>();
}

}  // namespace

BOOST_FIXTURE_TEST_CASE(round_trip_keeps_bodies_and_sorts_by_id, fixture) {
  std::string text = sample_docs(300);
  std::string in = write("docs.jsonl", text);
  BOOST_TEST(ok({"import", "--db", db, in}) ==
             "imported 300 documents (0 deleted) into " + db + "\n");
  BOOST_TEST(live_docs(*this, db) == 300u);

  std::string exported = ok({"export", "--db", db});
  auto lines = parse_lines(exported);
  BOOST_REQUIRE(lines.size() == 300u);
  for (size_t i = 1; i < lines.size(); ++i) {
    std::string before = lines[i - 1]["_id"], after = lines[i]["_id"];
    BOOST_TEST((before < after), before << " before " << after);
  }
  // Meta properties first, then the body; the revision is the stored one.
  for (const auto& l : lines) {
    auto it = l.begin();
    BOOST_TEST(it.key() == "_id");
    BOOST_TEST((++it).key() == "_rev");
    BOOST_TEST(!l.contains("_deleted"));
    auto got = nlohmann::json::parse(ok({"get", "--db", db, l["_id"].get<std::string>()}));
    BOOST_TEST(got["_rev"] == l["_rev"]);
    if (&l - &lines[0] > 5) break;  // a few `get`s are enough
  }
  // Same bodies as the input (with _id/_rev dropped).
  auto expected = bodies(parse_lines(text));
  BOOST_TEST((bodies(lines) == expected));
  BOOST_TEST(lines[0]["nested"]["ключ"] == "значение");

  // export | import into a fresh database gives the same bodies, and exports the same text
  // apart from the revIDs (both are first revisions of the same bodies: identical).
  std::string db2 = dir.file("copy.db");
  std::string again = write("exported.jsonl", exported);
  BOOST_TEST(ok({"import", "--db", db2, again}) ==
             "imported 300 documents (0 deleted) into " + db2 + "\n");
  std::string exported2 = ok({"export", "--db", db2});
  BOOST_TEST((bodies(parse_lines(exported2)) == expected));
  BOOST_TEST(exported2 == exported);

  // Importing again over existing documents writes a new revision of each.
  BOOST_TEST(ok({"import", "--db", db2, again}) ==
             "imported 300 documents (0 deleted) into " + db2 + "\n");
  auto third = parse_lines(ok({"export", "--db", db2}));
  BOOST_TEST(third[0]["_rev"].get<std::string>().substr(0, 2) == "2-");
  BOOST_TEST((bodies(third) == expected));
}

BOOST_FIXTURE_TEST_CASE(deletions_and_tombstones, fixture) {
  std::string in = write("docs.jsonl",
                         "{\"_id\":\"a\",\"v\":1}\n"
                         "{\"_id\":\"b\",\"v\":2}\n"
                         "{\"_id\":\"c\",\"v\":3}\n"
                         "\n"
                         "   \n"
                         "{\"_id\":\"b\",\"_deleted\":true}\n"
                         "{\"_id\":\"never-existed\",\"_deleted\":true}\n"
                         "{\"_id\":\"c\",\"_deleted\":false,\"v\":4}\n");
  BOOST_TEST(ok({"import", "--db", db, in}) ==
             "imported 6 documents (2 deleted) into " + db + "\n");
  auto live = parse_lines(ok({"export", "--db", db}));
  BOOST_REQUIRE(live.size() == 2u);
  BOOST_TEST(live[0]["_id"] == "a");
  BOOST_TEST(live[1]["_id"] == "c");
  BOOST_TEST(live[1]["v"] == 4);
  BOOST_TEST(!live[1].contains("_deleted"));

  auto all = parse_lines(ok({"export", "--db", db, "--include-deleted"}));
  BOOST_REQUIRE(all.size() == 3u);
  BOOST_TEST(all[1]["_id"] == "b");
  BOOST_TEST(all[1]["_deleted"] == true);
  BOOST_TEST(all[1]["_rev"].get<std::string>().substr(0, 2) == "2-");
  BOOST_TEST(all[1].size() == 3u);  // _id, _rev, _deleted: no body

  // The tombstones import into a database that has the documents: they get deleted.
  std::string db2 = dir.file("other.db");
  std::string full = write("full.jsonl", "{\"_id\":\"b\",\"keep\":false}\n{\"_id\":\"z\"}\n");
  ok({"import", "--db", db2, full});
  std::string dump = write("dump.jsonl", ok({"export", "--db", db, "--include-deleted"}));
  BOOST_TEST(ok({"import", "--db", db2, dump}) ==
             "imported 3 documents (1 deleted) into " + db2 + "\n");
  auto merged = parse_lines(ok({"export", "--db", db2}));
  BOOST_REQUIRE(merged.size() == 3u);  // a, c, z
  BOOST_TEST(merged[0]["_id"] == "a");
  BOOST_TEST(merged[1]["_id"] == "c");
  BOOST_TEST(merged[2]["_id"] == "z");
  BOOST_TEST(nlohmann::json::parse(ok({"get", "--db", db2, "b"}))["_deleted"] == true);
}

BOOST_FIXTURE_TEST_CASE(a_bad_line_stops_the_import_and_keeps_what_came_before, fixture) {
  // More lines than one batch (5,000): the bad line is in the second batch.
  std::string text;
  for (int i = 1; i <= 12000; ++i) {
    if (i == 7001)
      text += "{\"_id\":\"x\", oops}\n";
    else
      text += "{\"_id\":\"d" + std::to_string(i) + "\",\"n\":" + std::to_string(i) + "}\n";
  }
  std::string in = write("docs.jsonl", text);
  std::string err = fails({"import", "--db", db, in});
  BOOST_TEST(err.find("peerlite import: " + in + ":7001: invalid JSON") == 0u, err);
  BOOST_TEST(err.find("7000 documents before it were imported") != std::string::npos, err);
  BOOST_TEST(live_docs(*this, db) == 7000u);
  BOOST_TEST(ok({"get", "--db", db, "d7000"}).find("\"n\":7000") != std::string::npos);
  fails({"get", "--db", db, "d7002"});
}

BOOST_FIXTURE_TEST_CASE(each_kind_of_bad_line_is_named, fixture) {
  struct bad {
    std::string line;
    std::string says;
  };
  for (const bad& b : std::vector<bad>{{"{\"_id\":", "invalid JSON"},
                                       {"[1,2]", "not a JSON object"},
                                       {"\"text\"", "not a JSON object"},
                                       {"{\"v\":1}", "no \"_id\""},
                                       {"{\"_id\":7}", "\"_id\" is not a string"},
                                       {"{\"_id\":\"k\",\"_deleted\":1}", "\"_deleted\""},
                                       {"{\"_id\":\"k\"} {\"_id\":\"l\"}", "invalid JSON"},
                                       // Refused by the store, not by the parser:
                                       {"{\"_id\":\"k\",\"_revisions\":{}}", "_revisions"},
                                       {"{\"_id\":\"\"}", "empty"}}) {
    temp_dir scratch;
    std::string target = scratch.file("t.db");
    std::string in = write("bad.jsonl", "{\"_id\":\"first\"}\n\n{\"_id\":\"second\"}\n" + b.line +
                                            "\n{\"_id\":\"after\"}\n");
    std::string err = fails({"import", "--db", target, in});
    BOOST_TEST(err.find(in + ":4: ") != std::string::npos, b.line << " -> " << err);
    BOOST_TEST(err.find(b.says) != std::string::npos, b.line << " -> " << err);
    BOOST_TEST(err.find("2 documents before it were imported") != std::string::npos, err);
    // The lines before it are committed (in the same batch as the bad one), the rest not.
    BOOST_TEST(live_docs(*this, target) == 2u, b.line);
  }
}

BOOST_FIXTURE_TEST_CASE(reads_standard_input, fixture) {
  std::string in = write("stdin.jsonl", sample_docs(50));
  auto r = run_cli_with_stdin({"import", "--db", db, "-"}, dir.path.string(), in);
  BOOST_TEST_REQUIRE(r.rc == 0, r.err);
  BOOST_TEST(r.out == "imported 50 documents (0 deleted) into " + db + "\n");
  BOOST_TEST(live_docs(*this, db) == 50u);

  std::string bad = write("bad.jsonl", "{\"_id\":\"s1\"}\nnope\n");
  r = run_cli_with_stdin({"import", "--db", db, "-"}, dir.path.string(), bad);
  BOOST_TEST(r.rc != 0);
  BOOST_TEST(r.err.find("peerlite import: stdin:2: ") == 0u, r.err);
  BOOST_TEST(live_docs(*this, db) == 51u);
}

BOOST_FIXTURE_TEST_CASE(missing_files, fixture) {
  std::string missing = dir.file("missing.db");
  BOOST_TEST(fails({"export", "--db", missing}).find("missing.db") != std::string::npos);
  BOOST_TEST(!std::filesystem::exists(missing));  // reading never creates a file
  fails({"export", "--db", missing, "--include-deleted"});
  BOOST_TEST(!std::filesystem::exists(missing));

  // A missing input file fails before the database is created.
  std::string err = fails({"import", "--db", missing, dir.file("nope.jsonl")});
  BOOST_TEST(err.find("nope.jsonl") != std::string::npos, err);
  BOOST_TEST(!std::filesystem::exists(missing));
  fails({"import", "--db", missing, dir.path.string()});  // a directory
  BOOST_TEST(!std::filesystem::exists(missing));

  // An empty input creates an empty database.
  std::string empty = write("empty.jsonl", "");
  BOOST_TEST(ok({"import", "--db", missing, empty}) ==
             "imported 0 documents (0 deleted) into " + missing + "\n");
  BOOST_TEST(std::filesystem::exists(missing));
  BOOST_TEST(ok({"export", "--db", missing}).empty());
}

BOOST_FIXTURE_TEST_CASE(collections, fixture) {
  std::string items = write("items.jsonl", "{\"_id\":\"i1\",\"kind\":\"item\"}\n");
  std::string plain = write("plain.jsonl", "{\"_id\":\"p1\"}\n{\"_id\":\"p2\"}\n");
  // Import creates the collection (and the file); the default collection stays empty.
  BOOST_TEST(ok({"import", "--db", db, "--collection", "inv.items", items}) ==
             "imported 1 documents (0 deleted) into " + db + "\n");
  BOOST_TEST(ok({"export", "--db", db}).empty());
  BOOST_TEST(ok({"import", "--db", db, plain}) ==
             "imported 2 documents (0 deleted) into " + db + "\n");
  auto in_items = parse_lines(ok({"export", "--db", db, "--collection", "inv.items"}));
  BOOST_REQUIRE(in_items.size() == 1u);
  BOOST_TEST(in_items[0]["_id"] == "i1");
  BOOST_TEST(in_items[0]["kind"] == "item");
  BOOST_TEST(parse_lines(ok({"export", "--db", db, "--collection", "_default._default"})).size() ==
             2u);
  BOOST_TEST(parse_lines(ok({"export", "--db", db, "--collection", "_default"})).size() == 2u);
  // Importing into an existing collection adds to it.
  BOOST_TEST(ok({"import", "--db", db, "--collection", "inv.items", plain}) ==
             "imported 2 documents (0 deleted) into " + db + "\n");
  BOOST_TEST(parse_lines(ok({"export", "--db", db, "--collection", "inv.items"})).size() == 3u);

  std::string before = slurp(db);
  BOOST_TEST(fails({"export", "--db", db, "--collection", "inv.nothing"}).find("no collection") !=
             std::string::npos);
  BOOST_TEST(fails({"export", "--db", db, "--collection", "bad name"}).find("invalid collection") !=
             std::string::npos);
  BOOST_TEST(slurp(db) == before);  // export never creates the collection
  std::string fresh = dir.file("fresh.db");
  BOOST_TEST(fails({"import", "--db", fresh, "--collection", "_bad.x", items})
                 .find("invalid collection") != std::string::npos);
  BOOST_TEST(!std::filesystem::exists(fresh));
}

BOOST_FIXTURE_TEST_CASE(a_hundred_thousand_documents, fixture) {
  std::string text;
  for (int i = 0; i < 100000; ++i)
    text += "{\"_id\":\"k" + std::to_string(i) + "\",\"i\":" + std::to_string(i) + "}\n";
  std::string in = write("big.jsonl", text);
  auto r = run({"import", "--db", db, in});
  BOOST_TEST_REQUIRE(r.rc == 0, r.err);
  BOOST_TEST(r.out == "imported 100000 documents (0 deleted) into " + db + "\n");
  // stderr holds progress lines only ("imported N documents..."), if any.
  std::istringstream progress(r.err);
  for (std::string line; std::getline(progress, line);)
    BOOST_TEST((line.rfind("imported ", 0) == 0 && line.ends_with(" documents...")), line);
  BOOST_TEST(live_docs(*this, db) == 100000u);
  auto lines = parse_lines(ok({"export", "--db", db}));
  BOOST_REQUIRE(lines.size() == 100000u);
  BOOST_TEST(lines.front()["_id"] == "k0");
  BOOST_TEST(lines.back()["_id"] == "k99999");
  BOOST_TEST(lines.back()["i"] == 99999);
}

BOOST_FIXTURE_TEST_CASE(help_explains_the_options, fixture) {
  auto imp = run({"import", "--help"});
  BOOST_TEST(imp.rc == 0);
  for (const char* word :
       {"--db", "--collection", "SCOPE.NAME", "_id", "_deleted", "standard input", "created"})
    BOOST_TEST(imp.out.find(word) != std::string::npos, word);
  auto exp = run({"export", "--help"});
  BOOST_TEST(exp.rc == 0);
  for (const char* word : {"--db", "--collection", "--include-deleted", "sorted by ID"})
    BOOST_TEST(exp.out.find(word) != std::string::npos, word);
  BOOST_TEST(run({"--help"}).out.find("import") != std::string::npos);
  fails({"import", "--db", db});  // FILE is required
  fails({"export"});              // --db is required
}
