// A `peerlite serve` hub as a child process of the benchmark, for the cases that measure the hub
// as users run it (hub_peers, idle_conn_memory, the loadtest cases): its own process, so its own
// open-files limit, its own RSS in /proc, and no sharing of the benchmark's actor threads. The
// process handling is `peerlite loadtest --spawn-hub`'s (tools/loadtest/hub_process.hpp).
#pragma once

#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "adapters/tcp/process_resources.hpp"
#include "tools/loadtest/hub_process.hpp"

namespace peerlite::bench {

using net::open_fds;
using net::raise_open_files_limit;
using net::rss_kib;

/// The `peerlite` executable beside this benchmark's build folder (tools/peerlite), or
/// $PEERLITE_CLI.
inline std::string cli_path() {
  if (const char* p = std::getenv("PEERLITE_CLI")) return p;
  auto self = std::filesystem::read_symlink("/proc/self/exe");
  return (self.parent_path().parent_path() / "tools" / "peerlite").string();
}

class serve_process : public loadtest::hub_process {
 public:
  /// Starts `peerlite serve --db <db> --listen ws://127.0.0.1:0 <extra...>` with its output in
  /// `log`, and waits for its URL (throws std::runtime_error with the hub's output otherwise).
  serve_process(const std::string& db, const std::string& log, std::vector<std::string> extra = {})
      : hub_process(cli_path(), db, log, std::move(extra)) {}
};

}  // namespace peerlite::bench
