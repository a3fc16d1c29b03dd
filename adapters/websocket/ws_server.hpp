// The WebSocket server socket: accepts sockets, checks each HTTP upgrade, and hands every
// upgraded WebSocket (a ws_pipe) to its handler. ws_listener builds peerlite's
// URLEndpointListener on it; on its own it needs no engine, so its tests run without one.
//
// An upgrade is accepted only for GET /<db_name>/_blipsync asking for the BLIP_3+CBMobile_3
// subprotocol, with the right Basic-auth credentials when some are required. Otherwise the
// peer gets 404 (other database or path), 401 (missing or wrong credentials, with a
// WWW-Authenticate challenge), 400 (not a WebSocket upgrade, or another subprotocol), and its
// socket is closed; each refusal is reported to the observer with the reason. A peer that
// does not finish its request within the handshake timeout is dropped the same way.
//
// With `tls` set the server speaks wss://: the TLS handshake comes first, within the same
// handshake timeout; a plain-text HTTP request on that port gets a plain-text 400 saying to use
// wss://. With `limits` set, a connection over the limits is answered 503 with the reason.
//
// Thread safety: handlers run on the adapter's socket thread; port() and stop() may be called
// from any thread.
#pragma once

#include <boost/asio/ssl/context.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "adapters/tcp/connection_events.hpp"
#include "adapters/tcp/net_tuning.hpp"
#include "adapters/websocket/ws_credentials.hpp"
#include "peerlite/status.hpp"

namespace peerlite::net {

class io_runtime;
class ws_pipe;
class connection_limits;

struct ws_listener_options {
  std::string host = "127.0.0.1";
  uint16_t port = 0;     ///< 0 = any free port (see ws_listener::port())
  std::string db_name;   ///< served at /<db_name>/_blipsync
  credentials required;  ///< empty = no auth
  std::chrono::milliseconds idle_timeout = kWsIdleTimeout;
  /// TLS and upgrade together; see net_tuning.hpp.
  std::chrono::milliseconds handshake_timeout = kWsHandshakeTimeout;
  size_t max_message = kWsMaxMessage;  ///< largest incoming WebSocket message
  std::shared_ptr<boost::asio::ssl::context> tls;  ///< set: wss:// (make_tls_server)
  std::shared_ptr<connection_limits> limits;       ///< set: admit only within these
};

class ws_server {
 public:
  /// Receives each upgraded WebSocket, ready for ws_pipe::start.
  using pipe_handler = std::function<void(std::shared_ptr<ws_pipe>)>;

  /// Binds and starts accepting. Fails with invalid_argument (bad address, empty db_name) or
  /// io_error ("127.0.0.1:4984: address already in use").
  static expected<std::unique_ptr<ws_server>> start(io_runtime& io, ws_listener_options options,
                                                    pipe_handler on_upgraded,
                                                    connection_observer observer = {});
  /// Stops accepting; connections already handed over are unaffected. Idempotent.
  ~ws_server();
  void stop();
  uint16_t port() const;

  struct impl;

 private:
  explicit ws_server(std::shared_ptr<impl> p) : impl_(std::move(p)) {}
  std::shared_ptr<impl> impl_;
};

}  // namespace peerlite::net
