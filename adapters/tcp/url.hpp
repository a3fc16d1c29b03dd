// The URLs users type for the network adapters: tcp://host:port/<db> and ws://host:port/<db>,
// and their TLS forms tls:// and wss://.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "peerlite/status.hpp"

namespace peerlite::net {

struct endpoint_url {
  std::string scheme;  ///< "tcp", "ws", "tls" (TLS byte stream) or "wss"
  std::string host;    ///< name or address, without brackets
  uint16_t port = 0;
  std::string db;  ///< the remote database name (first path segment); may be empty

  /// scheme://host:port/db, as a user would type it (no /_blipsync).
  std::string to_string() const;
  /// wss:// or tls://.
  bool secure() const { return scheme == "wss" || scheme == "tls"; }
  /// A WebSocket URL (ws:// or wss://), else a raw byte stream (tcp:// or tls://).
  bool websocket() const { return scheme == "ws" || scheme == "wss"; }
};

/// Default ports when a URL gives none: ws and wss = 4984 (Sync Gateway's and Couchbase Lite's
/// listener habit), tcp and tls = 4985 (the next one, as in `peerlite serve`'s examples).
constexpr uint16_t kDefaultWsPort = 4984;
constexpr uint16_t kDefaultTcpPort = 4985;

/// Parses "tcp://host:port/db", "ws://host:port/db[/_blipsync]", or the same with tls:// or
/// wss://. A trailing "/_blipsync" is
/// dropped (the WebSocket client adds it back). Fails with invalid_argument and a message
/// naming what is wrong (unknown scheme, bad port, missing host).
expected<endpoint_url> parse_url(std::string_view text);

}  // namespace peerlite::net
