// The WebSocket listener (peerlite's URLEndpointListener): a ws_server whose upgraded
// WebSockets become ws_connections handed to the app's accept handler, typically straight into
// message_endpoint_listener::accept. See ws_server.hpp for what it accepts and refuses.
//
// Thread safety: handlers run on the adapter's socket thread; port() and stop() may be called
// from any thread.
#pragma once

#include <functional>
#include <memory>

#include "adapters/websocket/ws_connection.hpp"
#include "adapters/websocket/ws_server.hpp"
#include "peerlite/message_endpoint.hpp"

namespace peerlite::net {

class ws_listener {
 public:
  /// Gets each upgraded connection (not yet opened); connection->peer() is its "ip:port".
  using accept_handler = std::function<void(std::unique_ptr<ws_connection>)>;

  /// Binds and starts accepting; same failures as ws_server::start.
  static expected<std::unique_ptr<ws_listener>> start(io_runtime& io, ws_listener_options options,
                                                      accept_handler on_accept,
                                                      connection_observer observer = {});
  /// Stops accepting; connections already handed over are unaffected.
  void stop() { server_->stop(); }
  uint16_t port() const { return server_->port(); }

 private:
  explicit ws_listener(std::unique_ptr<ws_server> s) : server_(std::move(s)) {}
  std::unique_ptr<ws_server> server_;
};

}  // namespace peerlite::net
