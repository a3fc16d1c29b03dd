// The database name `peerlite serve` puts in its URLs. Couchbase Lite only reaches names that
// start with a lower-case letter and hold a-z, 0-9 and _$()+- (issue 10): a file named H1.sqlite
// is served as /h1 with a line saying so, and a name that lower-casing cannot mend is refused
// with the --name to use instead.
#define BOOST_TEST_MODULE adapters_cli_serve_name
#include <boost/test/unit_test.hpp>
#include <filesystem>
#include <regex>

#include "peerlite/database.hpp"
#include "tests/adapters/process.hpp"

using namespace peerlite;
using namespace peerlite::test;
using namespace std::chrono_literals;

/// Longest a one-shot sync of a few documents may take on a loaded 2-core machine.
constexpr auto kSyncTimeout = 60s;
/// Longest a hub may take to print its "serving" line, to refuse its arguments, or to exit
/// after SIGTERM.
constexpr auto kHubTimeout = 15s;

namespace {

const std::string kCli = PEERLITE_CLI;

void fill(const std::string& path, int n) {
  auto db = database::open(path);
  if (!db) BOOST_FAIL(db.err().message);
  for (int i = 0; i < n; ++i)
    BOOST_REQUIRE(db->put("doc" + std::to_string(i), "{\"n\":" + std::to_string(i) + "}"));
}

std::pair<int, std::string> cli(const scratch& s, std::vector<std::string> args,
                                std::chrono::milliseconds timeout = kSyncTimeout) {
  args.insert(args.begin(), kCli);
  return run(std::move(args), s.path("cmd.log"), timeout);
}

}  // namespace

BOOST_AUTO_TEST_CASE(upper_case_file_name_is_served_lower_cased_and_says_so) {
  scratch s("name");
  fill(s.path("a.sqlite"), 10);
  /// Port 0: the hub picks a free port on 127.0.0.1 and prints it in its "serving" line.
  child hub({kCli, "serve", "--db", s.path("H1.sqlite"), "--listen", "ws://127.0.0.1:0"},
            s.path("hub.log"));
  BOOST_REQUIRE_MESSAGE(hub.wait_for_log("serving ", kHubTimeout), hub.log());
  auto log = hub.log();
  BOOST_TEST(log.find("H1.sqlite is served as /h1: Couchbase Lite peers only accept lower-case "
                      "database names in URLs") != std::string::npos,
             log);
  std::smatch m;
  BOOST_REQUIRE_MESSAGE(std::regex_search(log, m, std::regex("ws://127\\.0\\.0\\.1:([0-9]+)/h1")),
                        log);
  auto port = m[1].str();

  auto synced = cli(s, {"sync", "--db", s.path("a.sqlite"), "--remote",
                        "ws://127.0.0.1:" + port + "/h1", "--push"});
  BOOST_TEST(synced.first == 0, synced.second);
  BOOST_TEST(synced.second.find("10 pushed") != std::string::npos, synced.second);
  /// The old spelling is not served any more: a peer using it learns so at once.
  auto upper = cli(s, {"sync", "--db", s.path("a.sqlite"), "--remote",
                       "ws://127.0.0.1:" + port + "/H1", "--push"});
  BOOST_TEST(upper.first != 0, upper.second);
  BOOST_TEST(upper.second.find("404") != std::string::npos, upper.second);

  hub.signal(SIGTERM);
  BOOST_TEST(hub.wait_exit(kHubTimeout) == 0, hub.log());
}

BOOST_AUTO_TEST_CASE(lower_case_file_name_is_served_without_a_note) {
  scratch s("name");
  child hub({kCli, "serve", "--db", s.path("hub.sqlite"), "--listen", "ws://127.0.0.1:0"},
            s.path("hub.log"));
  BOOST_REQUIRE_MESSAGE(hub.wait_for_log("serving ", kHubTimeout), hub.log());
  BOOST_TEST(hub.log().find("/hub") != std::string::npos, hub.log());
  BOOST_TEST(hub.log().find("is served as") == std::string::npos, hub.log());
  hub.signal(SIGTERM);
  BOOST_TEST(hub.wait_exit(kHubTimeout) == 0, hub.log());
}

BOOST_AUTO_TEST_CASE(names_lower_casing_cannot_mend_are_refused_with_a_fix) {
  scratch s("name");
  /// A file whose stem starts with a digit and holds a space and a dot.
  auto bad_file = s.path("2024 field.notes.sqlite");
  auto refused = cli(s, {"serve", "--db", bad_file, "--listen", "ws://127.0.0.1:0"}, kHubTimeout);
  BOOST_TEST(refused.first == 1, refused.second);
  BOOST_TEST(refused.second.find("peerlite serve: ") != std::string::npos, refused.second);
  BOOST_TEST(refused.second.find("start with a lower-case letter") != std::string::npos,
             refused.second);
  BOOST_TEST(refused.second.find("--name db_2024_field_notes") != std::string::npos,
             refused.second);
  BOOST_TEST(!std::filesystem::exists(bad_file));  // refused before the database was created

  /// An explicit --name is taken as given, or refused; never changed behind the user's back.
  auto upper = cli(
      s, {"serve", "--db", s.path("hub.sqlite"), "--name", "Hub", "--listen", "ws://127.0.0.1:0"},
      kHubTimeout);
  BOOST_TEST(upper.first == 1, upper.second);
  BOOST_TEST(upper.second.find("--name Hub: ") != std::string::npos, upper.second);
  BOOST_TEST(upper.second.find("try --name hub") != std::string::npos, upper.second);

  child hub({kCli, "serve", "--db", s.path("H1.sqlite"), "--name", "field_notes-2024", "--listen",
             "ws://127.0.0.1:0"},
            s.path("hub.log"));
  BOOST_REQUIRE_MESSAGE(hub.wait_for_log("serving ", kHubTimeout), hub.log());
  BOOST_TEST(
      std::regex_search(hub.log(), std::regex("ws://127\\.0\\.0\\.1:[0-9]+/field_notes-2024")),
      hub.log());
  BOOST_TEST(hub.log().find("is served as") == std::string::npos, hub.log());
  hub.signal(SIGTERM);
  BOOST_TEST(hub.wait_exit(kHubTimeout) == 0, hub.log());
}
