// Helpers shared by the BLIP tests: hex, capture loading, pumping frames between sessions.
#pragma once

#include <fstream>
#include <nlohmann/json.hpp>
#include <ostream>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "protocol/session.hpp"

namespace peerlite::protocol {
inline std::ostream& operator<<(std::ostream& os, message_type t) {
  return os << "message_type(" << static_cast<int>(t) << ")";
}
}  // namespace peerlite::protocol

namespace blip_test {

using peerlite::protocol::message;
using peerlite::protocol::session;

inline std::string unhex(std::string_view hex) {
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    throw std::runtime_error("bad hex digit");
  };
  std::string out;
  for (size_t i = 0; i + 1 < hex.size(); i += 2)
    out.push_back(static_cast<char>(nibble(hex[i]) * 16 + nibble(hex[i + 1])));
  return out;
}

inline std::string hex(std::string_view bytes) {
  static const char* d = "0123456789abcdef";
  std::string out;
  for (unsigned char c : bytes) {
    out.push_back(d[c >> 4]);
    out.push_back(d[c & 15]);
  }
  return out;
}

/// One binary WebSocket message of a capture: exactly one BLIP frame.
struct wire_frame {
  bool c2s = false;
  std::string bytes;
};

/// The BLIP frames (opcode 2) of a capture in tests/vectors/cbl-3.2, in wire order.
inline std::vector<wire_frame> load_capture(const std::string& name) {
  std::string path = std::string(PEERLITE_VECTORS_DIR) + "/" + name + ".jsonl";
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot open " + path);
  std::vector<wire_frame> frames;
  for (std::string line; std::getline(in, line);) {
    if (line.empty()) continue;
    auto j = nlohmann::json::parse(line);
    if (!j.contains("opcode") || j["opcode"] != 2) continue;
    frames.push_back({j["dir"] == "c2s", unhex(j["payload"].get<std::string>())});
  }
  return frames;
}

/// Moves every frame `from` has ready into `to`; returns the first error, or ok.
inline peerlite::status pump(session& from, session& to) {
  std::string frame;
  while (from.next_frame(frame))
    if (auto st = to.receive_frame(frame); !st) return st;
  return {};
}

inline message make_request(std::string profile, std::string body = {}) {
  message m;
  m.properties = {{"Profile", std::move(profile)}};
  m.body = std::move(body);
  return m;
}

}  // namespace blip_test
