// The URLs users type for the network adapters: tcp://host:port/<db> and ws://host:port/<db>.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "peerlite/status.hpp"

namespace peerlite::net {

struct endpoint_url {
  std::string scheme;  ///< "tcp" or "ws"
  std::string host;    ///< name or address, without brackets
  uint16_t port = 0;
  std::string db;  ///< the remote database name (first path segment); may be empty

  /// scheme://host:port/db, as a user would type it (no /_blipsync).
  std::string to_string() const;
};

/// Default ports when a URL gives none: ws = 4984 (Sync Gateway's and Couchbase Lite's
/// listener habit), tcp = 4985 (the next one, as in `peerlite serve`'s examples).
constexpr uint16_t kDefaultWsPort = 4984;
constexpr uint16_t kDefaultTcpPort = 4985;

/// Parses "tcp://host:port/db" or "ws://host:port/db[/_blipsync]". A trailing "/_blipsync" is
/// dropped (the WebSocket client adds it back). Fails with invalid_argument and a message
/// naming what is wrong (unknown scheme, bad port, missing host).
expected<endpoint_url> parse_url(std::string_view text);

}  // namespace peerlite::net
