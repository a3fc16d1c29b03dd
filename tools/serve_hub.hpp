// The hub behind `peerlite serve` and `peerlite demo`: it hands the connections the network
// adapters accepted to public message_endpoint_listeners (one per protocol type: WebSocket is
// a message stream, TCP a byte stream), counts documents in and out, and closes everything on
// shutdown. This is the seed's passive peer, with real sockets as the "communication framework".
//
// Thread safety: every member may be called from any thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>

#include "peerlite/database.hpp"
#include "peerlite/message_endpoint.hpp"

namespace peerlite::tools {

class hub {
 public:
  /// `heartbeat`: how often the engine PINGs byte-stream (tcp://) peers; keep it under the
  /// TCP listener's idle timeout so healthy idle peers are not dropped. Zero = engine default.
  /// `read_only`: every peer's push is refused with HTTP 403 (its replicator stops); pulls
  /// are served.
  /// `collections`: the ones served (listener_config::collections); empty = all.
  explicit hub(database db, std::chrono::seconds heartbeat = std::chrono::seconds::zero(),
               bool read_only = false, std::vector<std::string> collections = {});
  /// Closes every connection still open (like close_all) and waits for them, at most
  /// kHubShutdownTimeout.
  ~hub();
  hub(const hub&) = delete;
  hub& operator=(const hub&) = delete;

  /// Starts replicating over `connection`, a transport the adapter accepted.
  void accept(std::unique_ptr<message_endpoint_connection> connection, protocol_type protocol);

  /// Connections that have not reached STOPPED yet.
  size_t live_connections() const;
  /// Documents committed from peers (in) and sent to peers (out), since start.
  uint64_t docs_in() const;
  uint64_t docs_out() const;

  /// Asks every live connection to close (1001, going away), as the seed's closeAll().
  void close_all();
  /// Waits until no connection is live; false on timeout.
  bool wait_all_stopped(std::chrono::milliseconds timeout) const;

  struct state;

 private:
  std::shared_ptr<state> state_;
};

}  // namespace peerlite::tools
