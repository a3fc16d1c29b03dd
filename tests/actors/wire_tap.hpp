// A wire tap for behaviour tests: wraps the two message_endpoint_connections of a loopback
// pair (MESSAGE_STREAM) and decodes every frame each side sends into whole BLIP messages, so a
// test can assert on what peerlite put on the wire (proposeChanges parents, rev properties,
// subChanges options), not only on the databases it ends with.
//
// Each direction is decoded by its own protocol::session standing in for the receiver. A
// session accepts a reply only to a request it sent itself, so whenever the first frame of one
// side's request is seen, the session decoding the other direction sends a request of its own
// (Profile "tap", never put on any wire): it gets the same number (both count from 1 in order),
// so the real reply to it then decodes. The tap decodes inside
// send(), before the frame is passed on, so a request is always registered before its reply
// can exist.
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "adapters/loopback/loopback.hpp"
#include "peerlite/message_endpoint.hpp"
#include "protocol/frame.hpp"
#include "protocol/message.hpp"
#include "protocol/session.hpp"

namespace peerlite::test {

/// One decoded message and who sent it.
struct tapped_message {
  bool from_active = false;
  protocol::message msg;
  std::string profile() const { return std::string(msg.profile()); }
  std::string property(const std::string& key) const {
    for (auto& [k, v] : msg.properties)
      if (k == key) return v;
    return {};
  }
  bool has_property(const std::string& key) const {
    for (auto& [k, v] : msg.properties)
      if (k == key) return true;
    return false;
  }
};

class wire_log {
 public:
  /// Decodes one frame sent by the active (or passive) side.
  void frame(bool from_active, std::string_view bytes) {
    std::lock_guard<std::mutex> g{mtx_};
    auto& rx = from_active ? to_passive_ : to_active_;
    auto& other = from_active ? to_active_ : to_passive_;
    /// The other direction's decoder must expect a reply to each request. Registered at the
    /// request's first frame: requests begin in number order, but with several in flight
    /// they may end in another order (frames interleave), and the numbers must match.
    std::string_view rest = bytes;
    protocol::frame_header h;
    auto& seen = from_active ? active_requests_ : passive_requests_;
    if (protocol::read_frame_header(rest, h) && h.type() == protocol::message_type::request &&
        h.number > seen) {
      seen = h.number;
      protocol::message expect_reply;  // no-reply requests take a number too
      expect_reply.no_reply = (h.flags & protocol::flag::no_reply) != 0;
      expect_reply.properties = {{"Profile", "tap"}};
      other.send(std::move(expect_reply));
      std::string discard;
      while (other.next_frame(discard)) {
      }
    }
    if (auto st = rx.receive_frame(bytes); !st) {
      if (!failed_) why_ = std::string(from_active ? "active" : "passive") + ": " + st.message();
      failed_ = true;
      return;
    }
    while (auto m = rx.next_incoming()) messages_.push_back({from_active, std::move(*m)});
    std::string discard;  // ACKs the decoder owes: not ours to send
    while (rx.next_frame(discard)) {
    }
  }

  std::vector<tapped_message> all() {
    std::lock_guard<std::mutex> g{mtx_};
    return messages_;
  }
  /// Requests with this Profile, in wire order.
  std::vector<tapped_message> requests(const std::string& profile) {
    std::vector<tapped_message> out;
    for (auto& m : all())
      if (m.msg.type == protocol::message_type::request && m.profile() == profile)
        out.push_back(m);
    return out;
  }
  bool failed() {
    std::lock_guard<std::mutex> g{mtx_};
    return failed_;
  }
  /// The first frame the tap could not decode, and why.
  std::string why() {
    std::lock_guard<std::mutex> g{mtx_};
    return why_;
  }

 private:
  std::mutex mtx_;
  protocol::session to_passive_;  ///< decodes what the active side sends
  protocol::session to_active_;   ///< decodes what the passive side sends
  std::vector<tapped_message> messages_;
  bool failed_ = false;
  std::string why_;
  uint64_t active_requests_ = 0, passive_requests_ = 0;  ///< highest request number seen
};

/// Forwards everything to `inner`, showing each sent frame to the log first.
class tapped_connection : public message_endpoint_connection {
 public:
  tapped_connection(std::unique_ptr<message_endpoint_connection> inner,
                    std::shared_ptr<wire_log> log, bool active)
      : inner_(std::move(inner)), log_(std::move(log)), active_(active) {}
  void open(replicator_connection c, messaging_completion done) override {
    inner_->open(std::move(c), std::move(done));
  }
  void send(message msg, messaging_completion done) override {
    log_->frame(active_, msg.data());
    inner_->send(std::move(msg), std::move(done));
  }
  void close(std::optional<messaging_error> e, close_completion done) override {
    inner_->close(std::move(e), std::move(done));
  }

 private:
  std::unique_ptr<message_endpoint_connection> inner_;
  std::shared_ptr<wire_log> log_;
  bool active_;
};

/// An endpoint to `host` (anything with accept(loopback::endpoint, protocol_type), such as the
/// seed harness's passive_host) that makes a fresh loopback pair per connect, both of its
/// sides tapped into `log` when one is given (MESSAGE_STREAM only: the tap decodes whole
/// frames). One endpoint per replicator run, so one log holds one run's wire.
template <class Host>
message_endpoint tapped_endpoint(Host& host, std::shared_ptr<wire_log> log, const std::string& uid,
                                 protocol_type protocol = protocol_type::message_stream) {
  message_endpoint ep;
  ep.uid = uid;
  ep.target = "loopback:" + uid;
  ep.protocol = protocol;
  ep.delegate = [&host, log,
                 protocol](const message_endpoint&) -> std::unique_ptr<message_endpoint_connection> {
    loopback::options o;
    o.protocol = protocol;
    auto [a, b] = loopback::make_pair(o, o);
    if (log) b.connection = std::make_unique<tapped_connection>(std::move(b.connection), log, false);
    host.accept(std::move(b), protocol);
    if (log) return std::make_unique<tapped_connection>(std::move(a.connection), log, true);
    return std::move(a.connection);
  };
  return ep;
}

}  // namespace peerlite::test
