#include "adapters/tcp/tcp_connection.hpp"

#include <atomic>
#include <boost/asio/strand.hpp>

#include "adapters/tcp/io_runtime.hpp"
#include "adapters/tcp/tcp_pipe.hpp"

namespace peerlite::net {

/// What the socket callbacks and the close path share. `transport_error` is only touched on
/// the pipe's strand (on_ended and close's done both run there).
struct tcp_connection::state {
  connection_observer observer;
  std::string peer;
  std::optional<messaging_error> transport_error;
  std::atomic<bool> opened{false};
  std::atomic<bool> closed{false};

  void report_opened() {
    if (!opened.exchange(true) && observer) observer({connection_event::opened, "tcp", peer, {}});
  }
  void report_closed(std::string reason) {
    if (opened && !closed.exchange(true) && observer)
      observer({connection_event::closed, "tcp", peer, std::move(reason)});
  }
};


tcp_connection::tcp_connection(io_runtime& io, endpoint_url url, connection_observer observer,
                               std::optional<tls_client> tls)
    : pipe_(std::make_shared<tcp_pipe>(client_stream(io, tls), url.to_string(), tls)),
      dial_(std::move(url)),
      state_(std::make_shared<state>()) {
  state_->observer = std::move(observer);
  state_->peer = pipe_->peer();
  pipe_->hold(io.lifeline());
}

tcp_connection::tcp_connection(std::shared_ptr<tcp_pipe> accepted, connection_observer observer)
    : pipe_(std::move(accepted)), state_(std::make_shared<state>()) {
  state_->observer = std::move(observer);
  state_->peer = pipe_->peer();
  state_->report_opened();  /// the hub logs a connection when the socket arrives
}

std::string tcp_connection::peer() const { return pipe_ ? pipe_->peer() : std::string(); }

tcp_connection::~tcp_connection() {
  pipe_->close([st = state_] { st->report_closed("dropped without close"); });
}

void tcp_connection::open(replicator_connection connection, messaging_completion completion) {
  if (!dial_) {
    /// Passive: the socket is already connected. Complete first, then read, so peerlite knows
    /// the connection is open before the first bytes arrive.
    completion(true, std::nullopt);
    return start_reading(pipe_, state_, std::move(connection));
  }
  pipe_->connect(dial_->host, dial_->port,
                 [pipe = pipe_, st = state_, connection, completion = std::move(completion)](
                     bool ok, std::optional<messaging_error> err) mutable {
                   if (!ok) return completion(false, std::move(err));
                   st->report_opened();
                   completion(true, std::nullopt);
                   start_reading(pipe, st, std::move(connection));
                 });
}

void tcp_connection::start_reading(const std::shared_ptr<tcp_pipe>& pipe,
                                   const std::shared_ptr<state>& st,
                                   replicator_connection connection) {
  auto on_bytes = [connection](message msg) mutable { connection.receive(std::move(msg)); };
  auto on_ended = [connection, st](const messaging_error& err) mutable {
    st->transport_error = err;
    connection.close(err);  /// peerlite then calls our close()
  };
  pipe->start(std::move(on_bytes), std::move(on_ended));
}

void tcp_connection::send(message msg, messaging_completion completion) {
  pipe_->write(std::move(msg), std::move(completion));
}

void tcp_connection::close(std::optional<messaging_error> error, close_completion completion) {
  pipe_->close([st = state_, error = std::move(error), completion = std::move(completion)] {
    std::string reason = error                 ? error->what
                         : st->transport_error ? st->transport_error->what
                                               : "normal close";
    st->report_closed(std::move(reason));
    completion();
  });
}

message_endpoint make_tcp_endpoint(io_runtime& io, const endpoint_url& url, std::string uid,
                                   connection_observer observer, std::optional<tls_client> tls) {
  message_endpoint ep;
  ep.target = url.to_string();
  ep.uid = uid.empty() ? ep.target : std::move(uid);
  ep.protocol = protocol_type::byte_stream;
  ep.delegate = [&io, url, observer, tls](const message_endpoint&) {
    return std::make_unique<tcp_connection>(io, url, observer, tls);
  };
  return ep;
}

}  // namespace peerlite::net
