#include "adapters/websocket/ws_server.hpp"

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket/rfc6455.hpp>

#include "adapters/tcp/io_runtime.hpp"
#include "adapters/websocket/ws_pipe.hpp"

namespace peerlite::net {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using boost::system::error_code;
using tcp = asio::ip::tcp;

struct ws_server::impl : std::enable_shared_from_this<impl> {
  impl(io_runtime& rt, ws_listener_options o, pipe_handler a, connection_observer obs)
      : lifeline(rt.lifeline()),
        io(rt.context()),
        options(std::move(o)),
        acceptor(asio::make_strand(io)),
        retry_timer(acceptor.get_executor()),
        on_upgraded(std::move(a)),
        observer(std::move(obs)) {}

  void accept_next();
  void on_accepted(const error_code& ec, tcp::socket sock);
  void refused(const std::string& peer, std::string why) {
    if (observer) observer({connection_event::refused, "ws", peer, std::move(why)});
  }

  std::shared_ptr<void> lifeline;  ///< first member: the io_context outlives the acceptor
  asio::io_context& io;
  ws_listener_options options;
  tcp::acceptor acceptor;
  asio::steady_timer retry_timer;
  pipe_handler on_upgraded;
  connection_observer observer;
  uint16_t port = 0;
};

namespace {

/// One socket between accept and WebSocket: reads the HTTP upgrade request, decides, and
/// either answers with an error status or hands the socket to a ws_pipe. Freed as soon as it
/// decides, so its header buffer never outlives the handshake.
class upgrade : public std::enable_shared_from_this<upgrade> {
 public:
  upgrade(std::shared_ptr<ws_server::impl> owner, tcp::socket sock)
      : owner_(std::move(owner)), sock_(std::move(sock)), timer_(sock_.get_executor()) {
    error_code ec;
    auto ep = sock_.remote_endpoint(ec);
    peer_ = ec ? "unknown peer" : ep.address().to_string() + ":" + std::to_string(ep.port());
  }

  void start() {
    parser_.header_limit(kWsMaxRequestHeader);
    timer_.expires_after(kWsHandshakeTimeout);
    timer_.async_wait([self = shared_from_this()](const error_code& ec) {
      if (ec) return;
      self->timed_out_ = true;
      error_code ignored;
      self->sock_.close(ignored);
    });
    http::async_read(
        sock_, buffer_, parser_,
        [self = shared_from_this()](const error_code& ec, size_t) { self->on_request(ec); });
  }

 private:
  void on_request(const error_code& ec) {
    timer_.cancel();
    if (timed_out_)
      return owner_->refused(peer_, "no complete HTTP upgrade request within " +
                                        std::to_string(kWsHandshakeTimeout.count()) + " s");
    if (ec) return drop("not an HTTP upgrade request (" + ec.message() + ")");
    auto& req = parser_.get();
    auto wanted = "/" + owner_->options.db_name + "/_blipsync";
    if (!beast::websocket::is_upgrade(req))
      return respond(http::status::bad_request, "not a WebSocket upgrade of " + wanted);
    if (req.target() != wanted)
      return respond(http::status::not_found,
                     "no database at " + std::string(req.target()) + " (serving " + wanted + ")");
    if (!owner_->options.required.empty()) {
      auto header = req[http::field::authorization];
      auto given = parse_basic_auth(std::string_view(header.data(), header.size()));
      if (!given || !same_credentials(owner_->options.required, *given))
        return respond(http::status::unauthorized,
                       given ? "wrong user or password" : "missing Basic auth credentials");
    }
    if (!offers_blip(req[http::field::sec_websocket_protocol]))
      return respond(http::status::bad_request,
                     "subprotocol " + std::string(kBlipSubprotocol) + " not offered");
    hand_over();
  }

  static bool offers_blip(beast::string_view header) {
    std::string_view list(header.data(), header.size());
    while (!list.empty()) {
      auto comma = list.find(',');
      auto item = list.substr(0, comma);
      while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
      while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
      if (item == kBlipSubprotocol) return true;
      if (comma == std::string_view::npos) break;
      list.remove_prefix(comma + 1);
    }
    return false;
  }

  void respond(http::status status, std::string why) {
    owner_->refused(peer_, std::to_string(static_cast<unsigned>(status)) + " " + why);
    auto res = std::make_shared<http::response<http::string_body>>(status, 11);
    res->set(http::field::server, "peerlite");
    res->set(http::field::content_type, "text/plain");
    if (status == http::status::unauthorized)
      res->set(http::field::www_authenticate, "Basic realm=\"peerlite\"");
    res->keep_alive(false);
    res->body() = why + "\n";
    res->prepare_payload();
    http::async_write(sock_, *res, [self = shared_from_this(), res](const error_code&, size_t) {
      error_code ignored;
      self->sock_.shutdown(tcp::socket::shutdown_both, ignored);
      self->sock_.close(ignored);
    });
  }

  void drop(std::string why) {
    owner_->refused(peer_, std::move(why));
    error_code ignored;
    sock_.close(ignored);
  }

  void hand_over() {
    auto pipe = std::make_shared<ws_pipe>(std::move(sock_), peer_, owner_->options.idle_timeout);
    pipe->hold(owner_->lifeline);
    pipe->accept(parser_.release(), [pipe, owner = owner_, peer = peer_](
                                        bool ok, std::optional<messaging_error> err) {
      if (!ok) return owner->refused(peer, "WebSocket upgrade failed: " + (err ? err->what : ""));
      owner->on_upgraded(pipe);
    });
  }

  std::shared_ptr<ws_server::impl> owner_;
  tcp::socket sock_;
  asio::steady_timer timer_;
  beast::flat_buffer buffer_{kWsMaxRequestHeader};
  http::request_parser<http::empty_body> parser_;
  std::string peer_;
  bool timed_out_ = false;
};

}  // namespace

void ws_server::impl::accept_next() {
  acceptor.async_accept(asio::make_strand(io),
                        [self = shared_from_this()](const error_code& ec, tcp::socket sock) {
                          self->on_accepted(ec, std::move(sock));
                        });
}

void ws_server::impl::on_accepted(const error_code& ec, tcp::socket sock) {
  if (!acceptor.is_open() || ec == asio::error::operation_aborted) return;
  if (ec) {
    /// Out of file descriptors or similar: pause instead of spinning on accept.
    retry_timer.expires_after(kAcceptRetryDelay);
    retry_timer.async_wait([self = shared_from_this()](const error_code& e) {
      if (!e && self->acceptor.is_open()) self->accept_next();
    });
    return;
  }
  std::make_shared<upgrade>(shared_from_this(), std::move(sock))->start();
  accept_next();
}

expected<std::unique_ptr<ws_server>> ws_server::start(io_runtime& io, ws_listener_options options,
                                                      pipe_handler on_upgraded,
                                                      connection_observer observer) {
  auto where = options.host + ":" + std::to_string(options.port);
  if (options.db_name.empty() || options.db_name.find('/') != std::string::npos)
    return error{errc::invalid_argument, where + ": bad database name '" + options.db_name + "'"};
  error_code ec;
  auto address = asio::ip::make_address(options.host, ec);
  if (ec)
    return error{errc::invalid_argument, where + ": not an IP address (" + ec.message() + ")"};
  auto p =
      std::make_shared<impl>(io, std::move(options), std::move(on_upgraded), std::move(observer));
  tcp::endpoint ep(address, p->options.port);
  p->acceptor.open(ep.protocol(), ec);
  if (!ec) p->acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) p->acceptor.bind(ep, ec);
  if (!ec) p->acceptor.listen(kListenBacklog, ec);
  if (ec) return error{errc::io_error, where + ": " + ec.message()};
  p->port = p->acceptor.local_endpoint().port();
  asio::post(p->acceptor.get_executor(), [p] { p->accept_next(); });
  return std::unique_ptr<ws_server>(new ws_server(std::move(p)));
}

ws_server::~ws_server() { stop(); }

void ws_server::stop() {
  asio::post(impl_->acceptor.get_executor(), [p = impl_] {
    error_code ignored;
    p->retry_timer.cancel();
    p->acceptor.close(ignored);
  });
}

uint16_t ws_server::port() const { return impl_->port; }

}  // namespace peerlite::net
