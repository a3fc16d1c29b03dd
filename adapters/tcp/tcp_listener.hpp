// The passive side of the TCP adapter: a listening socket that turns every accepted socket
// (after its TLS handshake, for tls://; a connection over the limits is closed at once, with
// an observer event saying why) into a tcp_connection and hands it to the app's accept handler, which passes it to a
// message_endpoint_listener (the seed's `listener.accept(connection)`).
//
// Thread safety: the accept handler and the observer run on the adapter's socket thread.
// port() and stop() may be called from any thread.
#pragma once

#include <boost/asio/ssl/context.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "adapters/tcp/connection_events.hpp"
#include "adapters/tcp/tcp_connection.hpp"
#include "peerlite/message_endpoint.hpp"
#include "peerlite/status.hpp"

namespace peerlite::net {

class io_runtime;
class connection_limits;

/// Optional parts of a listener: TLS (tls://) and admission limits.
struct tcp_listener_options {
  std::shared_ptr<boost::asio::ssl::context> tls;  ///< set: tls:// (make_tls_server)
  std::shared_ptr<connection_limits> limits;       ///< set: refuse connections over them
  /// Longest a tls:// TLS handshake may take before the socket is closed.
  std::chrono::milliseconds handshake_timeout = std::chrono::seconds(10);
};

class tcp_listener {
 public:
  /// Receives each accepted connection, not yet opened (typically
  /// `listener.accept(std::move(c))`); connection->peer() is its "ip:port".
  using accept_handler = std::function<void(std::unique_ptr<tcp_connection>)>;

  /// Binds host:port (port 0 picks a free port; see port()) and starts accepting. Fails with
  /// io_error and a message such as "127.0.0.1:4985: address already in use". When the process
  /// runs out of file descriptors, accepting pauses briefly (kAcceptRetryDelay) and resumes.
  /// A non-zero `idle_timeout` drops connections silent for that long (see
  /// tcp_pipe::set_idle_timeout); give the engine a shorter heartbeat so healthy peers talk.
  static expected<std::unique_ptr<tcp_listener>> start(
      io_runtime& io, const std::string& host, uint16_t port, accept_handler on_accept,
      connection_observer observer = {},
      std::chrono::milliseconds idle_timeout = std::chrono::milliseconds::zero(),
      tcp_listener_options options = {});

  /// Stops accepting; connections already handed over are unaffected. Idempotent.
  ~tcp_listener();
  void stop();

  /// The bound port (useful after binding port 0).
  uint16_t port() const;

  struct impl;

 private:
  explicit tcp_listener(std::shared_ptr<impl> p) : impl_(std::move(p)) {}
  std::shared_ptr<impl> impl_;
};

}  // namespace peerlite::net
