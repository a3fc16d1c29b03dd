// peerlite: the passive peer. A message_endpoint_listener serves one database to every
// connection the app accepts (the seed's MessageEndpointListener):
//
//   peerlite::message_endpoint_listener listener({db, peerlite::protocol_type::message_stream});
//   listener.accept(std::make_unique<PassivePeerConnection>(...));  // on each incoming peer
//   ...
//   listener.close_all();                                           // teardown by this peer
//
// For each accepted connection peerlite calls its open() (on peerlite's threads); when the
// app completes open with success, a passive replicator answers the active peer's requests
// (push, pull, checkpoints), with no incoming conflicts (a conflicting proposal gets 409).
// A passive replicator never stops or retries on its own: it ends when its connection closes.
//
// Thread safety: every member may be called from any thread, except that the destructor and
// wait_closed() must not run inside a listener callback. Callbacks run on peerlite's threads,
// one at a time per listener; they must be quick and must not destroy the listener.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <peerlite/database.hpp>
#include <peerlite/listener_token.hpp>
#include <peerlite/message_endpoint.hpp>
#include <peerlite/replicator.hpp>
#include <vector>

namespace peerlite {

/// How a listener serves. Copyable.
struct listener_config {
  /// The database served to every peer. Required (an empty handle fails accept()).
  database db;
  /// What every accepted connection carries; must match the active peers' endpoints.
  protocol_type protocol = protocol_type::message_stream;
  /// BYTE_STREAM keep-alive (WebSocket PING); zero disables.
  std::chrono::seconds heartbeat{300};
  /// Serve pull only: a peer's push (changes, proposeChanges, rev) is answered with HTTP 403,
  /// which stops that peer's replicator with errc::read_only (not retried). Checkpoints are
  /// still stored, so pulling peers resume where they left off.
  bool read_only = false;
  /// The deflater of each connection's sending direction: window (log2 bytes, 9..15; values
  /// outside are clamped) and, below, memLevel. zlib's maximum (15, 9) costs about 268 KiB per
  /// connection; a hub with thousands of peers lowers them (every inflater reads any window, so
  /// peers need no change). The inflater always keeps a 32 KiB window because the peer chooses
  /// its own.
  int deflate_window_bits = 15;
  /// The deflater's zlib memLevel (1..9; values outside are clamped): less memory per
  /// connection for lower values, at some cost in speed and compression. See
  /// deflate_window_bits.
  int deflate_mem_level = 9;
  /// The collections served to collection-aware peers ("scope.name"; "_default" for the
  /// default one). Empty: every collection of the database. A peer asking for another one
  /// gets `null` in the getCollections reply, which stops its replicator with
  /// "Collection 'x' is not found on the remote server". Peers without collections always
  /// get the default collection.
  std::vector<std::string> collections;
  /// Requests one peer may have sent that we have not answered yet; one more closes its
  /// connection with a protocol error (a flood of requests cannot queue without bound). An
  /// honest peerlite peer keeps at most about 6,000 unanswered, Couchbase Lite about 15. Zero
  /// = no limit.
  size_t max_unreplied_requests = 16384;
};

/// One accepted connection as the listener sees it.
struct listener_connection_status {
  /// Stable id of the connection, unique within the listener, from 1 in accept order.
  uint64_t id = 0;
  /// The app's object it was accepted with; for identity only (it may be gone once the
  /// connection reported STOPPED).
  const message_endpoint_connection* connection = nullptr;
  /// The passive replicator's status: CONNECTING until open completes, then IDLE or BUSY,
  /// and finally STOPPED (with the error, if the connection failed).
  replicator_status status;
};

/// Called on every status change of any connection, the final STOPPED included.
using listener_change_fn = std::function<void(const listener_connection_status&)>;
/// Called with the documents a connection pushed to us (direction pull) or sent to the peer
/// (direction push), in batches.
using listener_document_fn =
    std::function<void(uint64_t connection_id, const std::vector<replicated_document>&)>;

/// The passive side: serves one database to every connection the app accepts, running one
/// passive replicator per connection. Not copyable; destroying it closes every connection.
/// See the top of this header for an example and the threading rules.
class message_endpoint_listener {
 public:
  /// Starts serving `config.db`. Cheap; nothing happens until accept().
  explicit message_endpoint_listener(listener_config config);
  /// Closes every connection (close_all) and waits until they have all ended, which is
  /// bounded by the close timeouts even if the app never completes close.
  ~message_endpoint_listener();
  message_endpoint_listener(const message_endpoint_listener&) = delete;
  message_endpoint_listener& operator=(const message_endpoint_listener&) = delete;

  /// Takes a new connection from a peer and starts it (peerlite calls its open()). Returns
  /// the connection's id, or an error (errc::invalid_argument for a null connection or an
  /// empty database, errc::stopped once the listener is being destroyed).
  expected<uint64_t> accept(std::unique_ptr<message_endpoint_connection> connection);
  /// As accept() above, for a connection the app shares: peerlite holds its reference until
  /// the connection has ended, then releases it.
  expected<uint64_t> accept(std::shared_ptr<message_endpoint_connection> connection);

  /// Politely closes one connection, by the object it was accepted with or by its id;
  /// peerlite then calls that connection's close(). Unknown connections are ignored.
  /// Returns at once; the connection reports STOPPED when done.
  void close(const message_endpoint_connection& connection);
  /// As close() above, by the id accept() returned.
  void close(uint64_t id);

  /// Closes every live connection (the seed's "Initiated by Passive Peer" teardown). Returns
  /// at once; each connection reports STOPPED when done. The listener keeps accepting.
  void close_all();
  /// As close_all(), but each connection ends with a recoverable error saying `reason`
  /// (WebSocket close code 4001): active peers go OFFLINE and retry with backoff instead of
  /// stopping. For a hub that shuts down to restart ("going away").
  void close_all(const std::string& reason);

  /// Blocks until no connection is live, or `timeout` passes; true when none is live.
  bool wait_closed(std::chrono::milliseconds timeout);

  /// The live connections and their status, in id order. Never blocks on replication.
  std::vector<listener_connection_status> connections() const;

  /// Registers a change listener; see listener_change_fn.
  listener_token add_change_listener(listener_change_fn fn);
  /// Registers a document listener; see listener_document_fn.
  listener_token add_document_listener(listener_document_fn fn);

  struct impl;

 private:
  std::shared_ptr<impl> impl_;
};

}  // namespace peerlite
