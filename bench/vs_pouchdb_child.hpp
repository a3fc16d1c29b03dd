// Child processes for `peerlite-bench --vs-pouchdb`: npm and node, each run with a bounded wait
// and killed (with everything it started) when the wait runs out or the benchmark ends.
#pragma once

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

extern char** environ;

namespace peerlite::bench {

/// Longest a child may take to exit after SIGTERM before it gets SIGKILL.
constexpr std::chrono::seconds kChildStopTimeout{5};
/// How often a wait looks at the child and its output.
constexpr std::chrono::milliseconds kChildPollInterval{20};

/// The full path of `program` found in $PATH the way a shell finds it, or nullopt.
inline std::optional<std::string> find_on_path(const std::string& program) {
  const char* path = std::getenv("PATH");
  if (!path) return std::nullopt;
  std::string dirs = path;
  for (size_t start = 0; start <= dirs.size();) {
    size_t end = dirs.find(':', start);
    if (end == std::string::npos) end = dirs.size();
    std::string dir = dirs.substr(start, end - start);
    auto candidate = std::filesystem::path(dir.empty() ? "." : dir) / program;
    if (::access(candidate.c_str(), X_OK) == 0 && !std::filesystem::is_directory(candidate))
      return candidate.string();
    start = end + 1;
  }
  return std::nullopt;
}

/// Everything in `path` (empty when it cannot be read).
inline std::string read_text(const std::string& path) {
  std::ifstream in(path);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

/// The last non-empty line of `text`, for one-line error messages.
inline std::string last_line(const std::string& text) {
  size_t end = text.find_last_not_of("\r\n \t");
  if (end == std::string::npos) return "";
  size_t newline = text.rfind('\n', end);
  size_t start = newline == std::string::npos ? 0 : newline + 1;
  return text.substr(start, end + 1 - start);
}

/// "exit 3" or "killed by signal 11 (Segmentation fault)" for a child_process status.
inline std::string describe_status(int status) {
  if (status >= 0) return "exit " + std::to_string(status);
  return "killed by signal " + std::to_string(-status) + " (" + ::strsignal(-status) + ")";
}

/// The last line of a child's error output, or a note that there was none.
inline std::string error_line(const std::string& text) {
  auto s = last_line(text);
  return s.empty() ? "(no error output)" : s;
}

/// A program run as a child with its stdout and stderr in files. The child leads its own
/// process group, so stop() also ends whatever it started (npm starts helpers), and it gets
/// SIGKILL from the kernel if the benchmark dies first (PR_SET_PDEATHSIG), so no node process
/// outlives a benchmark killed by a signal. The destructor stops it.
class child_process {
 public:
  /// Starts `argv` (argv[0] a full path) in directory `cwd`, with the benchmark's environment
  /// plus `env` (NAME=VALUE entries, replacing same-named ones).
  child_process(std::vector<std::string> argv, const std::string& cwd, const std::string& out,
                const std::string& err, const std::vector<std::string>& env = {})
      : out_(out), err_(err) {
    /// Everything the child needs is prepared here: after fork() only async-signal-safe calls
    /// may run, since peerlite's threads may hold locks (e.g. malloc's) at that moment.
    std::vector<std::string> vars = env;
    for (char** e = environ; *e; ++e) {
      std::string v = *e;
      auto name = v.substr(0, v.find('=') + 1);
      bool replaced = false;
      for (auto& mine : env) replaced = replaced || mine.rfind(name, 0) == 0;
      if (!replaced) vars.push_back(v);
    }
    std::vector<char*> args, envp;
    for (auto& a : argv) args.push_back(a.data());
    args.push_back(nullptr);
    for (auto& v : vars) envp.push_back(v.data());
    envp.push_back(nullptr);
    int out_fd = ::open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    /// The same path for both: one file, written through one offset.
    int err_fd = err == out ? ::fcntl(out_fd, F_DUPFD_CLOEXEC, 0)
                            : ::open(err.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    int null_fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (out_fd < 0 || err_fd < 0 || null_fd < 0) {
      for (int fd : {out_fd, err_fd, null_fd})
        if (fd >= 0) ::close(fd);
      throw std::runtime_error("cannot create " + out + " / " + err);
    }
    pid_t parent = ::getpid();
    pid_ = ::fork();
    if (pid_ == 0) {
      ::setpgid(0, 0);
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);
      if (::getppid() != parent) _exit(125);  // the benchmark died before prctl took effect
      if (::dup2(null_fd, 0) < 0 || ::dup2(out_fd, 1) < 0 || ::dup2(err_fd, 2) < 0) _exit(126);
      if (::chdir(cwd.c_str()) != 0) _exit(126);
      ::execve(args[0], args.data(), envp.data());
      _exit(127);
    }
    ::close(out_fd);
    ::close(err_fd);
    ::close(null_fd);
    if (pid_ < 0) throw std::runtime_error("fork failed for " + argv[0]);
    ::setpgid(pid_, pid_);  // also from here, so stop() never races the child's own call
  }
  ~child_process() { stop(); }
  child_process(const child_process&) = delete;
  child_process& operator=(const child_process&) = delete;

  pid_t pid() const { return pid_; }
  std::string out() const { return read_text(out_); }
  std::string err() const { return read_text(err_); }

  /// The exit status once the child has exited (minus the signal's number when a signal
  /// ended it), else nullopt.
  std::optional<int> poll() {
    if (status_) return status_;
    int st = 0;
    if (pid_ > 0 && ::waitpid(pid_, &st, WNOHANG) == pid_) {
      pid_ = -1;
      status_ = WIFEXITED(st) ? WEXITSTATUS(st) : -WTERMSIG(st);
    }
    return status_;
  }

  /// Waits up to `limit` for the child to exit and returns its exit status; when `limit`
  /// passes, kills it and throws "<what> did not finish within N s".
  int wait(std::chrono::seconds limit, const std::string& what) {
    auto end = std::chrono::steady_clock::now() + limit;
    while (!poll()) {
      if (std::chrono::steady_clock::now() >= end) {
        stop();
        throw std::runtime_error(what + " did not finish within " + std::to_string(limit.count()) +
                                 " s (killed)");
      }
      std::this_thread::sleep_for(kChildPollInterval);
    }
    return *status_;
  }

  /// SIGTERM to the child's process group, SIGKILL after kChildStopTimeout. Idempotent.
  void stop() {
    if (pid_ <= 0) return;
    ::kill(-pid_, SIGTERM);
    auto end = std::chrono::steady_clock::now() + kChildStopTimeout;
    while (!poll() && std::chrono::steady_clock::now() < end)
      std::this_thread::sleep_for(kChildPollInterval);
    if (pid_ > 0) {
      ::kill(-pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
      pid_ = -1;
      status_ = -SIGKILL;
    }
  }

 private:
  std::string out_, err_;
  pid_t pid_ = -1;
  std::optional<int> status_;
};

}  // namespace peerlite::bench
