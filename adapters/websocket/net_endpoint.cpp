#include "adapters/websocket/net_endpoint.hpp"

#include "adapters/tcp/tcp_connection.hpp"
#include "adapters/tcp/url.hpp"
#include "adapters/websocket/ws_connection.hpp"

namespace peerlite::net {

expected<message_endpoint> make_endpoint(io_runtime& io, const std::string& url,
                                         const credentials& creds, connection_observer observer) {
  auto parsed = parse_url(url);
  if (!parsed) return parsed.err();
  if (parsed->db.empty())
    return error{errc::invalid_argument,
                 url + ": no database name (want " + parsed->scheme + "://host:port/<db>)"};
  if (parsed->scheme == "ws") return make_ws_endpoint(io, *parsed, creds, {}, std::move(observer));
  if (!creds.empty())
    return error{errc::invalid_argument,
                 url + ": --user needs ws:// (tcp:// has no handshake to carry credentials)"};
  return make_tcp_endpoint(io, *parsed, {}, std::move(observer));
}

}  // namespace peerlite::net
