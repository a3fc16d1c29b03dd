// The hub behind `peerlite serve` and `peerlite demo`: it hands the connections the network
// adapters accepted to public message_endpoint_listeners (one per protocol type: WebSocket is
// a message stream, TCP a byte stream), counts documents in and out, and closes everything on
// shutdown. This is the seed's passive peer, with real sockets as the "communication framework".
//
// It also keeps what `serve --admin` reports (tools/admin_server.hpp): per connection its
// peer, user, activity and documents each way (from the listeners' change and document
// callbacks), rejected revisions, replication errors by kind, and the adapters' refusals.
//
// Thread safety: every member may be called from any thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "adapters/tcp/connection_events.hpp"
#include "peerlite/database.hpp"
#include "peerlite/message_endpoint.hpp"
#include "peerlite/message_endpoint_listener.hpp"

namespace peerlite::tools {

/// One live connection as `serve --admin` shows it.
struct hub_connection_info {
  uint64_t id = 0;        ///< the listener's id (unique per transport)
  std::string transport;  ///< "ws" or "tcp"
  std::string peer;       ///< "127.0.0.1:53122" as the adapter reported it; empty if unknown
  std::optional<std::string> user;  ///< the Basic-auth user it logged in as, if any
  std::string activity;             ///< "connecting", "idle", "busy", ... (activity_level)
  uint64_t docs_in = 0, docs_out = 0;
  std::chrono::system_clock::time_point since;  ///< when the hub accepted it
};

/// Everything the hub counts, read at once (each figure on its own; not one transaction).
struct hub_snapshot {
  std::vector<hub_connection_info> connections;  ///< live ones, ws first, in id order
  /// Live connections per transport ("ws", "tcp") and activity name.
  std::map<std::string, std::map<std::string, uint64_t>> states;
  uint64_t docs_in = 0, docs_out = 0;
  /// Revisions whose replicated_document carried an error: in = a peer's push we refused,
  /// out = a revision we failed to send.
  uint64_t revs_rejected_in = 0, revs_rejected_out = 0;
  /// Connections that ended with an error, by kind (replication_error_kind).
  std::map<std::string, uint64_t> replication_errors;
  /// Sockets the adapters refused before they became connections, by reason class
  /// (refusal_class), and how many of them were HTTP 401 (missing or wrong credentials).
  std::map<std::string, uint64_t> refused;
  uint64_t auth_failures = 0;
  /// Connections accepted per transport since start.
  std::map<std::string, uint64_t> accepted;
};

/// The class of an adapter's refusal reason, for a metric label: "http_401" for "401 wrong
/// user or password", "handshake_timeout", "bad_request", "upgrade_failed", else "other".
std::string refusal_class(const std::string& reason);
/// The kind of error a connection ended with, for a metric label: "http_NNN" when the message
/// names an HTTP status, else by code: "transport", "protocol", "timeout", "unauthorized",
/// "read_only", "conflict", "io", "too_large", "not_found", "stopped" or "other".
std::string replication_error_kind(const error& err);

class hub {
 public:
  /// `heartbeat`: how often the engine PINGs byte-stream (tcp://) peers; keep it under the
  /// TCP listener's idle timeout so healthy idle peers are not dropped. Zero = engine default.
  /// `read_only`: every peer's push is refused with HTTP 403 (its replicator stops); pulls
  /// are served.
  /// `collections`: the ones served (listener_config::collections); empty = all.
  /// `max_unreplied_requests`: listener_config::max_unreplied_requests.
  explicit hub(database db, std::chrono::seconds heartbeat = std::chrono::seconds::zero(),
               bool read_only = false, std::vector<std::string> collections = {},
               size_t max_unreplied_requests = listener_config{}.max_unreplied_requests);
  /// Closes every connection still open (like close_all) and waits for them, at most
  /// kHubShutdownTimeout.
  ~hub();
  hub(const hub&) = delete;
  hub& operator=(const hub&) = delete;

  /// Starts replicating over `connection`, a transport the adapter accepted. `peer` (the
  /// socket's remote address) and `user` (the Basic-auth user it passed) are shown by
  /// snapshot(); empty = unknown / none.
  void accept(std::unique_ptr<message_endpoint_connection> connection, protocol_type protocol,
              std::string peer = {}, std::string user = {});

  /// Counts a socket an adapter refused (connection_event::refused), by its reason.
  void note_refused(const std::string& reason);

  /// Connections that have not reached STOPPED yet.
  size_t live_connections() const;
  /// Connections accepted since start, over every transport.
  uint64_t accepted_connections() const;
  /// Documents committed from peers (in) and sent to peers (out), since start.
  uint64_t docs_in() const;
  uint64_t docs_out() const;
  /// Every figure above and per connection; see hub_snapshot.
  hub_snapshot snapshot() const;

  /// Asks every live connection to close, as the seed's closeAll(), with a recoverable error
  /// ("the hub is shutting down", close code 4001): continuous peers retry until it is back.
  void close_all();
  /// Waits until no connection is live; false on timeout.
  bool wait_all_stopped(std::chrono::milliseconds timeout) const;

  struct state;

 private:
  std::shared_ptr<state> state_;
};

/// Wraps an adapter's connection observer `next` (e.g. the log lines) for `h`: counts each
/// refusal (hub::note_refused).
net::connection_observer observe_connections(hub& h, net::connection_observer next);

}  // namespace peerlite::tools
