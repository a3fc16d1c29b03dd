#include "tests/conformance/capture.hpp"

#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <stdexcept>

#include "protocol/frame.hpp"
#include "protocol/session.hpp"

namespace conformance {

namespace {

std::string unhex(std::string_view hex) {
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    throw std::runtime_error("bad hex digit in capture");
  };
  std::string out;
  out.reserve(hex.size() / 2);
  for (size_t i = 0; i + 1 < hex.size(); i += 2)
    out.push_back(static_cast<char>(nibble(hex[i]) * 16 + nibble(hex[i + 1])));
  return out;
}

/// "ws://<Host>/<db>" from "GET /<db>/_blipsync HTTP/1.1\r\nHost: <Host>\r\n...".
std::string url_of(const std::string& http) {
  auto sp = http.find(' ');
  auto sp2 = http.find(' ', sp + 1);
  if (sp == std::string::npos || sp2 == std::string::npos) return {};
  std::string path = http.substr(sp + 1, sp2 - sp - 1);
  if (auto b = path.rfind("/_blipsync"); b != std::string::npos) path.resize(b);
  auto h = http.find("Host: ");
  if (h == std::string::npos) return {};
  auto e = http.find("\r\n", h);
  return "ws://" + http.substr(h + 6, e - h - 6) + path;
}

}  // namespace

std::vector<size_t> capture::requests(bool c2s_dir, std::string_view profile) const {
  std::vector<size_t> out;
  for (size_t i = 0; i < msgs.size(); ++i)
    if (msgs[i].c2s == c2s_dir && msgs[i].is_request() && msgs[i].profile() == profile)
      out.push_back(i);
  return out;
}

const cap_msg* capture::find_rev(std::string_view id, std::string_view rev) const {
  for (auto& m : msgs)
    if (m.is_request() && m.profile() == "rev" && m.msg.property("id") == id &&
        (rev.empty() || m.msg.property("rev") == rev))
      return &m;
  return nullptr;
}

capture load_capture(const std::string& name) {
  capture c;
  c.name = name;
  std::string path = std::string(PEERLITE_VECTORS_DIR) + "/" + name + ".jsonl";
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot open " + path);
  proto::session rx[2];  // rx[1] decodes c2s frames (as the server), rx[0] s2c (as the client)
  uint64_t max_request[2] = {0, 0};
  std::string scratch;
  size_t line_no = 0;
  for (std::string line; std::getline(in, line);) {
    ++line_no;
    if (line.empty()) continue;
    auto j = nlohmann::json::parse(line);
    bool c2s = j.value("dir", std::string()) == "c2s";
    if (j.contains("http")) {
      if (c2s) c.url = url_of(j["http"].get<std::string>());
      continue;
    }
    int opcode = j.value("opcode", 0);
    std::string payload = unhex(j.value("payload", std::string()));
    if (opcode == 8) {
      int code = payload.size() >= 2
                     ? (static_cast<uint8_t>(payload[0]) << 8) | static_cast<uint8_t>(payload[1])
                     : 1005;
      (c2s ? c.close_code_c2s : c.close_code_s2c) = code;
      continue;
    }
    if (opcode != 2) continue;
    std::string_view rest = payload;
    proto::frame_header h;
    if (!proto::read_frame_header(rest, h).ok())
      throw std::runtime_error(name + ": bad frame header on line " + std::to_string(line_no));
    if (h.is_ack()) continue;
    if (h.type() == proto::message_type::request && h.number > max_request[c2s]) {
      max_request[c2s] = h.number;
      proto::message stand_in;
      stand_in.no_reply = h.flags & proto::flag::no_reply;
      if (rx[!c2s].send(stand_in) != h.number)
        throw std::runtime_error(name + ": request numbers out of order on line " +
                                 std::to_string(line_no));
      while (rx[!c2s].next_frame(scratch)) {
      }
    }
    if (auto st = rx[c2s].receive_frame(payload); !st.ok())
      throw std::runtime_error(name + " line " + std::to_string(line_no) + ": " + st.message());
    while (auto m = rx[c2s].next_incoming()) c.msgs.push_back({c2s, std::move(*m)});
    while (rx[c2s].next_frame(scratch)) {
    }
  }
  std::map<std::pair<bool, uint64_t>, size_t> request_at;
  for (size_t i = 0; i < c.msgs.size(); ++i) {
    auto& m = c.msgs[i];
    if (m.is_request()) {
      request_at[{m.c2s, m.msg.number}] = i;
    } else if (auto it = request_at.find({!m.c2s, m.msg.number}); it != request_at.end()) {
      m.answers = it->second;
      c.msgs[it->second].reply = i;
    }
  }
  return c;
}

const capture& get_capture(const std::string& name) {
  static std::mutex mtx;
  static std::map<std::string, std::unique_ptr<capture>> cache;
  std::lock_guard<std::mutex> g{mtx};
  auto& slot = cache[name];
  if (!slot) slot = std::make_unique<capture>(load_capture(name));
  return *slot;
}

}  // namespace conformance
