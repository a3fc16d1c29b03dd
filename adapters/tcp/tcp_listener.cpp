#include "adapters/tcp/tcp_listener.hpp"

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>

#include "adapters/tcp/connection_limits.hpp"
#include "adapters/tcp/io_runtime.hpp"
#include "adapters/tcp/net_stream.hpp"
#include "adapters/tcp/tls.hpp"
#include "adapters/tcp/net_tuning.hpp"
#include "adapters/tcp/tcp_connection.hpp"
#include "adapters/tcp/tcp_pipe.hpp"

namespace peerlite::net {
namespace asio = boost::asio;
using boost::system::error_code;

struct tcp_listener::impl : std::enable_shared_from_this<impl> {
  impl(io_runtime& rt, accept_handler a, connection_observer o)
      : lifeline(rt.lifeline()),
        io(rt.context()),
        acceptor(asio::make_strand(io)),
        retry_timer(acceptor.get_executor()),
        on_accept(std::move(a)),
        observer(std::move(o)) {}

  void accept_next() {
    /// Each accepted socket gets its own strand: its callbacks never run concurrently.
    acceptor.async_accept(
        asio::make_strand(io),
        [self = shared_from_this()](const error_code& ec, asio::ip::tcp::socket sock) {
          self->on_accepted(ec, std::move(sock));
        });
  }

  void on_accepted(const error_code& ec, asio::ip::tcp::socket sock) {
    if (!acceptor.is_open() || ec == asio::error::operation_aborted) return;
    if (ec) {
      /// EMFILE/ENFILE and friends: the socket stays in the backlog; try again shortly
      /// rather than spinning.
      retry_timer.expires_after(kAcceptRetryDelay);
      retry_timer.async_wait([self = shared_from_this()](const error_code& e) {
        if (!e && self->acceptor.is_open()) self->accept_next();
      });
      return;
    }
    accept_next();
    std::shared_ptr<void> ticket;
    if (options.limits) {
      auto admitted = options.limits->admit(peer_ip(sock));
      if (auto* why = std::get_if<std::string>(&admitted)) {
        /// A raw byte stream has no way to carry a reason: the peer sees its socket closed.
        if (observer)
          observer({connection_event::refused, options.tls ? "tls" : "tcp",
                    peer_address(sock), *why});
        return;  // sock closes here
      }
      ticket = std::get<std::shared_ptr<void>>(std::move(admitted));
    }
    if (!options.tls) return hand_over(net_stream(std::move(sock)), std::move(ticket));
    handshake(std::make_shared<net_stream>(std::move(sock), *options.tls), std::move(ticket));
  }

  /// tls://: the server's TLS handshake, bounded by options.handshake_timeout; a failure is
  /// reported as a refusal with OpenSSL's reason (a plain-text client, a bad certificate).
  void handshake(std::shared_ptr<net_stream> stream, std::shared_ptr<void> ticket) {
    auto timer = std::make_shared<asio::steady_timer>(stream->get_executor());
    timer->expires_after(options.handshake_timeout);
    timer->async_wait([stream](const error_code& ec) {
      if (!ec) stream->close();
    });
    stream->tls().async_handshake(
        asio::ssl::stream_base::server,
        [self = shared_from_this(), stream, timer, ticket](const error_code& ec) mutable {
          bool timed_out = timer->cancel() == 0;
          if (ec) {
            auto peer = peer_address(stream->socket());
            if (self->observer)
              self->observer({connection_event::refused, "tls", peer,
                              timed_out ? "no TLS handshake within " +
                                              std::to_string(self->options.handshake_timeout.count() / 1000) + " s"
                                        : "TLS handshake failed: " + describe_tls_error(ec)});
            stream->close();
            return;
          }
          self->hand_over(std::move(*stream), std::move(ticket));
        });
  }

  void hand_over(net_stream stream, std::shared_ptr<void> ticket) {
    auto pipe = std::make_shared<tcp_pipe>(std::move(stream), std::string{});
    pipe->set_idle_timeout(idle_timeout);
    pipe->hold(lifeline);
    pipe->hold_ticket(std::move(ticket));
    on_accept(std::make_unique<tcp_connection>(std::move(pipe), observer));
  }

  std::shared_ptr<void> lifeline;  ///< first member: the io_context outlives the acceptor
  asio::io_context& io;
  asio::ip::tcp::acceptor acceptor;
  asio::steady_timer retry_timer;
  accept_handler on_accept;
  connection_observer observer;
  std::chrono::milliseconds idle_timeout{0};
  tcp_listener_options options;
  uint16_t port = 0;
};

expected<std::unique_ptr<tcp_listener>> tcp_listener::start(
    io_runtime& io, const std::string& host, uint16_t port, accept_handler on_accept,
    connection_observer observer, std::chrono::milliseconds idle_timeout,
    tcp_listener_options options) {
  auto p = std::make_shared<impl>(io, std::move(on_accept), std::move(observer));
  p->idle_timeout = idle_timeout;
  p->options = std::move(options);
  auto where = host + ":" + std::to_string(port);
  error_code ec;
  auto address = asio::ip::make_address(host, ec);
  if (ec)
    return error{errc::invalid_argument, where + ": not an IP address (" + ec.message() + ")"};
  asio::ip::tcp::endpoint ep(address, port);
  p->acceptor.open(ep.protocol(), ec);
  if (!ec) p->acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) p->acceptor.bind(ep, ec);
  if (!ec) p->acceptor.listen(kListenBacklog, ec);
  if (ec) return error{errc::io_error, where + ": " + ec.message()};
  p->port = p->acceptor.local_endpoint().port();
  asio::post(p->acceptor.get_executor(), [p] { p->accept_next(); });
  return std::unique_ptr<tcp_listener>(new tcp_listener(std::move(p)));
}

tcp_listener::~tcp_listener() { stop(); }

void tcp_listener::stop() {
  asio::post(impl_->acceptor.get_executor(), [p = impl_] {
    error_code ignored;
    p->retry_timer.cancel();
    p->acceptor.close(ignored);
  });
}

uint16_t tcp_listener::port() const { return impl_->port; }

}  // namespace peerlite::net
