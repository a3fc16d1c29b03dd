// peerlite-soak (issue 13): a hub (`peerlite serve`) and N continuous peers (`peerlite sync
// --continuous --push-and-pull`), all real processes on 127.0.0.1, each peer with its own SQLite
// file. The harness writes into every peer's file throughout (in-process, through the store
// library: the running sync picks up another process's commits through SQLite's data_version):
// inserts, updates, deletions, and edits of shared document IDs that several peers write at
// once (conflicts). Meanwhile, every few seconds (seeded), it SIGKILLs a peer or the hub and
// restarts it, SIGTERMs one, or drops connections (SIGSTOP a peer or the hub for longer than the
// hub's idle timeout, or restart the hub gracefully). At the end the chaos stops, everything runs
// undisturbed until every database holds the same documents (bounded wait), every process is
// stopped, and the files are checked: same documents, revisions, bodies and deleted flags
// everywhere; no acknowledged write lost (each acknowledged revision is in the hub's revision
// tree, or was closed by a conflict resolution on the peer that wrote it); PRAGMA
// integrity_check on every file; the hub's RSS at the end within 20% of the first hub's after
// warm-up, plus what its page caches may hold of the data written since. Prints one summary line and exits 0 on PASS, 1 on FAIL (reasons on the lines
// before), 2 on bad arguments.
#include <fcntl.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cinttypes>
#include <cmath>
#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "adapters/tcp/process_resources.hpp"
#include "store/database.hpp"
#include "store/rev_tree.hpp"

namespace {

using sclock = std::chrono::steady_clock;
using namespace std::chrono_literals;
namespace fs = std::filesystem;
namespace store = peerlite::store;

// --- bounds ---

/// Longest a process may take to exit after SIGTERM (the hub waits up to 8 s for its
/// connections, the sync command up to the engine's 5 s close timeout).
constexpr auto kTermTimeout = 15s;
/// Longest a (re)started hub may take to print its "serving" line.
constexpr auto kHubStartTimeout = 15s;
/// How many times a hub restart is tried before the run gives up (the port may be briefly busy).
constexpr int kHubStartAttempts = 20;
/// How long the reaping of a SIGKILLed process may take.
constexpr auto kKillTimeout = 5s;
/// How often a progress line is printed.
constexpr auto kProgressInterval = 10s;
/// Allowed growth of the hub's RSS (end against warm-up), beyond what its page caches may
/// take of the data written since (kCachedCopies x the growth of hub.sqlite and its -wal):
/// SQLite caches what it reads, so a hub restarted late in the run opens a bigger database
/// and fills its caches with it (seed 4633088983723480901: +27% with the database 5 MiB
/// bigger, the same before and after the WebSocket pipe changed, 2026-12-06).
constexpr double kRssTolerance = 0.20;
/// The writer's page cache and one reader's.
constexpr long kCachedCopies = 2;
/// Wait between convergence and the end's RSS sample: two of the hub's trim checks (500 ms)
/// after its traffic stopped, with room for a loaded machine.
constexpr auto kQuietBeforeRss = 3s;

std::atomic<bool> g_interrupted{false};
extern "C" void on_interrupt(int) { g_interrupted = true; }

// --- output ---

std::mutex g_out_mx;

std::string clock_text() {
  auto now = std::chrono::system_clock::now();
  auto t = std::chrono::system_clock::to_time_t(now);
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()) % 1000;
  std::tm tm{};
  localtime_r(&t, &tm);
  char buf[32];
  std::snprintf(buf, sizeof buf, "%02d:%02d:%02d.%03d", tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<int>(ms.count()));
  return buf;
}

std::string format(const char* fmt, ...) __attribute__((format(printf, 1, 2)));
std::string format(const char* fmt, ...) {
  char buf[2048];
  va_list ap;
  va_start(ap, fmt);
  std::vsnprintf(buf, sizeof buf, fmt, ap);
  va_end(ap);
  return buf;
}

/// A timestamped line on stdout.
void say(const std::string& line) {
  std::lock_guard lk(g_out_mx);
  std::printf("%s soak: %s\n", clock_text().c_str(), line.c_str());
  std::fflush(stdout);
}

std::string thousands(uint64_t n) {
  auto s = std::to_string(n);
  for (int i = static_cast<int>(s.size()) - 3; i > 0; i -= 3) s.insert(static_cast<size_t>(i), ",");
  return s;
}

double seconds_since(sclock::time_point t) {
  return std::chrono::duration<double>(sclock::now() - t).count();
}

std::string mmss(double s) {
  int t = static_cast<int>(s);
  return format("%d:%02d", t / 60, t % 60);
}

std::string read_text(const std::string& path, size_t from = 0) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return {};
  in.seekg(static_cast<std::streamoff>(from));
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

size_t file_size(const std::string& path) {
  std::error_code ec;
  auto n = fs::file_size(path, ec);
  return ec ? 0 : static_cast<size_t>(n);
}

/// The last `n` lines of a log, indented, for a failure report.
std::string log_tail(const std::string& path, size_t n = 6) {
  auto text = read_text(path);
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string l; std::getline(in, l);) lines.push_back(l);
  std::string out;
  for (size_t i = lines.size() > n ? lines.size() - n : 0; i < lines.size(); ++i)
    out += "\n      | " + lines[i];
  return out;
}

// --- options ---

struct options {
  double minutes = 10;
  unsigned peers = 20;
  uint64_t seed = 0;
  std::string cli = PEERLITE_CLI;
  std::string dir;
  bool keep_dir = false;
  double write_rate = 3;           ///< writes per second per peer (exponential gaps)
  unsigned shared_docs = 30;       ///< IDs every peer writes (the conflicts)
  unsigned idle_timeout = 5;       ///< the hub's --idle-timeout
  unsigned converge_timeout = 120; ///< the bounded wait for convergence, seconds
  std::vector<std::string> skip;   ///< chaos kinds left out (to isolate a finding)
};

/// The chaos kinds, as --skip names them.
const char* kChaosNames[] = {"peer-kill", "peer-term", "peer-stop",
                             "hub-kill",  "hub-term",  "hub-stop"};

// --- child processes ---

/// Starts `args` (args[0] = program) with stdout and stderr appended to `log`, in its own
/// process group (a Ctrl-C at the terminal reaches only the harness, which stops everything in
/// order), killed by the kernel if the harness dies (PR_SET_PDEATHSIG).
pid_t spawn(const std::vector<std::string>& args, const std::string& log) {
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  pid_t parent = getpid();
  pid_t pid = fork();
  if (pid == 0) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) _exit(127);
    setpgid(0, 0);
    int fd = open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (fd >= 0) {
      dup2(fd, 1);
      dup2(fd, 2);
      close(fd);
    }
    int nul = open("/dev/null", O_RDONLY);
    if (nul >= 0) dup2(nul, 0);
    execv(argv[0], argv.data());
    _exit(127);
  }
  return pid;
}

std::string describe_status(int st) {
  if (WIFEXITED(st)) return "exit status " + std::to_string(WEXITSTATUS(st));
  if (WIFSIGNALED(st)) return std::string("signal ") + strsignal(WTERMSIG(st));
  return "status " + std::to_string(st);
}

enum class pstate { down, running, frozen, terminating };

/// One managed process: the hub or a peer's sync.
struct proc {
  std::string name;
  std::vector<std::string> args;
  std::string log;
  pid_t pid = -1;
  pstate state = pstate::down;
  int starts = 0;
  sclock::time_point term_deadline{};
  sclock::duration restart_delay{};  ///< after a SIGTERM exit: when to start again
  bool restart_after_term = true;

  bool alive() const { return pid > 0; }

  void start() {
    std::ofstream(log, std::ios::app) << "--- soak: start #" << ++starts << " at " << clock_text()
                                      << " ---\n";
    pid = spawn(args, log);
    state = pstate::running;
  }
  /// Non-blocking: the exit status if the process has ended, else nothing.
  std::optional<int> poll() {
    if (pid <= 0) return std::nullopt;
    int st = 0;
    if (waitpid(pid, &st, WNOHANG) == pid) {
      pid = -1;
      state = pstate::down;
      return st;
    }
    return std::nullopt;
  }
  /// SIGKILL and reap (bounded). Returns false if it could not be reaped in time.
  bool kill_now() {
    if (pid <= 0) return true;
    ::kill(pid, SIGKILL);
    auto end = sclock::now() + kKillTimeout;
    while (sclock::now() < end) {
      if (poll()) return true;
      std::this_thread::sleep_for(5ms);
    }
    return false;
  }
  void signal(int sig) {
    if (pid > 0) ::kill(pid, sig);
  }
};

/// Every managed process, so that every exit path kills them all.
std::vector<proc*> g_procs;
void kill_all() {
  for (auto* p : g_procs)
    if (p->alive()) p->kill_now();
}

/// Size of a file in KiB, 0 when it does not exist.
long file_kib(const fs::path& p) {
  std::error_code ec;
  auto n = fs::file_size(p, ec);
  return ec ? 0 : static_cast<long>(n / 1024);
}

using peerlite::net::rss_kib;
using peerlite::net::status_kib;

// --- the ledger of acknowledged writes ---

enum write_kind { k_insert, k_update, k_delete, k_revive, k_shared_put, k_shared_delete, k_kinds };
const char* kKindNames[k_kinds] = {"inserts", "updates", "deletes", "revivals",
                                   "shared edits", "shared deletes"};

struct ack {
  uint32_t peer;
  write_kind kind;
  std::string doc, rev, body;
  bool deleted;
};

struct ledger {
  std::mutex mx;
  std::vector<ack> acks;
  /// (doc, rev) -> parent rev, from each write's history at commit time and from the final
  /// trees: lets a revision pruned from a tree (50 per branch) still be traced to its
  /// descendants.
  std::unordered_map<std::string, std::string> parent;
  uint64_t by_kind[k_kinds] = {};
  uint64_t failed = 0;
  std::vector<std::string> failures;  ///< the first few failure messages
  std::set<std::string> ids;

  static std::string key(const std::string& doc, const std::string& rev) {
    return doc + '\n' + rev;
  }
  void add_edges(const std::string& doc, const std::string& rev,
                 const std::vector<std::string>& history) {
    std::string child = rev;
    for (auto& h : history) {
      parent.emplace(key(doc, child), h);
      child = h;
    }
  }
  uint64_t acknowledged() {
    std::lock_guard lk(mx);
    return acks.size();
  }
};

/// One peer's writer: its own connection to the peer's file, on its own thread.
void writer_main(unsigned peer, store::database* db, uint64_t seed, const options& o, ledger& L,
                 const std::atomic<bool>& stop) {
  std::mt19937_64 rng(seed);
  std::exponential_distribution<double> gap(o.write_rate);
  std::uniform_real_distribution<double> u(0, 1);
  std::vector<std::string> live, dead;  // this peer's own documents
  uint64_t next_id = 0, n = 0;
  const std::string me = format("p%02u", peer);
  while (!stop && !g_interrupted) {
    auto until = sclock::now() + std::chrono::duration_cast<sclock::duration>(
                                     std::chrono::duration<double>(gap(rng)));
    while (!stop && !g_interrupted && sclock::now() < until)
      std::this_thread::sleep_for(std::min<sclock::duration>(50ms, until - sclock::now()));
    if (stop || g_interrupted) break;
    double r = u(rng);
    write_kind kind;
    std::string id;
    size_t pick = 0;
    if (r < 0.30 || live.empty()) {
      kind = k_insert;
      id = me + "-" + std::to_string(next_id++);
    } else if (r < 0.50) {
      kind = k_update;
      id = live[pick = rng() % live.size()];
    } else if (r < 0.60) {
      kind = k_delete;
      id = live[pick = rng() % live.size()];
    } else if (r < 0.65 && !dead.empty()) {
      kind = k_revive;
      id = dead[pick = rng() % dead.size()];
    } else {
      kind = u(rng) < 0.25 ? k_shared_delete : k_shared_put;
      id = "s" + std::to_string(rng() % o.shared_docs);
    }
    std::string pad(rng() % 160, 'x');
    for (auto& c : pad) c = static_cast<char>('a' + rng() % 26);
    std::string body = format(R"({"by":"%s","kind":"%s","n":%)" PRIu64 R"(,"pad":"%s"})",
                              me.c_str(), kKindNames[kind], n++, pad.c_str());
    bool want_delete = kind == k_delete || kind == k_shared_delete;
    std::string rev, stored;
    bool deleted = false;
    std::vector<std::string> history;
    /// The write and the read of its history in one transaction: what is recorded is exactly
    /// what committed. Acknowledged = in_transaction returned ok (the commit returned).
    auto st = db->in_transaction([&]() -> peerlite::status {
      bool del = want_delete;
      if (del) {
        auto cur = db->get(id);
        if (!cur || cur->deleted) del = false;  // nothing live to delete: write instead
      }
      auto saved = del ? db->remove(id) : db->put(id, body);
      if (!saved) return saved.err();
      rev = *saved;
      auto got = db->read_revision(id, rev, 1000);
      if (!got) return got.err();
      stored = got->body;
      deleted = got->deleted;
      history = std::move(got->history);
      return {};
    });
    if (!st.ok()) {
      std::lock_guard lk(L.mx);
      ++L.failed;
      if (L.failures.size() < 5) L.failures.push_back(me + " " + id + ": " + st.message());
      continue;
    }
    if (kind == k_shared_delete && !deleted) kind = k_shared_put;
    if (kind == k_insert) {
      live.push_back(id);
    } else if (kind == k_delete) {
      dead.push_back(id);
      live.erase(live.begin() + static_cast<std::ptrdiff_t>(pick));
    } else if (kind == k_revive) {
      live.push_back(id);
      dead.erase(dead.begin() + static_cast<std::ptrdiff_t>(pick));
    }
    std::lock_guard lk(L.mx);
    L.add_edges(id, rev, history);
    L.acks.push_back({peer, kind, id, rev, stored, deleted});
    ++L.by_kind[kind];
    L.ids.insert(id);
  }
}

// --- reading the databases ---

/// Opens a file read-only with a busy timeout; nullptr (and `err`) on failure.
sqlite3* open_ro(const std::string& path, std::string& err) {
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
    err = db ? sqlite3_errmsg(db) : "cannot open";
    sqlite3_close(db);
    return nullptr;
  }
  sqlite3_busy_timeout(db, 2000);
  return db;
}

/// A digest of every document's (id, current rev, deleted), and the count; nothing when the
/// file cannot be read right now.
/// What convergence compares: the live documents' (id, rev) as a hash, and the tombstones.
/// A peer may lack a document the hub holds deleted: its first pull asked for live documents
/// only (activeOnly, as Couchbase Lite does), so it never needed that tombstone. Every tombstone
/// it does hold must be the hub's.
struct fingerprint {
  uint64_t live_hash = 0;
  uint64_t docs = 0;
  std::map<std::string, std::string> tombstones;  ///< id -> rev
  /// True when a peer with this fingerprint has converged on `hub`.
  bool matches(const fingerprint& hub) const {
    if (live_hash != hub.live_hash || docs - tombstones.size() != hub.docs - hub.tombstones.size())
      return false;
    for (auto& [id, rev] : tombstones) {
      auto it = hub.tombstones.find(id);
      if (it == hub.tombstones.end() || it->second != rev) return false;
    }
    return true;
  }
};

std::optional<fingerprint> take_fingerprint(const std::string& path) {
  std::string err;
  sqlite3* db = open_ro(path, err);
  if (!db) return std::nullopt;
  sqlite3_stmt* st = nullptr;
  std::optional<fingerprint> out;
  if (sqlite3_prepare_v2(db, "SELECT id, rev, flags & 1 FROM docs ORDER BY id", -1, &st,
                         nullptr) == SQLITE_OK) {
    fingerprint f;
    f.live_hash = 1469598103934665603ull;
    auto mix = [&](const void* p, size_t n) {
      auto* b = static_cast<const unsigned char*>(p);
      for (size_t i = 0; i < n; ++i) f.live_hash = (f.live_hash ^ b[i]) * 1099511628211ull;
    };
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
      auto col = [&](int i) {
        return std::string(static_cast<const char*>(sqlite3_column_blob(st, i)),
                           static_cast<size_t>(sqlite3_column_bytes(st, i)));
      };
      ++f.docs;
      if (sqlite3_column_int(st, 2)) {
        f.tombstones.emplace(col(0), col(1));
        continue;
      }
      mix(sqlite3_column_blob(st, 0), static_cast<size_t>(sqlite3_column_bytes(st, 0)));
      mix("\0", 1);
      mix(sqlite3_column_blob(st, 1), static_cast<size_t>(sqlite3_column_bytes(st, 1)));
    }
    if (rc == SQLITE_DONE) out = std::move(f);
  }
  sqlite3_finalize(st);
  sqlite3_close(db);
  return out;
}

std::string integrity(const std::string& path) {
  std::string err;
  sqlite3* db = open_ro(path, err);
  if (!db) return "cannot open: " + err;
  sqlite3_stmt* st = nullptr;
  std::string out;
  if (sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &st, nullptr) != SQLITE_OK) {
    out = sqlite3_errmsg(db);
  } else {
    while (sqlite3_step(st) == SQLITE_ROW) {
      if (!out.empty()) out += "; ";
      out += reinterpret_cast<const char*>(sqlite3_column_text(st, 0));
    }
  }
  sqlite3_finalize(st);
  sqlite3_close(db);
  return out;
}

/// One document as a database holds it at the end.
struct doc_state {
  std::string rev, body;
  bool deleted = false, conflicted = false;
  store::rev_tree tree;
};
using doc_map = std::map<std::string, doc_state>;

/// Every document of the default collection with its decoded revision tree.
std::optional<doc_map> read_all(const std::string& path, std::string& err) {
  sqlite3* db = open_ro(path, err);
  if (!db) return std::nullopt;
  sqlite3_stmt* st = nullptr;
  std::optional<doc_map> out;
  if (sqlite3_prepare_v2(db, "SELECT id, rev, flags, body, tree FROM docs", -1, &st, nullptr) !=
      SQLITE_OK) {
    err = sqlite3_errmsg(db);
  } else {
    doc_map m;
    int rc;
    auto text = [&](int col) {
      auto* p = static_cast<const char*>(sqlite3_column_blob(st, col));
      return p ? std::string(p, static_cast<size_t>(sqlite3_column_bytes(st, col)))
               : std::string();
    };
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
      doc_state d;
      auto id = text(0);
      d.rev = text(1);
      int flags = sqlite3_column_int(st, 2);
      d.deleted = flags & 1;
      d.conflicted = flags & 2;
      d.body = text(3);
      auto tree = store::rev_tree::decode(text(4));
      if (!tree) {
        err = id + ": cannot decode its revision tree: " + tree.err().message;
        break;
      }
      d.tree = std::move(*tree);
      m.emplace(std::move(id), std::move(d));
    }
    if (rc == SQLITE_DONE) out = std::move(m);
    else if (err.empty()) err = sqlite3_errmsg(db);
  }
  sqlite3_finalize(st);
  sqlite3_close(db);
  return out;
}

/// The revisions a tree accounts for: its nodes, plus the known ancestors (from the ledger's
/// edges) of nodes whose parents were pruned.
std::unordered_set<std::string> reachable(const std::string& doc, const store::rev_tree& tree,
                                          const ledger& L) {
  std::unordered_set<std::string> out;
  for (auto& n : tree.nodes()) out.insert(n.rev);
  for (auto& n : tree.nodes()) {
    if (n.parent >= 0) continue;
    auto it = L.parent.find(ledger::key(doc, n.rev));
    while (it != L.parent.end() && out.insert(it->second).second)
      it = L.parent.find(ledger::key(doc, it->second));
  }
  return out;
}

bool is_open_conflict(const store::rev_tree& tree, const std::string& rev) {
  int32_t i = tree.find(rev);
  if (i < 0) return false;
  auto open = tree.conflicting_leaves();
  return std::find(open.begin(), open.end(), i) != open.end();
}

bool is_ancestor_of_winner(const store::rev_tree& tree, const std::string& rev) {
  int32_t i = tree.winner();
  while (i >= 0) {
    if (tree.nodes()[static_cast<size_t>(i)].rev == rev) return true;
    i = tree.nodes()[static_cast<size_t>(i)].parent;
  }
  return false;
}

// --- the run ---

struct scheduled {
  sclock::time_point at;
  enum { restart, cont } what;
  proc* p;
};

class soak {
 public:
  explicit soak(options o) : o_(std::move(o)) {}

  int run();

 private:
  bool setup();
  bool start_hub(bool first);
  void chaos_step();
  void tick();  // reap, run due actions
  void on_exit(proc& p, int status);
  void progress();
  void end_chaos();
  bool converge();
  void stop_everything();
  void verify();
  int finish();
  void fail(const std::string& reason) {
    reasons_.push_back(reason);
    say("FAIL: " + reason);
  }
  void note(const std::string& line) { notes_.push_back(line); }
  proc* random_peer(pstate want);
  sclock::duration uniform(double lo_s, double hi_s) {
    std::uniform_real_distribution<double> d(lo_s, hi_s);
    return std::chrono::duration_cast<sclock::duration>(std::chrono::duration<double>(d(rng_)));
  }
  void schedule(sclock::duration in, decltype(scheduled::what) what, proc* p) {
    pending_.push_back({sclock::now() + in, what, p});
  }
  bool has_pending(const proc* p) const {
    for (auto& s : pending_)
      if (s.p == p) return true;
    return false;
  }

  options o_;
  std::mt19937_64 rng_;
  fs::path dir_;
  bool made_dir_ = false;
  proc hub_;
  std::vector<std::unique_ptr<proc>> peers_;
  std::vector<std::string> files_;  // hub first
  std::vector<std::unique_ptr<store::database>> writer_dbs_;
  std::vector<std::thread> writers_;
  std::atomic<bool> stop_writers_{false};
  ledger L_;
  std::vector<scheduled> pending_;
  int ws_port_ = 0, tcp_port_ = 0;
  std::string name_;
  sclock::time_point t0_, chaos_end_, last_progress_;
  bool hub_chaos_ = false;  // after the RSS baseline
  long rss_base_kib_ = -1, rss_end_kib_ = -1;
  long db_base_kib_ = 0;  ///< hub.sqlite and its -wal at the RSS baseline
  double rss_base_at_ = 0;
  long hub_db_kib() const {
    return file_kib(dir_ / "hub.sqlite") + file_kib(dir_ / "hub.sqlite-wal");
  }
  // counters
  int unclean_terms_ = 0, unexpected_exits_ = 0;
  int hub_kills_ = 0, peer_kills_ = 0, peer_terms_ = 0, hub_terms_ = 0, peer_freezes_ = 0,
      hub_freezes_ = 0;
  // results
  int converged_ = 0;   // databases that matched the hub (fingerprint::matches) in the wait
  int identical_ = -1;  // databases identical to the hub's, bodies included (after the stop)
  double converge_s_ = -1;
  int integrity_ok_ = 0;
  uint64_t lost_ = 0;
  std::vector<std::string> reasons_, notes_;
};

bool soak::setup() {
  if (o_.dir.empty()) {
    dir_ = fs::temp_directory_path() / ("peerlite-soak-" + std::to_string(getpid()));
    made_dir_ = true;
  } else {
    dir_ = o_.dir;
  }
  std::error_code ec;
  if (fs::exists(dir_, ec) && !fs::is_empty(dir_, ec)) {
    std::fprintf(stderr, "peerlite-soak: %s is not empty\n", dir_.c_str());
    return false;
  }
  fs::create_directories(dir_ / "logs", ec);
  if (ec) {
    std::fprintf(stderr, "peerlite-soak: cannot create %s: %s\n", dir_.c_str(),
                 ec.message().c_str());
    return false;
  }
  if (access(o_.cli.c_str(), X_OK) != 0) {
    std::fprintf(stderr, "peerlite-soak: %s is not an executable\n", o_.cli.c_str());
    return false;
  }
  files_.push_back((dir_ / "hub.sqlite").string());
  for (unsigned i = 0; i < o_.peers; ++i)
    files_.push_back((dir_ / format("peer%02u.sqlite", i)).string());
  /// Every file exists (in WAL mode) before any process opens it: switching a new file to WAL
  /// fails while another process has it open. The writers keep theirs open for the whole run.
  for (size_t i = 0; i < files_.size(); ++i) {
    auto db = store::database::open(files_[i]);
    if (!db) {
      std::fprintf(stderr, "peerlite-soak: %s: %s\n", files_[i].c_str(),
                   db.err().message.c_str());
      return false;
    }
    if (i > 0) writer_dbs_.push_back(std::move(*db));
  }
  hub_.name = "hub";
  hub_.log = (dir_ / "logs" / "hub.log").string();
  g_procs.push_back(&hub_);
  for (unsigned i = 0; i < o_.peers; ++i) {
    auto p = std::make_unique<proc>();
    p->name = format("peer%02u", i);
    p->log = (dir_ / "logs" / (p->name + ".log")).string();
    g_procs.push_back(p.get());
    peers_.push_back(std::move(p));
  }
  return true;
}

/// Starts the hub and waits for its "serving" line (bounded); retries when it exits at once
/// (its port not yet free after a kill). The first start picks the ports; later ones reuse them.
bool soak::start_hub(bool first) {
  for (int attempt = 1; attempt <= kHubStartAttempts && !g_interrupted; ++attempt) {
    std::string ws = format("ws://127.0.0.1:%d", first ? 0 : ws_port_);
    std::string tcp = format("tcp://127.0.0.1:%d", first ? 0 : tcp_port_);
    hub_.args = {o_.cli,   "serve",         "--db",
                 files_[0], "--listen",      ws,
                 "--listen", tcp,           "--idle-timeout",
                 std::to_string(o_.idle_timeout)};
    size_t from = file_size(hub_.log);
    hub_.start();
    auto end = sclock::now() + kHubStartTimeout;
    std::optional<int> exited;
    std::string text;
    while (sclock::now() < end && !g_interrupted) {
      text = read_text(hub_.log, from);
      if (text.find(" serving ") != std::string::npos) break;
      if ((exited = hub_.poll())) break;
      std::this_thread::sleep_for(10ms);
    }
    if (text.find(" serving ") != std::string::npos) {
      if (first) {
        std::smatch m;
        if (std::regex_search(text, m, std::regex(R"(ws://127\.0\.0\.1:([0-9]+)/([^ ,]+))")))
          ws_port_ = std::stoi(m[1]), name_ = m[2];
        if (std::regex_search(text, m, std::regex(R"(tcp://127\.0\.0\.1:([0-9]+)/)")))
          tcp_port_ = std::stoi(m[1]);
        if (!ws_port_ || !tcp_port_) {
          fail("cannot read the hub's ports from its log:" + log_tail(hub_.log));
          return false;
        }
      }
      return true;
    }
    if (!exited) {
      hub_.kill_now();
      fail(format("the hub printed no \"serving\" line within %lld s (start #%d)",
                  static_cast<long long>(kHubStartTimeout.count()), hub_.starts) +
           log_tail(hub_.log));
      return false;
    }
    say(format("hub start #%d failed (%s), retrying:%s", hub_.starts,
               describe_status(*exited).c_str(), log_tail(hub_.log, 2).c_str()));
    std::this_thread::sleep_for(500ms);
  }
  fail(format("the hub could not be restarted in %d attempts", kHubStartAttempts));
  return false;
}

proc* soak::random_peer(pstate want) {
  std::vector<proc*> c;
  for (auto& p : peers_)
    if (p->state == want && !has_pending(p.get())) c.push_back(p.get());
  if (c.empty()) return nullptr;
  return c[rng_() % c.size()];
}

/// One chaos event, chosen by seeded weights among those possible right now.
void soak::chaos_step() {
  enum { peer_kill, peer_term, peer_freeze, hub_kill, hub_term, hub_freeze };
  bool hub_ok = hub_chaos_ && hub_.state == pstate::running && !has_pending(&hub_);
  std::vector<std::pair<int, int>> all = {{peer_kill, 34}, {peer_term, 12}, {peer_freeze, 14}};
  if (hub_ok) {
    all.push_back({hub_kill, 16});
    all.push_back({hub_term, 10});
    all.push_back({hub_freeze, 4});
  }
  std::vector<std::pair<int, int>> choices;
  for (auto& c : all)
    if (std::find(o_.skip.begin(), o_.skip.end(), kChaosNames[c.first]) == o_.skip.end())
      choices.push_back(c);
  if (choices.empty()) return;
  int total = 0;
  for (auto& c : choices) total += c.second;
  int r = static_cast<int>(rng_() % static_cast<uint64_t>(total));
  int what = choices.back().first;
  for (auto& c : choices) {
    if (r < c.second) {
      what = c.first;
      break;
    }
    r -= c.second;
  }
  /// The hub restarts at least once after the warm-up: the RSS check compares the last hub's
  /// with the first's, and a run whose dice never hit the hub would compare one process
  /// growing its page caches with the data instead (seed 1: +42% in 90 s, no restart).
  bool skip_hub_kill =
      std::find(o_.skip.begin(), o_.skip.end(), kChaosNames[hub_kill]) != o_.skip.end();
  if (hub_ok && !skip_hub_kill && hub_kills_ + hub_terms_ == 0 &&
      sclock::now() >= t0_ + (chaos_end_ - t0_) * 3 / 4)
    what = hub_kill;
  auto stopped_for = [&] { return uniform(o_.idle_timeout + 2.0, o_.idle_timeout + 4.0); };
  switch (what) {
    case peer_kill:
      if (auto* p = random_peer(pstate::running)) {
        p->kill_now();
        ++peer_kills_;
        auto in = uniform(0.5, 4.0);
        schedule(in, scheduled::restart, p);
        say(format("SIGKILL %s, restart in %.1f s", p->name.c_str(),
                   std::chrono::duration<double>(in).count()));
      }
      break;
    case peer_term:
      if (auto* p = random_peer(pstate::running)) {
        p->signal(SIGTERM);
        p->state = pstate::terminating;
        p->term_deadline = sclock::now() + kTermTimeout;
        p->restart_delay = uniform(0.5, 3.0);
        ++peer_terms_;
        say("SIGTERM " + p->name);
      }
      break;
    case peer_freeze:
      if (auto* p = random_peer(pstate::running)) {
        p->signal(SIGSTOP);
        p->state = pstate::frozen;
        ++peer_freezes_;
        auto in = stopped_for();
        schedule(in, scheduled::cont, p);
        say(format("SIGSTOP %s for %.1f s (hub idle timeout %u s)", p->name.c_str(),
                   std::chrono::duration<double>(in).count(), o_.idle_timeout));
      }
      break;
    case hub_kill: {
      hub_.kill_now();
      ++hub_kills_;
      auto in = uniform(0.3, 3.0);
      schedule(in, scheduled::restart, &hub_);
      say(format("SIGKILL hub, restart in %.1f s", std::chrono::duration<double>(in).count()));
      break;
    }
    case hub_term:
      hub_.signal(SIGTERM);
      hub_.state = pstate::terminating;
      hub_.term_deadline = sclock::now() + kTermTimeout;
      hub_.restart_delay = 0s;
      ++hub_terms_;
      say("SIGTERM hub (graceful restart)");
      break;
    case hub_freeze: {
      hub_.signal(SIGSTOP);
      hub_.state = pstate::frozen;
      ++hub_freezes_;
      auto in = stopped_for();
      schedule(in, scheduled::cont, &hub_);
      say(format("SIGSTOP hub for %.1f s", std::chrono::duration<double>(in).count()));
      break;
    }
  }
}

/// A process ended on its own or after our SIGTERM.
void soak::on_exit(proc& p, int st) {
  if (p.state == pstate::terminating) {
    if (!(WIFEXITED(st) && WEXITSTATUS(st) == 0) && ++unclean_terms_ <= 3)
      note(format("%s exited with %s after SIGTERM (start #%d)", p.name.c_str(),
                  describe_status(st).c_str(), p.starts) +
           log_tail(p.log, 2));
    if (WIFSIGNALED(st) && WTERMSIG(st) != SIGTERM && WTERMSIG(st) != SIGKILL)
      fail(format("%s crashed after SIGTERM: %s", p.name.c_str(), describe_status(st).c_str()) +
           log_tail(p.log));
    p.state = pstate::down;
    if (p.restart_after_term) schedule(p.restart_delay, scheduled::restart, &p);
    return;
  }
  /// The first few with their log's end; the rest (often all peers at once) in one line each.
  fail(format("%s (start #%d) ended on its own: %s", p.name.c_str(), p.starts,
              describe_status(st).c_str()) +
       (++unexpected_exits_ <= 3 ? log_tail(p.log) : std::string()));
  p.state = pstate::down;
  schedule(1s, scheduled::restart, &p);
}

void soak::tick() {
  for (auto* p : g_procs) {
    auto prev = p->state;
    if (auto st = p->poll()) {
      p->state = prev;
      on_exit(*p, *st);
    } else if (p->state == pstate::terminating && sclock::now() > p->term_deadline) {
      fail(format("%s did not exit within %lld s of SIGTERM (start #%d); killed", p->name.c_str(),
                  static_cast<long long>(kTermTimeout.count()), p->starts) +
           log_tail(p->log));
      p->kill_now();
      p->state = pstate::down;
      if (p->restart_after_term) schedule(p->restart_delay, scheduled::restart, p);
    }
  }
  auto now = sclock::now();
  std::vector<scheduled> due;
  for (auto it = pending_.begin(); it != pending_.end();) {
    if (it->at <= now) {
      due.push_back(*it);
      it = pending_.erase(it);
    } else {
      ++it;
    }
  }
  for (auto& s : due) {
    if (s.what == scheduled::cont) {
      s.p->signal(SIGCONT);
      if (s.p->state == pstate::frozen) s.p->state = pstate::running;
    } else if (s.p->state == pstate::down) {
      if (s.p == &hub_)
        start_hub(false);
      else
        s.p->start();
    }
  }
}

void soak::progress() {
  int up = 0, frozen = 0;
  for (auto& p : peers_) {
    up += p->state == pstate::running;
    frozen += p->state == pstate::frozen;
  }
  uint64_t failed;
  {
    std::lock_guard lk(L_.mx);
    failed = L_.failed;
  }
  auto hub_fp = take_fingerprint(files_[0]);
  long rss = hub_.alive() ? rss_kib(hub_.pid) : 0;
  long anon = hub_.alive() ? status_kib(hub_.pid, "RssAnon") : 0;
  const char* hs = hub_.state == pstate::running  ? "up"
                   : hub_.state == pstate::frozen ? "stopped"
                                                  : "down";
  say(format("%s/%s writes %s acknowledged (%s failed), peers up %d/%u (%d stopped), hub %s "
             "(%s docs, RSS %.1f MiB, anon %.1f), hub kills %d, peer kills %d, SIGTERMs %d, "
             "drops %d",
             mmss(seconds_since(t0_)).c_str(), mmss(o_.minutes * 60).c_str(),
             thousands(L_.acknowledged()).c_str(), thousands(failed).c_str(), up, o_.peers,
             frozen, hs, hub_fp ? thousands(hub_fp->docs).c_str() : "?",
             rss / 1024.0, anon / 1024.0, hub_kills_, peer_kills_, peer_terms_ + hub_terms_,
             peer_freezes_ + hub_freezes_ + hub_terms_));
  last_progress_ = sclock::now();
}

/// Stops the chaos: frozen processes continue, killed ones start now, writers stop.
void soak::end_chaos() {
  say("chaos over: stopping the writers, resuming and restarting every process");
  stop_writers_ = true;
  for (auto& t : writers_) t.join();
  writers_.clear();
  for (auto& s : pending_) s.at = sclock::now();
  tick();
  /// Processes still shutting down after a SIGTERM: wait for them (bounded by their deadline)
  /// and start them again.
  auto end = sclock::now() + kTermTimeout + 1s;
  for (;;) {
    bool busy = false;
    for (auto* p : g_procs) busy |= p->state == pstate::terminating;
    if (!busy && pending_.empty()) break;
    if (sclock::now() > end || g_interrupted) break;
    for (auto& s : pending_) s.at = sclock::now();
    std::this_thread::sleep_for(20ms);
    tick();
  }
}

/// Waits (bounded) until every database has converged on the hub (fingerprint::matches).
bool soak::converge() {
  auto t = sclock::now();
  auto end = t + std::chrono::seconds(o_.converge_timeout);
  int same = 0;
  auto last_report = t;
  while (!g_interrupted) {
    tick();  // a process that dies now is reported and restarted
    auto hub_fp = take_fingerprint(files_[0]);
    same = 0;
    if (hub_fp) {
      same = 1;
      for (size_t i = 1; i < files_.size(); ++i) {
        auto fp = take_fingerprint(files_[i]);
        same += fp && fp->matches(*hub_fp);
      }
    }
    if (same == static_cast<int>(files_.size())) {
      converge_s_ = seconds_since(t);
      converged_ = same;
      say(format("converged: %d/%zu databases identical (%s docs) in %.1f s", same,
                 files_.size(), thousands(hub_fp->docs).c_str(), converge_s_));
      return true;
    }
    if (sclock::now() >= end) break;
    if (sclock::now() - last_report >= kProgressInterval) {
      say(format("converging: %d/%zu databases match the hub after %.0f s", same, files_.size(),
                 seconds_since(t)));
      last_report = sclock::now();
    }
    std::this_thread::sleep_for(1s);
  }
  converged_ = same;
  fail(format("not converged within %u s: %d/%zu databases match the hub", o_.converge_timeout,
              same, files_.size()));
  return false;
}

/// Stops every peer (SIGTERM, bounded), then the hub; anything left is killed.
void soak::stop_everything() {
  for (auto* p : g_procs) p->restart_after_term = false;
  pending_.clear();
  auto term = [&](proc& p) {
    if (!p.alive()) return;
    if (p.state == pstate::frozen) p.signal(SIGCONT);
    p.signal(SIGTERM);
    p.state = pstate::terminating;
    p.term_deadline = sclock::now() + kTermTimeout;
  };
  auto wait_all = [&] {
    for (;;) {
      bool busy = false;
      for (auto* p : g_procs) busy |= p->state == pstate::terminating;
      if (!busy) return;
      tick();
      std::this_thread::sleep_for(20ms);
    }
  };
  for (auto& p : peers_) term(*p);
  wait_all();
  term(hub_);
  wait_all();
  kill_all();
}

void soak::verify() {
  std::string err;
  auto hub = read_all(files_[0], err);
  if (!hub) {
    fail("cannot read hub.sqlite: " + err);
    return;
  }
  /// The writers' own trees of the documents they wrote, for revisions the hub never got
  /// (a conflicting edit that lost on its own peer).
  std::vector<std::map<std::string, store::rev_tree>> own(o_.peers);
  std::vector<std::set<std::string>> wrote(o_.peers);
  for (auto& a : L_.acks) wrote[a.peer].insert(a.doc);
  auto add_tree_edges = [&](const std::string& id, const store::rev_tree& t) {
    for (auto& n : t.nodes())
      if (n.parent >= 0)
        L_.parent.emplace(ledger::key(id, n.rev), t.nodes()[static_cast<size_t>(n.parent)].rev);
  };
  for (auto& [id, d] : *hub) add_tree_edges(id, d.tree);
  int identical = 1;
  uint64_t hub_conflicts = 0, peer_conflicts = 0;
  for (auto& [id, d] : *hub) hub_conflicts += d.conflicted;
  for (unsigned p = 0; p < o_.peers; ++p) {
    const auto& name = peers_[p]->name;
    auto db = read_all(files_[p + 1], err);
    if (!db) {
      fail("cannot read " + name + ".sqlite: " + err);
      continue;
    }
    std::vector<std::string> diffs;
    size_t ndiff = 0;
    for (auto& [id, d] : *hub) {
      auto it = db->find(id);
      std::string what;
      if (it == db->end() && d.deleted)
        continue;  // a tombstone the peer never needed (fingerprint)
      if (it == db->end())
        what = "missing (hub: " + d.rev + ")";
      else if (it->second.rev != d.rev || it->second.deleted != d.deleted)
        what = "rev " + it->second.rev + (it->second.deleted ? " deleted" : "") + ", hub " +
               d.rev + (d.deleted ? " deleted" : "");
      else if (it->second.body != d.body)
        what = "same rev " + d.rev + ", different body: " + it->second.body + " vs hub " + d.body;
      if (!what.empty() && ndiff++ < 5) diffs.push_back(id + ": " + what);
    }
    for (auto& [id, d] : *db) {
      peer_conflicts += d.conflicted;
      add_tree_edges(id, d.tree);
      if (!hub->count(id) && ndiff++ < 5)
        diffs.push_back(id + ": not on the hub (" + d.rev + (d.deleted ? " deleted" : "") + ")");
      if (wrote[p].count(id)) own[p].emplace(id, d.tree);
    }
    if (ndiff == 0) {
      ++identical;
    } else {
      std::string text = format("%s differs from the hub in %zu documents:", name.c_str(), ndiff);
      for (auto& l : diffs) text += "\n      " + l;
      fail(text);
    }
  }
  identical_ = identical;
  if (hub_conflicts || peer_conflicts)
    note(format("open conflicts at the end: %" PRIu64 " on the hub, %" PRIu64 " on the peers",
                hub_conflicts, peer_conflicts));

  // Lost writes.
  std::map<std::string, std::unordered_set<std::string>> hub_reach;
  std::map<std::pair<unsigned, std::string>, std::unordered_set<std::string>> own_reach;
  std::map<std::pair<std::string, unsigned>, size_t> last;  // (doc, peer) -> ack
  for (size_t i = 0; i < L_.acks.size(); ++i) last[{L_.acks[i].doc, L_.acks[i].peer}] = i;
  uint64_t missing_docs = 0, unresolved = 0, closed_on_peer = 0, winners = 0, ancestors = 0,
           superseded = 0, body_mismatch = 0;
  std::vector<std::string> examples;
  auto example = [&](const std::string& s) {
    if (examples.size() < 8) examples.push_back(s);
  };
  std::set<std::string> missing_ids;
  for (size_t i = 0; i < L_.acks.size(); ++i) {
    auto& a = L_.acks[i];
    bool is_last = last[{a.doc, a.peer}] == i;
    auto h = hub->find(a.doc);
    std::string who = format("p%02u", a.peer);
    if (h == hub->end()) {
      if (missing_ids.insert(a.doc).second) {
        ++missing_docs;
        example(a.doc + ": acknowledged by " + who + " (" + a.rev + ") but not on the hub");
      }
      ++lost_;
      continue;
    }
    auto& tree = h->second.tree;
    auto hr = hub_reach.find(a.doc);
    if (hr == hub_reach.end()) hr = hub_reach.emplace(a.doc, reachable(a.doc, tree, L_)).first;
    if (hr->second.count(a.rev)) {
      if (!is_last) continue;
      if (h->second.rev == a.rev) {
        ++winners;
        if (h->second.body != a.body && !a.deleted) {
          ++body_mismatch;
          example(a.doc + ": hub's current " + a.rev + " has body " + h->second.body + ", " +
                  who + " wrote " + a.body);
        }
      } else if (is_open_conflict(tree, a.rev)) {
        ++unresolved;
        example(a.doc + ": " + who + "'s last write " + a.rev +
                " is an open conflict on the hub (current " + h->second.rev + ")");
      } else if (is_ancestor_of_winner(tree, a.rev)) {
        ++ancestors;
      } else {
        ++superseded;
      }
      continue;
    }
    /// Not in the hub's history: the hub refuses a conflicting push (409), so a write that
    /// lost a conflict on its own peer never reaches it. It must then be in that peer's tree,
    /// closed by the resolution (not an open conflict).
    auto ot = own[a.peer].find(a.doc);
    if (ot != own[a.peer].end()) {
      auto key = std::make_pair(a.peer, a.doc);
      auto orr = own_reach.find(key);
      if (orr == own_reach.end())
        orr = own_reach.emplace(key, reachable(a.doc, ot->second, L_)).first;
      if (orr->second.count(a.rev)) {
        if (is_open_conflict(ot->second, a.rev)) {
          ++unresolved;
          example(a.doc + ": " + who + "'s write " + a.rev + " is an open conflict on " + who +
                  " and not on the hub");
        } else {
          ++closed_on_peer;
        }
        continue;
      }
    }
    ++lost_;
    example(a.doc + ": " + who + "'s acknowledged " + (a.deleted ? "deletion " : "write ") +
            a.rev + " is in neither the hub's history (current " + h->second.rev + ") nor " +
            who + "'s own");
  }
  if (missing_docs)
    fail(format("%" PRIu64 " acknowledged document IDs are missing on the hub", missing_docs));
  if (lost_) fail(format("%" PRIu64 " acknowledged writes lost", lost_));
  if (unresolved)
    fail(format("%" PRIu64 " writes left as open conflicts (neither the winner nor superseded)",
                unresolved));
  if (body_mismatch) fail(format("%" PRIu64 " current revisions with a different body", body_mismatch));
  for (auto& e : examples) say("  " + e);
  note(format("last acknowledged write per peer and document: %s the winner, %s its ancestors, "
              "%s superseded on a closed branch; %s writes lost a conflict on their own peer and "
              "were closed there (the hub refuses conflicting pushes)",
              thousands(winners).c_str(), thousands(ancestors).c_str(),
              thousands(superseded).c_str(), thousands(closed_on_peer).c_str()));

  /// Every acknowledged write, for the post-mortem of a failure (kept with the files).
  if (std::ofstream out(dir_ / "acks.tsv"); out) {
    out << "peer\tkind\tdoc\trev\tdeleted\tbody\n";
    for (auto& a : L_.acks)
      out << a.peer << '\t' << kKindNames[a.kind] << '\t' << a.doc << '\t' << a.rev << '\t'
          << a.deleted << '\t' << a.body << '\n';
  }
  for (auto& f : files_) {
    auto r = integrity(f);
    if (r == "ok")
      ++integrity_ok_;
    else
      fail(fs::path(f).filename().string() + ": integrity_check: " + r);
  }
}

int soak::finish() {
  stop_writers_ = true;
  for (auto& t : writers_) t.join();
  writers_.clear();
  kill_all();
  writer_dbs_.clear();
  for (auto& n : notes_) say("note: " + n);
  std::string rss = "hub RSS ?";
  if (rss_base_kib_ > 0 && rss_end_kib_ > 0) {
    double change = (double(rss_end_kib_) - rss_base_kib_) / rss_base_kib_;
    rss = format("hub RSS %.1f -> %.1f MiB (%+.1f%%)", rss_base_kib_ / 1024.0,
                 rss_end_kib_ / 1024.0, change * 100);
  }
  bool pass = reasons_.empty() && !g_interrupted;
  uint64_t acked = L_.acks.size();
  int n = static_cast<int>(files_.size());
  std::string conv;
  if (converge_s_ < 0)
    conv = format("converged %d/%d (not within %u s)", identical_ >= 0 ? identical_ : converged_,
                  n, o_.converge_timeout);
  else if (identical_ >= 0 && identical_ < n)
    conv = format("converged %d/%d (revisions matched in %.1f s, bodies did not)", identical_, n,
                  converge_s_);
  else
    conv = format("converged %d/%d in %.1f s", converged_, n, converge_s_);
  if (!pass) {
    say(format("%zu failure(s); files and logs kept in %s (rerun with --seed %" PRIu64 ")",
               reasons_.size(), dir_.c_str(), o_.seed));
  } else if (made_dir_ && !o_.keep_dir) {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  } else {
    say("files and logs kept in " + dir_.string());
  }
  std::printf(
      "soak: %.1f min, %u peers, writes %s acknowledged, %s lost, %s, integrity ok %d/%zu, "
      "hub kills %d, peer kills %d, drops %d, %s: %s\n",
      o_.minutes, o_.peers, thousands(acked).c_str(), thousands(lost_).c_str(), conv.c_str(),
      integrity_ok_, files_.size(), hub_kills_, peer_kills_,
      peer_freezes_ + hub_freezes_ + hub_terms_ + peer_terms_, rss.c_str(),
      pass ? "PASS" : (g_interrupted ? "FAIL (interrupted)" : "FAIL"));
  std::fflush(stdout);
  return pass ? 0 : 1;
}

int soak::run() {
  rng_.seed(o_.seed);
  if (!setup()) return 2;
  say(format("seed %" PRIu64 " (rerun with --seed %" PRIu64 "), %.1f min, %u peers, %.1f writes/s "
             "each, %u shared IDs, dir %s",
             o_.seed, o_.seed, o_.minutes, o_.peers, o_.write_rate, o_.shared_docs,
             dir_.c_str()));
  t0_ = sclock::now();
  if (!start_hub(true)) return finish();
  say(format("hub at ws://127.0.0.1:%d/%s and tcp://127.0.0.1:%d/%s (idle timeout %u s)",
             ws_port_, name_.c_str(), tcp_port_, name_.c_str(), o_.idle_timeout));
  for (unsigned i = 0; i < o_.peers; ++i) {
    /// Even peers over WebSocket, odd ones over raw TCP.
    std::string url = format("%s://127.0.0.1:%d/%s", i % 2 ? "tcp" : "ws",
                             i % 2 ? tcp_port_ : ws_port_, name_.c_str());
    peers_[i]->args = {o_.cli, "sync", "--db", files_[i + 1], "--remote", url, "--push-and-pull",
                       "--continuous"};
    peers_[i]->start();
  }
  std::mt19937_64 seeds(o_.seed ^ 0x5eed5eed5eedull);
  for (unsigned i = 0; i < o_.peers; ++i)
    writers_.emplace_back(writer_main, i, writer_dbs_[i].get(), seeds(), std::cref(o_),
                          std::ref(L_), std::cref(stop_writers_));
  t0_ = sclock::now();
  chaos_end_ = t0_ + std::chrono::duration_cast<sclock::duration>(
                         std::chrono::duration<double>(o_.minutes * 60));
  /// The first hub's RSS after warm-up is the baseline; the hub is left alone until then.
  auto warmup = o_.minutes >= 5 ? 60s : 30s;
  auto next_chaos = t0_ + 5s;
  last_progress_ = t0_;
  while (sclock::now() < chaos_end_ && !g_interrupted) {
    std::this_thread::sleep_for(100ms);
    tick();
    auto now = sclock::now();
    if (!hub_chaos_ && now - t0_ >= warmup) {
      if (hub_.state == pstate::running && hub_.starts == 1) {
        rss_base_kib_ = rss_kib(hub_.pid);
        db_base_kib_ = hub_db_kib();
        rss_base_at_ = seconds_since(t0_);
        say(format("hub RSS after %.0f s warm-up: %.1f MiB; hub chaos begins", rss_base_at_,
                   rss_base_kib_ / 1024.0));
      } else {
        fail("the first hub is not running at the end of the warm-up");
      }
      hub_chaos_ = true;
    }
    if (now >= next_chaos) {
      chaos_step();
      next_chaos = sclock::now() + uniform(3.0, 7.0);
    }
    if (sclock::now() - last_progress_ >= kProgressInterval) progress();
  }
  if (g_interrupted) {
    say("interrupted: stopping every process");
    return finish();
  }
  progress();
  end_chaos();
  converge();
  /// Measured once the hub is quiet: converged means the peers' catch-up after their restart
  /// is over, and the hub hands that burst's freed buffers back within its trim window.
  std::this_thread::sleep_for(kQuietBeforeRss);
  if (hub_.alive()) rss_end_kib_ = rss_kib(hub_.pid);
  if (rss_base_kib_ > 0 && rss_end_kib_ > 0) {
    double change = (double(rss_end_kib_) - rss_base_kib_) / rss_base_kib_;
    long data_kib = std::max(0L, hub_db_kib() - db_base_kib_);
    double allowed = rss_base_kib_ * (1 + kRssTolerance) + double(kCachedCopies * data_kib);
    if (rss_end_kib_ > allowed)
      fail(format("hub RSS grew %.1f%% (%.1f MiB after %.0f s of the first hub, %.1f MiB at the "
                  "end, hub start #%d): more than %.0f%% plus %ld x the %.1f MiB the database "
                  "grew by (%.1f MiB)",
                  change * 100, rss_base_kib_ / 1024.0, rss_base_at_, rss_end_kib_ / 1024.0,
                  hub_.starts, kRssTolerance * 100, kCachedCopies, data_kib / 1024.0,
                  allowed / 1024.0));
  }
  say("stopping every process");
  stop_everything();
  if (g_interrupted) return finish();
  say("checking the files");
  verify();
  {
    uint64_t failed;
    std::string by;
    {
      std::lock_guard lk(L_.mx);
      failed = L_.failed;
      for (int k = 0; k < k_kinds; ++k)
        by += (by.empty() ? "" : ", ") + thousands(L_.by_kind[k]) + " " + kKindNames[k];
    }
    note("acknowledged: " + by + format(" (%s document IDs)", thousands(L_.ids.size()).c_str()));
    if (failed) {
      std::string why;
      for (auto& f : L_.failures) why += "\n      " + f;
      note(format("%s writes failed (not acknowledged; e.g. a stopped sync held the file's "
                  "write lock past the busy timeout):",
                  thousands(failed).c_str()) +
           why);
    }
    note(format("hub started %d times; SIGTERMs: %d peers, %d hub; stops: %d peers, %d hub",
                hub_.starts, peer_terms_, hub_terms_, peer_freezes_, hub_freezes_));
    if (unclean_terms_)
      note(format("%d process exits after SIGTERM had a non-zero status (the first 3 above)",
                  unclean_terms_));
  }
  return finish();
}

}  // namespace

int main(int argc, char** argv) {
  options o;
  CLI::App app{"peerlite soak test: a hub and N continuous peers under writes and chaos"};
  app.add_option("--minutes", o.minutes, "how long the chaos runs (default 10)")
      ->check(CLI::Range(0.1, 100000.0));
  app.add_option("--peers", o.peers, "continuous peers (default 20)")->check(CLI::Range(1u, 500u));
  auto* seed = app.add_option("--seed", o.seed, "the chaos and write seed (default: random)");
  app.add_option("--cli", o.cli, "the peerlite command to run")->capture_default_str();
  app.add_option("--dir", o.dir,
                 "where the files and logs go (must be empty or missing; default a new "
                 "directory under the temp dir, removed after a PASS)");
  app.add_flag("--keep-dir", o.keep_dir, "keep the files and logs after a PASS");
  app.add_option("--write-rate", o.write_rate, "writes per second per peer (default 3)")
      ->check(CLI::Range(0.01, 1000.0));
  app.add_option("--shared-docs", o.shared_docs,
                 "document IDs every peer writes, the conflicts (default 30)")
      ->check(CLI::Range(1u, 1000000u));
  app.add_option("--idle-timeout", o.idle_timeout, "the hub's --idle-timeout, s (default 5)")
      ->check(CLI::Range(1u, 3600u));
  app.add_option("--skip", o.skip,
                 "leave a chaos kind out, to isolate a finding (repeatable): peer-kill, "
                 "peer-term, peer-stop, hub-kill, hub-term, hub-stop")
      ->check(CLI::IsMember({"peer-kill", "peer-term", "peer-stop", "hub-kill", "hub-term",
                             "hub-stop"}));
  app.add_option("--converge-timeout", o.converge_timeout,
                 "longest wait for convergence after the chaos, s (default 120)")
      ->check(CLI::Range(1u, 36000u));
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }
  if (!seed->count()) o.seed = std::random_device{}() ^ (uint64_t(std::random_device{}()) << 32);
  struct sigaction sa {};
  sa.sa_handler = on_interrupt;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
  sigaction(SIGHUP, &sa, nullptr);
  signal(SIGPIPE, SIG_IGN);
  int code = 1;
  try {
    soak s(o);
    code = s.run();
  } catch (const std::exception& e) {
    kill_all();
    std::printf("soak: harness error: %s: FAIL\n", e.what());
    return 1;
  }
  kill_all();
  return code;
}
