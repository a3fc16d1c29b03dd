// peerlite: a sync hub over the network, embedded in an app. A hub serves one database to any
// number of peers on ws://, wss://, tcp:// and tls:// listeners, one passive replicator per
// connection: what `peerlite serve` runs, in a few lines of the app's own code.
//
//   auto db = peerlite::database::open("hub.sqlite");
//   peerlite::hub_options o;
//   o.listen = {"ws://127.0.0.1:0"};                 // port 0: any free port
//   auto hub = peerlite::hub::start(*db, o);
//   if (!hub) { std::cerr << hub.err().message << "\n"; return 1; }
//   std::cout << (*hub)->urls()[0] << "\n";           // ws://127.0.0.1:41234/hub
//   ...
//   hub->reset();                                     // closes every connection, then stops
//
// Peers reach it with make_url_endpoint() (peerlite/net.hpp), `peerlite sync --remote URL`, or
// Couchbase Lite's URLEndpoint at ws://HOST:PORT/NAME.
//
// Thread safety: every member may be called from any thread; hub_options::on_event runs on the
// hub's socket thread and must be quick.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <peerlite/database.hpp>
#include <peerlite/status.hpp>
#include <string>
#include <vector>

namespace peerlite {

/// A connection opened, closed or refused by one of a hub's listeners.
struct hub_event {
  /// What happened to the connection.
  enum kind_type {
    opened,   ///< a peer connected (after the TLS handshake and HTTP upgrade, if any)
    closed,   ///< an opened connection ended
    refused,  ///< a socket was turned away before it became a connection (auth, limits, ...)
  };
  /// What happened.
  kind_type kind = opened;
  std::string transport;  ///< "ws", "wss", "tcp" or "tls"
  std::string peer;       ///< the client's "ip:port"
  std::string reason;     ///< closed, refused: why ("401 wrong user or password", ...)
};

/// How a hub serves. Every limit has the default `peerlite serve` uses.
struct hub_options {
  /// Where to listen: "ws://HOST:PORT", "wss://HOST:PORT", "tcp://HOST:PORT" or
  /// "tls://HOST:PORT" (port 0: any free port; urls() tells which). At least one.
  std::vector<std::string> listen;
  /// The database's name in URLs (ws://HOST:PORT/NAME). Empty: the database file's stem. It
  /// must start with a lower-case letter and hold only a-z, 0-9 and _$()+-, the only names
  /// Couchbase Lite peers reach.
  std::string name;
  /// Serve pull only: every push is refused with HTTP 403.
  bool read_only = false;
  /// WebSocket listeners require HTTP Basic auth with this user and `password`; empty (the
  /// default): no auth. Set both or neither. Not allowed with tcp:// or tls:// listeners, which
  /// cannot check passwords (errc::invalid_argument).
  std::string user;
  /// The password for `user`; empty exactly when `user` is.
  std::string password;
  /// The collections served ("scope.name"); empty = all.
  std::vector<std::string> collections;
  /// TLS for wss:// and tls:// listeners: the PEM certificate (chain) file; or, with
  /// self_signed, where the made certificate is kept (default: beside the database,
  /// DB.cert.pem). Setting it without a wss:// or tls:// listener is errc::invalid_argument.
  std::string cert_file;
  /// The PEM private key file for cert_file; with self_signed, where the made key is kept
  /// (default: beside the database, DB.key.pem, readable by its owner only).
  std::string key_file;
  /// Instead of a given certificate, make a P-256 key and self-signed certificate on first
  /// start, keep them at cert_file and key_file and reuse them until the certificate expires.
  /// certificate() then tells its SHA-256, for clients to pin.
  bool self_signed = false;
  /// A peer silent this long is dropped; tcp:// peers are PINGed at half of it.
  std::chrono::seconds idle_timeout{60};
  /// A connection that has not finished its TLS handshake and HTTP upgrade by then is dropped.
  std::chrono::seconds handshake_timeout{10};
  /// The largest WebSocket message a peer may send; a bigger one closes its connection.
  size_t max_frame_bytes = 1024 * 1024;
  /// Most connections at once (0 = no limit); more are refused (HTTP 503 with the reason over
  /// WebSocket, closed over tcp://).
  size_t max_connections = 20000;
  /// Most connections at once from one client address (0, the default: no limit), refused
  /// as for max_connections. Off by default because fleets behind one NAT share an address.
  size_t max_connections_per_address = 0;
  /// Requests one peer may have sent that the hub has not answered yet; one more closes its
  /// connection (listener_config::max_unreplied_requests). 0 = no limit.
  size_t max_unreplied_requests = 16384;
  /// Called for every connection opened, closed or refused (e.g. to log it).
  std::function<void(const hub_event&)> on_event;
};

/// One live connection.
struct hub_connection_info {
  uint64_t id = 0;                  ///< unique per transport
  std::string transport;            ///< "ws" (ws:// and wss://) or "tcp" (tcp:// and tls://)
  std::string peer;                 ///< the client's "ip:port"
  std::optional<std::string> user;  ///< the Basic-auth user it logged in as, if any
  std::string activity;             ///< "connecting", "idle", "busy", ... (activity_level)
  uint64_t docs_in = 0;             ///< documents the peer pushed that the hub committed
  uint64_t docs_out = 0;            ///< documents the hub sent to the peer
  std::chrono::system_clock::time_point since;  ///< when the hub accepted it
};

/// Everything a hub counts, read at once (each figure on its own; not one transaction).
struct hub_snapshot {
  std::vector<hub_connection_info> connections;  ///< live ones, ws first, in id order
  /// Live connections per transport ("ws", "tcp") and activity name.
  std::map<std::string, std::map<std::string, uint64_t>> states;
  uint64_t docs_in = 0;   ///< documents committed from peers since start (as hub::docs_in())
  uint64_t docs_out = 0;  ///< documents sent to peers since start (as hub::docs_out())
  /// Revisions of a peer's push that carried an error (refused or failed to save), since start.
  uint64_t revs_rejected_in = 0;
  /// Revisions the hub failed to send to a peer, since start.
  uint64_t revs_rejected_out = 0;
  /// Connections that ended with an error, by kind ("http_403", "transport", "protocol", ...).
  std::map<std::string, uint64_t> replication_errors;
  /// Sockets refused before they became connections, by reason class ("http_401",
  /// "handshake_timeout", "bad_request", "upgrade_failed", "other").
  std::map<std::string, uint64_t> refused;
  /// How many of the refused sockets were HTTP 401 (missing or wrong credentials).
  uint64_t auth_failures = 0;
  /// Connections accepted per transport since start.
  std::map<std::string, uint64_t> accepted;
};

/// The self-signed certificate a hub made or reused (hub_options::self_signed).
struct hub_certificate {
  /// The PEM file the certificate is kept in (hub_options::cert_file, or its default).
  std::string cert_file;
  std::string sha256;    ///< the certificate's SHA-256, "AB:CD:...", what clients pin
  bool created = false;  ///< made on this start (else reused)
};

/// Couchbase Lite's rule for a database name in a URL, which hub_options::name must follow: it
/// starts with a lower-case letter and holds only a-z, 0-9 and _$()+- (Couchbase Lite peers
/// reach no other name).
bool is_valid_hub_name(const std::string& name);
/// One character such a name may hold.
bool is_hub_name_char(char c);

/// A sync hub: serves one database to network peers on ws://, wss://, tcp:// and tls://
/// listeners, one passive replicator per connection. Made by start(); not copyable;
/// destroying it shuts it down. Link peerlite::net. See the top of this header for an example.
class hub {
 public:
  /// Binds every listener and starts serving `db`. Fails with a clear error (invalid_argument
  /// for bad options or a name Couchbase Lite cannot reach; io_error for a port in use or an
  /// unreadable certificate), having bound nothing.
  static expected<std::unique_ptr<hub>> start(database db, hub_options options);
  /// Stops accepting, closes every connection with a recoverable error (close code 4001,
  /// "the hub is shutting down": continuous peers retry) and waits for them, bounded.
  ~hub();
  hub(const hub&) = delete;
  hub& operator=(const hub&) = delete;

  /// The listeners' URLs as peers use them, with the real ports: "ws://127.0.0.1:41234/NAME".
  const std::vector<std::string>& urls() const;
  /// The self-signed certificate, when hub_options::self_signed.
  const std::optional<hub_certificate>& certificate() const;

  /// Connections that have not ended yet.
  size_t live_connections() const;
  /// Connections accepted since start.
  uint64_t accepted_connections() const;
  /// Documents committed from peers, since start.
  uint64_t docs_in() const;
  /// Documents sent to peers, since start.
  uint64_t docs_out() const;
  /// Every figure above and per connection.
  hub_snapshot snapshot() const;

  /// Stops accepting new connections; live ones go on.
  void stop_listening();
  /// Asks every live connection to close with a recoverable error ("the hub is shutting
  /// down", close code 4001). Returns at once; the hub keeps accepting.
  void close_all();
  /// Waits until no connection is live; false on timeout.
  bool wait_all_stopped(std::chrono::milliseconds timeout) const;

  struct impl;

 private:
  explicit hub(std::unique_ptr<impl> p);
  std::unique_ptr<impl> impl_;
};

}  // namespace peerlite
