#include "adapters/websocket/net_endpoint.hpp"

#include <mutex>

#include "adapters/tcp/io_runtime.hpp"
#include "adapters/tcp/tcp_connection.hpp"
#include "adapters/tcp/url.hpp"
#include "adapters/websocket/ws_connection.hpp"
#include "peerlite/net.hpp"

namespace peerlite::net {

expected<message_endpoint> make_endpoint(io_runtime& io, const std::string& url,
                                         const credentials& creds, connection_observer observer,
                                         const tls_client_options& tls) {
  auto parsed = parse_url(url);
  if (!parsed) return parsed.err();
  if (parsed->db.empty())
    return error{errc::invalid_argument,
                 url + ": no database name (want " + parsed->scheme + "://host:port/<db>)"};
  bool tls_asked = tls.insecure || !tls.ca_file.empty() || !tls.pinned_sha256.empty();
  if (tls_asked && !parsed->secure())
    return error{errc::invalid_argument,
                 url + ": --ca, --pinned-cert and --insecure are for wss:// and tls:// URLs"};
  std::optional<tls_client> client;
  if (parsed->secure()) {
    auto made = make_tls_client(tls);
    if (!made) return made.err();
    client = std::move(*made);
  }
  if (parsed->websocket())
    return make_ws_endpoint(io, *parsed, creds, {}, std::move(observer), std::move(client));
  if (!creds.empty())
    return error{errc::invalid_argument,
                 url + ": --user needs ws:// or wss:// (a raw byte stream has no handshake to "
                       "carry credentials)"};
  return make_tcp_endpoint(io, *parsed, {}, std::move(observer), std::move(client));
}

namespace {

/// The socket thread every make_url_endpoint endpoint shares, made on first use and kept while
/// any such endpoint lives (each holds it in its delegate).
std::shared_ptr<io_runtime> shared_runtime() {
  static std::mutex mtx;
  static std::weak_ptr<io_runtime> current;
  std::lock_guard lock(mtx);
  auto rt = current.lock();
  if (!rt) {
    rt = std::make_shared<io_runtime>(1);
    current = rt;
  }
  return rt;
}

}  // namespace

}  // namespace peerlite::net

namespace peerlite {

expected<message_endpoint> make_url_endpoint(const std::string& url,
                                             const url_endpoint_options& options) {
  auto rt = net::shared_runtime();
  net::tls_client_options tls;
  tls.ca_file = options.ca_file;
  tls.pinned_sha256 = options.pinned_cert_sha256;
  tls.insecure = options.insecure;
  if (options.user.empty() != options.password.empty())
    return error{errc::invalid_argument, url + ": a user needs a password, and a password a user"};
  auto ep = net::make_endpoint(*rt, url, {options.user, options.password}, {}, tls);
  if (!ep) return ep.err();
  ep->delegate = [inner = std::move(ep->delegate), rt](const message_endpoint& e) {
    return inner(e);
  };
  return ep;
}

}  // namespace peerlite
