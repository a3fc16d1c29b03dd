// A `peerlite serve` hub as a child process of the benchmark, for the cases that measure the hub
// as users run it (hub_peers, idle_conn_memory): its own process, so its own open-files limit,
// its own RSS in /proc, and no sharing of the benchmark's actor threads.
#pragma once

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <regex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "adapters/tcp/process_resources.hpp"

namespace peerlite::bench {

/// Longest the hub may take to print its "serving" line.
constexpr std::chrono::seconds kHubStartTimeout{15};
/// Longest the hub may take to exit after SIGTERM (its own shutdown bound is 8 s).
constexpr std::chrono::seconds kHubStopTimeout{15};

using net::open_fds;
using net::raise_open_files_limit;
using net::rss_kib;

class serve_process {
 public:
  /// Starts `peerlite serve --db <db> --listen ws://127.0.0.1:0 <extra...>` (the sibling
  /// tools/peerlite, or $PEERLITE_CLI) with its output in `log`, and waits for its URL.
  serve_process(const std::string& db, const std::string& log, std::vector<std::string> extra = {})
      : log_(log) {
    std::vector<std::string> args{cli_path(), "serve", "--db", db, "--listen", "ws://127.0.0.1:0"};
    args.insert(args.end(), extra.begin(), extra.end());
    pid_ = fork();
    if (pid_ == 0) {
      if (!freopen(log.c_str(), "w", stdout)) _exit(126);
      std::vector<char*> argv;
      for (auto& a : args) argv.push_back(a.data());
      argv.push_back(nullptr);
      execv(argv[0], argv.data());
      _exit(127);
    }
    url_ = wait_for_url();
  }
  ~serve_process() { stop(); }
  serve_process(const serve_process&) = delete;
  serve_process& operator=(const serve_process&) = delete;

  pid_t pid() const { return pid_; }
  /// ws://127.0.0.1:PORT/<name>, as the hub printed it.
  const std::string& url() const { return url_; }
  std::string log() const {
    std::ifstream in(log_);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
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
  }

 private:
  static std::string cli_path() {
    if (const char* p = getenv("PEERLITE_CLI")) return p;
    auto self = std::filesystem::read_symlink("/proc/self/exe");
    return (self.parent_path().parent_path() / "tools" / "peerlite").string();
  }

  std::string wait_for_url() {
    auto end = std::chrono::steady_clock::now() + kHubStartTimeout;
    std::smatch m;
    std::regex serving("serving .* at (ws://[0-9.:]+/[^ ,]+)");
    while (std::chrono::steady_clock::now() < end) {
      auto text = log();
      if (std::regex_search(text, m, serving)) return m[1];
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    stop();
    throw std::runtime_error("hub did not start: " + log());
  }

  std::string log_;
  pid_t pid_ = -1;
  std::string url_;
};

}  // namespace peerlite::bench
