#include "adapters/tcp/tcp_pipe.hpp"

#include <algorithm>
#include <boost/asio/connect.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/write.hpp>
#include <utility>

#include "adapters/tcp/errors.hpp"
#include "adapters/tcp/net_tuning.hpp"
#include "adapters/tcp/traffic.hpp"

namespace peerlite::net {
namespace asio = boost::asio;
using boost::system::error_code;

tcp_pipe::tcp_pipe(socket_type sock, std::string label)
    : tcp_pipe(net_stream(std::move(sock)), std::move(label)) {}

tcp_pipe::tcp_pipe(net_stream stream, std::string label, std::optional<tls_client> tls)
    : stream_(std::move(stream)),
      tls_(std::move(tls)),
      timer_(stream_.get_executor()),
      idle_timer_(stream_.get_executor()),
      label_(label.empty() ? peer_address(stream_.socket()) : std::move(label)) {}

// ---- connect (active side) ------------------------------------------------------------------

void tcp_pipe::connect(std::string host, uint16_t port, messaging_completion done) {
  asio::post(stream_.get_executor(), [self = shared_from_this(), host = std::move(host), port,
                                      done = std::move(done)]() mutable {
    if (self->closing_) return done(false, self->closed_error());
    self->host_ = host;
    self->resolver_ = std::make_unique<asio::ip::tcp::resolver>(self->stream_.get_executor());
    /// One timer bounds resolve + connect together: the user waits for "connected", not steps.
    self->timer_.expires_after(kConnectTimeout);
    self->timer_.async_wait([self](const error_code& ec) {
      if (ec) return;  // cancelled: connected or failed first
      self->timed_out_ = true;
      self->resolver_->cancel();
      error_code ignored;
      self->stream_.socket().close(ignored);
    });
    self->resolver_->async_resolve(
        host, std::to_string(port),
        [self, done = std::move(done)](const error_code& ec, auto results) mutable {
          self->on_resolved(ec, results, std::move(done));
        });
  });
}

void tcp_pipe::on_resolved(const error_code& ec,
                           const asio::ip::tcp::resolver::results_type& results,
                           messaging_completion done) {
  if (ec) return on_connected(ec, std::move(done));
  asio::async_connect(stream_.socket(), results,
                      [self = shared_from_this(), done = std::move(done)](
                          const error_code& ec, const asio::ip::tcp::endpoint&) mutable {
                        self->on_connected(ec, std::move(done));
                      });
}

void tcp_pipe::on_connected(const error_code& ec, messaging_completion done) {
  timer_.cancel();
  if (timed_out_) return done(false, to_messaging_error(asio::error::timed_out, label_));
  if (closing_) return done(false, closed_error());
  if (ec) return done(false, to_messaging_error(ec, label_));
  /// Replication traffic is many small frames whose replies gate the next ones: Nagle's delay
  /// would add 40 ms round trips.
  stream_.socket().set_option(asio::ip::tcp::no_delay(true));
  if (stream_.is_tls()) return tls_handshake(std::move(done));
  done(true, std::nullopt);
}

/// tls://: the TLS handshake, bounded like a WebSocket upgrade. A refused certificate is
/// permanent (retrying meets the same certificate); a connection lost meanwhile is not.
void tcp_pipe::tls_handshake(messaging_completion done) {
  auto verdict = std::make_shared<tls_verify_result>();
  prepare_tls_client(*tls_, stream_.tls(), host_, verdict);
  timed_out_ = false;
  timer_.expires_after(kWsHandshakeTimeout);
  timer_.async_wait([self = shared_from_this()](const error_code& ec) {
    if (ec) return;
    self->timed_out_ = true;
    error_code ignored;
    self->stream_.socket().close(ignored);
  });
  stream_.tls().async_handshake(
      asio::ssl::stream_base::client,
      [self = shared_from_this(), verdict, done = std::move(done)](const error_code& ec) mutable {
        self->timer_.cancel();
        if (self->closing_) return done(false, self->closed_error());
        if (self->timed_out_)
          return done(false, messaging_error{self->label_ + ": TLS handshake timed out", true});
        if (!verdict->refusal.empty())
          return done(false, messaging_error{self->label_ + ": TLS: " + verdict->refusal +
                                                 " (--ca, --pinned-cert or --insecure change "
                                                 "what is accepted)",
                                             false});
        if (ec)
          return done(false, messaging_error{self->label_ + ": TLS handshake failed: " +
                                                 describe_tls_error(ec),
                                             is_recoverable(ec)});
        done(true, std::nullopt);
      });
}

// ---- reading ----------------------------------------------------------------------------------

void tcp_pipe::start(bytes_handler on_bytes, ended_handler on_ended) {
  asio::post(stream_.get_executor(), [self = shared_from_this(), on_bytes = std::move(on_bytes),
                                      on_ended = std::move(on_ended)]() mutable {
    if (self->closing_) return;
    self->on_bytes_ = std::move(on_bytes);
    self->on_ended_ = std::move(on_ended);
    error_code ec;
    self->stream_.socket().set_option(asio::ip::tcp::no_delay(true), ec);
    self->last_read_ = std::chrono::steady_clock::now();
    if (self->idle_timeout_.count() > 0) self->arm_idle_timer(self->idle_timeout_);
    /// TLS decrypts inside OpenSSL, which may hold bytes the socket no longer shows as
    /// readable: it reads through the TLS stream instead (see read_tls).
    if (self->stream_.is_tls()) return self->read_tls();
    /// Non-blocking reads after a readiness wait: no buffer is held while the peer is quiet,
    /// which keeps an idle connection at the hub cheap.
    self->stream_.socket().non_blocking(true, ec);
    if (ec) return self->report_end(ec);
    self->wait_readable();
  });
}

/// One timer per pipe, re-armed for the remaining time rather than reset on every read: a
/// busy connection costs no timer operations.
void tcp_pipe::arm_idle_timer(std::chrono::steady_clock::duration after) {
  idle_timer_.expires_after(after);
  idle_timer_.async_wait([self = shared_from_this()](const error_code& ec) {
    if (ec || self->closing_ || self->ended_) return;
    auto silent = std::chrono::steady_clock::now() - self->last_read_;
    if (silent < self->idle_timeout_) return self->arm_idle_timer(self->idle_timeout_ - silent);
    self->ended_ = true;
    auto secs = std::chrono::duration_cast<std::chrono::seconds>(self->idle_timeout_).count();
    if (self->on_ended_)
      self->on_ended_(messaging_error{
          self->label_ + ": peer silent for " + std::to_string(secs) + " s (idle timeout)", true});
  });
}

/// TLS reads hold a kTlsReadChunk buffer while they wait (OpenSSL's own record buffers are
/// released while idle, SSL_MODE_RELEASE_BUFFERS).
void tcp_pipe::read_tls() {
  tls_rx_.resize(kTlsReadChunk);
  stream_.async_read_some(asio::buffer(tls_rx_), [self = shared_from_this()](const error_code& ec,
                                                                             size_t n) {
    if (self->closing_ || self->ended_) return;
    if (ec) return self->report_end(ec);
    std::string chunk = std::exchange(self->tls_rx_, std::string());
    chunk.resize(n);
    process_traffic().received.fetch_add(n, std::memory_order_relaxed);
    self->last_read_ = std::chrono::steady_clock::now();
    self->on_bytes_(message(std::move(chunk)));
    if (!self->closing_ && !self->ended_) self->read_tls();
  });
}

void tcp_pipe::wait_readable() {
  stream_.socket().async_wait(socket_type::wait_read,
                     [self = shared_from_this()](const error_code& ec) { self->on_readable(ec); });
}

void tcp_pipe::on_readable(const error_code& ec) {
  if (closing_ || ended_) return;
  if (ec) return report_end(ec);
  /// A busy peer usually has more bytes waiting: a few reads per wake save epoll round trips.
  for (int i = 0; i < 4; ++i)
    if (!read_once(i == 0)) break;
  if (!closing_ && !ended_) wait_readable();
}

/// Reads what the kernel holds (up to kMaxReadChunk) into a fresh buffer that becomes the
/// message, so bytes are copied once. Returns false when there is nothing more to read now.
bool tcp_pipe::read_once(bool first) {
  error_code ec;
  size_t available = stream_.socket().available(ec);
  if (ec) return report_end(ec), false;
  if (available == 0 && !first) return false;
  std::string buf(std::clamp<size_t>(available, 1, kMaxReadChunk), '\0');
  size_t n = stream_.socket().read_some(asio::buffer(buf), ec);
  if (ec == asio::error::would_block || ec == asio::error::try_again) return false;
  if (ec) return report_end(ec), false;
  buf.resize(n);
  process_traffic().received.fetch_add(n, std::memory_order_relaxed);
  last_read_ = std::chrono::steady_clock::now();
  on_bytes_(message(std::move(buf)));
  return !closing_ && !ended_;
}

void tcp_pipe::report_end(const error_code& ec) {
  if (ended_ || closing_) return;
  ended_ = true;
  idle_timer_.cancel();
  if (on_ended_) on_ended_(to_messaging_error(ec, label_));
}

// ---- writing ----------------------------------------------------------------------------------

void tcp_pipe::write(message msg, messaging_completion done) {
  asio::post(stream_.get_executor(),
             [self = shared_from_this(), msg = std::move(msg), done = std::move(done)]() mutable {
               if (self->closed_ || self->closing_) return done(false, self->closed_error());
               self->queue_.push_back({std::move(msg), std::move(done)});
               if (!self->writing_) self->flush();
             });
}

void tcp_pipe::flush() {
  if (queue_.empty() || closed_) {
    writing_ = false;
    if (closing_) finish_close();
    return;
  }
  writing_ = true;
  while (!queue_.empty() && in_flight_.size() < kMaxGatheredWrites) {
    in_flight_.push_back(std::move(queue_.front()));
    queue_.pop_front();
  }
  /// Buffers are taken only now: moving a short (SSO) string moves its bytes, so pointers
  /// taken while in_flight_ was still growing could dangle.
  std::vector<asio::const_buffer> buffers;
  buffers.reserve(in_flight_.size());
  for (auto& w : in_flight_) buffers.emplace_back(w.msg.data().data(), w.msg.size());
  stream_.async_write_all(buffers, [self = shared_from_this()](const error_code& ec, size_t n) {
    process_traffic().sent.fetch_add(n, std::memory_order_relaxed);
    self->on_written(ec);
  });
}

void tcp_pipe::on_written(const error_code& ec) {
  auto batch = std::move(in_flight_);
  in_flight_.clear();
  for (auto& w : batch) {
    if (ec)
      w.done(false, closed_ ? closed_error() : to_messaging_error(ec, label_));
    else
      w.done(true, std::nullopt);
  }
  if (ec && !closed_) {
    report_end(ec);
    for (auto& w : queue_) w.done(false, to_messaging_error(ec, label_));
    queue_.clear();
  }
  flush();
}

// ---- closing ----------------------------------------------------------------------------------

void tcp_pipe::close(std::function<void()> done) {
  asio::post(stream_.get_executor(), [self = shared_from_this(), done = std::move(done)]() mutable {
    if (self->closed_) return done();
    self->close_waiters_.push_back(std::move(done));
    if (self->closing_) return;
    self->closing_ = true;
    if (!self->writing_) return self->finish_close();
    self->timer_.expires_after(kCloseDrainTimeout);
    self->timer_.async_wait([self](const error_code& ec) {
      if (!ec) self->finish_close();
    });
  });
}

void tcp_pipe::finish_close() {
  if (closed_) return;
  closed_ = true;
  timer_.cancel();
  idle_timer_.cancel();
  stream_.close();  // aborts a pending read wait or write; their handlers see closed_
  for (auto& w : queue_) w.done(false, closed_error());
  queue_.clear();
  on_bytes_ = nullptr;  /// drop the engine's handle now, not when the last handler runs
  on_ended_ = nullptr;
  auto waiters = std::move(close_waiters_);
  for (auto& w : waiters) w();
}

messaging_error tcp_pipe::closed_error() const {
  return messaging_error{label_ + ": connection closed locally", false};
}

}  // namespace peerlite::net
