#include "adapters/websocket/ws_credentials.hpp"

#include <boost/beast/core/detail/base64.hpp>

namespace peerlite::net {
namespace base64 = boost::beast::detail::base64;

std::optional<credentials> parse_user_option(std::string_view text) {
  auto colon = text.find(':');
  if (colon == std::string_view::npos || colon == 0) return std::nullopt;
  return credentials{std::string(text.substr(0, colon)), std::string(text.substr(colon + 1))};
}

std::string basic_auth_header(const credentials& c) {
  std::string plain = c.user + ":" + c.password;
  std::string out(base64::encoded_size(plain.size()), '\0');
  out.resize(base64::encode(out.data(), plain.data(), plain.size()));
  return "Basic " + out;
}

std::optional<credentials> parse_basic_auth(std::string_view header) {
  constexpr std::string_view kPrefix = "Basic ";
  if (header.substr(0, kPrefix.size()) != kPrefix) return std::nullopt;
  auto coded = header.substr(kPrefix.size());
  while (!coded.empty() && coded.back() == '=')
    coded.remove_suffix(1);                             /// decode() stops at padding
  std::string plain((coded.size() + 3) / 4 * 3, '\0');  /// decoded_size() rounds down
  auto [written, read] = base64::decode(plain.data(), coded.data(), coded.size());
  if (read != coded.size()) return std::nullopt;
  plain.resize(written);
  return parse_user_option(plain);
}

bool same_credentials(const credentials& a, const credentials& b) {
  auto expected = a.user + ":" + a.password;
  auto given = b.user + ":" + b.password;
  unsigned char diff = expected.size() == given.size() ? 0 : 1;
  for (size_t i = 0; i < given.size(); ++i)
    diff |= static_cast<unsigned char>(given[i] ^
                                       expected[i % (expected.size() ? expected.size() : 1)]);
  return diff == 0 && !expected.empty();
}

}  // namespace peerlite::net
