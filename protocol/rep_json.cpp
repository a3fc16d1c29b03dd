// Internal JSON and property helpers of the replication codecs (see rep_json.hpp).
#include "protocol/rep_json.hpp"

namespace peerlite::protocol::rep::detail {

void append_json_string(std::string& out, std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  out.push_back('"');
  size_t run = 0;  /// start of the pending run of bytes that need no escaping
  for (size_t i = 0; i < s.size(); ++i) {
    auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c != '"' && c != '\\') continue;
    out.append(s.data() + run, i - run);
    run = i + 1;
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        out += "\\u00";
        out.push_back(kHex[c >> 4]);
        out.push_back(kHex[c & 0xF]);
    }
  }
  out.append(s.data() + run, s.size() - run);
  out.push_back('"');
}

bool valid_utf8(std::string_view s) { return simdjson::validate_utf8(s.data(), s.size()); }

bool valid_rev_id(std::string_view rev) {
  size_t dash = rev.find('-');
  if (dash == std::string_view::npos || dash == 0 || dash > 10) return false;
  if (rev[0] == '0') return false;
  for (size_t i = 0; i < dash; ++i)
    if (rev[i] < '0' || rev[i] > '9') return false;
  size_t suffix = rev.size() - dash - 1;
  if (suffix == 0 || suffix > 128) return false;
  for (size_t i = dash + 1; i < rev.size(); ++i)
    if (rev[i] <= 0x20 || rev[i] >= 0x7F) return false;
  return true;
}

message make_request(std::string_view profile) {
  message m;
  m.type = message_type::request;
  m.properties.emplace_back("Profile", std::string(profile));
  return m;
}

message make_reply(uint64_t number) {
  message m;
  m.type = message_type::reply;
  m.number = number;
  return m;
}

void add_collection(message& m, const std::optional<uint32_t>& collection) {
  if (collection) add_property(m, "collection", std::to_string(*collection));
}

status check_request(const message& m, std::string_view profile) {
  if (m.type != message_type::request) return status{bad(profile, "expected a request message")};
  if (m.profile() != profile)
    return status{bad(profile, "wrong Profile '" + std::string(m.profile()) + "'")};
  return {};
}

expected<bool> bool_property(const message& m, std::string_view key, bool fallback,
                             std::string_view what) {
  if (!m.has_property(key)) return fallback;
  std::string_view v = m.property(key);
  if (v == "true" || v == "1") return true;
  if (v == "false" || v == "0" || v.empty()) return false;
  return bad(what, "property " + std::string(key) + " is not a boolean");
}

expected<uint64_t> uint_property(const message& m, std::string_view key, uint64_t fallback,
                                 uint64_t max, std::string_view what) {
  if (!m.has_property(key)) return fallback;
  std::string_view v = m.property(key);
  uint64_t out = 0;
  auto r = std::from_chars(v.data(), v.data() + v.size(), out);
  if (v.empty() || r.ec != std::errc{} || r.ptr != v.data() + v.size() || out > max)
    return bad(what,
               "property " + std::string(key) + " is not an integer in 0.." + std::to_string(max));
  return out;
}

expected<std::optional<uint32_t>> collection_property(const message& m, std::string_view what) {
  if (!m.has_property("collection")) return std::optional<uint32_t>{};
  auto v = uint_property(m, "collection", 0, UINT32_MAX, what);
  if (!v) return v.err();
  return std::optional<uint32_t>{static_cast<uint32_t>(*v)};
}

expected<std::string> required_property(const message& m, std::string_view key,
                                        std::string_view what) {
  std::string_view v = m.property(key);
  if (v.empty()) return bad(what, "missing property " + std::string(key));
  if (!valid_utf8(v)) return bad(what, "property " + std::string(key) + " is not UTF-8");
  return std::string(v);
}

expected<simdjson::dom::element> parse_json(std::string_view text, std::string_view what) {
  /// One parser per thread: it keeps its buffers, so hot decoders do not allocate per call.
  thread_local simdjson::dom::parser parser;
  /// A huge rev body grows the parser's buffers; give the memory back on the next normal parse
  /// instead of keeping it for the thread's lifetime.
  constexpr size_t kKeepCapacity = 1 << 20;
  if (parser.capacity() > kKeepCapacity && text.size() <= kKeepCapacity)
    if (parser.allocate(kKeepCapacity)) parser = simdjson::dom::parser{};  /// failed: start over
  simdjson::dom::element e;
  auto err = parser.parse(text.data(), text.size()).get(e);
  if (err)
    return bad(what, std::string("invalid JSON body (") + simdjson::error_message(err) + ")");
  return e;
}

std::string sequence_text(simdjson::dom::element e) {
  uint64_t u = 0;
  if (e.is_uint64() && !e.get(u)) {
    std::string s;
    append_u64(s, u);
    return s;
  }
  if (e.is_null()) return {};  /// null and absent mean the same: no sequence
  return simdjson::minify(e);
}

static bool all_digits(std::string_view s) {
  for (char c : s)
    if (c < '0' || c > '9') return false;
  return !s.empty() && (s.size() == 1 || s[0] != '0');
}

expected<sequence_json> sequence_from_property(std::string_view prop, std::string_view what) {
  if (prop.empty() || all_digits(prop)) return sequence_json(prop);  /// the common case: N
  if (!valid_utf8(prop)) return bad(what, "sequence property is not UTF-8");
  if (auto e = parse_json(prop, what)) return sequence_text(*e);
  std::string quoted;
  append_json_string(quoted, prop);
  return quoted;
}

std::string sequence_to_property(std::string_view seq) {
  if (seq.size() < 2 || seq.front() != '"') return std::string(seq);
  auto e = parse_json(seq, "sequence");
  if (!e || !e->is_string()) return std::string(seq);
  std::string bare{std::string_view(*e)};
  /// Unquoted only when it reads back as the same string: "" or "12" must keep their quotes.
  if (bare.empty() || all_digits(bare) || parse_json(bare, "sequence")) return std::string(seq);
  return bare;
}
}  // namespace peerlite::protocol::rep::detail
