// `peerlite loadtest` end to end, at small sizes: against a hub it spawns and against a
// separately started `peerlite serve`, in every mode; what the summary and JSON say is checked
// against what the hub holds afterwards. Thresholds, a hub killed mid-run, and 1,000 peers
// connecting at once.
#define BOOST_TEST_MODULE tools_loadtest
#include <boost/test/unit_test.hpp>
#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>

#include "tests/adapters/process.hpp"

using namespace peerlite::test;
using namespace std::chrono_literals;

namespace {

const std::string kCli = PEERLITE_CLI;
/// Longest a small load test may take on a loaded 2-core machine.
constexpr auto kRunTimeout = 120s;
/// Longest a hub may take to print its "serving" line.
constexpr auto kHubTimeout = 15s;

std::pair<int, std::string> cli(const scratch& s, std::vector<std::string> args,
                                std::chrono::milliseconds timeout = kRunTimeout) {
  args.insert(args.begin(), kCli);
  return run(std::move(args), s.path("cmd.log"), timeout);
}

nlohmann::json read_json(const std::string& path) {
  std::ifstream in(path);
  BOOST_REQUIRE_MESSAGE(in, "no JSON written at " + path);
  return nlohmann::json::parse(in);
}

/// Live documents in a database file, from `peerlite info`.
long doc_count(const scratch& s, const std::string& db) {
  auto [code, out] = cli(s, {"info", "--db", db});
  std::smatch m;
  if (code != 0 || !std::regex_search(out, m, std::regex("\"docs\":([0-9]+)"))) return -1;
  return std::stol(m[1]);
}

/// A process whose parent is `parent` (from /proc/<pid>/stat), or -1.
pid_t child_of(pid_t parent) {
  for (auto& entry : std::filesystem::directory_iterator("/proc")) {
    auto name = entry.path().filename().string();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    auto stat = child::read_file(entry.path().string() + "/stat");
    auto close = stat.rfind(')');  // the command name may hold spaces and parentheses
    if (close == std::string::npos) continue;
    std::istringstream rest(stat.substr(close + 2));
    std::string state;
    long ppid = 0;
    if (rest >> state >> ppid && ppid == parent) return std::stoi(name);
  }
  return -1;
}

/// A `peerlite serve` started by the test, as users run a hub.
struct served_hub {
  std::unique_ptr<child> proc;
  std::string url;
  explicit served_hub(const scratch& s) {
    proc = std::make_unique<child>(
        std::vector<std::string>{kCli, "serve", "--db", s.path("hub.sqlite"), "--listen",
                                 "ws://127.0.0.1:0"},
        s.path("hub.log"));
    BOOST_REQUIRE_MESSAGE(proc->wait_for_log("serving ", kHubTimeout), proc->log());
    url = served_url(proc->log(), "ws");
    BOOST_REQUIRE(!url.empty());
  }
};

}  // namespace

BOOST_AUTO_TEST_CASE(spawned_hub_push_summary_and_json_match_the_hub) {
  scratch s("loadtest");
  auto json = s.path("run.json");
  auto [code, out] = cli(s, {"loadtest", "--spawn-hub", "--peers", "20", "--docs", "5", "--mode",
                             "push", "--seed", "7", "--json", json, "--report",
                             s.path("run.html")});
  BOOST_TEST_REQUIRE(code == 0, out);
  auto j = read_json(json);
  BOOST_TEST(j["schema"] == "peerlite.loadtest/1");
  BOOST_TEST(j["docs"]["pushed"] == 100);
  BOOST_TEST(j["docs"]["pulled"] == 0);
  BOOST_TEST(j["peers"]["converged"] == 20);
  /// The hub counted its own documents after the run: exactly what the peers reported pushed.
  BOOST_TEST(j["hub"]["docs"] == 100);
  BOOST_TEST(j["converge_ms"]["count"] == 20);
  BOOST_TEST(j["converge_ms"]["p99"].get<double>() > 0);
  BOOST_TEST(j["bytes"]["sent"].get<double>() > 100 * 100);  // 100 docs of ~200 bytes went out
  BOOST_TEST(j["hub"]["rss_peak_mib"].get<double>() > 0);
  BOOST_TEST(out.find("docs pushed     100") != std::string::npos, out);
  auto html = child::read_file(s.path("run.html"));
  BOOST_TEST(html.find("<svg") != std::string::npos);
  BOOST_TEST(html.find("<script") == std::string::npos);
  BOOST_TEST(html.find("http://") == html.find("http://www.w3.org/2000/svg"));  // no fetches
}

BOOST_AUTO_TEST_CASE(every_mode_against_a_separate_serve_matches_what_the_hub_holds) {
  scratch s("loadtest");
  served_hub hub(s);
  constexpr long kPeers = 10, kDocs = 7;
  long before = 0;
  auto run_mode = [&](const std::string& mode, const std::string& seed) {
    auto json = s.path(mode + ".json");
    auto [code, out] = cli(s, {"loadtest", "--target", hub.url, "--peers",
                               std::to_string(kPeers), "--docs", std::to_string(kDocs),
                               "--mode", mode, "--seed", seed, "--json", json});
    BOOST_TEST_REQUIRE(code == 0, out);
    return read_json(json);
  };
  auto push = run_mode("push", "1");
  BOOST_TEST(push["docs"]["pushed"] == kPeers * kDocs);
  BOOST_TEST(doc_count(s, s.path("hub.sqlite")) == before + kPeers * kDocs);
  before += kPeers * kDocs;

  /// pull: the shared set goes onto the hub first, then every peer pulls all of it.
  auto pull = run_mode("pull", "2");
  BOOST_TEST(pull["docs"]["pulled"] == kPeers * kDocs);
  BOOST_TEST(pull["docs"]["pushed"] == 0);
  BOOST_TEST(doc_count(s, s.path("hub.sqlite")) == before + kDocs);
  before += kDocs;

  auto both = run_mode("push-and-pull", "3");
  BOOST_TEST(both["docs"]["pushed"] == kPeers * kDocs);
  BOOST_TEST(both["docs"]["pulled"] == kPeers * kDocs);
  BOOST_TEST(both["peers"]["converged"] == kPeers);
  BOOST_TEST(doc_count(s, s.path("hub.sqlite")) == before + kPeers * kDocs + kDocs);
  before += kPeers * kDocs + kDocs;

  /// continuous: every write reaches every other peer, and the hub holds each write once.
  auto json = s.path("continuous.json");
  auto [code, out] =
      cli(s, {"loadtest", "--target", hub.url, "--peers", "5", "--continuous", "--duration",
              "2", "--write-rate", "5", "--seed", "4", "--json", json});
  BOOST_TEST_REQUIRE(code == 0, out);
  auto c = read_json(json);
  long written = c["docs"]["written"].get<long>();
  BOOST_TEST(written > 0);
  BOOST_TEST(c["arrivals"]["seen"] == written * 4);
  BOOST_TEST(c["arrivals"]["expected"] == written * 4);
  BOOST_TEST(c["propagation_ms"]["count"] == written * 4);
  BOOST_TEST(c["propagation_all_ms"]["count"] == written);
  BOOST_TEST(c["propagation_ms"]["p99"].get<double>() > 0);
  BOOST_TEST(doc_count(s, s.path("hub.sqlite")) == before + written);
}

BOOST_AUTO_TEST_CASE(thresholds_gate_the_exit_status) {
  scratch s("loadtest");
  auto ok = cli(s, {"loadtest", "--spawn-hub", "--peers", "3", "--docs", "2", "--threshold",
                    "errors==0", "--threshold", "docs_pushed>=6"});
  BOOST_TEST(ok.first == 0, ok.second);
  BOOST_TEST(ok.second.find("ok     errors==0") != std::string::npos, ok.second);

  auto bad = cli(s, {"loadtest", "--spawn-hub", "--peers", "3", "--docs", "2", "--threshold",
                     "errors==0", "--threshold", "p99_converge_ms<0.001", "--json",
                     s.path("t.json")});
  BOOST_TEST(bad.first == 3, bad.second);
  BOOST_TEST(bad.second.find("FAILED p99_converge_ms<0.001") != std::string::npos, bad.second);
  BOOST_TEST(bad.second.find("threshold failed: p99_converge_ms<0.001") != std::string::npos);
  auto j = read_json(s.path("t.json"));
  BOOST_TEST(j["thresholds"][0]["ok"] == true);
  BOOST_TEST(j["thresholds"][1]["ok"] == false);

  /// A metric the run does not have is refused before anything starts, with the known names.
  auto unknown = cli(s, {"loadtest", "--spawn-hub", "--threshold", "p99_propagation_ms<5"});
  BOOST_TEST(unknown.first == 1);
  BOOST_TEST(unknown.second.find("no metric 'p99_propagation_ms'") != std::string::npos,
             unknown.second);
  BOOST_TEST(unknown.second.find("p99_converge_ms") != std::string::npos);
  auto garbled = cli(s, {"loadtest", "--spawn-hub", "--threshold", "errors=0"});
  BOOST_TEST(garbled.first == 1);
  BOOST_TEST(garbled.second.find("threshold 'errors=0'") != std::string::npos, garbled.second);
}

BOOST_AUTO_TEST_CASE(a_hub_killed_mid_run_ends_the_run_with_its_errors) {
  scratch s("loadtest");
  served_hub hub(s);
  auto json = s.path("killed.json");
  child lt({kCli, "loadtest", "--target", hub.url, "--peers", "5", "--continuous", "--duration",
            "60", "--write-rate", "20", "--stall-timeout", "3", "--json", json},
           s.path("lt.log"));
  BOOST_REQUIRE_MESSAGE(lt.wait_for_log("caught up", 30s), lt.log());
  std::this_thread::sleep_for(1s);
  hub.proc->signal(SIGKILL);
  auto killed_at = std::chrono::steady_clock::now();
  /// Stall timeout 3 s, the peers' stop bound, and slack for a loaded machine: far below the
  /// 60 s the run would otherwise write for.
  int code = lt.wait_exit(40s);
  auto took = std::chrono::steady_clock::now() - killed_at;
  BOOST_TEST_REQUIRE(code != -1, "loadtest still running 40 s after the hub died: " + lt.log());
  BOOST_TEST(code == 1, lt.log());
  BOOST_TEST(took < 40s);
  BOOST_TEST(lt.log().find("run failed") != std::string::npos, lt.log());
  auto j = read_json(json);
  BOOST_TEST(j["completed"] == false);
  BOOST_TEST(j["errors"].get<long>() > 0, j.dump());
  BOOST_TEST(j["errors_by_kind"].contains("transport"), j.dump());
}

BOOST_AUTO_TEST_CASE(a_spawned_hub_that_dies_is_noticed_at_once) {
  scratch s("loadtest");
  auto json = s.path("died.json");
  child lt({kCli, "loadtest", "--spawn-hub", "--peers", "4", "--continuous", "--duration", "60",
            "--stall-timeout", "600", "--json", json},
           s.path("lt.log"));
  BOOST_REQUIRE_MESSAGE(lt.wait_for_log("caught up", 30s), lt.log());
  /// The hub is the loadtest's only child process: find it in /proc and kill it.
  pid_t hub = child_of(lt.pid());
  BOOST_REQUIRE_MESSAGE(hub > 0, "no child process of the loadtest: " + lt.log());
  kill(hub, SIGKILL);
  int rc = lt.wait_exit(30s);
  BOOST_TEST_REQUIRE(rc != -1, lt.log());
  BOOST_TEST(rc == 1);
  BOOST_TEST(lt.log().find("the hub exited (signal 9)") != std::string::npos, lt.log());
}

BOOST_AUTO_TEST_CASE(a_thousand_peers_connecting_at_once_all_converge) {
  scratch s("loadtest");
  auto json = s.path("storm.json");
  auto [code, out] = cli(s, {"loadtest", "--spawn-hub", "--peers", "1000", "--ramp-up", "0",
                             "--docs", "2", "--json", json},
                         180s);
  BOOST_TEST_REQUIRE(code == 0, out);
  auto j = read_json(json);
  BOOST_TEST(j["peers"]["connected"] == 1000);
  BOOST_TEST(j["peers"]["converged"] == 1000);
  BOOST_TEST(j["docs"]["pushed"] == 2000);
  BOOST_TEST(j["docs"]["pulled"] == 2000);
  BOOST_TEST(j["hub"]["docs"] == 2000 + 2);
  BOOST_TEST(j["errors"] == 0, j["errors_by_kind"].dump());
}
