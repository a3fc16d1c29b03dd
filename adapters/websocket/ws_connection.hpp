// The WebSocket adapter's MessageEndpoint glue: peerlite over ws://host:port/<db>/_blipsync as
// a MESSAGE_STREAM transport, one BLIP frame per binary WebSocket message. It has the same
// shape as the TCP adapter (see adapters/tcp/tcp_connection.hpp for the seed's steps mapped
// onto code); only the pipe underneath differs, and WebSocket keeps message boundaries, so
// peerlite adds no framing of its own.
//
// Errors: refused/reset/timeout, a silent peer (idle timeout), close codes 1006/4001 and HTTP
// 408/429/502/503/504 are recoverable; 401/403/404 and other close codes are permanent, so a
// wrong password stops the replicator at once instead of retrying.
//
// Thread safety: as for tcp_connection.
#pragma once

#include <memory>
#include <optional>

#include "adapters/tcp/connection_events.hpp"
#include "adapters/tcp/tls.hpp"
#include "adapters/tcp/url.hpp"
#include "adapters/websocket/ws_credentials.hpp"
#include "peerlite/message_endpoint.hpp"

namespace peerlite::net {

class io_runtime;
class ws_pipe;

class ws_connection final : public message_endpoint_connection {
 public:
  /// Active side: open() dials url, upgrades at /<db>/_blipsync (with Basic auth when
  /// `creds` is not empty).
  /// With `tls` (wss://), the TLS handshake comes first and checks the server per tls.options.
  ws_connection(io_runtime& io, endpoint_url url, credentials creds,
                connection_observer observer = {}, std::optional<tls_client> tls = std::nullopt);
  /// Passive side: wraps an upgraded WebSocket from ws_listener.
  ws_connection(std::shared_ptr<ws_pipe> upgraded, connection_observer observer);
  /// Closes the socket if peerlite never did.
  ~ws_connection() override;

  void open(replicator_connection connection, messaging_completion completion) override;
  void send(message msg, messaging_completion completion) override;
  void close(std::optional<messaging_error> error, close_completion completion) override;

  /// Passive side: the peer's "ip:port"; active side: empty until open() dialled.
  std::string peer() const;

 private:
  struct state;
  static void start_reading(const std::shared_ptr<ws_pipe>& pipe, const std::shared_ptr<state>& st,
                            replicator_connection connection);

  std::shared_ptr<ws_pipe> pipe_;
  std::optional<endpoint_url> dial_;  ///< active side only
  credentials creds_;
  std::shared_ptr<state> state_;
};

/// The active side's MessageEndpoint for ws://host:port/<db>: protocol message_stream,
/// target = the URL, uid = `uid` or, when empty, the URL. Its delegate makes a new
/// ws_connection per connect. `io` must outlive every replicator using it.
message_endpoint make_ws_endpoint(io_runtime& io, const endpoint_url& url, credentials creds = {},
                                  std::string uid = {}, connection_observer observer = {},
                                  std::optional<tls_client> tls = std::nullopt);

}  // namespace peerlite::net
