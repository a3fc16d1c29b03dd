// Child processes for the multi-process tests: run `peerlite` commands with their output in a
// file, send signals, wait with a bound, read the log while the child runs.
#pragma once

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <optional>
#include <regex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "adapters/tcp/process_resources.hpp"

namespace peerlite::test {

/// A fresh temporary directory for one test's files, removed at the end. `tag` names the
/// suite in the directory's name, so a leftover tells which test left it.
struct scratch {
  std::filesystem::path dir;
  explicit scratch(const std::string& tag = "cli") {
    static int n = 0;
    dir = std::filesystem::temp_directory_path() /
          ("peerlite-" + tag + "-" + std::to_string(getpid()) + "-" + std::to_string(n++));
    std::filesystem::create_directories(dir);
  }
  ~scratch() {
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }
  scratch(const scratch&) = delete;
  scratch& operator=(const scratch&) = delete;
  std::string path(const std::string& name) const { return (dir / name).string(); }
};

class child {
 public:
  /// Starts `args` (args[0] = program path) with stdout and stderr appended to `log_path`.
  child(std::vector<std::string> args, std::string log_path) : log_(std::move(log_path)) {
    pid_ = fork();
    if (pid_ == 0) {
      int fd = open(log_.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
      dup2(fd, 1);
      dup2(fd, 2);
      std::vector<char*> argv;
      for (auto& a : args) argv.push_back(a.data());
      argv.push_back(nullptr);
      execv(argv[0], argv.data());
      _exit(127);
    }
  }
  ~child() {
    if (running()) {
      kill(pid_, SIGKILL);
      wait_exit(std::chrono::seconds(5));
    }
  }
  child(const child&) = delete;
  child& operator=(const child&) = delete;

  pid_t pid() const { return pid_; }
  bool running() const { return pid_ > 0 && !exited_; }
  void signal(int sig) { kill(pid_, sig); }

  /// The exit status (128+signal when killed), or -1 if it is still running after `timeout`.
  int wait_exit(std::chrono::milliseconds timeout) {
    if (exited_) return status_;
    auto end = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      int st = 0;
      if (waitpid(pid_, &st, WNOHANG) == pid_) {
        exited_ = true;
        status_ = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
        return status_;
      }
      if (std::chrono::steady_clock::now() >= end) return -1;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  }

  std::string log() const { return read_file(log_); }

  /// Waits until the log contains `text`; false after `timeout`.
  bool wait_for_log(const std::string& text, std::chrono::milliseconds timeout) const {
    auto end = std::chrono::steady_clock::now() + timeout;
    while (log().find(text) == std::string::npos) {
      if (std::chrono::steady_clock::now() >= end) return false;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return true;
  }

  static std::string read_file(const std::string& path) {
    std::ifstream in(path);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }

 private:
  pid_t pid_ = -1;
  std::string log_;
  bool exited_ = false;
  int status_ = -1;
};

/// Runs a command to completion (bounded); returns {exit status, output}.
inline std::pair<int, std::string> run(std::vector<std::string> args, const std::string& log_path,
                                       std::chrono::milliseconds timeout) {
  unlink(log_path.c_str());
  child c(std::move(args), log_path);
  int code = c.wait_exit(timeout);
  return {code, c.log()};
}

/// The URL a `peerlite serve` log says it serves for `scheme` ("ws" or "tcp"), as
/// scheme://host:port/hub; empty when the log has none.
inline std::string served_url(const std::string& log, const std::string& scheme) {
  std::smatch m;
  if (!std::regex_search(log, m, std::regex("(" + scheme + "://[0-9.:]+/hub)"))) return {};
  return m[1];
}

/// One `peerlite` command (`cli` is its path) to completion, bounded by `timeout`, its output
/// in the scratch directory's cmd.log.
inline std::pair<int, std::string> run_cli(const std::string& cli, const scratch& s,
                                           std::vector<std::string> args,
                                           std::chrono::milliseconds timeout) {
  args.insert(args.begin(), cli);
  return run(std::move(args), s.path("cmd.log"), timeout);
}

/// Whether `peerlite get` finds `id` in `db`.
inline bool cli_has_doc(const std::string& cli, const scratch& s, const std::string& db,
                        const std::string& id, std::chrono::milliseconds timeout) {
  return run_cli(cli, s, {"get", "--db", db, id}, timeout).first == 0;
}

/// Polls `peerlite get` until `id` is in `db`; how long it took, or nothing after `timeout`.
inline std::optional<std::chrono::milliseconds> cli_wait_for_doc(
    const std::string& cli, const scratch& s, const std::string& db, const std::string& id,
    std::chrono::milliseconds timeout, std::chrono::milliseconds command_timeout) {
  auto t0 = std::chrono::steady_clock::now();
  for (;;) {
    if (cli_has_doc(cli, s, db, id, command_timeout))
      return std::chrono::duration_cast<std::chrono::milliseconds>(
          std::chrono::steady_clock::now() - t0);
    if (std::chrono::steady_clock::now() - t0 >= timeout) return std::nullopt;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

using net::rss_kib;

}  // namespace peerlite::test
