#include "adapters/websocket/ws_server.hpp"

#include <array>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket/rfc6455.hpp>

#include "adapters/tcp/connection_limits.hpp"
#include "adapters/tcp/io_runtime.hpp"
#include "adapters/tcp/net_stream.hpp"
#include "adapters/tcp/tls.hpp"
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

/// One socket between accept and WebSocket: TLS handshake (wss://), reads the HTTP upgrade
/// request, decides, and either answers with an error status or hands the stream to a
/// ws_pipe. Freed as soon as it decides, so its header buffer never outlives the handshake.
class upgrade : public std::enable_shared_from_this<upgrade> {
 public:
  /// `refusal`: non-empty when the limits refused this connection (answered 503 at once).
  upgrade(std::shared_ptr<ws_server::impl> owner, tcp::socket sock, std::shared_ptr<void> ticket,
          std::string refusal)
      : owner_(std::move(owner)),
        peer_(peer_address(sock)),
        stream_(owner_->options.tls ? net_stream(std::move(sock), *owner_->options.tls)
                                    : net_stream(std::move(sock))),
        timer_(stream_.get_executor()),
        ticket_(std::move(ticket)),
        refusal_(std::move(refusal)) {}

  void start() {
    parser_.header_limit(kWsMaxRequestHeader);
    timer_.expires_after(owner_->options.handshake_timeout);
    timer_.async_wait([self = shared_from_this()](const error_code& ec) {
      if (ec) return;
      self->timed_out_ = true;
      self->stream_.close();
    });
    if (!stream_.is_tls()) return begin();
    /// A TLS client's first byte is 22 (a handshake record); anything else on this port is
    /// a plain-text client, answered in plain text so its user learns why.
    stream_.socket().async_wait(tcp::socket::wait_read,
                                [self = shared_from_this()](const error_code& ec) {
                                  self->on_first_bytes(ec);
                                });
  }

 private:
  static constexpr unsigned char kTlsHandshakeRecord = 22;

  void on_first_bytes(const error_code& ec) {
    if (timed_out_) return timed_out();
    if (ec) return drop("connection failed before TLS (" + ec.message() + ")");
    unsigned char first = 0;
    error_code peek_ec;
    size_t n = stream_.socket().receive(asio::buffer(&first, 1), tcp::socket::message_peek,
                                        peek_ec);
    if (peek_ec || n == 0) return drop("closed before TLS");
    if (first != kTlsHandshakeRecord) {
      plain_text_ = true;
      return respond(http::status::bad_request,
                     "this port speaks TLS: use wss:// (a plain-text client on a TLS port)");
    }
    stream_.tls().async_handshake(asio::ssl::stream_base::server,
                                  [self = shared_from_this()](const error_code& ec) {
                                    if (self->timed_out_) return self->timed_out();
                                    if (ec)
                                      return self->drop("TLS handshake failed: " +
                                                        describe_tls_error(ec));
                                    self->begin();
                                  });
  }

  void begin() {
    if (!refusal_.empty()) return respond(http::status::service_unavailable, refusal_);
    http::async_read(
        stream_, buffer_, parser_,
        [self = shared_from_this()](const error_code& ec, size_t) { self->on_request(ec); });
  }

  void timed_out() {
    owner_->refused(peer_, "no complete " + std::string(stream_.is_tls() ? "TLS handshake and " : "") +
                               "HTTP upgrade request within " +
                               std::to_string(owner_->options.handshake_timeout.count() / 1000) +
                               " s");
  }

  void on_request(const error_code& ec) {
    timer_.cancel();
    if (timed_out_) return timed_out();
    if (ec) return not_http("not an HTTP upgrade request (" + ec.message() + ")");
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

  /// Answers `status` with `why` as the body, then closes. The request may be unread (a
  /// refusal by the limits answers at once): the socket is shut for sending, and what the
  /// client still sends is read and dropped for at most kRefusalLinger, so the kernel does not
  /// reset the connection before the client has read the answer.
  void respond(http::status status, std::string why) {
    timer_.cancel();
    owner_->refused(peer_, std::to_string(static_cast<unsigned>(status)) + " " + why);
    auto res = std::make_shared<http::response<http::string_body>>(status, 11);
    res->set(http::field::server, "peerlite");
    res->set(http::field::content_type, "text/plain");
    if (status == http::status::unauthorized)
      res->set(http::field::www_authenticate, "Basic realm=\"peerlite\"");
    if (status == http::status::service_unavailable) res->set(http::field::retry_after, "5");
    res->keep_alive(false);
    res->body() = why + "\n";
    res->prepare_payload();
    auto done = [self = shared_from_this(), res](const error_code&, size_t) { self->linger(); };
    if (plain_text_)
      http::async_write(stream_.socket(), *res, std::move(done));
    else
      http::async_write(stream_, *res, std::move(done));
  }

  void linger() {
    error_code ignored;
    if (!plain_text_ && stream_.is_tls()) {
      /// close_notify, then the TCP shutdown; both bounded by the linger timer.
      timer_.expires_after(kRefusalLinger);
      timer_.async_wait([self = shared_from_this()](const error_code&) { self->stream_.close(); });
      stream_.tls().async_shutdown(
          [self = shared_from_this()](const error_code&) { self->stream_.close(); });
      return;
    }
    stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
    timer_.expires_after(kRefusalLinger);
    timer_.async_wait([self = shared_from_this()](const error_code&) { self->stream_.close(); });
    discard();
  }

  void discard() {
    stream_.socket().async_read_some(
        asio::buffer(sink_), [self = shared_from_this()](const error_code& ec, size_t) {
          if (!ec) return self->discard();
          self->timer_.cancel();  // EOF: the client has read the answer
        });
  }

  /// Bytes that are not HTTP: answered with a bare 400 (logged with `why` alone). A TLS
  /// client that dialled a plain ws:// port reads it as "wrong version number" and stops
  /// instead of retrying a handshake that can never work.
  void not_http(std::string why) {
    timer_.cancel();
    owner_->refused(peer_, std::move(why));
    static const std::string kBadRequest =
        "HTTP/1.1 400 Bad Request\r\nServer: peerlite\r\nContent-Length: 0\r\n"
        "Connection: close\r\n\r\n";
    stream_.async_write_all(asio::buffer(kBadRequest),
                            [self = shared_from_this()](const error_code&, size_t) {
                              self->linger();
                            });
  }

  void drop(std::string why) {
    timer_.cancel();
    owner_->refused(peer_, std::move(why));
    stream_.close();
  }

  void hand_over() {
    auto pipe = std::make_shared<ws_pipe>(std::move(stream_), peer_, owner_->options.idle_timeout,
                                          owner_->options.max_message);
    pipe->hold(owner_->lifeline);
    pipe->hold_ticket(std::move(ticket_));
    pipe->accept(parser_.release(), [pipe, owner = owner_, peer = peer_](
                                        bool ok, std::optional<messaging_error> err) {
      if (!ok) return owner->refused(peer, "WebSocket upgrade failed: " + (err ? err->what : ""));
      owner->on_upgraded(pipe);
    });
  }

  std::shared_ptr<ws_server::impl> owner_;
  std::string peer_;
  net_stream stream_;
  asio::steady_timer timer_;
  std::shared_ptr<void> ticket_;  ///< the limits' count of this connection
  std::string refusal_;
  beast::flat_buffer buffer_{kWsMaxRequestHeader};
  http::request_parser<http::empty_body> parser_;
  std::array<char, 512> sink_;
  bool timed_out_ = false;
  bool plain_text_ = false;  ///< a plain-text client on a TLS port
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
  std::shared_ptr<void> ticket;
  std::string refusal;
  if (options.limits) {
    auto admitted = options.limits->admit(peer_ip(sock));
    if (auto* why = std::get_if<std::string>(&admitted))
      refusal = std::move(*why);
    else
      ticket = std::get<std::shared_ptr<void>>(std::move(admitted));
  }
  std::make_shared<upgrade>(shared_from_this(), std::move(sock), std::move(ticket),
                            std::move(refusal))
      ->start();
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
