// A TCP socket with a read pump and a write queue: the "communication framework" half of the
// TCP adapter. tcp_connection (the MessageEndpoint glue) sits on top of it. Internal to the
// adapters; an app copying the TCP adapter copies this as its socket layer.
//
// Thread safety: every public member may be called from any thread; the work runs on the
// socket's strand. Callbacks (on_bytes, on_ended, completions) run on that strand, one at a
// time, in order.
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "adapters/tcp/net_stream.hpp"
#include "adapters/tcp/tls.hpp"
#include "peerlite/message_endpoint.hpp"

namespace peerlite::net {

class tcp_pipe : public std::enable_shared_from_this<tcp_pipe> {
 public:
  using socket_type = boost::asio::ip::tcp::socket;
  using bytes_handler = std::function<void(message)>;
  using ended_handler = std::function<void(const messaging_error&)>;

  /// A pipe over `sock`, which is either connected (accepted) or fresh (for connect()). The
  /// socket's executor must be a strand. `label` names the pipe in error texts; empty means
  /// the accepted socket's peer address ("127.0.0.1:53122").
  tcp_pipe(socket_type sock, std::string label);
  /// Over `stream`, plain or TLS. A TLS client (tls:// dialled) does its handshake with `tls`
  /// inside connect(); an accepted TLS stream has done it already (tcp_listener).
  tcp_pipe(net_stream stream, std::string label, std::optional<tls_client> tls = std::nullopt);

  /// Resolves and connects, bounded by kConnectTimeout. Then done(true, nullopt), or
  /// done(false, error) with a recoverable error for refused/reset/timeout.
  void connect(std::string host, uint16_t port, messaging_completion done);

  /// With a non-zero timeout, the pipe fails (recoverable timeout) when nothing arrives for
  /// that long. Call before start(). The engine's heartbeat (a PING the peer must answer)
  /// keeps a healthy idle connection under it; a peer that sends half a frame and goes silent
  /// is dropped.
  void set_idle_timeout(std::chrono::milliseconds timeout) { idle_timeout_ = timeout; }

  /// Starts the read pump. Each chunk read goes to on_bytes, in order. The first read or write
  /// failure (including the peer closing) goes to on_ended once, then reading stops. Neither
  /// is called after close().
  void start(bytes_handler on_bytes, ended_handler on_ended);

  /// Queues msg. done(true) once all its bytes are in the kernel; done(false, error) if the
  /// socket fails or is closed first. Every done is called exactly once.
  void write(message msg, messaging_completion done);

  /// Stops reading, lets queued writes drain (at most kCloseDrainTimeout), closes the socket,
  /// then calls done. A second close's done runs when the first finishes.
  void close(std::function<void()> done);

  /// The label: the URL dialled, or the accepted peer's "ip:port". Fixed at construction.
  const std::string& peer() const { return label_; }

  /// Keeps `lifeline` (io_runtime::lifeline()) as long as this pipe lives.
  void hold(std::shared_ptr<void> lifeline) { lifeline_ = std::move(lifeline); }
  /// Keeps `ticket` (connection_limits::admit) as long as this pipe lives.
  void hold_ticket(std::shared_ptr<void> ticket) { ticket_ = std::move(ticket); }

 private:
  struct pending_write {
    message msg;
    messaging_completion done;
  };

  void on_resolved(const boost::system::error_code& ec,
                   const boost::asio::ip::tcp::resolver::results_type& results,
                   messaging_completion done);
  void on_connected(const boost::system::error_code& ec, messaging_completion done);
  void tls_handshake(messaging_completion done);
  void wait_readable();
  void read_tls();
  void on_readable(const boost::system::error_code& ec);
  bool read_once(bool first);
  void flush();
  void on_written(const boost::system::error_code& ec);
  void report_end(const boost::system::error_code& ec);
  void arm_idle_timer(std::chrono::steady_clock::duration after);
  void finish_close();
  messaging_error closed_error() const;

  std::shared_ptr<void> lifeline_;  ///< declared first: destroyed after the socket
  std::shared_ptr<void> ticket_;
  net_stream stream_;
  std::optional<tls_client> tls_;  ///< client over TLS: how to check the server
  std::string host_;               ///< client: the host dialled (TLS name checks)
  std::string tls_rx_;             ///< TLS: the buffer of the read under way
  boost::asio::steady_timer timer_;
  boost::asio::steady_timer idle_timer_;
  std::chrono::milliseconds idle_timeout_{0};
  std::chrono::steady_clock::time_point last_read_;
  std::unique_ptr<boost::asio::ip::tcp::resolver> resolver_;
  const std::string label_;
  bytes_handler on_bytes_;
  ended_handler on_ended_;
  std::deque<pending_write> queue_;
  std::vector<pending_write> in_flight_;
  std::vector<std::function<void()>> close_waiters_;
  bool writing_ = false;
  bool ended_ = false;      ///< on_ended has been called (or must not be)
  bool closing_ = false;    ///< close() asked; draining writes
  bool closed_ = false;     ///< socket closed, waiters called
  bool timed_out_ = false;  ///< the connect timer fired
};

}  // namespace peerlite::net
