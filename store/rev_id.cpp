#include "store/rev_id.hpp"


#include <charconv>
#include <nlohmann/json.hpp>

#include "protocol/digest.hpp"

namespace peerlite::store {

std::optional<rev_parts> parse_rev(std::string_view rev) {
  auto dash = rev.find('-');
  if (dash == std::string_view::npos || dash == 0 || dash + 1 >= rev.size()) return std::nullopt;
  rev_parts parts;
  auto [end, ec] = std::from_chars(rev.data(), rev.data() + dash, parts.generation);
  if (ec != std::errc{} || end != rev.data() + dash || parts.generation == 0) return std::nullopt;
  parts.digest = rev.substr(dash + 1);
  for (char c : parts.digest) {
    if (static_cast<unsigned char>(c) <= ' ' || c == ',' || c == '"') return std::nullopt;
  }
  return parts;
}

uint64_t rev_generation(std::string_view rev) {
  auto parts = parse_rev(rev);
  return parts ? parts->generation : 0;
}

int compare_revs(std::string_view a, std::string_view b) {
  auto pa = parse_rev(a);
  auto pb = parse_rev(b);
  uint64_t ga = pa ? pa->generation : 0;
  uint64_t gb = pb ? pb->generation : 0;
  if (ga != gb) return ga < gb ? -1 : 1;
  std::string_view da = pa ? pa->digest : a;
  std::string_view db = pb ? pb->digest : b;
  int c = da.compare(db);
  return c < 0 ? -1 : (c > 0 ? 1 : 0);
}

expected<std::string> canonical_json(std::string_view json) {
  auto parsed = nlohmann::json::parse(json, nullptr, /*allow_exceptions=*/false);
  if (parsed.is_discarded()) return error{errc::invalid_argument, "body is not valid JSON"};
  if (!parsed.is_object()) return error{errc::invalid_argument, "body is not a JSON object"};
  /// nlohmann's default object type is a std::map: dump() already sorts keys, no spaces.
  return parsed.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::string compute_rev_id(std::string_view parent, bool deleted, std::string_view canonical_body) {
  auto len = static_cast<char>(static_cast<unsigned char>(parent.size() & 0xFF));
  char del = deleted ? 1 : 0;
  auto digest =
      protocol::sha1_digest().update({&len, 1}).update(parent).update({&del, 1}).update(
          canonical_body).finish();
  static constexpr char kHex[] = "0123456789abcdef";
  uint64_t gen = parent.empty() ? 1 : rev_generation(parent) + 1;
  std::string out = std::to_string(gen) + "-";
  for (unsigned char b : digest) {
    out.push_back(kHex[b >> 4]);
    out.push_back(kHex[b & 0xF]);
  }
  return out;
}

}  // namespace peerlite::store
