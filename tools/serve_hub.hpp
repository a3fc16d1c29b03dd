// The hub behind `peerlite serve` and `peerlite demo`: it takes connections the network
// listeners accepted, runs one passive replicator per connection on one database, counts
// documents in and out, and closes everything on shutdown.
//
// Until the public message_endpoint_listener lands, the hub spawns the passive replicator and
// the connection actor itself (the same two calls the listener makes).
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
  explicit hub(database db,
               std::chrono::milliseconds heartbeat = std::chrono::milliseconds::zero());
  /// Closes every connection still open (like close_all) and waits for them, at most
  /// kHubShutdownTimeout.
  ~hub();
  hub(const hub&) = delete;
  hub& operator=(const hub&) = delete;

  /// Starts replicating over `connection`, a transport the adapter accepted.
  void accept(std::unique_ptr<message_endpoint_connection> connection, protocol_type protocol);

  /// Connections whose passive replicator has not reached STOPPED yet.
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
