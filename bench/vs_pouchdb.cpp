// `peerlite-bench --vs-pouchdb`: peerlite and PouchDB replicating the same documents, side by
// side, in one run.
//
// Definition:
// - The documents: N (--docs; kDefaultDocs when --docs is not given, which the runner cannot
//   tell from an explicit --docs 100000, its own default) JSON objects, IDs
//   sample_id(i), bodies of kMinBodyBytes..kMaxBodyBytes (mean ~200 B) whose sizes and
//   contents come from a seeded generator (kDefaultSeed, or $PEERLITE_BENCH_SEED). They are
//   made once and written to a JSON-lines file that the Node side reads, so both systems store
//   the same IDs and bodies.
// - The PouchDB side is bench/peers/pouchdb/: package.json and package-lock.json pin PouchDB,
//   its memory adapter, express-pouchdb and express; npm installs them once into a cache
//   folder outside the repo ($XDG_CACHE_HOME or ~/.cache, then peerlite/pouchdb-<hash of the
//   two files>), which later runs reuse. client.js runs one workload per node process and times
//   it itself; server.js is express-pouchdb on 127.0.0.1 with every database in memory.
// - The workloads, each on both systems; the clock runs from the start of the replication to
//   its end (one-shot replication complete: every document on the destination); loading the
//   source databases and starting servers are setup and not timed:
//     memory_to_memory  two in-memory databases in one process, A -> B. PouchDB: the memory
//                       adapter and PouchDB.replicate; peerlite: two ":memory:" databases and
//                       the in-process loopback transport.
//     http_push         a client holding the documents pushes them to an empty server
//                       database. PouchDB: a memory database -> express-pouchdb over HTTP;
//                       peerlite: a ":memory:" database -> `peerlite serve --db :memory:` over
//                       ws://. Each server is a child process of its own (the hub is
//                       the sibling tools/peerlite, or $PEERLITE_CLI). PouchDB's HTTP client
//                       keeps its connections alive (client.js), as one WebSocket does.
//     http_pull         a fresh client pulls the same server database back (it holds the
//                       documents of http_push).
//     concurrent_push   kClients clients, each holding its own 1/kClients of the documents,
//                       push into one fresh server database at the same time; the clock stops
//                       when the last one has finished. Both systems run all clients in one
//                       process (PouchDB: one node process; peerlite: this one).
// - docs/s = N / seconds; ratio = peerlite docs/s / PouchDB docs/s (above 1: peerlite faster).
// - Checks: after every run the destination must hold N documents, else the line fails.
//   PouchDB: db.info().doc_count of the destination (the server's for pushes). peerlite:
//   document_count() of the destination; a hub is in another process with its database in
//   memory, so what it holds is counted by pulling it into a fresh database afterwards
//   (untimed for concurrent_push; for http_push that pull is http_pull itself).
// - Bounded: every npm/node child has its own timeout (kInstallTimeout, kServerStartTimeout,
//   kNodeWorkloadTimeout) and is killed when it runs out; every child is stopped when the mode
//   ends, however it ends.
#include <sqlite3.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <algorithm>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <random>
#include <sstream>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "actors/connection.hpp"
#include "actors/passive_replicator.hpp"
#include "actors/runtime.hpp"
#include "adapters/loopback/loopback.hpp"
#include "adapters/tcp/io_runtime.hpp"
#include "adapters/websocket/net_endpoint.hpp"
#include "bench/bench.hpp"
#include "bench/fixtures.hpp"
#include "bench/serve_process.hpp"
#include "bench/vs_pouchdb_child.hpp"
#include "peerlite/database.hpp"
#include "peerlite/replicator.hpp"

namespace peerlite::bench {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

/// The runner's --docs default; this mode reads it as "not given" and uses kDefaultDocs.
constexpr size_t kRunnerDefaultDocs = 100000;
/// Documents per workload when --docs is not given. PouchDB moves 2,500-5,500 docs/s here
/// (2-core VM), so the whole run (four workloads on both systems, plus loading PouchDB's source
/// databases) takes about 1.5 minutes; fewer docs would mostly measure start-up costs.
constexpr size_t kDefaultDocs = 50000;
/// Clients of concurrent_push.
constexpr size_t kClients = 20;
/// The documents' seed when $PEERLITE_BENCH_SEED is not set.
constexpr uint64_t kDefaultSeed = 1;
/// Body sizes: uniform between these, so ~200 B on average.
constexpr size_t kMinBodyBytes = 125;
constexpr size_t kMaxBodyBytes = 275;

/// Longest `npm install` may take (285 packages, about a minute here).
constexpr std::chrono::seconds kInstallTimeout{600};
/// Longest `node client.js versions` or `npm --version` may take.
constexpr std::chrono::seconds kVersionsTimeout{60};
/// Longest express-pouchdb may take to print its "listening" line.
constexpr std::chrono::seconds kServerStartTimeout{60};
/// Longest one PouchDB workload process may take, loading included: 100,000 docs at a tenth
/// of PouchDB's usual rate (~100 docs/s) would be 1,000 s; beyond this something is stuck.
constexpr std::chrono::seconds kNodeWorkloadTimeout{1200};

/// The name the peerlite hubs serve their in-memory database under (`serve --name`).
constexpr const char* kHubName = "bench";
/// The express-pouchdb database names.
constexpr const char* kPouchPushDb = "bench";
constexpr const char* kPouchConcurrentDb = "concurrent";

// ---------------------------------------------------------------------------------------------
// The documents

struct sample_doc {
  std::string id;
  std::string body;  ///< a JSON object
};

/// The documents for `seed`: a 64-bit Mersenne Twister (whose output the C++ standard fixes)
/// picks each body's value and note length, so a seed gives the same bytes everywhere.
std::vector<sample_doc> make_docs(size_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  static constexpr char kLetters[] = "abcdefghijklmnopqrstuvwxyz ";
  std::vector<sample_doc> out;
  out.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    json body{{"type", "reading"},
              {"sensor", "sensor-" + std::to_string(rng() % 1000)},
              {"seq", i},
              {"value", static_cast<double>(rng() % 100000) / 100},
              {"note", ""}};
    size_t fixed = body.dump().size();
    size_t want = kMinBodyBytes + rng() % (kMaxBodyBytes - kMinBodyBytes + 1);
    std::string note;
    for (size_t k = fixed; k < want; ++k) note += kLetters[rng() % (sizeof kLetters - 1)];
    body["note"] = note;
    out.push_back({sample_id(i), body.dump()});
  }
  return out;
}

/// One {"id": ..., "body": {...}} per line: what client.js reads.
void write_jsonl(const std::vector<sample_doc>& docs, const std::string& path) {
  std::ofstream out(path);
  for (auto& d : docs) out << R"({"id":)" << json(d.id).dump() << R"(,"body":)" << d.body << "}\n";
  if (!out.flush()) throw std::runtime_error("cannot write " + path);
}

uint64_t seed_from_env() {
  const char* s = std::getenv("PEERLITE_BENCH_SEED");
  if (!s || !*s) return kDefaultSeed;
  char* end = nullptr;
  uint64_t v = std::strtoull(s, &end, 10);
  if (*end) throw std::runtime_error(std::string("PEERLITE_BENCH_SEED is not a number: ") + s);
  return v;
}

// ---------------------------------------------------------------------------------------------
// The Node side: where it is, its install, its processes

/// bench/peers/pouchdb of the source tree this binary was built from ($PEERLITE_POUCHDB_DIR
/// overrides it, e.g. for a binary moved elsewhere).
fs::path peers_dir() {
  if (const char* d = std::getenv("PEERLITE_POUCHDB_DIR")) return d;
  return fs::path(__FILE__).parent_path() / "peers" / "pouchdb";
}

/// 64-bit FNV-1a, in hex: names the install folder after what it installs.
std::string fnv1a_hex(const std::string& text) {
  uint64_t h = 14695981039346656037ull;
  for (unsigned char c : text) h = (h ^ c) * 1099511628211ull;
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
  return buf;
}

/// The files that define the install; package-lock.json is optional.
constexpr const char* kInstallFiles[] = {"package.json", "package-lock.json"};
/// Written into the install folder once npm has succeeded: a folder without it is not reused.
constexpr const char* kInstalledStamp = ".peerlite-installed";

struct node_tools {
  std::string node, npm;
  fs::path scripts;  ///< bench/peers/pouchdb
  fs::path install;  ///< the cache folder holding node_modules
};

/// The line of npm's output that says what went wrong: its first "npm error" line other than
/// the error code and the pointer to its debug log; else its last line.
std::string npm_error_summary(const std::string& output) {
  std::istringstream in(output);
  for (std::string s; std::getline(in, s);) {
    if (s.rfind("npm error", 0) != 0) continue;
    if (s.find("npm error code") == 0 || s.find("A complete log") != std::string::npos) continue;
    return s;
  }
  return last_line(output);
}

/// The install folder for the current package files, installing there first when needed:
/// npm runs in a private temporary folder that is renamed into place on success, so an
/// interrupted or concurrent install never leaves a half-filled folder that looks finished.
fs::path ensure_installed(const node_tools& t, const mode_context& ctx) {
  std::string defining;
  for (auto* name : kInstallFiles)
    if (fs::exists(t.scripts / name))
      defining += std::string(name) + '\0' + read_text(t.scripts / name) + '\0';
  const char* xdg = std::getenv("XDG_CACHE_HOME");
  const char* home = std::getenv("HOME");
  fs::path base = xdg && *xdg ? fs::path(xdg) : fs::path(home ? home : "/tmp") / ".cache";
  fs::path dir = base / "peerlite" / ("pouchdb-" + fnv1a_hex(defining));
  if (fs::exists(dir / kInstalledStamp)) return dir;
  fs::create_directories(dir.parent_path());
  fs::path tmp = dir.string() + ".tmp-" + std::to_string(::getpid());
  /// npm's output stays beside the folder, so a failed install can be read afterwards.
  fs::path log = dir.string() + ".npm-install.log";
  /// The temporary folder goes, whatever happens, unless it became `dir`.
  struct remove_unless_kept {
    fs::path path;
    ~remove_unless_kept() {
      std::error_code ec;
      if (!path.empty()) fs::remove_all(path, ec);
    }
  } cleanup{tmp};
  fs::remove_all(tmp);
  fs::create_directories(tmp);
  for (auto* name : kInstallFiles)
    if (fs::exists(t.scripts / name)) fs::copy_file(t.scripts / name, tmp / name);
  ctx.progress("installing PouchDB with npm into " + dir.string() +
               " (once; later runs reuse it; about a minute; output in " + log.string() + ")");
  child_process npm({t.npm, "install", "--no-audit", "--no-fund"}, tmp.string(), log.string(),
                    log.string());
  int rc = npm.wait(kInstallTimeout, "npm install (output in " + log.string() + ")");
  if (rc != 0)
    throw std::runtime_error("npm install failed (" + describe_status(rc) +
                             "): " + npm_error_summary(npm.out()) + " (full output in " +
                             log.string() + ")");
  std::ofstream(tmp / kInstalledStamp) << "installed by peerlite-bench --vs-pouchdb\n";
  std::error_code ec;
  fs::rename(tmp, dir, ec);
  if (!ec) cleanup.path.clear();
  /// Else another run finished the same install first: use that one.
  if (!fs::exists(dir / kInstalledStamp))
    throw std::runtime_error("cannot move the npm install into " + dir.string());
  ctx.progress("installed PouchDB into " + dir.string());
  return dir;
}

/// Runs `node client.js <args...>` in `cwd` up to kNodeWorkloadTimeout and returns the JSON
/// object it printed last. Throws with node's last error line when it fails.
json run_client(const node_tools& t, const fs::path& cwd, const std::vector<std::string>& args,
                std::chrono::seconds limit = kNodeWorkloadTimeout) {
  std::vector<std::string> argv{t.node, (t.scripts / "client.js").string()};
  argv.insert(argv.end(), args.begin(), args.end());
  std::string tag = "client-" + args.front();
  child_process node(argv, cwd.string(), (cwd / (tag + ".out")).string(),
                     (cwd / (tag + ".err")).string(),
                     {"NODE_PATH=" + (t.install / "node_modules").string()});
  int rc = node.wait(limit, "node client.js " + args.front());
  if (rc != 0)
    throw std::runtime_error("node client.js " + args.front() + " failed (" + describe_status(rc) +
                             "): " + error_line(node.err()));
  try {
    return json::parse(last_line(node.out()));
  } catch (const json::exception&) {
    throw std::runtime_error("node client.js " + args.front() +
                             " printed no result: " + last_line(node.out()));
  }
}

/// express-pouchdb (server.js) as a child process, with its URL once it listens.
class pouch_server {
 public:
  pouch_server(const node_tools& t, const fs::path& cwd)
      : proc_({t.node, (t.scripts / "server.js").string()}, cwd.string(),
              (cwd / "server.out").string(), (cwd / "server.err").string(),
              {"NODE_PATH=" + (t.install / "node_modules").string()}) {
    auto end = std::chrono::steady_clock::now() + kServerStartTimeout;
    const std::string mark = "listening ";
    while (std::chrono::steady_clock::now() < end) {
      auto out = proc_.out();
      if (auto at = out.find(mark);
          at != std::string::npos && out.find('\n', at) != std::string::npos) {
        url_ = out.substr(at + mark.size(), out.find('\n', at) - at - mark.size());
        return;
      }
      if (auto rc = proc_.poll())
        throw std::runtime_error("express-pouchdb ended (" + describe_status(*rc) +
                                 ") before listening: " + error_line(proc_.err()));
      std::this_thread::sleep_for(kChildPollInterval);
    }
    proc_.stop();
    throw std::runtime_error("express-pouchdb did not listen within " +
                             std::to_string(kServerStartTimeout.count()) + " s");
  }
  /// http://127.0.0.1:PORT
  const std::string& url() const { return url_; }

 private:
  child_process proc_;
  std::string url_;
};

// ---------------------------------------------------------------------------------------------
// The peerlite side

/// A ":memory:" database holding docs[from, to) (setup, not timed).
database memory_db(const std::vector<sample_doc>& docs, size_t from = 0, size_t to = SIZE_MAX) {
  auto db = database::open(":memory:");
  if (!db) throw std::runtime_error(db.err().message);
  to = std::min(to, docs.size());
  for (size_t i = from; i < to; ++i)
    if (auto r = db->put(docs[i].id, docs[i].body); !r) throw std::runtime_error(r.err().message);
  return *db;
}

/// Throws unless `db` holds exactly `want` live documents.
void expect_count(const database& db, size_t want, const std::string& where) {
  auto n = db.document_count();
  if (!n || *n != want)
    throw std::runtime_error(where + " holds " + std::to_string(n ? *n : 0) + " docs, not " +
                             std::to_string(want));
}

/// memory_to_memory: one-shot push from `source` to `target` over the loopback transport,
/// with a passive replicator on `target`, as two peers in one process; seconds.
double loopback_push(database source, database target) {
  auto sys = actors::shared_system();
  replicator_config cfg;
  cfg.db = std::move(source);
  cfg.type = replicator_type::push;
  cfg.target.uid = "vs-pouchdb-peer";
  cfg.target.target = "loopback";
  cfg.target.delegate = [sys, target](const message_endpoint&) {
    auto [a, b] = loopback::make_pair();
    auto owner = actors::spawn_passive_replicator(*sys, target, actors::passive_observer{}, 1);
    actors::spawn_connection(*sys, std::move(b.connection), protocol_type::message_stream,
                             actors::role::passive, owner);
    return std::move(a.connection);
  };
  return run_one_shot(std::move(cfg));
}

/// One one-shot replication of `db` with the hub at `url`; seconds.
double with_hub(database db, const std::string& url, replicator_type type) {
  net::io_runtime io(1);
  auto ep = net::make_endpoint(io, url);
  if (!ep) throw std::runtime_error(ep.err().message);
  replicator_config cfg;
  cfg.db = std::move(db);
  cfg.target = std::move(*ep);
  cfg.type = type;
  return run_one_shot(std::move(cfg));
}

/// Pushes every database in `clients` to the hub at `url` at the same time; seconds from just
/// before the first start() to the last STOPPED. Throws on any error or after
/// kReplicationTimeout.
double concurrent_push(const std::vector<database>& clients, const std::string& url) {
  net::io_runtime io(1);
  std::mutex mx;
  std::condition_variable cv;
  size_t stopped = 0;
  std::vector<std::string> errors;
  std::vector<std::unique_ptr<replicator>> repls;
  std::vector<listener_token> tokens;
  for (auto& db : clients) {
    auto ep = net::make_endpoint(io, url);
    if (!ep) throw std::runtime_error(ep.err().message);
    replicator_config cfg;
    cfg.db = db;
    cfg.target = std::move(*ep);
    cfg.type = replicator_type::push;
    repls.push_back(std::make_unique<replicator>(std::move(cfg)));
    /// Finished = the first STOPPED after another status (a STOPPED before start() is not).
    auto began = std::make_shared<bool>(false);
    tokens.push_back(repls.back()->add_change_listener([&, began](const replicator_status& s) {
      if (s.activity != activity_level::stopped) return void(*began = true);
      std::lock_guard lk(mx);
      if (!std::exchange(*began, false)) return;
      ++stopped;
      if (s.err.code != errc::ok) errors.push_back(s.err.message);
      cv.notify_all();
    }));
  }
  stopwatch clock;
  for (auto& r : repls) r->start();
  std::unique_lock lk(mx);
  bool all = cv.wait_for(lk, kReplicationTimeout, [&] { return stopped == clients.size(); });
  double secs = clock.seconds();
  lk.unlock();
  for (auto& r : repls) r->stop();
  for (auto& token : tokens) token.remove();  // the listeners refer to this frame's locals
  repls.clear();
  if (!all)
    throw std::runtime_error(std::to_string(stopped) + "/" + std::to_string(clients.size()) +
                             " clients finished within kReplicationTimeout");
  if (!errors.empty()) throw std::runtime_error("a client failed: " + errors.front());
  return secs;
}

// ---------------------------------------------------------------------------------------------
// The run

/// One workload's outcome on both systems.
struct line {
  line(std::string name, std::string how) : workload(std::move(name)), what(std::move(how)) {}
  std::string workload;
  std::string what;  ///< one phrase: how each system ran it
  double pouch_s = 0, peerlite_s = 0;
  std::string error;  ///< non-empty: the line failed
};

void print_line(const line& l, size_t docs, bool as_json) {
  double pouch = l.pouch_s > 0 ? docs / l.pouch_s : 0;
  double mine = l.peerlite_s > 0 ? docs / l.peerlite_s : 0;
  double ratio = pouch > 0 ? mine / pouch : 0;
  if (as_json) {
    json j{{"kind", "workload"}, {"workload", l.workload}, {"docs", docs}, {"what", l.what}};
    if (!l.error.empty()) {
      j["error"] = l.error;
    } else {
      j.update({{"pouchdb_seconds", l.pouch_s},
                {"pouchdb_docs_per_s", pouch},
                {"peerlite_seconds", l.peerlite_s},
                {"peerlite_docs_per_s", mine},
                {"ratio_peerlite_to_pouchdb", ratio}});
    }
    std::printf("%s\n", j.dump().c_str());
  } else if (!l.error.empty()) {
    std::printf("%-16s : FAILED: %s\n", l.workload.c_str(), l.error.c_str());
  } else {
    std::printf(
        "%-16s : pouchdb %8.0f docs/s (%7.2f s); peerlite %8.0f docs/s (%6.2f s); ratio "
        "peerlite/pouchdb %6.1f\n",
        l.workload.c_str(), pouch, l.pouch_s, mine, l.peerlite_s, ratio);
  }
  std::fflush(stdout);
}

std::string cpu_model() {
  std::ifstream in("/proc/cpuinfo");
  for (std::string s; std::getline(in, s);)
    if (s.rfind("model name", 0) == 0) return s.substr(s.find(':') + 2);
  return "unknown CPU";
}

/// The 1-minute load average (runnable processes), 0 when unknown.
double load_average() {
  double avg[1] = {0};
  return ::getloadavg(avg, 1) == 1 ? avg[0] : 0;
}

void print_header(const json& h, bool as_json) {
  if (as_json) {
    json j = h;
    j["kind"] = "header";
    std::printf("%s\n", j.dump().c_str());
  } else {
    std::printf(
        "peerlite-bench --vs-pouchdb: the same documents replicated by PouchDB and by "
        "peerlite\n");
    std::printf("Date:       %s\n", h["date"].get<std::string>().c_str());
    std::printf("Machine:    %s; %.1f GiB; %s\n", h["cpu"].get<std::string>().c_str(),
                h["memory_gib"].get<double>(), h["kernel"].get<std::string>().c_str());
    std::printf(
        "Load:       %.2f (1-minute load average at the start; other work on the "
        "machine slows both systems)\n",
        h["load_average"].get<double>());
    std::printf("Node:       node %s, npm %s\n", h["node"].get<std::string>().c_str(),
                h["npm"].get<std::string>().c_str());
    std::printf(
        "PouchDB:    pouchdb %s, pouchdb-adapter-memory %s, express-pouchdb %s, "
        "express %s\n",
        h["pouchdb"].get<std::string>().c_str(),
        h["pouchdb_adapter_memory"].get<std::string>().c_str(),
        h["express_pouchdb"].get<std::string>().c_str(), h["express"].get<std::string>().c_str());
    std::printf("peerlite:   SQLite %s\n", h["sqlite"].get<std::string>().c_str());
    std::printf(
        "Docs:       %zu per workload (%s..%s), bodies %zu-%zu B (mean %.0f B), seed %llu\n",
        h["docs"].get<size_t>(), h["first_id"].get<std::string>().c_str(),
        h["last_id"].get<std::string>().c_str(), h["min_body"].get<size_t>(),
        h["max_body"].get<size_t>(), h["mean_body"].get<double>(),
        static_cast<unsigned long long>(h["seed"].get<uint64_t>()));
    for (auto& n : h["notes"]) std::printf("Note:       %s\n", n.get<std::string>().c_str());
    std::printf("------------------------------------------------\n");
  }
  std::fflush(stdout);
}

/// A scratch directory under --dir for the whole mode, removed afterwards.
struct scratch_dir {
  fs::path path;
  explicit scratch_dir(const std::string& base) {
    std::string tmpl = (fs::path(base) / "peerlite-vs-pouchdb-XXXXXX").string();
    if (!::mkdtemp(tmpl.data())) throw std::runtime_error("cannot create a directory in " + base);
    path = tmpl;
  }
  ~scratch_dir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
};

/// Runs `fn` and returns its error text ("" when it succeeded).
template <class F>
std::string attempt(F&& fn) {
  try {
    fn();
    return "";
  } catch (const std::exception& e) {
    return e.what();
  }
}

/// Throws unless a client.js result reports `want` documents on the destination.
double pouch_seconds(const json& r, size_t want) {
  size_t count = r.value("count", size_t{0});
  if (count != want)
    throw std::runtime_error("pouchdb: the destination holds " + std::to_string(count) +
                             " docs, not " + std::to_string(want));
  return r.at("seconds").get<double>();
}

int run_vs_pouchdb(const mode_context& ctx) {
  node_tools t;
  auto node = find_on_path("node");
  auto npm = find_on_path("npm");
  if (!node || !npm) {
    std::printf(
        "--vs-pouchdb skipped: %s not found on PATH (install Node.js 18+ with npm to "
        "compare with PouchDB)\n",
        !npm ? "npm" : "node");
    return 0;
  }
  t.node = *node;
  t.npm = *npm;
  t.scripts = peers_dir();
  if (!fs::exists(t.scripts / "package.json") || !fs::exists(t.scripts / "client.js"))
    throw std::runtime_error(t.scripts.string() +
                             " has no package.json/client.js (set PEERLITE_POUCHDB_DIR to "
                             "bench/peers/pouchdb of a peerlite checkout)");
  t.install = ensure_installed(t, ctx);
  scratch_dir scratch(ctx.dir);
  const fs::path& dir = scratch.path;

  size_t n = ctx.docs == kRunnerDefaultDocs ? kDefaultDocs : ctx.docs;
  uint64_t seed = seed_from_env();
  ctx.progress("making " + std::to_string(n) + " docs (seed " + std::to_string(seed) + ")");
  auto docs = make_docs(n, seed);
  std::string docs_file = (dir / "docs.jsonl").string();
  write_jsonl(docs, docs_file);

  auto versions = run_client(t, dir, {"versions"}, kVersionsTimeout);
  child_process npm_v({t.npm, "--version"}, dir.string(), (dir / "npm.out").string(),
                      (dir / "npm.err").string());
  npm_v.wait(kVersionsTimeout, "npm --version");

  size_t min_body = SIZE_MAX, max_body = 0, total_body = 0;
  for (auto& d : docs) {
    min_body = std::min(min_body, d.body.size());
    max_body = std::max(max_body, d.body.size());
    total_body += d.body.size();
  }
  utsname u{};
  uname(&u);
  std::time_t now = std::time(nullptr);
  char date[64];
  std::strftime(date, sizeof date, "%Y-%m-%d %H:%M:%S UTC", std::gmtime(&now));
  json header{
      {"date", date},
      {"cpu", std::to_string(sysconf(_SC_NPROCESSORS_ONLN)) + " x " + cpu_model()},
      {"memory_gib", double(sysconf(_SC_PHYS_PAGES)) * double(sysconf(_SC_PAGE_SIZE)) / (1 << 30)},
      {"kernel", std::string(u.sysname) + " " + u.release},
      {"load_average", load_average()},
      {"node", versions.value("node", "?")},
      {"npm", last_line(npm_v.out())},
      {"pouchdb", versions.value("pouchdb", "?")},
      {"pouchdb_adapter_memory", versions.value("pouchdb_adapter_memory", "?")},
      {"express_pouchdb", versions.value("express_pouchdb", "?")},
      {"express", versions.value("express", "?")},
      {"sqlite", sqlite3_libversion()},
      {"docs", n},
      {"first_id", docs.front().id},
      {"last_id", docs.back().id},
      {"min_body", min_body},
      {"max_body", max_body},
      {"mean_body", double(total_body) / n},
      {"seed", seed},
      {"clients", kClients},
      {"install", t.install.string()},
      {"notes",
       {"every database is in memory: PouchDB's memory adapter (memdown) on both sides, "
        "peerlite's \":memory:\" SQLite databases, hubs run as `peerlite serve --db :memory:`",
        "PouchDB speaks CouchDB's HTTP API to express-pouchdb (its client given a keep-alive "
        "agent: by default it opens a connection per request); peerlite speaks BLIP over one "
        "WebSocket per client; both use their default batch sizes",
        "each system times itself the same way (replication start to one-shot complete) in its "
        "own process; both systems' servers are child processes on 127.0.0.1",
        "concurrent_push: " + std::to_string(kClients) +
            " clients in one process on each side (node's single thread vs peerlite's actor "
            "threads), each pushing 1/" +
            std::to_string(kClients) + " of the docs into one server database"}}};
  print_header(header, ctx.json);

  bool failed = false;
  auto finish = [&](line& l) {
    failed = failed || !l.error.empty();
    print_line(l, n, ctx.json);
  };

  // memory_to_memory
  {
    line l{"memory_to_memory", "PouchDB memory adapter A -> B vs peerlite :memory: over loopback"};
    l.error = attempt([&] {
      ctx.progress("memory_to_memory: pouchdb");
      l.pouch_s = pouch_seconds(run_client(t, dir, {"memory", docs_file}), n);
      ctx.progress("memory_to_memory: peerlite");
      auto a = memory_db(docs), b = memory_db({});
      l.peerlite_s = loopback_push(a, b);
      expect_count(b, n, "peerlite: the target");
    });
    finish(l);
  }

  // http_push and http_pull, against one server per system
  {
    line push{"http_push", "PouchDB memory -> express-pouchdb vs peerlite -> peerlite serve"};
    line pull{"http_pull", "express-pouchdb -> PouchDB memory vs peerlite serve -> peerlite"};
    auto pouch_err = attempt([&] {
      ctx.progress("http_push: pouchdb");
      pouch_server server(t, dir);
      std::string url = server.url() + "/" + kPouchPushDb;
      push.pouch_s = pouch_seconds(run_client(t, dir, {"push", docs_file, url}), n);
      ctx.progress("http_pull: pouchdb");
      pull.pouch_s = pouch_seconds(run_client(t, dir, {"pull", docs_file, url}), n);
    });
    auto mine_err = attempt([&] {
      serve_process hub(":memory:", (dir / "hub-push.log").string(), {"--name", kHubName});
      ctx.progress("http_push: peerlite to " + hub.url());
      push.peerlite_s = with_hub(memory_db(docs), hub.url(), replicator_type::push);
      ctx.progress("http_pull: peerlite from " + hub.url());
      auto fresh = memory_db({});
      pull.peerlite_s = with_hub(fresh, hub.url(), replicator_type::pull);
      /// Also http_push's check: the hub held every document it was pushed.
      expect_count(fresh, n, "peerlite: the pulling client");
    });
    /// A failure names its side; without a pull figure, push has no verified count either.
    for (auto* l : {&push, &pull}) {
      if (!pouch_err.empty()) l->error = pouch_err;
      if (!mine_err.empty()) l->error += (l->error.empty() ? "" : "; ") + mine_err;
      if (l->error.empty() && (l->pouch_s <= 0 || l->peerlite_s <= 0)) l->error = "no result";
      finish(*l);
    }
  }

  // concurrent_push
  {
    line l{"concurrent_push", std::to_string(kClients) + " clients push 1/" +
                                  std::to_string(kClients) + " each into one server"};
    l.error = attempt([&] {
      ctx.progress("concurrent_push: pouchdb, " + std::to_string(kClients) + " clients");
      {
        pouch_server server(t, dir);
        l.pouch_s = pouch_seconds(
            run_client(t, dir,
                       {"concurrent", docs_file, server.url() + "/" + kPouchConcurrentDb,
                        std::to_string(kClients)}),
            n);
      }
      ctx.progress("concurrent_push: peerlite, " + std::to_string(kClients) + " clients");
      serve_process hub(":memory:", (dir / "hub-concurrent.log").string(), {"--name", kHubName});
      std::vector<database> clients;
      size_t share = n / kClients;
      for (size_t c = 0; c < kClients; ++c)
        clients.push_back(memory_db(docs, c * share, c + 1 == kClients ? n : (c + 1) * share));
      l.peerlite_s = concurrent_push(clients, hub.url());
      /// The hub's database is in its own process and memory: count it by pulling it (untimed).
      auto check = memory_db({});
      with_hub(check, hub.url(), replicator_type::pull);
      expect_count(check, n, "peerlite: the hub");
    });
    finish(l);
  }
  return failed ? 1 : 0;
}

const bool registered = add_mode(
    {"--vs-pouchdb",
     "Compare with PouchDB 9 (Node + npm needed; skipped without them): the same docs "
     "replicated memory-to-memory, pushed and pulled over HTTP (express-pouchdb) vs ws:// "
     "(peerlite serve), and pushed by 20 concurrent clients; prints docs/s of both and the "
     "ratio. Installs PouchDB once into ~/.cache/peerlite. 50000 docs unless --docs is given; "
     "seed from $PEERLITE_BENCH_SEED (default 1)",
     [](const mode_context& ctx) -> int {
       try {
         return run_vs_pouchdb(ctx);
       } catch (const std::exception& e) {
         std::fflush(stdout);
         std::fprintf(stderr, "peerlite-bench --vs-pouchdb: error: %s\n", e.what());
         return 1;
       }
     }});

}  // namespace
}  // namespace peerlite::bench
