// `peerlite serve --admin` end to end: /metrics moves with a real push and pull (docs, bytes,
// the engine's group commits) and counts wrong passwords; /_status lists a continuous peer
// with its address and user while it is connected, and a peer killed mid-session as a
// transport error; 404, 405 and an oversized header; the status page rendered by headless
// Chromium shows the live connection count (and leaves a screenshot, status-page.png, in the
// build directory).
#define BOOST_TEST_MODULE tools_admin
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <boost/test/unit_test.hpp>
#include <cmath>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>

#include "tests/adapters/process.hpp"

using namespace peerlite::test;
using namespace std::chrono_literals;

namespace {

const std::string kCli = PEERLITE_CLI;
/// The build directory (PEERLITE_CLI is <build>/tools/peerlite): where the screenshot goes.
const std::filesystem::path kBuildDir =
    std::filesystem::path(PEERLITE_CLI).parent_path().parent_path();
/// Longest one CLI command (import, a one-shot sync) may take on a loaded 2-core machine.
constexpr auto kRunTimeout = 60s;
/// Longest a hub may take to print its "serving" line.
constexpr auto kHubTimeout = 15s;
/// Longest the hub's figures may take to show what a finished command did (its listeners
/// hear the last documents and the final STOPPED a little after the peer exits).
constexpr auto kSettleTimeout = 15s;
/// Longest one admin HTTP exchange may take.
constexpr auto kHttpTimeout = 10s;
/// Longest one headless Chromium run may take (it starts slowly on a loaded machine).
constexpr auto kBrowserTimeout = 60s;
/// Documents pushed to the hub in the metrics test.
constexpr int kDocs = 120;
/// The fewest bytes one document's rev message can take on the wire, deflated and framed.
constexpr int kMinWireBytesPerDoc = 10;
/// The server's request header bound (kAdminMaxRequestHeader) is 8 KiB; this is far over it.
constexpr size_t kHugeHeader = 64 * 1024;
/// A 1200x700 screenshot of the page with its tiles and table is tens of KiB; a blank or
/// failed one is a few hundred bytes.
constexpr std::uintmax_t kMinScreenshotBytes = 8 * 1024;

std::pair<int, std::string> cli(const scratch& s, std::vector<std::string> args) {
  args.insert(args.begin(), kCli);
  return run(std::move(args), s.path("cmd.log"), kRunTimeout);
}

/// A `peerlite serve --admin 127.0.0.1:0` started by the test.
struct admin_hub {
  std::unique_ptr<child> proc;
  std::string url;  ///< ws://127.0.0.1:N/hub
  uint16_t admin_port = 0;
  explicit admin_hub(const scratch& s, std::vector<std::string> extra = {}) {
    std::vector<std::string> args{
        kCli,      "serve",      "--db", s.path("hub.sqlite"), "--listen", "ws://127.0.0.1:0",
        "--admin", "127.0.0.1:0"};
    args.insert(args.end(), extra.begin(), extra.end());
    proc = std::make_unique<child>(args, s.path("hub.log"));
    BOOST_REQUIRE_MESSAGE(proc->wait_for_log("serving ", kHubTimeout), proc->log());
    url = served_url(proc->log(), "ws");
    BOOST_REQUIRE(!url.empty());
    std::smatch m;
    auto log = proc->log();
    BOOST_REQUIRE_MESSAGE(
        std::regex_search(log, m, std::regex(R"(admin at http://127\.0\.0\.1:([0-9]+)/)")), log);
    admin_port = static_cast<uint16_t>(std::stoi(m[1]));
    BOOST_REQUIRE(admin_port != 0);
  }
  /// SIGTERM, then a clean exit.
  void stop() {
    proc->signal(SIGTERM);
    BOOST_TEST(proc->wait_exit(20s) == 0, proc->log());
  }
};

/// Sends `request` as it is to 127.0.0.1:port and returns every byte answered until the
/// server closes (or kHttpTimeout passes); "" when the connection fails.
std::string http_exchange(uint16_t port, const std::string& request) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return {};
  timeval tv{std::chrono::duration_cast<std::chrono::seconds>(kHttpTimeout).count(), 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  std::string answer;
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0) {
    size_t sent = 0;
    while (sent < request.size()) {
      auto n = send(fd, request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
      if (n <= 0) break;  // the server may stop reading (and answer) before we finish
      sent += static_cast<size_t>(n);
    }
    char buf[16384];
    for (;;) {
      auto n = recv(fd, buf, sizeof buf, 0);
      if (n <= 0) break;
      answer.append(buf, static_cast<size_t>(n));
    }
  }
  close(fd);
  return answer;
}

struct http_answer {
  int status = 0;
  std::string head, body;
};

http_answer parse_answer(const std::string& raw) {
  http_answer a;
  auto end = raw.find("\r\n\r\n");
  if (raw.rfind("HTTP/1.1 ", 0) != 0 || end == std::string::npos) return a;
  a.status = std::stoi(raw.substr(9, 3));
  a.head = raw.substr(0, end);
  a.body = raw.substr(end + 4);
  return a;
}

http_answer get(uint16_t port, const std::string& path) {
  return parse_answer(http_exchange(
      port, "GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"));
}

/// A /metrics body as series ("name{labels}") -> value, checking the text format on the way:
/// every sample line is `name{labels} value`, and every family has # HELP and # TYPE.
std::map<std::string, double> parse_metrics(const std::string& text) {
  /// name, then optional {label="value",...} (values may hold \" escapes), then the value.
  static const std::regex sample(
      R"(^([a-zA-Z_:][a-zA-Z0-9_:]*))"
      R"((\{([a-zA-Z_][a-zA-Z0-9_]*="[^"\\]*(\\.[^"\\]*)*",?)*\})? (\S+)$)");
  static const std::regex help(R"(^# HELP ([a-zA-Z_:][a-zA-Z0-9_:]*) .+$)");
  static const std::regex type(R"(^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (counter|gauge|histogram)$)");
  std::map<std::string, double> out;
  std::set<std::string> helped;
  std::map<std::string, std::string> types;
  std::istringstream in(text);
  std::string line;
  std::smatch m;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    if (std::regex_match(line, m, help)) {
      helped.insert(m[1]);
      continue;
    }
    if (std::regex_match(line, m, type)) {
      types[m[1]] = m[2];
      continue;
    }
    BOOST_TEST_REQUIRE(std::regex_match(line, m, sample), "not a sample line: '" << line << "'");
    std::string name = m[1];
    auto family = name;
    for (std::string suffix : {"_bucket", "_sum", "_count"})
      if (!types.count(family) && name.size() > suffix.size() &&
          name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0 &&
          types.count(name.substr(0, name.size() - suffix.size())) &&
          types[name.substr(0, name.size() - suffix.size())] == "histogram")
        family = name.substr(0, name.size() - suffix.size());
    BOOST_TEST(types.count(family) == 1u, "no # TYPE before " << name);
    BOOST_TEST(helped.count(family) == 1u, "no # HELP before " << name);
    std::string value = m[5];
    char* end = nullptr;
    double v = std::strtod(value.c_str(), &end);
    BOOST_TEST_REQUIRE((end && *end == '\0'), "bad value in '" << line << "'");
    out[name + m[2].str()] = v;
  }
  return out;
}

std::map<std::string, double> scrape(uint16_t port) {
  auto a = get(port, "/metrics");
  BOOST_TEST_REQUIRE(a.status == 200, a.head);
  BOOST_TEST(a.head.find("text/plain; version=0.0.4") != std::string::npos, a.head);
  return parse_metrics(a.body);
}

double value(const std::map<std::string, double>& m, const std::string& series) {
  auto it = m.find(series);
  BOOST_TEST_REQUIRE((it != m.end()), "no series " << series);
  return it->second;
}

/// Scrapes until `done(metrics)` holds; the last scrape either way.
template <class Pred>
std::map<std::string, double> scrape_until(uint16_t port, Pred done) {
  auto end = std::chrono::steady_clock::now() + kSettleTimeout;
  for (;;) {
    auto m = scrape(port);
    if (done(m) || std::chrono::steady_clock::now() >= end) return m;
    std::this_thread::sleep_for(100ms);
  }
}

nlohmann::json status(uint16_t port) {
  auto a = get(port, "/_status");
  BOOST_TEST_REQUIRE(a.status == 200, a.head);
  BOOST_TEST(a.head.find("application/json") != std::string::npos, a.head);
  return nlohmann::json::parse(a.body);
}

/// Polls /_status until `done(status)` holds or `timeout` passes; the last reading.
template <class Pred>
nlohmann::json status_until(uint16_t port, Pred done, std::chrono::milliseconds timeout) {
  auto end = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    auto s = status(port);
    if (done(s) || std::chrono::steady_clock::now() >= end) return s;
    std::this_thread::sleep_for(100ms);
  }
}

/// A database holding `n` documents of ~100 bytes, made with `peerlite import`.
void make_docs(const scratch& s, const std::string& db, int n) {
  std::ofstream lines(s.path("docs.jsonl"));
  for (int i = 0; i < n; ++i)
    lines << R"({"_id":"doc-)" << i << R"(","n":)" << i
          << R"(,"text":"the quick brown fox jumps over the lazy dog, again and again"})" << '\n';
  lines.close();
  auto [code, out] = cli(s, {"import", "--db", db, s.path("docs.jsonl")});
  BOOST_TEST_REQUIRE(code == 0, out);
  BOOST_TEST_REQUIRE(out.find("imported " + std::to_string(n) + " documents") != std::string::npos,
                     out);
}

/// A continuous `peerlite sync` against `hub`, connected once /_status lists it.
std::unique_ptr<child> continuous_peer(const scratch& s, const admin_hub& hub,
                                       std::vector<std::string> extra = {}) {
  std::vector<std::string> args{kCli,       "sync",  "--db",        s.path("peer.sqlite"),
                                "--remote", hub.url, "--continuous"};
  args.insert(args.end(), extra.begin(), extra.end());
  auto peer = std::make_unique<child>(args, s.path("peer.log"));
  auto st = status_until(
      hub.admin_port, [](const nlohmann::json& j) { return j["live_connections"] == 1; }, 30s);
  BOOST_TEST_REQUIRE(st["live_connections"] == 1, st.dump() << "\n" << peer->log());
  return peer;
}

/// Chromium's path, from PATH; the test fails (not skips) without it.
std::string find_chromium() {
  const char* path = std::getenv("PATH");
  std::istringstream dirs(path ? path : "");
  std::string dir;
  while (std::getline(dirs, dir, ':'))
    for (const char* name : {"chromium", "chromium-browser"}) {
      auto candidate = std::filesystem::path(dir) / name;
      if (!dir.empty() && access(candidate.c_str(), X_OK) == 0) return candidate.string();
    }
  return {};
}

/// Runs headless Chromium on `url` with `args`; its output (stdout and stderr) and exit code.
std::pair<int, std::string> chromium(const scratch& s, const std::string& exe,
                                     std::vector<std::string> args, const std::string& url,
                                     const std::string& log_name) {
  std::vector<std::string> all{exe,
                               "--headless",
                               "--no-sandbox",
                               "--disable-gpu",
                               "--no-first-run",
                               "--disable-extensions",
                               "--user-data-dir=" + s.path("chromium-profile"),
                               "--virtual-time-budget=4000"};
  all.insert(all.end(), args.begin(), args.end());
  all.push_back(url);
  child c(all, s.path(log_name));
  int code = c.wait_exit(kBrowserTimeout);
  if (code == -1) c.signal(SIGKILL);  // the destructor reaps it
  return {code, c.log()};
}

}  // namespace

BOOST_AUTO_TEST_CASE(metrics_follow_a_real_push_and_pull) {
  scratch s("admin");
  make_docs(s, s.path("src.sqlite"), kDocs);
  admin_hub hub(s);
  auto before = scrape(hub.admin_port);
  BOOST_TEST(value(before, "peerlite_docs_received_total") == 0);
  BOOST_TEST(value(before, "peerlite_group_commit_revisions_count") == 0);
  BOOST_TEST(value(before, "process_resident_memory_bytes") > 0);
  BOOST_TEST(value(before, "process_open_fds") > 0);
  BOOST_TEST(value(before, "process_start_time_seconds") > 1.5e9);
  BOOST_TEST(value(before, R"(peerlite_connections{transport="ws",state="idle"})") == 0);

  auto push = cli(s, {"sync", "--db", s.path("src.sqlite"), "--remote", hub.url, "--push"});
  BOOST_TEST_REQUIRE(push.first == 0, push.second);
  auto pull = cli(s, {"sync", "--db", s.path("dst.sqlite"), "--remote", hub.url, "--pull"});
  BOOST_TEST_REQUIRE(pull.first == 0, pull.second);

  auto after = scrape_until(hub.admin_port, [&](const auto& m) {
    return value(m, "peerlite_docs_sent_total") >= kDocs &&
           value(m, R"(peerlite_connections_accepted_total{transport="ws"})") == 2 &&
           value(m, R"(peerlite_connections{transport="ws",state="idle"})") +
                   value(m, R"(peerlite_connections{transport="ws",state="busy"})") +
                   value(m, R"(peerlite_connections{transport="ws",state="connecting"})") ==
               0;
  });
  auto delta = [&](const std::string& series) {
    return value(after, series) - value(before, series);
  };
  BOOST_TEST(delta("peerlite_docs_received_total") == kDocs);
  BOOST_TEST(delta("peerlite_docs_sent_total") == kDocs);
  BOOST_TEST(delta(R"(peerlite_connections_accepted_total{transport="ws"})") == 2);
  /// Every document crossed the wire in each direction (compressed: a BLIP rev of ~100 bytes
  /// of JSON deflates to a few tens).
  BOOST_TEST(delta("peerlite_network_received_bytes_total") >= kDocs * kMinWireBytesPerDoc);
  BOOST_TEST(delta("peerlite_network_sent_bytes_total") >= kDocs * kMinWireBytesPerDoc);
  /// The hub committed exactly the pushed documents, in one or more group commits.
  BOOST_TEST(delta("peerlite_group_commit_revisions_count") > 0);
  BOOST_TEST(delta("peerlite_group_commit_revisions_sum") == kDocs);
  BOOST_TEST(delta("peerlite_commit_seconds_count") > 0);
  BOOST_TEST(value(after, "peerlite_commit_seconds_sum") > 0);
  BOOST_TEST(value(after, R"(peerlite_commit_seconds_bucket{le="+Inf"})") ==
             value(after, "peerlite_commit_seconds_count"));
  BOOST_TEST(value(after, R"(peerlite_revs_rejected_total{direction="in"})") == 0);
  BOOST_TEST(value(after, "peerlite_auth_failures_total") == 0);
  BOOST_TEST(value(after, "process_cpu_seconds_total") > 0);
  /// Buckets are cumulative.
  double previous = 0;
  for (auto& [series, v] : after)
    if (series.rfind("peerlite_commit_seconds_bucket", 0) == 0 &&
        series.find("+Inf") == std::string::npos) {
      BOOST_TEST(v <= value(after, "peerlite_commit_seconds_count"));
      previous = std::max(previous, v);
    }
  BOOST_TEST(previous <= value(after, "peerlite_commit_seconds_count"));

  /// /_status says the same.
  auto st = status(hub.admin_port);
  BOOST_TEST(st["docs_in"] == kDocs);
  BOOST_TEST(st["group_commit_revisions"]["sum"].get<double>() == kDocs);
  BOOST_TEST(st["live_connections"] == 0);
  BOOST_TEST(st["connections"].empty());
  hub.stop();
}

BOOST_AUTO_TEST_CASE(wrong_passwords_count_as_auth_failures) {
  scratch s("admin");
  admin_hub hub(s, {"--user", "alice:secret"});
  auto wrong = cli(s, {"sync", "--db", s.path("p.sqlite"), "--remote", hub.url, "--push", "--user",
                       "alice:nope"});
  BOOST_TEST(wrong.first != 0, wrong.second);
  auto none = cli(s, {"sync", "--db", s.path("p.sqlite"), "--remote", hub.url, "--push"});
  BOOST_TEST(none.first != 0, none.second);
  auto m = scrape(hub.admin_port);
  BOOST_TEST(value(m, "peerlite_auth_failures_total") == 2);
  BOOST_TEST(value(m, R"(peerlite_connections_refused_total{reason="http_401"})") == 2);
  BOOST_TEST(value(m, R"(peerlite_connections_accepted_total{transport="ws"})") == 0);
  auto right = cli(s, {"sync", "--db", s.path("p.sqlite"), "--remote", hub.url, "--push", "--user",
                       "alice:secret"});
  BOOST_TEST(right.first == 0, right.second);
  m = scrape(hub.admin_port);
  BOOST_TEST(value(m, "peerlite_auth_failures_total") == 2);
  BOOST_TEST(value(m, R"(peerlite_connections_accepted_total{transport="ws"})") == 1);
  hub.stop();
}

BOOST_AUTO_TEST_CASE(status_lists_a_continuous_peer_while_it_is_connected) {
  scratch s("admin");
  admin_hub hub(s, {"--user", "alice:secret"});
  auto [code, out] = cli(s, {"put", "--db", s.path("peer.sqlite"), "first", R"({"a":1})"});
  BOOST_TEST_REQUIRE(code == 0, out);
  auto peer = continuous_peer(s, hub, {"--user", "alice:secret"});
  /// The peer's one document arrives and is counted on its connection.
  auto st = status_until(
      hub.admin_port,
      [](const nlohmann::json& j) {
        return j["connections"].size() == 1 && j["connections"][0]["docs_in"] == 1;
      },
      kSettleTimeout);
  BOOST_TEST_REQUIRE(st["connections"].size() == 1u, st.dump());
  auto c = st["connections"][0];
  BOOST_TEST(c["transport"] == "ws");
  BOOST_TEST(std::regex_match(c["peer"].get<std::string>(), std::regex(R"(127\.0\.0\.1:[0-9]+)")),
             c.dump());
  BOOST_TEST(c["user"] == "alice");
  BOOST_TEST(c["docs_in"] == 1, c.dump());
  BOOST_TEST(c["docs_out"] == 0, c.dump());
  auto activity = c["activity"].get<std::string>();
  BOOST_TEST((activity == "idle" || activity == "busy"), activity);
  BOOST_TEST(std::regex_match(c["since"].get<std::string>(),
                              std::regex(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z)")),
             c.dump());
  BOOST_TEST(c["connected_seconds"].get<double>() >= 0);
  BOOST_TEST(st["states"]["ws"][activity] == 1);

  peer->signal(SIGTERM);
  BOOST_TEST(peer->wait_exit(20s) == 0, peer->log());
  st = status_until(
      hub.admin_port, [](const nlohmann::json& j) { return j["live_connections"] == 0; },
      kSettleTimeout);
  BOOST_TEST(st["live_connections"] == 0, st.dump());
  BOOST_TEST(st["connections"].empty());
  BOOST_TEST(st["replication_errors"].empty(), st.dump());  // a clean stop is no error

  /// A peer that dies without closing ends its connection with a transport error.
  peer = continuous_peer(s, hub, {"--user", "alice:secret"});
  peer->signal(SIGKILL);
  auto m = scrape_until(hub.admin_port, [](const auto& m) {
    return m.count(R"(peerlite_replication_errors_total{kind="transport"})") == 1;
  });
  BOOST_TEST(value(m, R"(peerlite_replication_errors_total{kind="transport"})") == 1);
  hub.stop();
}

BOOST_AUTO_TEST_CASE(other_paths_methods_and_huge_headers_are_refused) {
  scratch s("admin");
  admin_hub hub(s);
  auto nope = get(hub.admin_port, "/nope");
  BOOST_TEST(nope.status == 404, nope.head);
  BOOST_TEST(get(hub.admin_port, "/metrics/extra").status == 404);
  auto post = parse_answer(http_exchange(
      hub.admin_port, "POST /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 0\r\n\r\n"));
  BOOST_TEST(post.status == 405, post.head);
  BOOST_TEST(post.head.find("Allow: GET") != std::string::npos, post.head);
  auto del = parse_answer(http_exchange(hub.admin_port, "DELETE / HTTP/1.1\r\nHost: x\r\n\r\n"));
  BOOST_TEST(del.status == 405, del.head);

  /// A query string is ignored; the page is self-contained.
  auto page = get(hub.admin_port, "/?refresh=1");
  BOOST_TEST(page.status == 200, page.head);
  BOOST_TEST(page.head.find("text/html") != std::string::npos);
  BOOST_TEST(page.body.find(R"(id="connections")") != std::string::npos);
  BOOST_TEST(page.body.find("http://") == std::string::npos);  // fetches nothing elsewhere
  BOOST_TEST(page.body.find("https://") == std::string::npos);

  /// Two requests on one keep-alive connection.
  auto two = http_exchange(hub.admin_port,
                           "GET /_status HTTP/1.1\r\nHost: x\r\n\r\n"
                           "GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  BOOST_TEST(std::regex_search(two, std::regex("HTTP/1.1 200[^]*HTTP/1.1 200")),
             two.substr(0, 300));

  /// An oversized header: 431 (or, if the refusal races our sending, a closed connection);
  /// never an answer to the request.
  std::string huge =
      "GET /metrics HTTP/1.1\r\nHost: x\r\nX-Padding: " + std::string(kHugeHeader, 'a') +
      "\r\n\r\n";
  auto raw = http_exchange(hub.admin_port, huge);
  auto refused = parse_answer(raw);
  BOOST_TEST((raw.empty() || refused.status == 431), raw.substr(0, 200));
  BOOST_TEST(raw.find("peerlite_docs") == std::string::npos);
  /// The server still answers afterwards.
  BOOST_TEST(get(hub.admin_port, "/metrics").status == 200);
  hub.stop();
}

BOOST_AUTO_TEST_CASE(a_bad_admin_address_fails_with_the_reason) {
  scratch s("admin");
  auto [code, out] = cli(s, {"serve", "--db", s.path("hub.sqlite"), "--listen", "ws://127.0.0.1:0",
                             "--admin", "127.0.0.1:99999"});
  BOOST_TEST(code == 1, out);
  BOOST_TEST(out.find("--admin 127.0.0.1:99999: bad port '99999'") != std::string::npos, out);
  /// A port in use.
  admin_hub hub(s);
  auto busy = cli(s, {"serve", "--db", s.path("hub2.sqlite"), "--listen", "ws://127.0.0.1:0",
                      "--admin", std::to_string(hub.admin_port)});
  BOOST_TEST(busy.first == 1, busy.second);
  BOOST_TEST(
      busy.second.find("--admin: cannot listen on 127.0.0.1:" + std::to_string(hub.admin_port) +
                       ": address already in use") != std::string::npos,
      busy.second);
  auto help = cli(s, {"serve", "--help"});
  BOOST_TEST(help.second.find("--admin") != std::string::npos, help.second);
  hub.stop();
}

BOOST_AUTO_TEST_CASE(the_status_page_in_headless_chromium_shows_the_live_connection) {
  auto exe = find_chromium();
  BOOST_TEST_REQUIRE(!exe.empty(),
                     "chromium is not installed (apt-get install -y --no-install-recommends "
                     "chromium); this test needs it to render the status page");
  scratch s("admin");
  admin_hub hub(s);
  auto peer = continuous_peer(s, hub);
  auto page = "http://127.0.0.1:" + std::to_string(hub.admin_port) + "/";

  auto [code, dom] = chromium(s, exe, {"--dump-dom"}, page, "dom.log");
  BOOST_TEST_REQUIRE(code == 0, "chromium --dump-dom: exit " << code << "\n" << dom);
  BOOST_TEST(std::regex_search(dom, std::regex(R"(id="connections"[^>]*>1<)")), dom);
  /// The table lists it too, with its address.
  BOOST_TEST(std::regex_search(dom, std::regex(R"(<td>127\.0\.0\.1:[0-9]+</td>)")), dom);

  auto shot = kBuildDir / "status-page.png";
  std::filesystem::remove(shot);
  auto [shot_code, shot_log] = chromium(
      s, exe, {"--screenshot=" + shot.string(), "--window-size=1200,700", "--hide-scrollbars"},
      page, "shot.log");
  BOOST_TEST_REQUIRE(shot_code == 0, "chromium --screenshot: exit " << shot_code << "\n"
                                                                    << shot_log);
  BOOST_TEST_REQUIRE(std::filesystem::exists(shot), shot_log);
  BOOST_TEST(std::filesystem::file_size(shot) > kMinScreenshotBytes);
  std::ifstream png(shot, std::ios::binary);
  char magic[8] = {};
  png.read(magic, sizeof magic);
  BOOST_TEST(std::string(magic, 8) == std::string("\x89PNG\r\n\x1a\n", 8));
  BOOST_TEST_MESSAGE("status page screenshot: " << shot.string());

  peer->signal(SIGTERM);
  BOOST_TEST(peer->wait_exit(20s) == 0, peer->log());
  hub.stop();
}
