#include "tools/serve_support.hpp"

#include <unistd.h>

#include <atomic>
#include <csignal>
#include <cstdio>
#include <ctime>
#include <mutex>
#include <thread>

#include "adapters/tcp/process_resources.hpp"

namespace peerlite::tools {
namespace {

std::atomic<bool> g_stop{false};

extern "C" void on_stop_signal(int) { g_stop.store(true); }

/// How often a sleeping command checks for a stop signal: quick enough to feel instant.
constexpr std::chrono::milliseconds kStopPollInterval{50};

}  // namespace

void install_stop_signals() {
  struct sigaction sa {};
  sa.sa_handler = on_stop_signal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
  /// A peer hanging up mid-write must be an error on that socket, not the end of the hub.
  signal(SIGPIPE, SIG_IGN);
}

bool stop_requested() { return g_stop.load(); }

uint64_t raise_open_files_limit() { return net::raise_open_files_limit(); }

bool stdout_is_tty() { return isatty(STDOUT_FILENO) == 1; }

void log_line(const std::string& text) {
  static std::mutex mx;
  auto now = std::chrono::system_clock::now();
  auto t = std::chrono::system_clock::to_time_t(now);
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()) % 1000;
  std::tm tm{};
  localtime_r(&t, &tm);
  char stamp[32];
  std::snprintf(stamp, sizeof stamp, "%02d:%02d:%02d.%03d", tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<int>(ms.count()));
  std::lock_guard lk(mx);
  std::fprintf(stdout, "%s %s\n", stamp, text.c_str());
  std::fflush(stdout);
}

double per_second(uint64_t count, std::chrono::steady_clock::duration elapsed) {
  double s = std::chrono::duration<double>(elapsed).count();
  return s > 0 ? count / s : 0.0;
}

void sleep_unless_stopped(std::chrono::milliseconds d) {
  auto until = std::chrono::steady_clock::now() + d;
  while (!stop_requested() && std::chrono::steady_clock::now() < until)
    std::this_thread::sleep_for(std::min<std::chrono::milliseconds>(
        kStopPollInterval, std::chrono::duration_cast<std::chrono::milliseconds>(
                               until - std::chrono::steady_clock::now()) +
                               std::chrono::milliseconds(1)));
}

}  // namespace peerlite::tools
