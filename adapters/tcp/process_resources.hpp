// The process resources a network host cares about: its open-files limit (one descriptor per
// peer) and, for benchmarks and tests watching a hub, its resident memory, CPU time and open
// descriptors.
// Linux (/proc); header-only so tools, tests and benchmarks share one copy.
#pragma once

#include <sys/resource.h>
#include <sys/types.h>
#include <unistd.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>

namespace peerlite::net {

/// Raises RLIMIT_NOFILE's soft limit to the hard limit. Returns the limit now in force.
inline uint64_t raise_open_files_limit() {
  rlimit lim{};
  if (getrlimit(RLIMIT_NOFILE, &lim) != 0) return 0;
  if (lim.rlim_cur < lim.rlim_max) {
    rlimit want = lim;
    want.rlim_cur = lim.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &want) == 0) lim = want;
  }
  return static_cast<uint64_t>(lim.rlim_cur);
}

/// One "Name:   N kB" field of /proc/<pid>/status in KiB (VmRSS, RssAnon, ...), 0 if unknown.
inline long status_kib(pid_t pid, const std::string& field) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line))
    if (line.size() > field.size() && line.compare(0, field.size(), field) == 0 &&
        line[field.size()] == ':')
      return std::stol(line.substr(field.size() + 1));
  return 0;
}

/// Resident set size of `pid` in KiB (VmRSS), 0 if unknown.
inline long rss_kib(pid_t pid) { return status_kib(pid, "VmRSS"); }

/// CPU seconds (user + system) `pid` has used so far, from /proc/<pid>/stat; 0 if unknown.
inline double cpu_seconds(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  auto close = stat.rfind(')');  // the command name may contain spaces and parentheses
  if (close == std::string::npos) return 0;
  std::istringstream rest(stat.substr(close + 2));
  std::string field;
  unsigned long long utime = 0, stime = 0;
  for (int i = 3; i <= 15 && rest >> field; ++i) {  // fields 14 and 15 (1-based): utime, stime
    if (i == 14) utime = std::stoull(field);
    if (i == 15) stime = std::stoull(field);
  }
  return static_cast<double>(utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

/// Open descriptors of `pid`, 0 if unknown.
inline size_t open_fds(pid_t pid) {
  size_t n = 0;
  std::error_code ec;
  for (std::filesystem::directory_iterator it("/proc/" + std::to_string(pid) + "/fd", ec), end;
       !ec && it != end; it.increment(ec))
    ++n;
  return n;
}

}  // namespace peerlite::net
