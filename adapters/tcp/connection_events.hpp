// What a network adapter tells its host program about connections: one event when a
// connection opens and one when it closes, with the peer and the reason. `peerlite serve`
// prints them as its per-connection log lines.
#pragma once

#include <functional>
#include <string>

namespace peerlite::net {

struct connection_event {
  /// refused: a socket that never became a connection (bad HTTP upgrade, wrong password,
  /// unknown database); one line, no opened/closed pair.
  enum kind_type { opened, closed, refused } kind = opened;
  std::string transport;  ///< "tcp" or "ws"
  std::string peer;       ///< "127.0.0.1:53122", or the URL dialled
  std::string reason;     ///< closed/refused: "normal close", "...: connection reset by peer"
};

/// Called from the adapter's socket thread; must be quick and must not block. Each connection
/// that reported `opened` reports `closed` exactly once.
using connection_observer = std::function<void(const connection_event&)>;

}  // namespace peerlite::net
