// Bytes this process's built-in network adapters moved, all connections together: what
// `peerlite loadtest` reports as bytes on the wire each way. A relaxed atomic add per socket
// read or write; nothing else reads them.
// - tcp://: the bytes of each read and each gathered write, exactly.
// - ws://: the payload of each WebSocket message (peerlite's BLIP frames); the 2-14 bytes of
//   WebSocket framing per message and the HTTP upgrade are not counted.
#pragma once

#include <atomic>
#include <cstdint>

namespace peerlite::net {

struct traffic_totals {
  std::atomic<uint64_t> sent{0};
  std::atomic<uint64_t> received{0};
};

/// The process-wide totals.
inline traffic_totals& process_traffic() {
  static traffic_totals totals;
  return totals;
}

}  // namespace peerlite::net
