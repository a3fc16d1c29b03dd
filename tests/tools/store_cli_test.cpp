// The store commands as users and scripts rely on them (issue 2's spellings), bad input included.
#define BOOST_TEST_MODULE tools_store_cli
#include <sys/stat.h>

#include <boost/test/unit_test.hpp>
#include <nlohmann/json.hpp>
#include <regex>

#include "../store/temp_dir.hpp"
#include "run_cli.hpp"

namespace {

struct fixture {
  temp_dir dir;
  std::string db = dir.file("cli.db");
  cli_result run(std::vector<std::string> args) { return run_cli(args, dir.path.string()); }
  std::string ok(std::vector<std::string> args) {
    auto r = run(args);
    BOOST_TEST_REQUIRE(r.rc == 0, args[0] << ": " << r.err);
    BOOST_TEST(r.err.empty());
    return r.out;
  }
  /// A failure: non-zero exit, nothing on stdout, exactly one line on stderr.
  std::string fails(std::vector<std::string> args) {
    auto r = run(args);
    BOOST_TEST(r.rc != 0, args[0]);
    BOOST_TEST(r.out.empty(), args[0]);
    BOOST_TEST(r.err_lines() == 1u, args[0] << ": " << r.err);
    return r.err;
  }
};

const std::regex kRevLine("[0-9]+-[0-9a-f]{40}\n");

}  // namespace

BOOST_FIXTURE_TEST_CASE(put_get_rm_ls_changes_info, fixture) {
  std::string r1 = ok({"put", "--db", db, "b", R"({"z":1,"a":"x"})"});
  BOOST_TEST(std::regex_match(r1, kRevLine));
  BOOST_TEST(r1.substr(0, 2) == "1-");
  ok({"put", "--db", db, "a", "{}"});
  std::string r2 = ok({"put", "--db", db, "b", R"({"z":2})"});
  BOOST_TEST(r2.substr(0, 2) == "2-");
  auto doc = nlohmann::json::parse(ok({"get", "--db", db, "b"}));
  BOOST_TEST(doc["_id"] == "b");
  BOOST_TEST(doc["_rev"] == r2.substr(0, r2.size() - 1));
  BOOST_TEST(doc["z"] == 2);
  BOOST_TEST(!doc.contains("_deleted"));
  ok({"put", "--db", db, "c", "{}"});
  std::string tomb = ok({"rm", "--db", db, "c"});
  BOOST_TEST(std::regex_match(tomb, kRevLine));
  auto dead = nlohmann::json::parse(ok({"get", "--db", db, "c"}));
  BOOST_TEST(dead["_deleted"] == true);
  BOOST_TEST(ok({"ls", "--db", db}) ==
             "a\t" +
                 nlohmann::json::parse(ok({"get", "--db", db, "a"}))["_rev"].get<std::string>() +
                 "\nb\t" + r2);
  std::istringstream lines(ok({"changes", "--db", db}));
  std::vector<nlohmann::json> changes;
  for (std::string line; std::getline(lines, line);) changes.push_back(nlohmann::json::parse(line));
  BOOST_REQUIRE(changes.size() == 3u);  // one per document, in sequence order
  BOOST_TEST(changes[0]["id"] == "a");
  BOOST_TEST(changes[1]["id"] == "b");
  BOOST_TEST(changes[1]["seq"] == 3);
  BOOST_TEST(changes[2]["deleted"] == true);
  BOOST_TEST(ok({"changes", "--db", db, "--since", "4"}).find("\"c\"") != std::string::npos);
  BOOST_TEST(ok({"changes", "--db", db, "--since", "5"}).empty());
  auto info = nlohmann::json::parse(ok({"info", "--db", db}));
  BOOST_TEST(info["docs"] == 2);
  BOOST_TEST(info["tombstones"] == 1);
  BOOST_TEST(info["conflicts"] == 0);
  BOOST_TEST(info["last_seq"] == 5);
  BOOST_TEST(info["uuid"].get<std::string>().size() == 32u);
}

BOOST_FIXTURE_TEST_CASE(get_an_old_revision_by_rev, fixture) {
  std::string r1 = ok({"put", "--db", db, "d", R"({"v":1})"});
  r1.pop_back();
  BOOST_TEST(nlohmann::json::parse(ok({"get", "--db", db, "d", "--rev", r1}))["v"] == 1);
  ok({"put", "--db", db, "d", R"({"v":2})"});
  BOOST_TEST(fails({"get", "--db", db, "d", "--rev", r1}).find("no longer kept") !=
             std::string::npos);
  fails({"get", "--db", db, "d", "--rev", "7-nothere"});
}

BOOST_FIXTURE_TEST_CASE(bad_input_is_one_line_and_leaves_the_file_alone, fixture) {
  ok({"put", "--db", db, "keep", R"({"k":1})"});
  std::string before = slurp(db);
  BOOST_TEST(fails({"put", "--db", db, "x", "{not json"}).find("JSON") != std::string::npos);
  BOOST_TEST(fails({"put", "--db", db, "x", "[1,2]"}).find("not a JSON object") !=
             std::string::npos);
  BOOST_TEST(fails({"get", "--db", db, "nobody"}).find("no document") != std::string::npos);
  BOOST_TEST(fails({"rm", "--db", db, "nobody"}).find("no document") != std::string::npos);
  BOOST_TEST(slurp(db) == before);
  BOOST_TEST(fails({"ls", "--db", dir.path.string()}).find("directory") != std::string::npos);
  BOOST_TEST(fails({"put", "--db", dir.path.string(), "x", "{}"}).find("directory") !=
             std::string::npos);

  std::string text = dir.file("notes.txt");
  { std::ofstream(text) << "just some notes, not a database\n"; }
  BOOST_TEST(fails({"put", "--db", text, "x", "{}"}).find("not a peerlite database") !=
             std::string::npos);
  BOOST_TEST(fails({"ls", "--db", text}).find("not a peerlite database") != std::string::npos);
  BOOST_TEST(slurp(text) == "just some notes, not a database\n");

  ::chmod(db.c_str(), 0444);
  BOOST_TEST(fails({"put", "--db", db, "x", "{}"}).find("read-only") != std::string::npos);
  BOOST_TEST(fails({"rm", "--db", db, "keep"}).find("read-only") != std::string::npos);
  BOOST_TEST(slurp(db) == before);
  BOOST_TEST(ok({"ls", "--db", db}).substr(0, 5) == "keep\t");  // reads still work
  BOOST_TEST(!std::filesystem::exists(db + "-wal"));

  fails({"get", "--db", dir.file("missing.db"), "x"});
  BOOST_TEST(!std::filesystem::exists(dir.file("missing.db")));  // reads never create files
  fails({"put", "--db", db});                                    // missing arguments
  fails({"frobnicate", "--db", db});                             // unknown command
}

BOOST_FIXTURE_TEST_CASE(help_everywhere, fixture) {
  for (std::string cmd : {"put", "get", "rm", "ls", "changes", "info"}) {
    auto r = run({cmd, "--help"});
    BOOST_TEST(r.rc == 0, cmd);
    BOOST_TEST(r.out.find("--db") != std::string::npos, cmd);
  }
  auto top = run({"--help"});
  BOOST_TEST(top.rc == 0);
  BOOST_TEST(top.out.find("changes") != std::string::npos);
}

// --- collections (--collection SCOPE.NAME, `peerlite collections`) ---

BOOST_FIXTURE_TEST_CASE(collection_isolation, fixture) {
  std::string d1 = ok({"put", "--db", db, "same", R"({"where":"default"})"});
  std::string o1 =
      ok({"put", "--db", db, "--collection", "store.orders", "same", R"({"where":"orders"})"});
  BOOST_TEST(o1.substr(0, 2) == "1-");  // a new document there, not a second revision
  ok({"put", "--db", db, "other", R"({"n":1})", "--collection", "store.orders"});
  BOOST_TEST(nlohmann::json::parse(ok({"get", "--db", db, "same"}))["where"] == "default");
  BOOST_TEST(nlohmann::json::parse(ok({"get", "--db", db, "same", "--collection", "_default"}))
                 ["where"] == "default");
  BOOST_TEST(nlohmann::json::parse(ok({"get", "--db", db, "same", "--collection",
                                       "_default._default"}))["where"] == "default");
  BOOST_TEST(nlohmann::json::parse(ok({"get", "--db", db, "same", "--collection",
                                       "store.orders"}))["where"] == "orders");
  fails({"get", "--db", db, "other"});  // only in store.orders
  BOOST_TEST(ok({"ls", "--db", db}) == "same\t" + d1);
  std::string listed = ok({"ls", "--db", db, "--collection", "store.orders"});
  BOOST_TEST(listed.substr(0, 6) == "other\t");
  BOOST_TEST(listed.find("\nsame\t" + o1) != std::string::npos);
  // Each collection has its own sequences.
  std::string feed = ok({"changes", "--db", db, "--collection", "store.orders"});
  BOOST_TEST(feed.find("\"seq\":1") != std::string::npos);
  BOOST_TEST(feed.find("\"seq\":2") != std::string::npos);
  BOOST_TEST(ok({"changes", "--db", db}).find("\"seq\":1,\"id\":\"same\"") != std::string::npos);
  // A deletion in one collection leaves the other's document alone.
  ok({"rm", "--db", db, "same", "--collection", "store.orders"});
  BOOST_TEST(nlohmann::json::parse(ok({"get", "--db", db, "same", "--collection",
                                       "store.orders"}))["_deleted"] == true);
  BOOST_TEST(!nlohmann::json::parse(ok({"get", "--db", db, "same"})).contains("_deleted"));
  BOOST_TEST(nlohmann::json::parse(ok({"info", "--db", db, "--collection", "store.orders"}))
                 ["tombstones"] == 1);

  // Reads and deletions never create a collection; the error names it and the file.
  std::string before = slurp(db);
  BOOST_TEST(fails({"get", "--db", db, "same", "--collection", "store.missing"}) ==
             "peerlite get: no collection \"store.missing\" in " + db + "\n");
  for (std::string cmd : {"ls", "changes", "info"})
    BOOST_TEST(fails({cmd, "--db", db, "--collection", "store.missing"})
                   .find("no collection \"store.missing\"") != std::string::npos, cmd);
  BOOST_TEST(fails({"rm", "--db", db, "same", "--collection", "missing"}) ==
             "peerlite rm: no collection \"_default.missing\" in " + db + "\n");
  BOOST_TEST(fails({"get", "--db", db, "same", "--collection", "bad name"})
                 .find("invalid collection") != std::string::npos);
  // A refused body does not leave the collection it would have created.
  BOOST_TEST(fails({"put", "--db", db, "x", "[1]", "--collection", "store.new"})
                 .find("not a JSON object") != std::string::npos);
  BOOST_TEST(slurp(db) == before);
  BOOST_TEST(ok({"collections", "--db", db}).find("store.new") == std::string::npos);
  // A malformed name is refused before the file is opened: no database is created.
  std::string fresh = dir.file("fresh.db");
  BOOST_TEST(fails({"put", "--db", fresh, "x", "{}", "--collection", "_bad.x"})
                 .find("invalid collection") != std::string::npos);
  BOOST_TEST(!std::filesystem::exists(fresh));
  // A write creates the database and the collection together.
  ok({"put", "--db", fresh, "x", "{}", "--collection", "new.one"});
  BOOST_TEST(ok({"ls", "--db", fresh}).empty());
  BOOST_TEST(ok({"ls", "--db", fresh, "--collection", "new.one"}).substr(0, 2) == "x\t");
}

BOOST_FIXTURE_TEST_CASE(collections_listing_create_delete_and_info, fixture) {
  ok({"put", "--db", db, "a", "{}"});
  ok({"put", "--db", db, "b", "{}"});
  ok({"rm", "--db", db, "b"});
  ok({"put", "--db", db, "x", "{}", "--collection", "inv.items"});
  ok({"put", "--db", db, "y", "{}", "--collection", "orders"});
  BOOST_TEST(ok({"collections", "--db", db}) ==
             "_default._default\t1 docs\t3 seq\ninv.items\t1 docs\t1 seq\n"
             "_default.orders\t1 docs\t1 seq\n");

  BOOST_TEST(ok({"collections", "--db", db, "--create", "inv.more"}) == "created inv.more\n");
  BOOST_TEST(ok({"collections", "--db", db, "--create", "inv.more"}) == "exists inv.more\n");
  BOOST_TEST(ok({"collections", "--db", db}).find("\ninv.more\t0 docs\t0 seq\n") !=
             std::string::npos);
  BOOST_TEST(ok({"ls", "--db", db, "--collection", "inv.more"}).empty());

  auto info = nlohmann::json::parse(ok({"info", "--db", db}));
  BOOST_TEST(info["docs"] == 1);  // the default collection's, as before
  BOOST_TEST(info["tombstones"] == 1);
  BOOST_TEST(info["last_seq"] == 3);
  BOOST_REQUIRE(info["collections"].size() == 4u);
  BOOST_TEST(info["collections"][0]["name"] == "_default._default");
  BOOST_TEST(info["collections"][0]["docs"] == 1);
  BOOST_TEST(info["collections"][1]["name"] == "inv.items");
  BOOST_TEST(info["collections"][1]["docs"] == 1);
  BOOST_TEST(info["collections"][3]["name"] == "inv.more");
  BOOST_TEST(info["collections"][3]["last_seq"] == 0);
  auto items = nlohmann::json::parse(ok({"info", "--db", db, "--collection", "inv.items"}));
  BOOST_TEST(items["docs"] == 1);
  BOOST_TEST(items["tombstones"] == 0);
  BOOST_TEST(items["uuid"] == info["uuid"]);

  BOOST_TEST(ok({"collections", "--db", db, "--delete", "inv.items"}) ==
             "deleted inv.items (1 docs)\n");
  BOOST_TEST(fails({"get", "--db", db, "x", "--collection", "inv.items"})
                 .find("no collection") != std::string::npos);
  BOOST_TEST(ok({"collections", "--db", db}).find("inv.items") == std::string::npos);
  BOOST_TEST(fails({"collections", "--db", db, "--delete", "inv.items"})
                 .find("no collection \"inv.items\"") != std::string::npos);
  BOOST_TEST(fails({"collections", "--db", db, "--delete", "_default"}).find("default") !=
             std::string::npos);
  fails({"collections", "--db", db, "--create", "a.b", "--delete", "inv.more"});
  fails({"collections", "--db", db, "--create", "bad name"});
  BOOST_TEST(ok({"ls", "--db", db}).substr(0, 2) == "a\t");  // the default is untouched

  fails({"collections", "--db", dir.file("missing.db")});
  BOOST_TEST(!std::filesystem::exists(dir.file("missing.db")));
}

BOOST_FIXTURE_TEST_CASE(help_explains_collection_options, fixture) {
  for (std::string cmd : {"put", "get", "rm", "ls", "changes", "info"}) {
    auto r = run({cmd, "--help"});
    BOOST_TEST(r.rc == 0, cmd);
    BOOST_TEST(r.out.find("--collection") != std::string::npos, cmd);
    BOOST_TEST(r.out.find("SCOPE.NAME") != std::string::npos, cmd);
  }
  auto r = run({"collections", "--help"});
  BOOST_TEST(r.rc == 0);
  for (const char* word : {"--db", "--create", "--delete", "docs", "seq"})
    BOOST_TEST(r.out.find(word) != std::string::npos, word);
  BOOST_TEST(run({"--help"}).out.find("collections") != std::string::npos);
}
