#include "adapters/tcp/url.hpp"

#include <charconv>

namespace peerlite::net {
namespace {

expected<uint16_t> parse_port(std::string_view text, std::string_view url) {
  unsigned value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  /// Port 0 is allowed: a listener then picks a free port (a client would get "refused").
  if (ec != std::errc{} || end != text.data() + text.size() || value > 65535)
    return error{errc::invalid_argument,
                 std::string(url) + ": bad port '" + std::string(text) + "' (want 0-65535)"};
  return static_cast<uint16_t>(value);
}

}  // namespace

std::string endpoint_url::to_string() const {
  bool v6 = host.find(':') != std::string::npos;
  std::string h = v6 ? "[" + host + "]" : host;
  return scheme + "://" + h + ":" + std::to_string(port) + "/" + db;
}

expected<endpoint_url> parse_url(std::string_view text) {
  auto bad = [&](std::string why) {
    return error{errc::invalid_argument, std::string(text) + ": " + why};
  };
  endpoint_url url;
  auto sep = text.find("://");
  if (sep == std::string_view::npos) return bad("not a URL (want ws://host:port/db, wss://, tcp:// or tls://)");
  url.scheme = std::string(text.substr(0, sep));
  if (url.scheme != "tcp" && url.scheme != "ws" && url.scheme != "tls" && url.scheme != "wss")
    return bad("unsupported scheme '" + url.scheme + "' (want ws, wss, tcp or tls)");
  auto rest = text.substr(sep + 3);
  auto slash = rest.find('/');
  auto authority = rest.substr(0, slash);
  auto path = slash == std::string_view::npos ? std::string_view{} : rest.substr(slash + 1);
  std::string_view port_text;
  if (!authority.empty() && authority.front() == '[') {  // [v6]:port
    auto close = authority.find(']');
    if (close == std::string_view::npos) return bad("unclosed '[' in host");
    url.host = std::string(authority.substr(1, close - 1));
    auto after = authority.substr(close + 1);
    if (!after.empty() && after.front() == ':') port_text = after.substr(1);
  } else {
    auto colon = authority.rfind(':');
    url.host = std::string(authority.substr(0, colon));
    if (colon != std::string_view::npos) port_text = authority.substr(colon + 1);
  }
  if (url.host.empty()) return bad("missing host");
  url.port = url.websocket() ? kDefaultWsPort : kDefaultTcpPort;
  if (!port_text.empty()) {
    auto port = parse_port(port_text, text);
    if (!port) return port.err();
    url.port = *port;
  }
  if (path.size() >= 10 && path.substr(path.size() - 10) == "/_blipsync") path.remove_suffix(10);
  while (!path.empty() && path.back() == '/') path.remove_suffix(1);
  if (path.find('/') != std::string_view::npos) return bad("database name may not contain '/'");
  url.db = std::string(path);
  return url;
}

}  // namespace peerlite::net
