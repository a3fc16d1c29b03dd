// Sample documents shared by every case, so ratios compare the same rows.
#include <cstdio>

#include "bench/bench.hpp"

namespace peerlite::bench {

std::string sample_id(size_t i) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "doc-%09zu", i);
  return buf;
}

std::string sample_body(size_t i) {
  char buf[256];
  int n = std::snprintf(buf, sizeof buf,
                        R"({"type":"reading","sensor":"sensor-%04zu","seq":%zu,"value":%zu.%02zu,)"
                        R"("unit":"celsius","tags":["bench","peerlite","sample"],)"
                        R"("note":"the quick brown fox jumps over the lazy dog %08zu"})",
                        i % 1000, i, (i * 7919) % 1000, i % 100, i);
  return std::string(buf, static_cast<size_t>(n));
}

}  // namespace peerlite::bench
