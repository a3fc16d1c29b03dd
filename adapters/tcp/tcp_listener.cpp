#include "adapters/tcp/tcp_listener.hpp"

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>

#include "adapters/tcp/io_runtime.hpp"
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
    auto pipe = std::make_shared<tcp_pipe>(std::move(sock), std::string{});
    pipe->set_idle_timeout(idle_timeout);
    pipe->hold(lifeline);
    on_accept(std::make_unique<tcp_connection>(std::move(pipe), observer));
    accept_next();
  }

  std::shared_ptr<void> lifeline;  ///< first member: the io_context outlives the acceptor
  asio::io_context& io;
  asio::ip::tcp::acceptor acceptor;
  asio::steady_timer retry_timer;
  accept_handler on_accept;
  connection_observer observer;
  std::chrono::milliseconds idle_timeout{0};
  uint16_t port = 0;
};

expected<std::unique_ptr<tcp_listener>> tcp_listener::start(
    io_runtime& io, const std::string& host, uint16_t port, accept_handler on_accept,
    connection_observer observer, std::chrono::milliseconds idle_timeout) {
  auto p = std::make_shared<impl>(io, std::move(on_accept), std::move(observer));
  p->idle_timeout = idle_timeout;
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
