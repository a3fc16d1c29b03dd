#include "adapters/websocket/ws_connection.hpp"

#include <atomic>
#include <boost/asio/strand.hpp>

#include "adapters/tcp/io_runtime.hpp"
#include "adapters/websocket/ws_pipe.hpp"

namespace peerlite::net {

/// What the socket callbacks and the close path share; `transport_error` is only touched on
/// the pipe's strand.
struct ws_connection::state {
  connection_observer observer;
  std::string peer;
  std::optional<messaging_error> transport_error;
  std::atomic<bool> opened{false};
  std::atomic<bool> closed{false};

  void report_opened() {
    if (!opened.exchange(true) && observer) observer({connection_event::opened, "ws", peer, {}});
  }
  void report_closed(std::string reason) {
    if (opened && !closed.exchange(true) && observer)
      observer({connection_event::closed, "ws", peer, std::move(reason)});
  }
};


ws_connection::ws_connection(io_runtime& io, endpoint_url url, credentials creds,
                             connection_observer observer, std::optional<tls_client> tls)
    : pipe_(std::make_shared<ws_pipe>(client_stream(io, tls), url.to_string(), kWsIdleTimeout,
                                      kWsMaxMessage, tls)),
      dial_(std::move(url)),
      creds_(std::move(creds)),
      state_(std::make_shared<state>()) {
  state_->observer = std::move(observer);
  state_->peer = pipe_->peer();
  pipe_->hold(io.lifeline());
}

ws_connection::ws_connection(std::shared_ptr<ws_pipe> upgraded, connection_observer observer)
    : pipe_(std::move(upgraded)), state_(std::make_shared<state>()) {
  state_->observer = std::move(observer);
  state_->peer = pipe_->peer();
  state_->report_opened();
}

std::string ws_connection::peer() const { return pipe_ ? pipe_->peer() : std::string(); }

ws_connection::~ws_connection() {
  pipe_->close(std::nullopt, [st = state_] { st->report_closed("dropped without close"); });
}

void ws_connection::open(replicator_connection connection, messaging_completion completion) {
  if (!dial_) {
    completion(true, std::nullopt);
    return start_reading(pipe_, state_, std::move(connection));
  }
  pipe_->connect(*dial_, creds_,
                 [pipe = pipe_, st = state_, connection, completion = std::move(completion)](
                     bool ok, std::optional<messaging_error> err) mutable {
                   if (!ok) return completion(false, std::move(err));
                   st->report_opened();
                   completion(true, std::nullopt);
                   start_reading(pipe, st, std::move(connection));
                 });
}

void ws_connection::start_reading(const std::shared_ptr<ws_pipe>& pipe,
                                  const std::shared_ptr<state>& st,
                                  replicator_connection connection) {
  auto on_message = [connection](message msg) mutable { connection.receive(std::move(msg)); };
  auto on_ended = [connection, st](const std::optional<messaging_error>& err) mutable {
    st->transport_error = err;
    connection.close(err);  /// nullopt: the peer closed normally
  };
  pipe->start(std::move(on_message), std::move(on_ended));
}

void ws_connection::send(message msg, messaging_completion completion) {
  pipe_->write(std::move(msg), std::move(completion));
}

void ws_connection::close(std::optional<messaging_error> error, close_completion completion) {
  auto why = error;
  pipe_->close(std::move(why),
               [st = state_, error = std::move(error), completion = std::move(completion)] {
                 std::string reason = error                 ? error->what
                                      : st->transport_error ? st->transport_error->what
                                                            : "normal close";
                 st->report_closed(std::move(reason));
                 completion();
               });
}

message_endpoint make_ws_endpoint(io_runtime& io, const endpoint_url& url, credentials creds,
                                  std::string uid, connection_observer observer,
                                  std::optional<tls_client> tls) {
  message_endpoint ep;
  ep.target = url.to_string();
  ep.uid = uid.empty() ? ep.target : std::move(uid);
  ep.protocol = protocol_type::message_stream;
  ep.delegate = [&io, url, creds, observer, tls](const message_endpoint&) {
    return std::make_unique<ws_connection>(io, url, creds, observer, tls);
  };
  return ep;
}

}  // namespace peerlite::net
