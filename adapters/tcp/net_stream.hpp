// One connected byte stream for the adapters: a plain TCP socket, or TLS over one (wss://,
// tls://). The pipes (tcp_pipe, and ws_pipe through gathered_socket) read and write through it
// without caring which; only the handshake and the way a pipe waits for bytes differ.
//
// Thread safety: as the socket's; every call from the socket's strand.
#pragma once

#include <boost/asio/async_result.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/write.hpp>
#include <memory>
#include <optional>
#include <string>

namespace peerlite::net {

/// "ADDRESS:PORT" of the socket's peer, as logs and status pages name a connection;
/// "unknown peer" once the socket is closed or was never connected.
inline std::string peer_address(const boost::asio::ip::tcp::socket& s) {
  boost::system::error_code ec;
  auto ep = s.remote_endpoint(ec);
  if (ec) return "unknown peer";
  return ep.address().to_string() + ":" + std::to_string(ep.port());
}

/// The peer's IP address alone (what per-address limits count); empty when unknown.
inline std::string peer_ip(const boost::asio::ip::tcp::socket& s) {
  boost::system::error_code ec;
  auto ep = s.remote_endpoint(ec);
  return ec ? std::string() : ep.address().to_string();
}

class net_stream {
 public:
  using socket_type = boost::asio::ip::tcp::socket;
  using tls_type = boost::asio::ssl::stream<socket_type>;
  using executor_type = socket_type::executor_type;
  using error_code = boost::system::error_code;

  /// Plain TCP over `sock`.
  explicit net_stream(socket_type sock) : plain_(std::move(sock)) {}
  /// TLS over `sock` with `context` (client or server; the handshake says which).
  net_stream(socket_type sock, boost::asio::ssl::context& context)
      : tls_(std::make_unique<tls_type>(std::move(sock), context)) {}

  bool is_tls() const { return tls_ != nullptr; }
  tls_type& tls() { return *tls_; }
  socket_type& socket() { return tls_ ? tls_->next_layer() : *plain_; }
  const socket_type& socket() const { return tls_ ? tls_->next_layer() : *plain_; }
  executor_type get_executor() { return socket().get_executor(); }

  template <class MutableBuffers, class Handler>
  void async_read_some(const MutableBuffers& buffers, Handler&& handler) {
    if (tls_) return tls_->async_read_some(buffers, std::forward<Handler>(handler));
    plain_->async_read_some(buffers, std::forward<Handler>(handler));
  }

  template <class ConstBuffers, class Handler>
  void async_write_some(const ConstBuffers& buffers, Handler&& handler) {
    if (tls_) return tls_->async_write_some(buffers, std::forward<Handler>(handler));
    plain_->async_write_some(buffers, std::forward<Handler>(handler));
  }

  /// Writes every byte of `buffers` (asio::async_write on whichever stream this is).
  template <class ConstBuffers, class Handler>
  void async_write_all(const ConstBuffers& buffers, Handler&& handler) {
    if (tls_) return boost::asio::async_write(*tls_, buffers, std::forward<Handler>(handler));
    boost::asio::async_write(*plain_, buffers, std::forward<Handler>(handler));
  }

  /// Closes the socket at once (no TLS close_notify): pending operations fail.
  void close() {
    error_code ignored;
    socket().shutdown(socket_type::shutdown_both, ignored);
    socket().close(ignored);
  }

 private:
  std::optional<socket_type> plain_;
  std::unique_ptr<tls_type> tls_;
};

}  // namespace peerlite::net
