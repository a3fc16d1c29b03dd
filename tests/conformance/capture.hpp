// A real Couchbase Lite 3.2 session (tests/vectors/cbl-3.2/<name>.jsonl) as whole BLIP messages.
//
// The frames of each direction are decoded in wire order by one protocol::session per direction
// (the CRC32 and the deflate stream run across frames), exactly as protocol/blip_vectors_test
// does: a session only hands out replies to requests it sent, so when a direction starts a new
// request, the session decoding the other direction sends a stand-in with that number first.
// ACK frames carry no message (and no checksum) and are skipped.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "protocol/message.hpp"

namespace conformance {

namespace proto = peerlite::protocol;

inline constexpr size_t npos = static_cast<size_t>(-1);

/// One captured message.
struct cap_msg {
  bool c2s = false;       ///< sent by the active peer (client) to the passive peer (server)
  proto::message msg;     ///< type, number, flags, properties in wire order, body (inflated)
  size_t answers = npos;  ///< a reply: index of the request it answers
  size_t reply = npos;    ///< a request: index of its reply (npos: none, e.g. no_reply)
  bool is_request() const { return msg.type == proto::message_type::request; }
  std::string_view profile() const { return msg.profile(); }
};

struct capture {
  std::string name;
  std::string url;  ///< ws://host:port/db of the HTTP upgrade: the active peer's remote URL
  std::vector<cap_msg> msgs;  ///< in the order their last frames appear on the wire
  int close_code_c2s = 0;     ///< WebSocket close code each side sent (0: none)
  int close_code_s2c = 0;

  /// Indexes of the captured requests sent in direction `c2s` with `profile`, in order.
  std::vector<size_t> requests(bool c2s, std::string_view profile) const;
  /// The first captured `rev` of `id` (at `rev` when non-empty), or nullptr.
  const cap_msg* find_rev(std::string_view id, std::string_view rev = {}) const;
};

/// Loads and decodes tests/vectors/cbl-3.2/<name>.jsonl. Throws std::runtime_error when the file
/// is missing or a frame does not decode (the protocol tests cover that; here it is fatal).
capture load_capture(const std::string& name);

/// Cached: each capture is decoded once per process.
const capture& get_capture(const std::string& name);

}  // namespace conformance
