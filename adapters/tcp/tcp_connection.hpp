// The TCP adapter: peerlite over a plain TCP socket, as a BYTE_STREAM transport.
//
// This file is the worked example of "integrate a custom-built listener" (the seed document,
// ../shared/seed/integrate-custom-listener.md): it uses nothing but the public MessageEndpoint
// API (include/peerlite/message_endpoint.hpp), exactly as an app plugging in Bluetooth or a
// radio link would. To write your own transport, copy tcp_connection.{hpp,cpp} and replace
// tcp_pipe (our "communication framework") with yours. The seed's steps map like this:
//
//   seed step                              here
//   -------------------------------------  -----------------------------------------------
//   MessageEndpointDelegate (active)       make_tcp_endpoint(): its delegate returns a new
//                                          tcp_connection that dials host:port in open()
//   listener.accept(connection) (passive)  tcp_listener accepts a socket, wraps it in a
//                                          tcp_connection and hands it to the listener
//   open(connection, completion)           keep `connection`; complete; start reading
//   send(message, completion)              write the bytes; complete when written
//   replicatorConnection.receive(message)  every socket read becomes one receive()
//   replicatorConnection.close(error)      the socket failed or the peer hung up
//   close(error, completion)               close the socket; then complete
//
// BYTE_STREAM means the socket may split or merge chunks as it likes: peerlite frames its own
// messages (RFC 6455 framing inside the byte stream), so a read of any size can be handed to
// receive() as it is.
//
// Errors: connection reset, refused, timed out (and a peer that vanishes mid-stream) are
// reported as recoverable, so an active replicator goes OFFLINE and retries through a new
// tcp_connection; anything else (unknown host, permission denied) is permanent.
//
// Thread safety: peerlite calls open/send/close from its threads, one at a time; completions
// are called from the adapter's socket thread, which is allowed (any thread, exactly once).
#pragma once

#include <memory>
#include <optional>

#include "adapters/tcp/connection_events.hpp"
#include "adapters/tcp/tls.hpp"
#include "adapters/tcp/url.hpp"
#include "peerlite/message_endpoint.hpp"

namespace peerlite::net {

class io_runtime;
class tcp_pipe;

class tcp_connection final : public message_endpoint_connection {
 public:
  /// Active side: open() dials url.host:url.port (bounded by kConnectTimeout).
  /// With `tls` (tls://), a TLS handshake follows the connect and checks the server.
  tcp_connection(io_runtime& io, endpoint_url url, connection_observer observer = {},
                 std::optional<tls_client> tls = std::nullopt);
  /// Passive side: wraps a socket tcp_listener accepted; open() starts reading it.
  tcp_connection(std::shared_ptr<tcp_pipe> accepted, connection_observer observer);
  /// Closes the socket if peerlite never did (e.g. the listener was closed before open).
  ~tcp_connection() override;

  void open(replicator_connection connection, messaging_completion completion) override;
  void send(message msg, messaging_completion completion) override;
  void close(std::optional<messaging_error> error, close_completion completion) override;

  /// Passive side: the peer's "ip:port"; active side: empty until open() dialled.
  std::string peer() const;

 private:
  struct state;
  static void start_reading(const std::shared_ptr<tcp_pipe>& pipe, const std::shared_ptr<state>& st,
                            replicator_connection connection);

  std::shared_ptr<tcp_pipe> pipe_;
  std::optional<endpoint_url> dial_;  ///< set on the active side only
  std::shared_ptr<state> state_;      ///< shared with the socket callbacks
};

/// The active side's MessageEndpoint for tcp://host:port/<db>: protocol byte_stream, target =
/// the URL, uid = `uid` or, when empty, the URL (the checkpoint identity: the same remote gets
/// the same checkpoint across runs). Its delegate makes a new tcp_connection on every connect,
/// including each retry. `io` must outlive every replicator using the endpoint.
message_endpoint make_tcp_endpoint(io_runtime& io, const endpoint_url& url, std::string uid = {},
                                   connection_observer observer = {},
                                   std::optional<tls_client> tls = std::nullopt);

}  // namespace peerlite::net
