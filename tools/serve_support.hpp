// What the network commands (serve, sync, demo) share: stop signals, the open-files limit,
// timestamped log lines, and rate arithmetic.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>

namespace peerlite::tools {

/// SIGINT and SIGTERM set a flag instead of killing the process, so a command can close its
/// connections and exit 0. Idempotent.
void install_stop_signals();
/// True once SIGINT or SIGTERM arrived.
bool stop_requested();
/// Calls `fn` once a stop signal arrives (from a helper thread, not the handler), so a command
/// waiting on its own condition variable wakes without polling. One hook: the last one set.
/// `fn` must not call on_stop or sleep_unless_stopped; on_stop({}) waits for a running `fn`.
void on_stop(std::function<void()> fn);

/// Raises RLIMIT_NOFILE's soft limit to the hard limit (a hub holds one descriptor per peer).
/// Returns the limit now in force.
uint64_t raise_open_files_limit();

/// Whether stdout is a terminal (progress bars) or a pipe/file (plain lines).
bool stdout_is_tty();

/// Prints "HH:MM:SS.mmm <text>" as one line on stdout, flushed; safe from any thread.
void log_line(const std::string& text);

/// Docs per second over `elapsed`, 0 for an empty interval.
double per_second(uint64_t count, std::chrono::steady_clock::duration elapsed);

/// Sleeps up to `d`, waking early when a stop signal arrives.
void sleep_unless_stopped(std::chrono::milliseconds d);

}  // namespace peerlite::tools
