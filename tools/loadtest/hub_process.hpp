// A `peerlite serve` hub as a child process: `peerlite loadtest --spawn-hub` and the
// benchmarks that measure the hub as users run it start one. Its own process, so its own
// open-files limit, its own RSS and CPU in /proc, and no sharing of the caller's threads.
#pragma once

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <optional>
#include <regex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace peerlite::loadtest {

/// Longest the hub may take to print its "serving" line.
constexpr std::chrono::seconds kHubStartTimeout{15};
/// Longest the hub may take to exit after SIGTERM (its own shutdown bound is 8 s).
constexpr std::chrono::seconds kHubStopTimeout{15};

class hub_process {
 public:
  /// Starts `<cli> serve --db <db> --listen ws://127.0.0.1:0 <extra...>` with its output in
  /// `log`, and waits (kHubStartTimeout) for the URL it prints. Throws std::runtime_error with
  /// the hub's output when it does not start.
  hub_process(const std::string& cli, const std::string& db, const std::string& log,
              std::vector<std::string> extra = {})
      : log_(log) {
    std::vector<std::string> args{cli, "serve", "--db", db, "--listen", "ws://127.0.0.1:0"};
    args.insert(args.end(), extra.begin(), extra.end());
    pid_ = fork();
    if (pid_ == 0) {
      if (!freopen(log.c_str(), "w", stdout) || !freopen(log.c_str(), "a", stderr)) _exit(126);
      std::vector<char*> argv;
      for (auto& a : args) argv.push_back(a.data());
      argv.push_back(nullptr);
      execv(argv[0], argv.data());
      _exit(127);
    }
    url_ = wait_for_url();
  }
  ~hub_process() { stop(); }
  hub_process(const hub_process&) = delete;
  hub_process& operator=(const hub_process&) = delete;

  pid_t pid() const { return pid_; }
  /// ws://127.0.0.1:PORT/<name>, as the hub printed it.
  const std::string& url() const { return url_; }
  std::string log() const {
    std::ifstream in(log_);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  }

  /// nullopt while the hub runs; once it has exited, how ("exit status 1", "signal 9").
  /// Reaps the child.
  std::optional<std::string> exited() {
    if (pid_ <= 0) return exit_text_;
    int status = 0;
    if (waitpid(pid_, &status, WNOHANG) != pid_) return std::nullopt;
    pid_ = -1;
    exit_text_ = WIFSIGNALED(status) ? "signal " + std::to_string(WTERMSIG(status))
                                     : "exit status " + std::to_string(WEXITSTATUS(status));
    return exit_text_;
  }

  /// SIGTERM, then SIGKILL if it has not exited within kHubStopTimeout. Idempotent.
  void stop() {
    if (pid_ <= 0) return;
    kill(pid_, SIGTERM);
    auto end = std::chrono::steady_clock::now() + kHubStopTimeout;
    while (waitpid(pid_, nullptr, WNOHANG) != pid_) {
      if (std::chrono::steady_clock::now() >= end) {
        kill(pid_, SIGKILL);
        waitpid(pid_, nullptr, 0);
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    pid_ = -1;
    exit_text_ = "stopped";
  }

 private:
  std::string wait_for_url() {
    auto end = std::chrono::steady_clock::now() + kHubStartTimeout;
    std::smatch m;
    std::regex serving("serving .* at (ws://[0-9.:]+/[^ ,]+)");
    while (std::chrono::steady_clock::now() < end) {
      auto text = log();
      if (std::regex_search(text, m, serving)) return m[1];
      if (exited()) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    stop();
    throw std::runtime_error("the hub did not start: " + log());
  }

  std::string log_;
  pid_t pid_ = -1;
  std::string url_;
  std::optional<std::string> exit_text_;
};

}  // namespace peerlite::loadtest
