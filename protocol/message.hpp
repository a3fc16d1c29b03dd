// A whole BLIP message as the layers above the protocol see it: decoded from frames by
// protocol::session, or about to be encoded by it. Shared vocabulary for protocol/ and actors/.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace peerlite::protocol {

/// The low 3 bits of a frame's flags.
enum class message_type : uint8_t { request = 0, reply = 1, error = 2, ack_request = 4, ack_reply = 5 };

/// Frame flag bits above the type (PROTOCOL.md §1).
namespace flag {
constexpr uint8_t type_mask = 0x07;
constexpr uint8_t compressed = 0x08;
constexpr uint8_t urgent = 0x10;
constexpr uint8_t no_reply = 0x20;
constexpr uint8_t more_coming = 0x40;
}  // namespace flag

using property_list = std::vector<std::pair<std::string, std::string>>;

struct message {
  message_type type = message_type::request;
  uint64_t number = 0;          ///< request number; a reply carries its request's number
  bool urgent = false;
  bool compressed = false;      ///< on send: ask for deflate; on receive: it arrived deflated
  bool no_reply = false;
  property_list properties;     ///< in wire order
  std::string body;

  /// The value of property `key`, or `fallback` when absent.
  std::string_view property(std::string_view key, std::string_view fallback = {}) const {
    for (auto& [k, v] : properties)
      if (k == key) return v;
    return fallback;
  }
  bool has_property(std::string_view key) const {
    for (auto& kv : properties)
      if (kv.first == key) return true;
    return false;
  }
  std::string_view profile() const { return property("Profile"); }
  bool is_error() const { return type == message_type::error; }
  /// For an ERR reply: Error-Domain (default "BLIP") and Error-Code.
  std::string_view error_domain() const { return property("Error-Domain", "BLIP"); }
  int error_code() const {
    int code = 0;
    for (char c : property("Error-Code")) {
      if (c < '0' || c > '9') return 0;
      code = code * 10 + (c - '0');
      if (code > 1'000'000) return 0;
    }
    return code;
  }
};

/// Builds an ERR reply to request `number` (PROTOCOL.md §1).
inline message make_error_reply(uint64_t number, std::string_view domain, int code,
                                std::string text) {
  message m;
  m.type = message_type::error;
  m.number = number;
  m.properties = {{"Error-Domain", std::string(domain)}, {"Error-Code", std::to_string(code)}};
  m.body = std::move(text);
  return m;
}

}  // namespace peerlite::protocol
