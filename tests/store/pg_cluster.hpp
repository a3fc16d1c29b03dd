// A throwaway PostgreSQL cluster for store tests, so that they run against a real server
// without anyone starting one by hand. Header-only; link the test with PostgreSQL::PostgreSQL.
#pragma once

#include <dirent.h>
#include <fcntl.h>
#include <libpq-fe.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

extern char** environ;

namespace peerlite::test {

constexpr std::chrono::seconds kPgConfigTimeout{10};  ///< `pg_config --bindir` answers at once
constexpr std::chrono::seconds kPgInitdbTimeout{60};  ///< initdb --no-sync takes ~2 s on 2 cores
constexpr std::chrono::seconds kPgStartTimeout{30};   ///< from `pg_ctl start` to PQPING_OK
constexpr std::chrono::seconds kPgStopTimeout{15};    ///< a fast shutdown, before SIGKILL
constexpr std::chrono::seconds kPgKillTimeout{5};     ///< for SIGKILLed processes to disappear
/// pg_ctl's own -t is the limit of its waits; this margin lets it report before it is killed.
constexpr std::chrono::seconds kPgCtlGrace{5};
constexpr std::chrono::milliseconds kPgPollInterval{50};  ///< readiness and process polling
constexpr const char* kPgSuperuser = "peerlite";  ///< initdb -U: the role every test connects as
constexpr const char* kPgRunAsUser = "postgres";  ///< the server's user when the test runs as root

namespace pg_detail {

using clock = std::chrono::steady_clock;

inline bool is_executable(const std::string& path) { return ::access(path.c_str(), X_OK) == 0; }

/// The last `max_lines` lines of `text`, for error messages that must stay readable.
inline std::string tail_lines(const std::string& text, std::size_t max_lines) {
  std::size_t pos = text.size();
  while (pos > 0 && text[pos - 1] == '\n') --pos;  // a trailing newline does not start a line
  std::size_t lines = 0;
  while (pos > 0) {
    std::size_t nl = text.rfind('\n', pos - 1);
    if (nl == std::string::npos) return text;
    if (++lines == max_lines) return text.substr(nl + 1);
    pos = nl;
  }
  return text;
}

inline std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

/// Percent-encodes everything but RFC 3986's unreserved characters, for libpq URLs.
inline std::string url_encode(const std::string& s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

/// Quotes one word for /bin/sh. pg_ctl hands its -o options to a shell, so each value peerlite
/// puts there goes through this.
inline std::string shell_quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

inline std::string describe_status(int status) {
  if (WIFEXITED(status)) return "exit code " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) return std::string("signal ") + ::strsignal(WTERMSIG(status));
  return "status " + std::to_string(status);
}

struct run_result {
  bool ran = false;    ///< the process was started and ended within the timeout
  int status = 0;      ///< waitpid status when `ran`
  std::string output;  ///< its stdout and stderr, interleaved
  std::string error;   ///< why it did not run, or how it failed
  bool ok() const { return ran && WIFEXITED(status) && WEXITSTATUS(status) == 0; }
};

/// Runs argv (argv[0] looked up in PATH when it has no slash) in `cwd`, with stdin from
/// /dev/null and stdout+stderr captured, killing its whole process group if it outlives
/// `timeout`. posix_spawn, no shell: arguments are passed as they are. Messages call it `name`
/// (default argv[0]).
inline run_result run(const std::vector<std::string>& args, const std::string& cwd,
                      std::chrono::milliseconds timeout, std::string name = {}) {
  run_result r;
  if (name.empty()) name = args[0];
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);

  int fds[2];
  // O_CLOEXEC: a process spawned at the same time on another thread must not inherit our
  // write end, or this read would wait for that process's end instead of ours.
  if (::pipe2(fds, O_CLOEXEC) != 0) {
    r.error = std::string("pipe2: ") + std::strerror(errno);
    return r;
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, fds[1], 1);
  posix_spawn_file_actions_adddup2(&actions, fds[1], 2);
  // The test's own working directory may be closed to the postgres user (initdb and pg_ctl
  // complain when they cannot stat it), so children start in the cluster's directory.
  if (!cwd.empty()) posix_spawn_file_actions_addchdir_np(&actions, cwd.c_str());
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  // Its own process group, so that a timeout kills runuser and initdb's children too.
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP);
  posix_spawnattr_setpgroup(&attr, 0);

  pid_t pid = -1;
  int rc = ::posix_spawnp(&pid, argv[0], &actions, &attr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  ::close(fds[1]);
  if (rc != 0) {
    ::close(fds[0]);
    r.error = "could not start " + name + ": " + std::strerror(rc);
    return r;
  }

  auto deadline = clock::now() + timeout;
  bool pipe_open = true, exited = false;
  char buf[4096];
  while (true) {
    if (pipe_open) {
      pollfd p{fds[0], POLLIN, 0};
      int wait_ms = static_cast<int>(kPgPollInterval.count());
      if (::poll(&p, 1, wait_ms) > 0) {
        ssize_t n = ::read(fds[0], buf, sizeof buf);
        if (n > 0) {
          r.output.append(buf, static_cast<std::size_t>(n));
        } else if (n == 0 || errno != EINTR) {
          pipe_open = false;
        }
      }
    } else {
      std::this_thread::sleep_for(kPgPollInterval / 5);
    }
    if (!exited) {
      pid_t w = ::waitpid(pid, &r.status, WNOHANG);
      if (w == pid) exited = true;
      if (w < 0 && errno != EINTR) {
        r.error = std::string("waitpid: ") + std::strerror(errno);
        break;
      }
    }
    // A process it left behind (a server, say) may still hold the pipe: once the process
    // itself has exited, take what was written so far and stop reading.
    if (exited) {
      if (pipe_open) {
        ::fcntl(fds[0], F_SETFL, O_NONBLOCK);
        ssize_t n;
        while ((n = ::read(fds[0], buf, sizeof buf)) > 0)
          r.output.append(buf, static_cast<std::size_t>(n));
      }
      r.ran = true;
      break;
    }
    if (clock::now() >= deadline) {
      ::kill(-pid, SIGKILL);
      ::waitpid(pid, &r.status, 0);
      r.error = name + " did not finish within " +
                std::to_string(std::chrono::duration_cast<std::chrono::seconds>(timeout).count()) +
                " s and was killed";
      break;
    }
  }
  ::close(fds[0]);
  if (r.ran && !r.ok()) r.error = name + " failed (" + describe_status(r.status) + ")";
  return r;
}

/// "<error>: <last lines of output>", the shape of every failure message below.
inline std::string with_output(const run_result& r) {
  std::string out = r.error;
  std::string tail = tail_lines(r.output, 15);
  if (!tail.empty()) out += "; its output:\n" + tail;
  return out;
}

/// Where initdb, pg_ctl and postgres are: `pg_config --bindir` when it answers with a
/// directory holding them (libpq-dev's pg_config names the server's directory on Debian),
/// else the newest /usr/lib/postgresql/<version>/bin that has initdb.
inline std::string find_bindir(std::string* why) {
  auto complete = [](const std::string& dir) {
    return is_executable(dir + "/initdb") && is_executable(dir + "/pg_ctl") &&
           is_executable(dir + "/postgres");
  };
  run_result cfg = run({"pg_config", "--bindir"}, "/", kPgConfigTimeout);
  std::string from_pg_config;
  if (cfg.ok()) {
    from_pg_config = cfg.output;
    while (!from_pg_config.empty() &&
           std::isspace(static_cast<unsigned char>(from_pg_config.back())))
      from_pg_config.pop_back();
    if (complete(from_pg_config)) return from_pg_config;
  }
  std::string best;
  long best_version = -1;
  std::error_code ec;
  for (auto& entry : std::filesystem::directory_iterator("/usr/lib/postgresql", ec)) {
    std::string name = entry.path().filename().string();
    char* end = nullptr;
    long version = std::strtol(name.c_str(), &end, 10);
    std::string bin = entry.path().string() + "/bin";
    if (end != name.c_str() && version > best_version && complete(bin)) {
      best = bin;
      best_version = version;
    }
  }
  if (best.empty() && why) {
    *why = "no PostgreSQL server binaries (initdb, pg_ctl, postgres): pg_config --bindir ";
    *why += cfg.ok() ? "names " + from_pg_config + ", which lacks them"
                     : "did not answer (" + cfg.error + ")";
    *why += ", and no /usr/lib/postgresql/*/bin has them (install the postgresql package)";
  }
  return best;
}

/// The parent pid in /proc/<pid>/stat, or -1; a zombie counts as gone (`alive` false).
inline pid_t parent_of(pid_t pid, bool* alive) {
  std::string stat = read_file("/proc/" + std::to_string(pid) + "/stat");
  *alive = false;
  auto paren = stat.rfind(')');  // the command name may itself hold spaces and parentheses
  if (paren == std::string::npos || paren + 4 >= stat.size()) return -1;
  char state = stat[paren + 2];
  *alive = state != 'Z' && state != 'X';
  return static_cast<pid_t>(std::strtol(stat.c_str() + paren + 4, nullptr, 10));
}

inline bool process_alive(pid_t pid) {
  bool alive = false;
  parent_of(pid, &alive);
  return alive;
}

inline std::vector<pid_t> children_of(pid_t parent) {
  std::vector<pid_t> out;
  DIR* proc = ::opendir("/proc");
  if (!proc) return out;
  while (dirent* e = ::readdir(proc)) {
    char* end = nullptr;
    long pid = std::strtol(e->d_name, &end, 10);
    if (*end != '\0' || pid <= 0) continue;
    bool alive = false;
    if (parent_of(static_cast<pid_t>(pid), &alive) == parent && alive)
      out.push_back(static_cast<pid_t>(pid));
  }
  ::closedir(proc);
  return out;
}

/// A port number no other cluster of this process, nor (short of pid clashes modulo 2000) of
/// another test process, uses. Each cluster has a private socket directory, so on
/// PostgreSQL 12+ a clash would be harmless: the number only names `.s.PGSQL.<port>` there.
/// Keeping them distinct anyway keeps `ps` and the logs unambiguous, and keeps servers older
/// than 12, whose System V shared-memory key was derived from the port, apart.
inline int pick_port() {
  static std::atomic<int> counter{0};
  int n = counter.fetch_add(1) % 25;
  return 10000 + static_cast<int>(::getpid() % 2000) * 25 + n;
}

}  // namespace pg_detail

/// A throwaway PostgreSQL cluster for tests: initdb into a fresh temporary directory, the server
/// listening only on a Unix socket in that directory (listen_addresses='', no TCP), run as an
/// unprivileged user (the `postgres` system user when the test runs as root, else the current
/// user), stopped (pg_ctl stop -m fast, then SIGKILL after kPgStopTimeout) and the directory
/// removed on destruction.
///
/// Layout: <dir>/data is the cluster, <dir>/server.log the server's output, and the socket is
/// <dir>/.s.PGSQL.<port>. Authentication is `trust` for the superuser `peerlite`: the only way
/// in is that socket, inside a directory closed to other users.
class pg_cluster {
 public:
  /// Starts one; nullptr with `why` set when it cannot (no PostgreSQL binaries, initdb failed,
  /// the server did not start within kPgStartTimeout...).
  static std::unique_ptr<pg_cluster> start(std::string* why) {
    std::string ignored;
    if (!why) why = &ignored;
    std::unique_ptr<pg_cluster> c(new pg_cluster());
    c->bindir_ = pg_detail::find_bindir(why);
    if (c->bindir_.empty()) return nullptr;

    // PostgreSQL refuses to run as root, so a root test hands the server to `postgres`.
    if (::geteuid() == 0) {
      passwd* pw = ::getpwnam(kPgRunAsUser);
      if (!pw) {
        *why = std::string("the test runs as root, and PostgreSQL refuses to; there is no '") +
               kPgRunAsUser + "' user to run it as (the postgresql package creates one)";
        return nullptr;
      }
      c->run_as_ = kPgRunAsUser;
      c->run_as_uid_ = pw->pw_uid;
    }

    // Always under /tmp, whatever TMPDIR says: a socket path must fit in 107 bytes, and the
    // postgres user must be able to reach the directory (a root TMPDIR under /root is not).
    std::string tmpl = "/tmp/peerlite-pg-XXXXXX";
    if (!::mkdtemp(tmpl.data())) {
      *why = "mkdtemp(" + tmpl + "): " + std::strerror(errno);
      return nullptr;
    }
    c->dir_ = tmpl;
    if (!c->run_as_.empty()) {
      // Owned by postgres, which writes the cluster, socket and log here; the test's group may
      // search it, so the root test reaches the socket without relying on root's power to
      // override permissions; other users get nothing.
      if (::chown(c->dir_.c_str(), c->run_as_uid_, ::getegid()) != 0 ||
          ::chmod(c->dir_.c_str(), 0750) != 0) {
        *why = "could not hand " + c->dir_ + " to " + c->run_as_ + ": " + std::strerror(errno);
        return nullptr;
      }
    }
    c->port_ = pg_detail::pick_port();

    auto init = c->run_pg({c->bindir_ + "/initdb", "-D", c->data_dir(), "-A", "trust", "-U",
                           kPgSuperuser, "--no-sync", "-E", "UTF8", "--locale=C"},
                          kPgInitdbTimeout);
    if (!init.ok()) {
      *why = "initdb into " + c->data_dir() + " failed: " + pg_detail::with_output(init);
      return nullptr;
    }
    if (!c->start_again(why)) return nullptr;
    return c;
  }

  ~pg_cluster() {
    std::string ignored;
    stop(&ignored);
    if (!dir_.empty()) {
      std::error_code ec;
      std::filesystem::remove_all(dir_, ec);
    }
  }

  pg_cluster(const pg_cluster&) = delete;
  pg_cluster& operator=(const pg_cluster&) = delete;

  /// The server's main process (the first line of postmaster.pid), or -1 when not running.
  pid_t server_pid() const {
    std::ifstream in(data_dir() + "/postmaster.pid");
    long pid = -1;
    return in >> pid ? static_cast<pid_t>(pid) : -1;
  }

  /// A libpq connection URL for database `dbname`, e.g.
  /// "postgresql:///t1?host=%2Ftmp%2Fpeerlite-pg-Ab12Cd&port=21537&user=peerlite".
  std::string url(const std::string& dbname) const {
    return "postgresql:///" + pg_detail::url_encode(dbname) +
           "?host=" + pg_detail::url_encode(dir_) + "&port=" + std::to_string(port_) +
           "&user=" + kPgSuperuser;
  }

  /// CREATE DATABASE name (via libpq, connecting to the "postgres" database); false with why on
  /// failure.
  bool create_database(const std::string& name, std::string* why) {
    std::string ignored;
    if (!why) why = &ignored;
    PGconn* conn = ::PQconnectdb(url("postgres").c_str());
    bool ok = false;
    if (::PQstatus(conn) != CONNECTION_OK) {
      *why = "could not connect to " + url("postgres") + ": " + ::PQerrorMessage(conn);
    } else if (char* ident = ::PQescapeIdentifier(conn, name.c_str(), name.size())) {
      PGresult* res = ::PQexec(conn, ("CREATE DATABASE " + std::string(ident)).c_str());
      ::PQfreemem(ident);
      ok = ::PQresultStatus(res) == PGRES_COMMAND_OK;
      if (!ok) *why = "CREATE DATABASE " + name + ": " + ::PQresultErrorMessage(res);
      ::PQclear(res);
    } else {
      *why = std::string("PQescapeIdentifier: ") + ::PQerrorMessage(conn);
    }
    ::PQfinish(conn);
    return ok;
  }

  /// Stops the server (fast shutdown) and starts it again on the same directory and socket,
  /// for tests of a database restart.
  bool restart(std::string* why) { return stop(why) && start_again(why); }

  /// Fast shutdown: pg_ctl stop -m fast; if that has not finished within kPgStopTimeout, the
  /// server's processes are SIGKILLed. True once no server process is left (`why` then says
  /// whether it took SIGKILL); false, with why, when even SIGKILL left one.
  bool stop(std::string* why) {
    std::string ignored;
    if (!why) why = &ignored;
    if (!running_) return true;
    auto deadline = pg_detail::clock::now() + kPgStopTimeout;
    auto r = run_pg({bindir_ + "/pg_ctl", "stop", "-D", data_dir(), "-m", "fast", "-w", "-t",
                     std::to_string(kPgStopTimeout.count())},
                    kPgStopTimeout + kPgCtlGrace);
    // pg_ctl returns once the pid file is gone, which the postmaster removes just before it
    // exits: give it the rest of the timeout to be gone for good.
    while (r.ok() && postmaster_ > 0 && pg_detail::process_alive(postmaster_) &&
           pg_detail::clock::now() < deadline)
      std::this_thread::sleep_for(kPgPollInterval / 5);
    if (r.ok() && (postmaster_ <= 0 || !pg_detail::process_alive(postmaster_))) {
      running_ = false;
      postmaster_ = -1;
      return true;
    }
    std::string failure = r.ok() ? "the postmaster outlived pg_ctl stop by " +
                                       std::to_string(kPgStopTimeout.count()) + " s"
                                 : pg_detail::with_output(r);
    bool killed = kill_server();
    *why = "a fast shutdown did not stop the server (" + failure + ")\n" +
           (killed ? "its processes were SIGKILLed" : "SIGKILL did not end them either");
    return killed;
  }

  /// Starts the server again after stop() (also the first start): pg_ctl start, then PQping on
  /// url("postgres") every kPgPollInterval until PQPING_OK or kPgStartTimeout.
  bool start_again(std::string* why) {
    std::string ignored;
    if (!why) why = &ignored;
    if (running_) return true;
    auto deadline = pg_detail::clock::now() + kPgStartTimeout;
    // Settings for speed (no durability: the cluster dies with the test) and isolation (no TCP;
    // the socket only in the private directory). pg_ctl passes -o through /bin/sh, hence quoting.
    std::string options = "-c fsync=off -c synchronous_commit=off -c full_page_writes=off";
    // 400 sessions: the 50-peer replication tests keep a writer, readers and a LISTEN session
    // for each of their 51 databases in one process.
    options += " -c listen_addresses='' -c max_connections=400";
    options += " -c port=" + std::to_string(port_);
    options += " -c unix_socket_directories=" + pg_detail::shell_quote(dir_);
    // pg_ctl's own wait (-w) notices a server that exits during startup at once, with the log
    // saying why, instead of this polling until the timeout.
    auto r = run_pg({bindir_ + "/pg_ctl", "start", "-D", data_dir(), "-l", log_path(), "-o",
                     options, "-w", "-t", std::to_string(kPgStartTimeout.count())},
                    kPgStartTimeout + kPgCtlGrace);
    running_ = true;  // even on failure: stop() then cleans up whatever did start
    if (!r.ok()) {
      *why = "the server did not start: " + pg_detail::with_output(r) + server_log_tail();
      stop(&ignored);
      return false;
    }
    PGPing ping = PQPING_NO_RESPONSE;
    while ((ping = ::PQping(url("postgres").c_str())) != PQPING_OK &&
           pg_detail::clock::now() < deadline)
      std::this_thread::sleep_for(kPgPollInterval);
    if (ping != PQPING_OK) {
      *why = "the server did not accept connections on " + url("postgres") + " within " +
             std::to_string(kPgStartTimeout.count()) +
             " s (PQping: " + std::to_string(static_cast<int>(ping)) + ")" + server_log_tail();
      stop(&ignored);
      return false;
    }
    postmaster_ = read_postmaster_pid();
    return true;
  }

  /// The temporary directory holding the cluster (data/), its log and its socket.
  const std::string& dir() const { return dir_; }

 private:
  pg_cluster() = default;

  std::string data_dir() const { return dir_ + "/data"; }
  std::string log_path() const { return dir_ + "/server.log"; }

  /// Runs a PostgreSQL program as the server's user: via runuser when the test is root.
  pg_detail::run_result run_pg(std::vector<std::string> args,
                               std::chrono::milliseconds timeout) const {
    std::string name = std::filesystem::path(args[0]).filename().string() + " " + args[1];
    if (!run_as_.empty()) {
      std::vector<std::string> wrapped = {
          pg_detail::is_executable("/usr/sbin/runuser") ? "/usr/sbin/runuser" : "runuser", "-u",
          run_as_, "--"};
      wrapped.insert(wrapped.end(), args.begin(), args.end());
      args = std::move(wrapped);
    }
    return pg_detail::run(args, dir_, timeout, name);
  }

  std::string server_log_tail() const {
    std::string tail = pg_detail::tail_lines(pg_detail::read_file(log_path()), 20);
    return tail.empty() ? "\nthe server log " + log_path() + " is empty"
                        : "\nthe server log " + log_path() + " ends with:\n" + tail;
  }

  /// The postmaster's pid from the first line of data/postmaster.pid, or -1.
  pid_t read_postmaster_pid() const {
    std::string text = pg_detail::read_file(data_dir() + "/postmaster.pid");
    long pid = std::strtol(text.c_str(), nullptr, 10);
    return pid > 0 ? static_cast<pid_t>(pid) : -1;
  }

  /// The last resort after a failed fast shutdown: SIGKILL the postmaster and the processes it
  /// forked (each of them sits in its own session, so no process-group kill reaches them), then
  /// wait up to kPgKillTimeout for them to be gone. True when none is left.
  bool kill_server() {
    pid_t pm = read_postmaster_pid();
    if (pm <= 0) pm = postmaster_;
    running_ = false;
    postmaster_ = -1;
    // Only a live PostgreSQL process: the server may have died already, its pid reused since.
    if (pm <= 0 || !pg_detail::process_alive(pm) ||
        pg_detail::read_file("/proc/" + std::to_string(pm) + "/comm").rfind("postgres", 0) != 0) {
      remove_stale_lock_files();
      return true;
    }
    std::vector<pid_t> victims = pg_detail::children_of(pm);
    ::kill(pm, SIGKILL);  // first, so that it forks no replacement for a killed child
    for (pid_t child : victims) ::kill(child, SIGKILL);
    victims.push_back(pm);
    auto deadline = pg_detail::clock::now() + kPgKillTimeout;
    while (pg_detail::clock::now() < deadline) {
      if (std::none_of(victims.begin(), victims.end(), pg_detail::process_alive)) {
        remove_stale_lock_files();
        return true;
      }
      std::this_thread::sleep_for(kPgPollInterval);
    }
    return false;
  }

  /// A killed (or crashed) postmaster leaves its lock files behind, naming its pid. The next
  /// start checks that pid with kill(pid, 0), which succeeds on a zombie that init has not reaped
  /// yet (and never will, under an init that does not reap) or on an unrelated process that got
  /// the pid, and refuses to start. Every process of this cluster is dead here: they are stale.
  void remove_stale_lock_files() const {
    std::string socket = dir_ + "/.s.PGSQL." + std::to_string(port_);
    for (const std::string& path : {data_dir() + "/postmaster.pid", socket + ".lock", socket})
      ::unlink(path.c_str());
  }

  std::string bindir_;
  std::string dir_;
  std::string run_as_;  ///< empty: run as the current user
  uid_t run_as_uid_ = 0;
  int port_ = 0;
  bool running_ = false;
  pid_t postmaster_ = -1;
};

}  // namespace peerlite::test
