// HTTP Basic-auth credentials for the WebSocket adapter (client sends, listener checks).
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace peerlite::net {

/// A user and password; an empty user means "no auth".
struct credentials {
  std::string user;
  std::string password;
  bool empty() const { return user.empty(); }
};

/// Parses "NAME:PASSWORD" (the --user option); nullopt when there is no ':' or no name.
std::optional<credentials> parse_user_option(std::string_view text);

/// "Basic base64(user:password)", the Authorization header value.
std::string basic_auth_header(const credentials& c);

/// Decodes an Authorization header value; nullopt when it is not valid Basic auth.
std::optional<credentials> parse_basic_auth(std::string_view header);

/// Compares credentials in time independent of where they differ.
bool same_credentials(const credentials& a, const credentials& b);

}  // namespace peerlite::net
