#include "adapters/websocket/net_endpoint.hpp"

#include "adapters/tcp/tcp_connection.hpp"
#include "adapters/tcp/url.hpp"
#include "adapters/websocket/ws_connection.hpp"

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

}  // namespace peerlite::net
