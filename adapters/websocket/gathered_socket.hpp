// The layer under Beast's websocket::stream in ws_pipe: a TCP (or TLS, see net_stream.hpp)
// stream whose writes are gathered.
//
// Why: MESSAGE_STREAM sends one BLIP frame per WebSocket message, and Beast writes each message
// with its own syscall. A one-shot push of 100,000 small documents made ~200,000 sendmsg calls
// and ~380,000 epoll waits (perf stat, push_ws), against ~1,400 sendmsg for the TCP adapter,
// which gathers up to 64 queued frames per write. Beast has no way to write several messages
// at once, so this layer does it underneath: each write Beast makes (a frame header, a payload,
// a pong, a close frame) is copied into a pending buffer and completes at once; the buffer goes
// to the socket in one write, and whatever arrives while that write is in flight goes in the
// next one. A copy of each frame (memcpy) is far cheaper than a syscall and a reactor wake-up.
//
// Two ways in. Beast's own writes during the upgrade (the HTTP request or response) come
// through async_write_some, complete by a post, and start the socket write at once. After the
// upgrade, ws_pipe frames messages itself (protocol::ws::stream) and hands the bytes over with
// append() then flush(): a whole queue of messages costs one socket write and no handler per
// message. Every write appends whole frames within one call on the strand, so nothing
// interleaves.
//
// Back-pressure: ws_pipe stops its loop once has_room() is false and resumes from
// when_room(), which runs once the socket has taken the pending bytes; an asynchronous write
// made while kWsGatherBytes are already pending completes only then. Memory stays
// bounded, and the engine's write credit still tracks the socket. A socket write error closes
// the socket: Beast's pending read then fails and ws_pipe reports the end; later writes fail
// with that error. When drained, both buffers are released, so an idle connection holds none.
//
// Thread safety: as the socket's; every call must come from the socket's strand (Beast's
// operations and ws_pipe both run there).
#pragma once

#include <boost/asio/async_result.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/bind_handler.hpp>
#include <boost/beast/core/buffers_range.hpp>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "adapters/tcp/net_stream.hpp"
#include "adapters/tcp/net_tuning.hpp"

namespace peerlite::net {

class gathered_socket {
 public:
  using socket_type = boost::asio::ip::tcp::socket;
  using executor_type = socket_type::executor_type;
  using error_code = boost::system::error_code;

  explicit gathered_socket(socket_type sock)
      : st_(std::make_shared<state>(net_stream(std::move(sock)))) {}
  explicit gathered_socket(net_stream stream) : st_(std::make_shared<state>(std::move(stream))) {}

  executor_type get_executor() { return st_->stream.get_executor(); }
  /// The TCP socket (so beast::get_lowest_layer finds it for timeouts and closing), under TLS
  /// when there is TLS.
  socket_type& next_layer() { return st_->stream.socket(); }
  net_stream& stream() { return st_->stream; }
  const net_stream& stream() const { return st_->stream; }

  template <class MutableBuffers, class Handler>
  void async_read_some(const MutableBuffers& buffers, Handler&& handler) {
    st_->stream.async_read_some(buffers, std::forward<Handler>(handler));
  }

  /// Beast's asynchronous writes (the upgrade's HTTP message): copies `buffers` into the
  /// pending buffer, completes with their whole size by a post, and starts the socket write.
  template <class ConstBuffers, class Handler>
  auto async_write_some(const ConstBuffers& buffers, Handler&& handler) {
    return boost::asio::async_initiate<Handler, void(error_code, size_t)>(
        [st = st_](auto h, const ConstBuffers& b) { state::write(st, b, std::move(h)); }, handler,
        buffers);
  }

  /// Adds framed bytes to what the next socket write takes (after a failure: dropped).
  void append(std::string&& bytes) {
    if (st_->failed) return;
    if (st_->pending.empty())
      st_->pending = std::move(bytes);
    else
      st_->pending.append(bytes);
  }

  /// The socket write's error once one failed (the socket is then closed), else none.
  error_code failure() const { return st_->failed; }

  /// Starts a socket write of what was gathered, unless one is under way (its end sends
  /// the rest).
  void flush() { state::flush(st_); }
  /// False once kWsGatherBytes wait for the socket: stop writing until when_room().
  bool has_room() const { return st_->failed || st_->pending.size() < kWsGatherBytes; }
  /// Calls `go` once has_room() (at once if it is); after a failure, at once too.
  void when_room(std::function<void()> go) {
    if (has_room()) return go();
    st_->parked.push_back(std::move(go));
  }

  /// Calls `done` once every byte written so far is in the kernel (or the socket failed).
  /// Flushes first: a teardown must not wait on bytes nobody will flush.
  void when_drained(std::function<void()> done) {
    flush();
    if (!st_->writing && st_->pending.empty()) return done();
    st_->drain_waiters.push_back(std::move(done));
  }

 private:
  struct state {
    explicit state(net_stream s) : stream(std::move(s)) {}
    net_stream stream;
    std::string pending;    ///< bytes Beast wrote that no socket write has taken yet
    std::string in_flight;  ///< bytes of the socket write under way
    bool writing = false;
    error_code failed;
    std::vector<std::function<void()>> parked;  ///< writes (and when_room calls) awaiting room
    std::vector<std::function<void()>> drain_waiters;

    template <class ConstBuffers, class Handler>
    static void write(const std::shared_ptr<state>& st, const ConstBuffers& b, Handler h) {
      if (!st->failed && st->pending.size() >= kWsGatherBytes) {
        /// std::function needs a copyable callable; Beast's handlers are move-only.
        auto held = std::make_shared<Handler>(std::move(h));
        st->parked.push_back([st, b, held] { write(st, b, std::move(*held)); });
        return;
      }
      size_t n = st->failed ? 0 : st->append(b);
      boost::asio::post(st->stream.get_executor(),
                        boost::beast::bind_front_handler(std::move(h), st->failed, n));
      flush(st);
    }

    template <class ConstBuffers>
    size_t append(const ConstBuffers& b) {
      size_t n = 0;
      for (auto piece : boost::beast::buffers_range_ref(b)) {
        pending.append(static_cast<const char*>(piece.data()), piece.size());
        n += piece.size();
      }
      return n;
    }

    static void flush(const std::shared_ptr<state>& st) {
      if (st->writing || st->pending.empty()) return;
      st->writing = true;
      st->in_flight.swap(st->pending);
      st->stream.async_write_all(boost::asio::buffer(st->in_flight),
                                 [st](const error_code& ec, size_t) { on_written(st, ec); });
    }

    static void on_written(const std::shared_ptr<state>& st, const error_code& ec) {
      st->writing = false;
      st->in_flight.clear();
      if (ec && !st->failed) {
        st->failed = ec;
        st->pending.clear();
        st->stream.close();
      }
      auto parked = std::move(st->parked);
      st->parked.clear();
      for (auto& p : parked) p();  // re-parks any that still find no room
      flush(st);
      if (st->writing) return;
      std::string().swap(st->pending);  /// drained: an idle connection holds no buffer
      std::string().swap(st->in_flight);
      auto waiters = std::move(st->drain_waiters);
      st->drain_waiters.clear();
      for (auto& w : waiters) w();
    }
  };

  std::shared_ptr<state> st_;
};

}  // namespace peerlite::net
