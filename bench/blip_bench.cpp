// blip_roundtrip / blip_roundtrip_z (deflate): 10,000 `rev` messages with 200-byte bodies go from
// one protocol::session to another in memory (send, frame, receive, reassemble, take out),
// beside a memcpy of the same message bytes as the baseline (issue 3: uncompressed should reach
// >= 500 MB/s of payload). Payload = the 200-byte bodies; wire = all frame bytes.
//
// Why one binary gives ~420 or ~850 ns/msg from run to run (measured 2026-11-26 on the 2-vCPU
// KVM dev VM): at times the physical core under our vCPU is, by all signs, also running another
// busy hardware thread (host SMT; the host itself is not visible), and then every batch slows
// about 2x, and so does a loop that touches only a 16 KiB table (L1-resident: no malloc, no
// memory traffic). ASLR off (setarch -R) still gave both modes,
// page faults were the same in both, and the modes switched in the middle of one process. At
// 15:34 a compute loop pinned to our other vCPU caused the slow mode on demand; at 15:37 the
// same loop did not (the host had placed the vCPUs elsewhere). So each batch is timed beside
// that L1-resident control: the best batch shows the code's speed, the control shows contention.
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <ctime>
#include <stdexcept>
#include <string>
#include <vector>

#include "bench/bench.hpp"
#include "protocol/frame.hpp"
#include "protocol/session.hpp"

namespace peerlite::bench {

namespace {

/// Messages per batch, as issue 3 asks; batches repeat until kMinSeconds of timed work.
constexpr size_t kMessages = 10000;
constexpr size_t kBodySize = 200;
constexpr double kMinSeconds = 1.0;

std::vector<protocol::message> make_revs(bool compressed) {
  std::vector<protocol::message> revs;
  revs.reserve(kMessages);
  for (size_t i = 0; i < kMessages; ++i) {
    protocol::message m;
    m.properties = {{"Profile", "rev"},
                    {"id", sample_id(i)},
                    {"rev", "1-" + std::string(40, "0123456789abcdef"[i % 16])},
                    {"sequence", std::to_string(i + 1)}};
    m.body = sample_body(i);
    m.body.resize(kBodySize, ' ');
    m.compressed = compressed;
    revs.push_back(std::move(m));
  }
  return revs;
}

/// CPU seconds of this thread: the machine is shared, so wall time includes others' work.
double cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return ts.tv_sec + ts.tv_nsec * 1e-9;
}

struct totals {
  double seconds = 0;
  double cpu = 0;
  size_t messages = 0;
  size_t wire_bytes = 0;
  std::vector<double> batch_ns;    ///< CPU ns per message, each batch
  std::vector<double> control_ns;  ///< CPU ns per control step, beside each batch
};

/// Steps of the contention control per batch: ~0.4 ms, a tenth of a batch.
constexpr int kControlSteps = 50000;

/// CPU ns per step of a loop confined to L1 (a 16 KiB table, eight independent chains): it
/// slows only when something else takes this core's execution units, never from our heap.
/// On the 2-vCPU dev VM: ~6.5-7.2 ns on a core of our own, ~13-16 ns on a shared one.
double control_ns_per_step() {
  static uint32_t table[4096];
  uint64_t h[8] = {1, 2, 3, 4, 5, 6, 7, 8};
  double cpu0 = cpu_seconds();
  for (int i = 0; i < kControlSteps; ++i)
    for (uint64_t k = 0; k < 8; ++k) {
      h[k] = h[k] * 31 + table[(h[k] >> 3) & 4095];
      table[h[k] & 4095] += static_cast<uint32_t>(k);
    }
  double ns = (cpu_seconds() - cpu0) * 1e9 / kControlSteps;
  /// Keep the chains observable so the compiler cannot drop them.
  return ns + (h[0] == 42 ? 1e-9 : 0.0);
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[v.size() / 2];
}

/// One batch through a fresh pair of sessions; only send..next_incoming is timed.
void run_batch(const std::vector<protocol::message>& revs, totals& t) {
  protocol::session a, b;
  std::vector<protocol::message> batch = revs;  // send() consumes its message
  std::string frame;
  size_t got = 0;
  stopwatch w;
  double cpu0 = cpu_seconds();
  for (auto& m : batch) {
    a.send(std::move(m));
    while (a.next_frame(frame)) {
      if (auto st = b.receive_frame(frame); !st) throw std::runtime_error(st.message());
      while (auto in = b.next_incoming()) got += in->body.size() == kBodySize;
    }
  }
  t.seconds += w.seconds();
  double cpu = cpu_seconds() - cpu0;
  t.cpu += cpu;
  if (got != revs.size()) throw std::runtime_error("blip_roundtrip: messages lost");
  t.batch_ns.push_back(cpu / got * 1e9);
  t.control_ns.push_back(control_ns_per_step());
  t.messages += got;
  t.wire_bytes += a.stats().bytes_sent;
}

/// The baseline: memcpy of the same encoded message bytes, message by message.
double memcpy_mb_per_s(const std::vector<protocol::message>& revs) {
  std::vector<std::string> encoded;
  size_t total = 0;
  for (auto& m : revs) {
    encoded.emplace_back();
    protocol::append_message_bytes(encoded.back(), m.properties, m.body);
    total += encoded.back().size();
  }
  std::string dst(total, '\0');
  size_t body_bytes = 0, reps = 0;
  double cpu0 = cpu_seconds();
  while (cpu_seconds() - cpu0 < kMinSeconds / 4) {
    char* out = dst.data();
    for (auto& e : encoded) {
      std::memcpy(out, e.data(), e.size());
      out += e.size();
    }
    /// Keep the copies observable so the compiler cannot drop them.
    if (dst[reps % total] == 1) ++body_bytes;
    body_bytes += revs.size() * kBodySize;
    ++reps;
  }
  return body_bytes / (cpu_seconds() - cpu0) / 1e6;
}

result run_case(const context& ctx, bool compressed) {
  auto revs = make_revs(compressed);
  double baseline = memcpy_mb_per_s(revs);
  totals t;
  while (t.seconds < kMinSeconds) run_batch(revs, t);
  ctx.progress("blip: " + std::to_string(t.messages) + " messages");
  double payload_mb_s = t.messages * kBodySize / t.cpu / 1e6;
  auto [best, worst] = std::minmax_element(t.batch_ns.begin(), t.batch_ns.end());
  double control_best = *std::min_element(t.control_ns.begin(), t.control_ns.end());
  char note[480];
  std::snprintf(
      note, sizeof note,
      "cpu: %.0f MB/s payload, %.0f msgs/s (%.0f ns each), %.0f MB/s wire; memcpy %.0f "
      "MB/s (ratio %.3f); wall: %.0f MB/s payload; %zu x %zu msgs; batch ns/msg best %.0f "
      "(%.0f MB/s) median %.0f worst %.0f; L1 control ns/step best %.1f median %.1f",
      payload_mb_s, t.messages / t.cpu, t.cpu / t.messages * 1e9, t.wire_bytes / t.cpu / 1e6,
      baseline, payload_mb_s / baseline, t.messages * kBodySize / t.seconds / 1e6,
      t.messages / kMessages, kMessages, *best, kBodySize / *best * 1e3, median(t.batch_ns), *worst,
      control_best, median(t.control_ns));
  return {static_cast<double>(t.messages), t.seconds, note};
}

const bool registered =
    add_case({"blip_roundtrip", "10000 rev msgs x 200 B body, session pair in memory, no deflate",
              [](const context& ctx) { return run_case(ctx, false); }}) &&
    add_case({"blip_roundtrip_z", "10000 rev msgs x 200 B body, session pair, deflate level 6",
              [](const context& ctx) { return run_case(ctx, true); }});

}  // namespace

}  // namespace peerlite::bench
