// `peerlite demo`: the README's main job in one command. A hub and N peers, each with its own
// database in a temporary folder; the peers write documents and replicate push-and-pull over
// WebSocket through the hub until every database holds every document; then a summary.
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <map>
#include <memory>
#include <vector>

#include "adapters/tcp/io_runtime.hpp"
#include "adapters/websocket/net_endpoint.hpp"
#include "adapters/websocket/ws_listener.hpp"
#include "peerlite/database.hpp"
#include "peerlite/replicator.hpp"
#include "tools/commands.hpp"
#include "peerlite/hub.hpp"
#include "tools/serve_support.hpp"

namespace peerlite::tools {
namespace {

/// How often the demo checks for convergence and redraws its progress.
constexpr std::chrono::milliseconds kDemoPollInterval{250};
/// Longest the demo waits for every database to hold every document before it gives up.
constexpr std::chrono::seconds kDemoTimeout{300};

struct demo_options {
  unsigned peers = 20;
  unsigned docs = 200;
};

/// A temporary folder, removed with everything in it at the end.
struct scratch_dir {
  std::filesystem::path path;
  scratch_dir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "peerlite-demo-XXXXXX").string();
    if (!mkdtemp(tmpl.data())) fail("demo", "cannot create a temporary folder");
    path = tmpl;
  }
  ~scratch_dir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
};

database open_db(const std::filesystem::path& p) {
  auto db = database::open(p.string());
  if (!db) fail("demo", db.err());
  return *db;
}

void write_docs(database& db, unsigned peer, unsigned count) {
  for (unsigned n = 0; n < count; ++n) {
    auto id = "peer" + std::to_string(peer) + "-doc" + std::to_string(n);
    auto body = "{\"peer\":" + std::to_string(peer) + ",\"n\":" + std::to_string(n) +
                ",\"text\":\"written by peer " + std::to_string(peer) + "\"}";
    auto r = db.put(id, body);
    if (!r) fail("demo", r.err());
  }
}

/// Every live document as id -> "rev body": what "identical" compares.
std::map<std::string, std::string> contents(const database& db) {
  std::map<std::string, std::string> out;
  uint64_t since = 0;
  for (;;) {
    auto cs = db.changes(since, 5000);
    if (!cs) fail("demo", cs.err());
    if (cs->empty()) return out;
    since = cs->back().sequence;
    for (auto& c : *cs) {
      if (c.deleted) continue;
      auto d = db.get(c.id);
      if (d) out[c.id] = d->rev + " " + d->body;
    }
  }
}

/// Peers holding every document (the hub counts as one more database).
unsigned complete_count(const std::vector<database>& dbs, uint64_t total) {
  unsigned n = 0;
  for (auto& db : dbs) {
    auto c = db.document_count();
    if (c && *c == total) ++n;
  }
  return n;
}

void show_progress(bool tty, unsigned complete, size_t all, const hub& h,
                   std::chrono::steady_clock::duration elapsed) {
  char text[200];
  std::snprintf(text, sizeof text,
                "demo: %u/%zu databases complete, %llu docs in + %llu out at the hub, %.1f s",
                complete, all, (unsigned long long)h.docs_in(), (unsigned long long)h.docs_out(),
                std::chrono::duration<double>(elapsed).count());
  if (tty) {
    std::printf("\r\033[K%s", text);
    std::fflush(stdout);
  } else {
    log_line(text);
  }
}

void run_demo(const demo_options& o) {
  install_stop_signals();
  raise_open_files_limit();
  scratch_dir dir;
  auto total = uint64_t(o.peers) * o.docs;
  log_line("demo: hub + " + std::to_string(o.peers) + " peers in " + dir.path.string() + ", " +
           std::to_string(o.docs) + " docs each");
  std::vector<database> dbs{open_db(dir.path / "hub.sqlite")};
  for (unsigned i = 0; i < o.peers; ++i) {
    dbs.push_back(open_db(dir.path / ("peer" + std::to_string(i) + ".sqlite")));
    write_docs(dbs.back(), i, o.docs);
  }
  net::io_runtime io(1);  // the peers' sockets: outlives the replicators below
  hub_options ho;
  ho.listen = {"ws://127.0.0.1:0"};
  ho.name = "hub";
  auto started = hub::start(dbs[0], ho);
  if (!started) fail("demo", started.err());
  auto h = std::move(*started);
  auto url = h->urls().front();
  log_line("demo: hub listening at " + url + "; peers sync push-and-pull, continuous");
  auto start = std::chrono::steady_clock::now();
  std::vector<std::unique_ptr<replicator>> peers;
  for (unsigned i = 0; i < o.peers; ++i) {
    auto ep = net::make_endpoint(io, url);
    if (!ep) fail("demo", ep.err());
    replicator_config cfg;
    cfg.db = dbs[i + 1];
    cfg.target = std::move(*ep);
    cfg.continuous = true;
    peers.push_back(std::make_unique<replicator>(cfg));
    peers.back()->start();
  }
  bool tty = stdout_is_tty();
  unsigned complete = 0;
  while (!stop_requested() && std::chrono::steady_clock::now() - start < kDemoTimeout) {
    sleep_unless_stopped(kDemoPollInterval);
    complete = complete_count(dbs, total);
    show_progress(tty, complete, dbs.size(), *h, std::chrono::steady_clock::now() - start);
    if (complete == dbs.size()) break;
  }
  auto elapsed = std::chrono::steady_clock::now() - start;
  if (tty) std::printf("\n");
  for (auto& p : peers) p->stop();
  peers.clear();  // each destructor waits for STOPPED
  uint64_t moved = h->docs_in() + h->docs_out();
  h.reset();
  auto reference = contents(dbs[0]);
  bool identical = reference.size() == total;
  for (size_t i = 1; i < dbs.size() && identical; ++i) identical = contents(dbs[i]) == reference;
  char text[300];
  std::snprintf(text, sizeof text,
                "demo: %u peers x %u docs: %llu docs moved in %.2f s = %.0f docs/s; all %zu "
                "databases identical: %s",
                o.peers, o.docs, (unsigned long long)moved,
                std::chrono::duration<double>(elapsed).count(), per_second(moved, elapsed),
                dbs.size(), identical ? "yes" : "no");
  log_line(text);
  dbs.clear();
  if (!identical) fail("demo", "the databases did not converge");
}

void add_demo_command(CLI::App& app) {
  auto o = std::make_shared<demo_options>();
  auto* cmd = app.add_subcommand("demo", "Show a hub and N peers converging over WebSocket");
  cmd->footer(
      "Makes a hub database and N peer databases in a temporary folder, starts the hub on a "
      "free 127.0.0.1 port, has every peer write its documents and replicate push-and-pull "
      "(continuous) over WebSocket until every database holds every document, prints docs/s "
      "and whether all databases are identical (yes/no), and deletes the folder. Exits 0 "
      "when they are identical.");
  cmd->add_option("--peers", o->peers, "number of peers (default 20)")
      ->check(CLI::Range(1u, 2000u));
  cmd->add_option("--docs", o->docs, "documents each peer writes (default 200)")
      ->check(CLI::Range(1u, 1000000u));
  cmd->callback([o] { run_demo(*o); });
}

const bool registered = register_commands(40, {"demo"}, add_demo_command);

}  // namespace
}  // namespace peerlite::tools
