// libFuzzer target: the WebSocket decoder and stream on arbitrary bytes.
//
// Input: byte 0 picks the role (bit 0), the chunk size (bits 1..6) and a small message cap
// (bit 7); the rest is wire data.
// Beyond "no crash, no sanitizer report", it checks a property: decoding in one piece and in
// small chunks gives the same events and the same verdict, so chunk boundaries never matter.
#include <cstdint>
#include <cstdlib>
#include <string_view>
#include <vector>

#include "protocol/tuning.hpp"
#include "protocol/websocket.hpp"

using namespace peerlite::protocol;

namespace {

struct outcome {
  std::vector<ws::event> events;
  bool failed = false;
  uint16_t close = 0;
};

outcome run(ws::role local, size_t cap, std::string_view wire, size_t chunk) {
  ws::decoder d(local, cap);
  outcome o;
  for (size_t pos = 0; pos < wire.size() && !d.failed(); pos += chunk)
    d.feed(wire.substr(pos, chunk));
  while (auto ev = d.next()) o.events.push_back(std::move(*ev));
  o.failed = d.failed();
  o.close = d.failure_close_code();
  return o;
}

bool same(const outcome& a, const outcome& b) {
  if (a.failed != b.failed || a.close != b.close || a.events.size() != b.events.size())
    return false;
  for (size_t i = 0; i < a.events.size(); ++i) {
    const auto &x = a.events[i], &y = b.events[i];
    if (x.op != y.op || x.payload != y.payload || x.close.code != y.close.code) return false;
  }
  return true;
}

void run_stream(ws::role local, std::string_view wire) {
  ws::stream s(local, kWsMaxMessage, 7);
  for (size_t pos = 0; pos < wire.size(); pos += 5) {
    if (!s.feed(wire.substr(pos, 5)).ok()) break;
    while (s.next_message()) {
    }
    s.take_output();
  }
  s.send_close(ws::close_code::normal, "done");
  s.take_output();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  auto local = (data[0] & 1) ? ws::role::server : ws::role::client;
  /// A small cap too, so the oversize paths are reachable with short inputs.
  size_t cap = (data[0] & 0x80) ? 300 : kWsMaxMessage;
  size_t chunk = 1 + ((data[0] >> 1) & 0x3F) % 17;
  std::string_view wire(reinterpret_cast<const char*>(data) + 1, size - 1);
  if (!same(run(local, cap, wire, wire.size() + 1), run(local, cap, wire, chunk))) abort();
  run_stream(local, wire);
  return 0;
}
