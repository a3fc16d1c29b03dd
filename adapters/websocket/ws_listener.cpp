#include "adapters/websocket/ws_listener.hpp"

#include "adapters/websocket/ws_connection.hpp"

namespace peerlite::net {

expected<std::unique_ptr<ws_listener>> ws_listener::start(io_runtime& io,
                                                          ws_listener_options options,
                                                          accept_handler on_accept,
                                                          connection_observer observer) {
  /// Each upgraded WebSocket becomes the seed's PassivePeerConnection: wrap it, hand it over.
  auto server = ws_server::start(
      io, std::move(options),
      [on_accept = std::move(on_accept), observer](std::shared_ptr<ws_pipe> pipe) {
        on_accept(std::make_unique<ws_connection>(std::move(pipe), observer));
      },
      observer);
  if (!server) return server.err();
  return std::unique_ptr<ws_listener>(new ws_listener(std::move(*server)));
}

}  // namespace peerlite::net
