// Internal: the state behind protocol::session, shared by session.cpp (lifetime and glue),
// session_receive.cpp (incoming frames) and session_send.cpp (outbox). Not a public header.
#pragma once

#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "protocol/deflate.hpp"
#include "protocol/fifo.hpp"
#include "protocol/frame.hpp"
#include "protocol/session.hpp"

namespace peerlite::protocol {

/// A message of ours on its way out.
struct outgoing {
  uint64_t number = 0;
  uint8_t flags = 0;  ///< type | compressed | urgent | no_reply (never more_coming)
  /// An uncompressed message is framed straight from the caller's properties and body, so its
  /// bytes are copied once, into the frame. A compressed one is encoded into `encoded` first:
  /// deflate wants its input in one piece, and fewer, larger chunks compress better.
  property_list properties;
  std::string body;
  std::string encoded;
  size_t properties_bytes = 0;  ///< properties_size(properties), uncompressed only
  size_t size = 0;          ///< bytes of the whole encoded message
  size_t offset = 0;        ///< bytes of it already framed
  uint64_t bytes_sent = 0;  ///< frame bytes after headers, the unit the peer ACKs in
  uint64_t bytes_acked = 0;
  bool urgent() const { return flags & flag::urgent; }
  bool started() const { return offset > 0; }
  bool finished() const { return offset == size; }
  bool is_request() const { return (flags & flag::type_mask) == 0; }
  uint64_t unacked() const { return bytes_sent - bytes_acked; }
};

/// A multi-frame message of the peer's being reassembled (an incoming request, or the reply to
/// one of our pending requests). Single-frame messages never become partials.
struct partial {
  message msg;                ///< type, number and flags from the first frame
  std::string data;           ///< encoded bytes so far (inflated)
  uint64_t raw_received = 0;  ///< frame bytes after headers, what we ACK
  uint64_t raw_acked = 0;
};

/// Our requests awaiting replies. Our numbers only grow, so a window of flags from the oldest
/// unanswered request on is enough: no allocation per request.
class pending_set {
 public:
  /// Records request `number` (always the next one); `awaited` is false for no-reply requests.
  void add(uint64_t number, bool awaited);
  bool contains(uint64_t number) const;
  /// Marks `number` answered; false if it was not pending.
  bool take(uint64_t number);
  size_t size() const { return count_; }
  std::vector<uint64_t> numbers() const;  ///< ascending
  void clear();

 private:
  void trim();
  std::deque<bool> awaited_;  ///< index i is request base_ + i
  uint64_t base_ = 1;
  size_t count_ = 0;
};

struct session::impl {
  explicit impl(session_options o);

  session_options options;
  status failure;
  bool closed = false;
  session_stats stats;

  // ---- outgoing direction ----
  uint32_t crc_out = 0;
  std::optional<deflater> deflate;  ///< created with the first compressed message
  fifo<outgoing> outbox;            ///< ready to frame, in sending order
  std::vector<outgoing> paused;     ///< waiting for an ACK (flow control)
  std::deque<std::string> acks;     ///< ACK frames we owe
  uint64_t last_request_sent = 0;

  // ---- incoming direction ----
  uint32_t crc_in = 0;
  std::optional<inflater> inflate;  ///< created with the first compressed frame
  uint64_t last_request_received = 0;
  std::unordered_map<uint64_t, partial> requests_in;  ///< multi-frame peer requests under way
  std::unordered_map<uint64_t, partial> replies_in;   ///< multi-frame replies under way
  pending_set pending;                                ///< our requests awaiting replies
  std::string scratch;  ///< single compressed frames inflate here, reused
  size_t buffered = 0;  ///< bytes held in partial messages, capped by options
  fifo<message> ready;

  // session_receive.cpp
  status receive(std::string_view frame);
  status fail(status st);
  status receive_ack(const frame_header& h, std::string_view body);
  status receive_data(const frame_header& h, std::string_view body);
  status locate(const frame_header& h, partial*& p);
  partial* start_partial(std::unordered_map<uint64_t, partial>& in, const frame_header& h);
  status take_payload(const frame_header& h, std::string_view payload, uint32_t checksum,
                      std::string& into);
  status receive_whole(const frame_header& h, std::string_view payload, uint32_t checksum,
                       size_t raw_bytes);
  status receive_piece(partial& p, const frame_header& h, std::string_view payload,
                       uint32_t checksum, size_t raw_bytes);
  void owe_ack(const frame_header& h, uint64_t raw_received);
  status deliver(message& m, std::string_view data);

  // session_send.cpp
  uint64_t enqueue(message&& msg);
  void insert_new(outgoing&& o);
  void requeue(outgoing&& o);
  bool frame_next(std::string& out);
  bool write_frame(outgoing& o, size_t frame_size, std::string& out);
  bool write_payload(outgoing& o, size_t room, std::string& out);
  void apply_ack(bool for_request, uint64_t number, uint64_t bytes);
};

}  // namespace peerlite::protocol
