#include "tools/serve_support.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <functional>
#include <csignal>
#include <cstdio>
#include <ctime>
#include <mutex>
#include <thread>

#include "adapters/tcp/process_resources.hpp"

namespace peerlite::tools {
namespace {

std::atomic<bool> g_stop{false};
/// The signal handler writes a byte here (write() is async-signal-safe); a helper thread
/// blocked on the other end wakes the waiters. Nothing polls: an idle hub or continuous peer
/// used to wake 20 times a second to look at the flag (0.08% of a core, half its idle CPU).
int g_stop_pipe[2] = {-1, -1};
std::mutex g_stop_mx;
std::condition_variable g_stop_cv;
std::function<void()> g_stop_hook;

extern "C" void on_stop_signal(int) {
  g_stop.store(true);
  if (g_stop_pipe[1] >= 0) {
    char c = 1;
    [[maybe_unused]] auto n = write(g_stop_pipe[1], &c, 1);
  }
}

/// Waits for the handler's first byte (a command acts on the first stop signal), then wakes
/// sleep_unless_stopped and the command's hook. The lock is held throughout: a waiter between
/// its check and its wait hears the notification, and on_stop({}) returns only once a running
/// hook has finished, so a command can unhook before what the hook touches goes away.
void relay_stop_signals() {
  char c;
  while (read(g_stop_pipe[0], &c, 1) < 0 && errno == EINTR) {
  }
  std::lock_guard lk(g_stop_mx);
  g_stop_cv.notify_all();
  if (g_stop_hook) g_stop_hook();
}

}  // namespace

void on_stop(std::function<void()> fn) {
  std::lock_guard lk(g_stop_mx);
  g_stop_hook = std::move(fn);
}

void install_stop_signals() {
  static std::once_flag once;
  std::call_once(once, [] {
    if (pipe2(g_stop_pipe, O_CLOEXEC) == 0)
      std::thread(relay_stop_signals).detach();  // blocked in read() until a signal or exit
  });
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
  std::unique_lock lk(g_stop_mx);
  g_stop_cv.wait_for(lk, d, [] { return g_stop.load(); });
}

}  // namespace peerlite::tools
