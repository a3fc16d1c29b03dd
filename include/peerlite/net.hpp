// peerlite: the active side over the network. A URL becomes the message_endpoint a replicator
// needs, with peerlite's own WebSocket and TCP transports:
//
//   auto ep = peerlite::make_url_endpoint("ws://127.0.0.1:4984/hub");
//   if (!ep) { std::cerr << ep.err().message << "\n"; return 1; }
//   peerlite::replicator_config cfg;
//   cfg.db = db;
//   cfg.target = *ep;
//   peerlite::replicator repl(cfg);
//   repl.start();
//
// URLs: ws://HOST:PORT/NAME and wss://... (WebSocket, as Couchbase Lite's URLEndpoint; a
// peerlite hub or a Couchbase Lite listener), tcp://HOST:PORT/NAME and tls://... (a peerlite
// hub's raw byte stream). The endpoint's sockets run on a socket thread peerlite shares between
// all such endpoints, kept while any of them is.
//
// Thread safety: make_url_endpoint may be called from any thread.
#pragma once

#include <peerlite/message_endpoint.hpp>
#include <peerlite/status.hpp>
#include <string>

namespace peerlite {

/// How make_url_endpoint reaches the peer.
struct url_endpoint_options {
  /// The user for HTTP Basic auth on ws:// and wss:// (a byte stream has no handshake to carry
  /// it, so tcp:// and tls:// refuse it). Empty (the default): no auth. Set both or neither.
  std::string user;
  /// The password for `user`; empty exactly when `user` is.
  std::string password;
  /// wss:// and tls://: trust the CAs in this PEM file instead of the system store.
  std::string ca_file;
  /// wss:// and tls://: accept only the certificate with this SHA-256 (64 hex digits, colons
  /// and case ignored), as Couchbase Lite's pinned-certificate mode.
  std::string pinned_cert_sha256;
  /// wss:// and tls://: check nothing (encryption without authentication). For tests only.
  bool insecure = false;
};

/// The endpoint for `url`. Its uid (the checkpoint identity) is the normalised URL, so the
/// same remote resumes from the same checkpoint across runs. Fails with invalid_argument for
/// a malformed URL, one without a database name, credentials on tcp:// or tls://, TLS
/// options on a plain URL, or a bad pin; io_error for an unreadable CA file.
expected<message_endpoint> make_url_endpoint(const std::string& url,
                                             const url_endpoint_options& options = {});

}  // namespace peerlite
