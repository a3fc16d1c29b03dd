#include "adapters/websocket/ws_pipe.hpp"

#include <algorithm>
#include <boost/asio/connect.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/post.hpp>
#include <boost/beast/websocket.hpp>

#include "adapters/tcp/errors.hpp"
#include "adapters/tcp/traffic.hpp"
#include "protocol/websocket.hpp"

namespace peerlite::net {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
using boost::system::error_code;

namespace {

/// The Connection header's value in both directions of the upgrade: the token is
/// case-insensitive (RFC 7230 §6.1), but some peers compare it byte for byte.
constexpr const char* kConnectionUpgrade = "Upgrade";

/// Most characters of a refusing server's body quoted in an error: one sentence, not a page.
constexpr size_t kMaxReasonShown = 200;

/// PROTOCOL.md §6: these HTTP refusals are temporary (the server is busy or restarting).
bool http_status_is_transient(unsigned status) {
  return status == 408 || status == 429 || status == 502 || status == 503 || status == 504;
}

std::string explain_http_status(unsigned status) {
  switch (status) {
    case 401:
      return "HTTP 401 Unauthorized (wrong or missing user/password)";
    case 403:
      return "HTTP 403 Forbidden";
    case 404:
      return "HTTP 404 Not Found (no such database on that server)";
    default:
      return "HTTP " + std::to_string(status) + " (upgrade to WebSocket refused)";
  }
}

/// How the peer's close frame maps onto PROTOCOL.md §2's close codes.
std::optional<messaging_error> from_close_frame(const protocol::ws::close_frame& f,
                                                const std::string& where) {
  if (f.code == protocol::ws::close_code::normal) return std::nullopt;
  std::string what = where + ": peer closed the WebSocket (" + std::to_string(f.code) +
                     (f.reason.empty() ? std::string() : " " + f.reason) + ")";
  return messaging_error{std::move(what), protocol::ws::close_code::transient(f.code)};
}

}  // namespace

ws_pipe::ws_pipe(socket_type sock, std::string label, std::chrono::milliseconds idle_timeout)
    : ws_pipe(net_stream(std::move(sock)), std::move(label), idle_timeout) {}

ws_pipe::ws_pipe(net_stream stream, std::string label, std::chrono::milliseconds idle_timeout,
                 size_t max_message, std::optional<tls_client> tls)
    : ws_(std::move(stream)),
      timer_(ws_.get_executor()),
      idle_timer_(ws_.get_executor()),
      label_(label.empty() ? peer_address(beast::get_lowest_layer(ws_)) : std::move(label)),
      idle_timeout_(idle_timeout),
      max_message_(max_message),
      tls_(std::move(tls)) {}

/// Beast does the upgrade only (bounded by kWsHandshakeTimeout); frames are ours (see below).
void ws_pipe::configure(bool client) {
  websocket::stream_base::timeout t;
  t.handshake_timeout = kWsHandshakeTimeout;
  t.idle_timeout = websocket::stream_base::none();
  t.keep_alive_pings = false;
  ws_.set_option(t);
  error_code ignored;
  beast::get_lowest_layer(ws_).set_option(asio::ip::tcp::no_delay(true), ignored);
  if (!client)
    ws_.set_option(websocket::stream_base::decorator([](websocket::response_type& res) {
      /// Beast writes "upgrade"; we answer in the spelling Couchbase Lite uses (see below).
      res.set(http::field::connection, kConnectionUpgrade);
      res.set(http::field::sec_websocket_protocol, kBlipSubprotocol);
      res.set(http::field::server, "peerlite");
    }));
}

// ---- client: connect + upgrade --------------------------------------------------------------

void ws_pipe::connect(const endpoint_url& url, credentials creds, messaging_completion done) {
  asio::post(ws_.get_executor(), [self = shared_from_this(), url, creds = std::move(creds),
                                  done = std::move(done)]() mutable {
    if (self->closing_) return done(false, self->closed_error());
    self->resolver_ = std::make_unique<asio::ip::tcp::resolver>(self->ws_.get_executor());
    self->timer_.expires_after(kConnectTimeout);
    self->timer_.async_wait([self](const error_code& ec) {
      if (ec || self->upgraded_) return;
      self->timed_out_ = true;
      self->resolver_->cancel();
      error_code ignored;
      beast::get_lowest_layer(self->ws_).close(ignored);
    });
    self->host_ = url.host;
    auto host_header = url.host + ":" + std::to_string(url.port);
    auto target = "/" + url.db + "/_blipsync";
    self->resolver_->async_resolve(
        url.host, std::to_string(url.port),
        [self, host_header, target, creds, done = std::move(done)](const error_code& ec,
                                                                   auto results) mutable {
          if (ec) return self->on_tcp_connected(ec, {}, {}, {}, std::move(done));
          asio::async_connect(beast::get_lowest_layer(self->ws_), results,
                              [self, host_header, target, creds, done = std::move(done)](
                                  const error_code& ec, const auto&) mutable {
                                self->on_tcp_connected(ec, host_header, target, creds,
                                                       std::move(done));
                              });
        });
  });
}

void ws_pipe::on_tcp_connected(const error_code& ec, std::string host_header, std::string target,
                               credentials creds, messaging_completion done) {
  timer_.cancel();
  if (timed_out_) return done(false, to_messaging_error(asio::error::timed_out, label_));
  if (closing_) return done(false, closed_error());
  if (ec) return done(false, to_messaging_error(ec, label_));
  auto& stream = ws_.next_layer().stream();
  if (!stream.is_tls()) return upgrade(std::move(host_header), std::move(target), std::move(creds),
                                       std::move(done));
  /// TLS first, within the upgrade's time; a refused certificate is permanent (retrying
  /// meets the same certificate), a connection lost during the handshake is not.
  auto verdict = std::make_shared<tls_verify_result>();
  prepare_tls_client(*tls_, stream.tls(), host_, verdict);
  timer_.expires_after(kWsHandshakeTimeout);
  timer_.async_wait([self = shared_from_this()](const error_code& ec) {
    if (ec || self->upgraded_) return;
    self->timed_out_ = true;
    error_code ignored;
    beast::get_lowest_layer(self->ws_).close(ignored);
  });
  stream.tls().async_handshake(
      asio::ssl::stream_base::client,
      [self = shared_from_this(), verdict, host_header = std::move(host_header),
       target = std::move(target), creds = std::move(creds),
       done = std::move(done)](const error_code& ec) mutable {
        self->timer_.cancel();
        if (self->closing_) return done(false, self->closed_error());
        if (self->timed_out_)
          return done(false, messaging_error{self->label_ + ": TLS handshake timed out", true});
        if (!verdict->refusal.empty())
          return done(false,
                      messaging_error{self->label_ + ": TLS: " + verdict->refusal +
                                          " (--ca, --pinned-cert or --insecure change what "
                                          "is accepted)",
                                      false});
        if (ec) {
          bool lost = is_recoverable(ec);
          return done(false, messaging_error{self->label_ + ": TLS handshake failed: " +
                                                 describe_tls_error(ec),
                                             lost});
        }
        self->upgrade(std::move(host_header), std::move(target), std::move(creds),
                      std::move(done));
      });
}

void ws_pipe::upgrade(std::string host_header, std::string target, credentials creds,
                      messaging_completion done) {
  configure(true);
  ws_.set_option(websocket::stream_base::decorator([creds](websocket::request_type& req) {
    /// Beast writes "Connection: upgrade"; Couchbase Lite's listener compares the value
    /// case-sensitively and answers 405 to it (issue 10). The decorator runs after Beast has
    /// built the request, and set() replaces the field, so exactly one header goes out.
    req.set(http::field::connection, kConnectionUpgrade);
    req.set(http::field::sec_websocket_protocol, kBlipSubprotocol);
    req.set(http::field::user_agent, "peerlite");
    if (!creds.empty()) req.set(http::field::authorization, basic_auth_header(creds));
  }));
  response_ = std::make_unique<websocket::response_type>();
  ws_.async_handshake(
      *response_, host_header, target,
      [self = shared_from_this(), done = std::move(done)](const error_code& ec) mutable {
        self->on_handshake(ec, std::move(done));
      });
}

void ws_pipe::on_handshake(const error_code& ec, messaging_completion done) {
  auto status = response_->result_int();
  auto offered = (*response_)[http::field::sec_websocket_protocol];
  bool has_protocol = std::string_view(offered.data(), offered.size()) == kBlipSubprotocol;
  /// The server's reason, when it gave one in plain text (peerlite's hubs do: "the hub is
  /// full", "this port speaks TLS: use wss://").
  std::string reason = response_->body().substr(0, kMaxReasonShown);
  while (!reason.empty() && (reason.back() == '\n' || reason.back() == '\r')) reason.pop_back();
  response_.reset();  /// the response headers are not needed once checked
  if (closing_) return done(false, closed_error());
  if (ec == beast::error::timeout)
    return done(false, messaging_error{label_ + ": WebSocket upgrade timed out", true});
  if (ec && status != 0 && status != 101)
    return done(false, messaging_error{label_ + ": " + explain_http_status(status) +
                                           (reason.empty() ? "" : ": " + reason),
                                       http_status_is_transient(status)});
  if (ec) return done(false, to_messaging_error(ec, label_));
  if (!has_protocol)
    return done(false,
                messaging_error{label_ + ": server does not speak " + std::string(kBlipSubprotocol),
                                false});
  upgraded_ = true;
  frames_.emplace(protocol::ws::role::client, max_message_);
  done(true, std::nullopt);
}

// ---- server: finish the upgrade --------------------------------------------------------------

void ws_pipe::accept(http_request request, messaging_completion done) {
  asio::post(ws_.get_executor(), [self = shared_from_this(), request = std::move(request),
                                  done = std::move(done)]() mutable {
    if (self->closing_) return done(false, self->closed_error());
    self->configure(false);
    self->ws_.async_accept(request, [self, done = std::move(done)](const error_code& ec) mutable {
      if (ec) return done(false, to_messaging_error(ec, self->label_));
      self->upgraded_ = true;
      self->frames_.emplace(protocol::ws::role::server, self->max_message_);
      done(true, std::nullopt);
    });
  });
}

// ---- reading ----------------------------------------------------------------------------------
//
// After the upgrade, frames are read and written by protocol::ws::stream (the RFC 6455 codec
// the engine uses for BYTE_STREAM transports), not by Beast, whose handshake this pipe keeps.
// Why: Beast completes each message read through its own handler on the socket's strand, a
// post and a reactor pass per message. push_ws made 226,000 epoll_wait calls for 100,000 docs
// against 4,700 for push_tcp, which reads whatever the kernel holds and frames it in one go;
// reading the same way, push_ws and push_tcp cost the same (see the commit that made this).
// The codec checks what Beast checked (masking by role, control frames, fragmentation, UTF-8
// in close reasons, the message cap), answers pings and keeps the close handshake; it is
// tested in tests/protocol/websocket_test.cpp and fuzzed (tests/fuzz/fuzz_websocket.cpp).
// Bytes Beast read past the upgrade response would be lost: none come, since a BLIP peer
// speaks only once the client has sent its first request.

void ws_pipe::start(message_handler on_message, ended_handler on_ended) {
  asio::post(ws_.get_executor(), [self = shared_from_this(), on_message = std::move(on_message),
                                  on_ended = std::move(on_ended)]() mutable {
    if (self->closing_ || !self->frames_) return;
    self->on_message_ = std::move(on_message);
    self->on_ended_ = std::move(on_ended);
    self->last_read_ = std::chrono::steady_clock::now();
    if (self->idle_timeout_.count() > 0) self->arm_idle_check(self->idle_timeout_ / 2);
    auto& stream = self->ws_.next_layer().stream();
    if (!stream.is_tls()) {
      error_code ec;
      stream.socket().non_blocking(true, ec);
      if (ec) return self->report_end(ec);
    }
    self->read_next();
  });
}

void ws_pipe::arm_idle_check(std::chrono::steady_clock::duration after) {
  idle_timer_.expires_after(after);
  idle_timer_.async_wait([self = shared_from_this()](const error_code& ec) {
    if (!ec && !self->closing_ && !self->ended_) self->on_idle_check();
  });
}

/// With nothing from the peer for half the idle timeout, a PING (any healthy peer answers it
/// with a PONG); with nothing for all of it, the pipe fails as timed out. One timer re-armed
/// for the time left, not reset per read.
void ws_pipe::on_idle_check() {
  auto silent = std::chrono::steady_clock::now() - last_read_;
  if (silent >= idle_timeout_) {
    report_end(beast::error::timeout);
    error_code ignored;
    beast::get_lowest_layer(ws_).close(ignored);  /// the pending read ends; already reported
    return;
  }
  auto half = idle_timeout_ / 2;
  if (silent < half) return arm_idle_check(half - silent);
  if (pinged_at_ != last_read_) {
    pinged_at_ = last_read_;
    frames_->send_ping();
    send_output();
  }
  arm_idle_check(idle_timeout_ - silent);
}

/// Plain TCP waits for readability and then reads what the kernel holds, so an idle pipe holds
/// no read buffer; TLS reads through OpenSSL, which may hold decrypted bytes the socket no
/// longer shows, so it keeps one kTlsReadChunk buffer while waiting.
void ws_pipe::read_next() {
  auto& stream = ws_.next_layer().stream();
  if (stream.is_tls()) {
    tls_rx_.resize(kTlsReadChunk);
    return stream.async_read_some(
        asio::buffer(tls_rx_), [self = shared_from_this()](const error_code& ec, size_t n) {
          if (!self->reading()) return;
          if (ec) return self->on_read_error(ec);
          self->on_bytes(std::string_view(self->tls_rx_.data(), n));
          if (self->reading()) self->read_next();
        });
  }
  stream.socket().async_wait(socket_type::wait_read,
                             [self = shared_from_this()](const error_code& ec) {
                               if (!self->reading()) return;
                               if (ec) return self->on_read_error(ec);
                               self->on_readable();
                             });
}

/// Reads until the kernel holds nothing more (a few reads at most per wake-up), framing each
/// chunk at once.
void ws_pipe::on_readable() {
  auto& sock = ws_.next_layer().stream().socket();
  for (int i = 0; i < 4 && reading(); ++i) {
    error_code ec;
    size_t available = sock.available(ec);
    if (ec) return on_read_error(ec);
    if (available == 0 && i > 0) break;
    rx_.resize(std::clamp<size_t>(available, 1, kMaxReadChunk));
    size_t n = sock.read_some(asio::buffer(rx_), ec);
    if (ec == asio::error::would_block || ec == asio::error::try_again) break;
    if (ec) return on_read_error(ec);
    on_bytes(std::string_view(rx_.data(), n));
  }
  std::string().swap(rx_);  /// an idle pipe holds no read buffer
  if (reading()) read_next();
}

/// Reading goes on while the pipe is open, while our close waits for the peer's answer, and
/// (plain TCP) after teardown() until the peer's EOF: leaving its last bytes unread would make
/// our close a reset, which can destroy the close frame before the peer reads it.
bool ws_pipe::reading() const {
  if (closed_) return false;
  if (torn_down_) return !ws_.next_layer().stream().is_tls();
  return !ended_ || close_begun_;
}

/// A read failed or hit EOF: the end of a close under way, else the pipe's end.
void ws_pipe::on_read_error(const error_code& ec) {
  if (torn_down_ || close_begun_) return finish_close();
  report_end(ec);
}

/// Frames `bytes`: whole messages go to on_message, pongs and close echoes out; the peer's
/// close or a framing error ends the pipe.
void ws_pipe::on_bytes(std::string_view bytes) {
  if (torn_down_) return;  /// after our last frame: read only to reach the peer's EOF
  process_traffic().received.fetch_add(bytes.size(), std::memory_order_relaxed);
  last_read_ = std::chrono::steady_clock::now();
  auto fed = frames_->feed(bytes);
  while (auto m = frames_->next_message()) {
    if (closing_ || ended_) continue;  /// peerlite closed or the pipe ended: dropped
    on_message_(message(std::move(*m)));
  }
  send_output();
  if (!fed.ok()) {
    /// The codec queued a close frame with the matching code (1002, 1003, 1007, 1009).
    std::string what = fed.code() == errc::too_large
                           ? "WebSocket message too big (the limit is " +
                                 std::to_string(max_message_) + " bytes)"
                           : fed.message();
    report_end_with(messaging_error{label_ + ": " + what, false});
    return teardown();
  }
  switch (frames_->state()) {
    case protocol::ws::close_state::close_received:
      /// The peer closed first; our echo is queued. Report, then drop once it is written.
      report_end_with(from_close_frame(*frames_->peer_close(), label_));
      return teardown();
    case protocol::ws::close_state::closed:
      if (close_begun_) return teardown();  /// our close was answered
      break;
    default:
      break;
  }
}

/// Lets pending bytes (our close frame among them) reach the socket, then ends our side: TLS
/// with close_notify, plain TCP with a FIN while reading on to the peer's EOF (a close with
/// unread bytes would be a reset). Bounded by kCloseDrainTimeout either way.
void ws_pipe::teardown() {
  if (torn_down_) return;
  torn_down_ = true;
  if (!closing_) {  /// close() arms the same bound when peerlite closes
    timer_.expires_after(kCloseDrainTimeout);
    timer_.async_wait([self = shared_from_this()](const error_code& ec) {
      if (!ec) self->finish_close();
    });
  }
  ws_.next_layer().when_drained([self = shared_from_this()] {
    if (self->closed_) return;
    auto& stream = self->ws_.next_layer().stream();
    if (self->ws_.next_layer().failure()) return self->finish_close();
    if (stream.is_tls())
      return stream.tls().async_shutdown([self](const error_code&) { self->finish_close(); });
    error_code ignored;
    stream.socket().shutdown(socket_type::shutdown_send, ignored);
  });
}

void ws_pipe::report_end(const error_code& ec) {
  if (ended_ || closing_) return;
  std::optional<messaging_error> why;
  /// A read aborted because a socket write failed (gathered_socket closed the socket): the
  /// write's error is the cause.
  if (ec == asio::error::operation_aborted && ws_.next_layer().failure())
    why = to_messaging_error(ws_.next_layer().failure(), label_);
  else if (ec == beast::error::timeout)
    why = messaging_error{label_ + ": peer silent for " +
                              std::to_string(idle_timeout_.count() / 1000) + " s (timeout)",
                          true};
  else
    why = to_messaging_error(ec, label_);
  report_end_with(std::move(why));
}

void ws_pipe::report_end_with(std::optional<messaging_error> why) {
  if (ended_ || closing_) return;
  ended_ = true;
  idle_timer_.cancel();
  /// Writes refused from here on fail with the end's own error, not closed_error(): peerlite's
  /// connection closes with the first failure it hears of, and a write its actor makes on
  /// another thread between here and on_ended's message reaching it used to win with
  /// "connection closed locally" (permanent), so a continuous peer whose hub vanished could
  /// stop instead of going OFFLINE and retrying. Set before accepting_ is cleared, so a
  /// write() that sees the pipe refusing also sees why.
  if (why) {
    std::lock_guard lk(end_mx_);
    end_error_ = why;
  }
  accepting_ = false;
  if (on_ended_) on_ended_(why);
}

// ---- writing ----------------------------------------------------------------------------------

void ws_pipe::write(message msg, messaging_completion done) {
  if (!accepting_) return done(false, refusal());
  size_t size = msg.size();
  /// Completing at once while the bytes fit the send buffer returns peerlite's write credit
  /// without a message to its connection actor per frame (one BLIP frame per WebSocket message).
  bool early = buffered_.fetch_add(size) + size <= kWsSendBufferBytes;
  {
    std::lock_guard lk(outbox_mx_);
    outbox_.push_back({std::move(msg), early ? messaging_completion() : std::move(done)});
    if (!std::exchange(outbox_posted_, true))
      asio::post(ws_.get_executor(), [self = shared_from_this()] { self->take_outbox(); });
  }
  if (early) done(true, std::nullopt);
}

void ws_pipe::complete(pending_write& w, bool ok, std::optional<messaging_error> err) {
  buffered_ -= w.msg.size();
  if (auto done = std::exchange(w.done, nullptr)) done(ok, std::move(err));
}

void ws_pipe::take_outbox() {
  std::vector<pending_write> batch;
  {
    std::lock_guard lk(outbox_mx_);
    batch.swap(outbox_);
    outbox_posted_ = false;
  }
  for (auto& w : batch) {
    if (closed_ || closing_ || ended_)
      complete(w, false, refusal());
    else
      queue_.push_back(std::move(w));
  }
  flush();
}

/// Hands the codec's pending bytes (frames, pongs, close frames) to the socket layer, which
/// writes them together (gathered_socket.hpp).
void ws_pipe::send_output() {
  if (!frames_->has_output()) return;
  auto& sock = ws_.next_layer();
  sock.append(frames_->take_output());
  sock.flush();
}

/// Frames the whole queue into one buffer and starts one socket write for it. Each message
/// completes once framed; the loop pauses while kWsGatherBytes wait for the socket.
void ws_pipe::flush() {
  if (!frames_) {  /// never upgraded: nothing to write or to close politely
    if (closing_) begin_close();
    return;
  }
  if (waiting_room_) return;
  auto& sock = ws_.next_layer();
  while (!queue_.empty() && !closed_) {
    if (frames_->output_size() >= kWsGatherBytes) sock.append(frames_->take_output());
    if (!sock.has_room()) {
      waiting_room_ = true;
      sock.flush();
      return sock.when_room([self = shared_from_this()] {
        self->waiting_room_ = false;
        self->flush();
      });
    }
    auto w = std::move(queue_.front());
    queue_.pop_front();
    if (auto failed = sock.failure()) {
      auto err = to_messaging_error(failed, label_);
      complete(w, false, err);
      report_end(failed);
      for (auto& q : queue_) complete(q, false, err);
      queue_.clear();
      break;
    }
    frames_->send_message(w.msg.data());
    process_traffic().sent.fetch_add(w.msg.size(), std::memory_order_relaxed);
    complete(w, true, std::nullopt);
  }
  send_output();
  if (closing_) begin_close();
}

// ---- closing ----------------------------------------------------------------------------------

void ws_pipe::close(std::optional<messaging_error> why, std::function<void()> done) {
  asio::post(ws_.get_executor(),
             [self = shared_from_this(), why = std::move(why), done = std::move(done)]() mutable {
               if (self->closed_) return done();
               self->close_waiters_.push_back(std::move(done));
               if (self->closing_) return;
               self->closing_ = true;
               self->accepting_ = false;
               self->close_reason_ = std::move(why);
               self->timer_.expires_after(kCloseDrainTimeout);
               self->timer_.async_wait([self](const error_code& ec) {
                 if (!ec) self->finish_close();
               });
               self->flush();  // drains the queue, then begin_close()
             });
}

/// Sends our close frame: 1000 for a normal close, 4001/4002 when peerlite closes because of
/// a recoverable/permanent error (PROTOCOL.md §2), so the peer learns whether to retry; the
/// socket closes once the peer answers (on_bytes) or kCloseDrainTimeout passes.
void ws_pipe::begin_close() {
  if (closed_ || close_begun_) return;
  close_begun_ = true;
  if (torn_down_) return;  /// the peer closed or broke framing: teardown() is ending the socket
  if (!upgraded_ || !frames_ || ended_) return finish_close();
  uint16_t code = protocol::ws::close_code::normal;
  std::string reason;
  if (close_reason_) {
    code = close_reason_->recoverable ? protocol::ws::close_code::app_transient
                                      : protocol::ws::close_code::app_permanent;
    reason = close_reason_->what;  /// close_payload() cuts it to fit 123 bytes
  }
  ended_ = true;  /// the peer's answer is not news for peerlite
  frames_->send_close(code, reason);
  send_output();
}

void ws_pipe::finish_close() {
  if (closed_) return;
  closed_ = true;
  timer_.cancel();
  idle_timer_.cancel();
  error_code ignored;
  beast::get_lowest_layer(ws_).shutdown(socket_type::shutdown_both, ignored);
  beast::get_lowest_layer(ws_).close(ignored);
  for (auto& q : queue_) complete(q, false, closed_error());
  queue_.clear();
  on_message_ = nullptr;  /// drop peerlite's handle now, not when the last handler runs
  on_ended_ = nullptr;
  auto waiters = std::move(close_waiters_);
  for (auto& w : waiters) w();
}

messaging_error ws_pipe::closed_error() const {
  return messaging_error{label_ + ": connection closed locally", false};
}

messaging_error ws_pipe::refusal() const {
  std::lock_guard lk(end_mx_);
  return end_error_ ? *end_error_ : closed_error();
}

}  // namespace peerlite::net
