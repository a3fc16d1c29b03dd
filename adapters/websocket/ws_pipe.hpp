// A WebSocket over TCP (Boost.Beast) carrying one binary WebSocket message per peerlite
// message: the "communication framework" half of the WebSocket adapter, as tcp_pipe is for
// TCP. Client side: connect() dials, upgrades to ws://host:port/<db>/_blipsync with the
// BLIP_3+CBMobile_3 subprotocol (and optional Basic auth). Server side: accept() finishes an
// upgrade whose HTTP request ws_listener has already read and checked. Both sides write
// `Connection: Upgrade` capitalized: Couchbase Lite's listener accepts no other spelling.
//
// Beast does the HTTP upgrade; after it, frames go through protocol::ws::stream, the RFC 6455
// codec the engine uses for byte streams (ws_pipe.cpp says why).
//
// Memory: an idle plain pipe holds Beast's stream state from the upgrade and no read, message
// or write buffer (a TLS one keeps a 16 KiB read buffer); permessage-deflate is off. A busy
// pipe holds at most kWsSendBufferBytes of accepted messages plus kWsGatherBytes of frames
// gathered for the socket (gathered_socket.hpp), and one message being reassembled
// (at most max_message).
//
// Thread safety: every public member may be called from any thread; work runs on the
// socket's strand; callbacks run there, one at a time, in order.
#pragma once

#include <atomic>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/websocket/stream.hpp>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "adapters/tcp/net_stream.hpp"
#include "adapters/tcp/net_tuning.hpp"
#include "adapters/tcp/tls.hpp"
#include "adapters/tcp/url.hpp"
#include "adapters/websocket/gathered_socket.hpp"
#include "adapters/websocket/ws_credentials.hpp"
#include "protocol/websocket.hpp"
#include "peerlite/message_endpoint.hpp"

namespace peerlite::net {

/// The WebSocket subprotocol peerlite and Couchbase Lite 3.x speak (PROTOCOL.md §2).
constexpr const char* kBlipSubprotocol = "BLIP_3+CBMobile_3";

class ws_pipe : public std::enable_shared_from_this<ws_pipe> {
 public:
  using socket_type = boost::asio::ip::tcp::socket;
  using http_request = boost::beast::http::request<boost::beast::http::empty_body>;
  using message_handler = std::function<void(message)>;
  /// The pipe ended on its own: an error, or the peer's close frame. nullopt = the peer
  /// closed normally (1000).
  using ended_handler = std::function<void(const std::optional<messaging_error>&)>;

  /// `sock` is fresh (client) or accepted (server); its executor must be a strand. `label`
  /// names the pipe in errors; empty means the peer's "ip:port".
  /// `idle_timeout`: with no bytes from the peer for half of it, send a PING; with none for
  /// all of it, fail the pipe (recoverable timeout). Catches peers that vanish or go silent.
  /// Zero: no idle check.
  ws_pipe(socket_type sock, std::string label,
          std::chrono::milliseconds idle_timeout = kWsIdleTimeout);
  /// Over `stream`, plain or TLS: a fresh TLS stream (client) does its TLS handshake with
  /// `tls` inside connect(); an accepted one (server) has done it already. `max_message`: the
  /// largest incoming WebSocket message; a bigger one fails the pipe.
  ws_pipe(net_stream stream, std::string label, std::chrono::milliseconds idle_timeout,
          size_t max_message = kWsMaxMessage, std::optional<tls_client> tls = std::nullopt);

  /// Client: resolve, connect (kConnectTimeout), upgrade to ws://url/_blipsync
  /// (kWsHandshakeTimeout). Failures: refused/reset/timeout and HTTP 408/429/502/503/504 are
  /// recoverable; 401/403 ("wrong user or password"), 404 (no such database) and any other
  /// refusal are permanent.
  void connect(const endpoint_url& url, credentials creds, messaging_completion done);

  /// Server: answers `request` (already checked: path, auth, subprotocol) with 101 and our
  /// subprotocol. done(true) when the socket speaks WebSocket.
  void accept(http_request request, messaging_completion done);

  /// Starts reading: each binary message goes to on_message; the first failure or the peer's
  /// close goes to on_ended once. Neither is called after close().
  void start(message_handler on_message, ended_handler on_ended);

  /// Sends msg as one binary WebSocket message. Like a kernel socket buffer, the pipe holds up
  /// to kWsSendBufferBytes of accepted messages: while they fit, done(true) is called at once
  /// (inside write), else once msg is written. done(false, error) if the pipe has failed or is
  /// closing. Every done is called exactly once. Bytes accepted are lost if the connection
  /// fails before they are written, as they would be in a kernel buffer.
  void write(message msg, messaging_completion done);

  /// Drains queued writes, sends a close frame (1000, or 4001/4002 for an error), closes the
  /// socket, then calls done; at most kCloseDrainTimeout in all. A second close's done runs
  /// when the first finishes.
  void close(std::optional<messaging_error> why, std::function<void()> done);

  const std::string& peer() const { return label_; }

  /// Keeps `lifeline` (io_runtime::lifeline()) as long as this pipe lives.
  void hold(std::shared_ptr<void> lifeline) { lifeline_ = std::move(lifeline); }
  /// Keeps `ticket` (connection_limits::admit) as long as this pipe lives.
  void hold_ticket(std::shared_ptr<void> ticket) { ticket_ = std::move(ticket); }

 private:
  struct pending_write {
    message msg;
    messaging_completion done;  ///< empty when write() completed it already
  };
  void complete(pending_write& w, bool ok, std::optional<messaging_error> err);
  void configure(bool client);
  void on_tcp_connected(const boost::system::error_code& ec, std::string host_header,
                        std::string target, credentials creds, messaging_completion done);
  void upgrade(std::string host_header, std::string target, credentials creds,
               messaging_completion done);
  void on_handshake(const boost::system::error_code& ec, messaging_completion done);
  void arm_idle_check(std::chrono::steady_clock::duration after);
  void on_idle_check();
  void read_next();
  void on_readable();
  bool reading() const;
  void on_read_error(const boost::system::error_code& ec);
  void on_bytes(std::string_view bytes);
  void teardown();
  void take_outbox();
  void send_output();
  void flush();
  void report_end(const boost::system::error_code& ec);
  void report_end_with(std::optional<messaging_error> why);
  void begin_close();
  void finish_close();
  messaging_error closed_error() const;
  /// Why a write is refused: the error the pipe ended with (the peer vanished, timed out or
  /// closed with an error), else closed_error(). Any thread.
  messaging_error refusal() const;

  std::shared_ptr<void> lifeline_;  ///< declared first: destroyed after the stream
  std::shared_ptr<void> ticket_;
  boost::beast::websocket::stream<gathered_socket> ws_;  ///< writes gathered, see there
  boost::asio::steady_timer timer_;
  /// The idle check (see on_idle_check): one timer re-armed for the time left, not reset per
  /// read as Beast's own idle timeout is (a timerfd_settime per message: 2.2 per document).
  boost::asio::steady_timer idle_timer_;
  std::chrono::steady_clock::time_point last_read_{};  ///< when bytes last came
  std::chrono::steady_clock::time_point pinged_at_{};  ///< last_read_ when we pinged; none = {}
  /// The frame codec once upgraded (ws_pipe.cpp says why frames are not Beast's).
  std::optional<protocol::ws::stream> frames_;
  std::unique_ptr<boost::asio::ip::tcp::resolver> resolver_;
  std::unique_ptr<boost::beast::websocket::response_type> response_;  ///< client handshake only
  const std::string label_;
  const std::chrono::milliseconds idle_timeout_;
  const size_t max_message_;
  std::optional<tls_client> tls_;  ///< client over TLS: how to check the server
  std::string host_;               ///< client: the host dialled (TLS name checks)
  std::string rx_;      ///< a plain socket's read, released between wake-ups
  std::string tls_rx_;  ///< TLS: the buffer a pending read fills
  message_handler on_message_;
  ended_handler on_ended_;
  std::deque<pending_write> queue_;
  /// write() calls from peerlite's threads gather here; one post to the strand takes them all,
  /// so a burst of small frames costs one wake-up of the socket thread, not one per frame.
  std::mutex outbox_mx_;
  std::vector<pending_write> outbox_;
  bool outbox_posted_ = false;
  /// Bytes accepted by write() and not yet written (any thread); see write().
  std::atomic<size_t> buffered_{0};
  /// Cleared once the pipe ends or starts closing: write() then refuses at once.
  std::atomic<bool> accepting_{true};
  /// The error report_end() passed to on_ended, kept for refusal(); written once on the
  /// strand before accepting_ is cleared, read by write() on peerlite's threads.
  mutable std::mutex end_mx_;
  std::optional<messaging_error> end_error_;
  bool waiting_room_ = false;  ///< flush() paused until the socket takes gathered bytes
  std::vector<std::function<void()>> close_waiters_;
  std::optional<messaging_error> close_reason_;
  bool ended_ = false;
  bool closing_ = false;
  bool close_begun_ = false;  ///< begin_close() ran: later flushes must not cut it short
  bool torn_down_ = false;    ///< teardown() ran
  bool closed_ = false;
  bool timed_out_ = false;
  bool upgraded_ = false;
};

}  // namespace peerlite::net
