// `peerlite serve --admin`: a small plain-HTTP server (Boost.Beast, on the hub's io_runtime)
// for people and monitoring, separate from the peers' ports. Off unless --admin is given;
// meant for loopback (the default host), since it has no authentication.
//
//   GET /          a status page (tools/admin_page.hpp) that polls /_status every second
//   GET /metrics   Prometheus text exposition format 0.0.4 (render_metrics)
//   GET /_status   the same figures as JSON, plus one entry per live connection
//   other paths    404; other methods 405 (Allow: GET)
//
// Each admin connection may send requests one after another (keep-alive), each within
// kAdminRequestTimeout; a request header over kAdminMaxRequestHeader gets 431 and the
// connection closes. At most kAdminMaxConnections are open at once; more are closed at once.
//
// Thread safety: start(), stop() and port() may be called from any thread; requests are
// answered on the io_runtime's threads. The hub must outlive stop() (or the destructor):
// stop() waits for a request being answered, and later requests get 503.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "actors/metrics.hpp"
#include "peerlite/status.hpp"
#include "peerlite/hub.hpp"

namespace peerlite::net {
class io_runtime;
}

namespace peerlite::tools {

/// Longest an admin client may take to send one request (or to idle between keep-alive
/// requests), and to read the answer: a scraper or the status page asks within milliseconds.
constexpr std::chrono::seconds kAdminRequestTimeout{10};
/// The largest request header accepted: a browser's is ~1 KiB, with localhost cookies a few.
constexpr std::size_t kAdminMaxRequestHeader = 8 * 1024;
/// Admin connections open at once: a few scrapers and browser tabs; bounds the descriptors a
/// misbehaving client can hold away from peers.
constexpr std::size_t kAdminMaxConnections = 32;

/// Where --admin listens: "PORT" (loopback), "HOST:PORT" or "[V6HOST]:PORT"; port 0 = any free
/// port.
struct admin_address {
  std::string host = "127.0.0.1";
  uint16_t port = 0;
};
/// Parses the --admin value; invalid_argument with what is wrong.
expected<admin_address> parse_admin_address(const std::string& text);

/// What the process itself uses, from /proc (Linux).
struct process_figures {
  uint64_t resident_bytes = 0;
  double cpu_seconds = 0;
  uint64_t open_fds = 0;
  uint64_t max_fds = 0;
  double start_time_seconds = 0;  ///< Unix time the process started
};
process_figures read_process_figures();

/// Everything an admin answer shows, read at once.
struct admin_figures {
  hub_snapshot hub;
  metrics::engine_snapshot engine;
  process_figures process;
  uint64_t bytes_in = 0, bytes_out = 0;  ///< net::process_traffic()
  std::chrono::system_clock::time_point now;
};
admin_figures read_admin_figures(const hub& h);

/// The /metrics body (Prometheus text format 0.0.4).
std::string render_metrics(const admin_figures& f);
/// The /_status body (JSON).
std::string render_status(const admin_figures& f);

class admin_server {
 public:
  /// Binds host:port and starts answering for `h`. Fails with io_error ("127.0.0.1:80:
  /// permission denied") or invalid_argument (a host that is not an IP address).
  static expected<std::unique_ptr<admin_server>> start(net::io_runtime& io,
                                                       const admin_address& where, const hub& h);
  /// Stops (see stop()).
  ~admin_server();
  admin_server(const admin_server&) = delete;
  admin_server& operator=(const admin_server&) = delete;

  /// Stops accepting and detaches from the hub: requests already being answered finish
  /// first, later ones get 503. Idempotent.
  void stop();
  /// The bound port (useful after port 0).
  uint16_t port() const;

  struct impl;

 private:
  explicit admin_server(std::shared_ptr<impl> p) : impl_(std::move(p)) {}
  std::shared_ptr<impl> impl_;
};

/// `peerlite serve --admin TEXT`: parses TEXT, starts the server and logs
/// "admin at http://HOST:PORT/" (the real port), or fails the command with the reason, e.g.
/// "--admin: cannot listen on 127.0.0.1:80: permission denied".
std::unique_ptr<admin_server> start_admin_or_fail(const std::string& text, net::io_runtime& io,
                                                  const hub& h);

}  // namespace peerlite::tools
