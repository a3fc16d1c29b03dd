// peerlite: the transport contract. An app plugs its own pipe (Bluetooth, a radio link, a
// socket) into peerlite by implementing message_endpoint_connection; peerlite hands it a
// replicator_connection to feed incoming bytes into. This mirrors Couchbase Lite's
// MessageEndpoint API one to one (see ../shared/spec/API.md).
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace peerlite {

/// How the app's transport carries peerlite's data.
enum class protocol_type {
  /// The transport keeps message boundaries and order: each `message` peerlite sends must
  /// arrive at the peer's `receive` as exactly that message.
  message_stream,
  /// The transport is a plain byte pipe that may split or merge chunks; peerlite frames the
  /// bytes itself (RFC 6455 WebSocket framing).
  byte_stream,
};

/// A chunk of bytes travelling between peers. Owns its bytes; cheap to move.
class message {
 public:
  /// An empty message.
  message() = default;
  /// A message holding `bytes` (moved in, not copied).
  explicit message(std::string bytes) : bytes_(std::move(bytes)) {}
  /// A message holding a copy of the `size` bytes at `data`.
  static message from_data(const void* data, size_t size) {
    return message(std::string(static_cast<const char*>(data), size));
  }
  /// The bytes. Valid while this message lives and is not moved from.
  std::string_view data() const { return bytes_; }
  /// The number of bytes.
  size_t size() const { return bytes_.size(); }
  /// True when the message holds no bytes.
  bool empty() const { return bytes_.empty(); }
  /// Moves the bytes out, leaving this message empty.
  std::string take() { return std::move(bytes_); }

 private:
  std::string bytes_;
};

/// A transport failure reported by the app. `recoverable` errors make an active replicator go
/// OFFLINE and retry through a new connection; others stop it.
struct messaging_error {
  /// What failed, for people; the replicator's error message quotes it ("transport error
  /// (recoverable): <what>").
  std::string what;
  /// true: a passing failure (errc::transport_transient; an active replicator retries).
  /// false: a lasting one (errc::transport_permanent; the replicator stops).
  bool recoverable = false;
};

/// Called by the app when open/send finishes: (true, nullopt) on success, (false, error) on
/// failure. May be called from any thread, synchronously inside open/send or later. Calling it
/// more than once has no further effect.
using messaging_completion = std::function<void(bool success, std::optional<messaging_error>)>;

/// Called by the app when its side of the connection is closed. Any thread, sync or later.
/// If the app never calls it, peerlite gives up after a close timeout (5 s) and reports
/// the connection closed anyway.
using close_completion = std::function<void()>;

namespace actors {
struct connection_handle;  // internal: the connection actor behind a replicator_connection
}

/// peerlite's side of one connection, given to the app in message_endpoint_connection::open.
/// A cheap, copyable handle on a connection actor. Every member is thread-safe and never
/// blocks the caller. Once the connection has closed, calls do nothing.
class replicator_connection {
 public:
  /// An empty handle: receive() and close() do nothing.
  replicator_connection() = default;
  /// Internal: peerlite makes these around its connection actor; apps get theirs from
  /// message_endpoint_connection::open.
  explicit replicator_connection(std::shared_ptr<actors::connection_handle> h)
      : handle_(std::move(h)) {}

  /// Hands bytes that arrived from the peer to peerlite. For message_stream, one call per
  /// message the peer's peerlite sent; for byte_stream, any chunking. Bytes that are not
  /// peerlite's protocol close this connection (only this one) with a protocol error.
  void receive(message msg);

  /// The transport is gone (or the app wants it gone). With no error or a non-recoverable
  /// one the replication ends; with a recoverable error an active replicator retries.
  /// peerlite then calls message_endpoint_connection::close.
  void close(std::optional<messaging_error> error = std::nullopt);

  /// True for a handle peerlite made, false for a default-constructed (empty) one. Stays
  /// true after the connection has closed.
  explicit operator bool() const { return static_cast<bool>(handle_); }

 private:
  std::shared_ptr<actors::connection_handle> handle_;
};

/// Implemented by the app: one instance per connection to a peer. peerlite calls these from
/// its own threads, never two at once for one connection, and never after close's
/// completion has run. Each completion must be called exactly once.
class message_endpoint_connection {
 public:
  virtual ~message_endpoint_connection() = default;

  /// Opens the transport. Keep `connection` to hand incoming bytes to receive().
  /// Report the outcome through `completion`.
  virtual void open(replicator_connection connection, messaging_completion completion) = 0;

  /// Sends `msg` to the peer. Call `completion` when it is written: until then peerlite counts
  /// its bytes as in flight (write credit) and holds back further sends beyond a bound.
  virtual void send(message msg, messaging_completion completion) = 0;

  /// Closes the transport. `error` says why, when it was not a normal close.
  virtual void close(std::optional<messaging_error> error, close_completion completion) = 0;
};

struct message_endpoint;

/// Makes a new connection for an endpoint. Called on every connect, including each retry.
/// Returning nullptr is a permanent error.
using message_endpoint_delegate =
    std::function<std::unique_ptr<message_endpoint_connection>(const message_endpoint&)>;

/// The remote peer, for an active replicator.
struct message_endpoint {
  std::string uid;      ///< identifies the remote peer; part of the checkpoint identity
  std::string target;   ///< any description of the peer the app likes (an ID, a URL)
  /// How the app's transport carries the data; must match the passive peer's
  /// listener_config::protocol.
  protocol_type protocol = protocol_type::message_stream;
  /// Makes the connection for each connect and retry. Required: when it is empty (or returns
  /// nullptr) the replicator stops with errc::transport_permanent.
  message_endpoint_delegate delegate;
};

}  // namespace peerlite
