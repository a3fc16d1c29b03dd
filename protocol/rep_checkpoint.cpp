// Checkpoint messages and the helpers every replication codec shares (see rep_messages.hpp).
#include "protocol/rep_json.hpp"
#include "protocol/rep_messages.hpp"

namespace peerlite::protocol::rep {

using namespace detail;

sequence_json sequence_from_u64(uint64_t seq) {
  std::string s;
  append_u64(s, seq);
  return s;
}

std::optional<uint64_t> sequence_to_u64(std::string_view json) {
  uint64_t v = 0;
  auto r = std::from_chars(json.data(), json.data() + json.size(), v);
  if (json.empty() || r.ec != std::errc{} || r.ptr != json.data() + json.size()) return {};
  if (json.size() > 1 && json[0] == '0') return {};  /// JSON has no leading zeros
  return v;
}

error reply_error(const message& m) {
  std::string_view domain = m.error_domain();
  int code = m.error_code();
  errc c = errc::protocol_error;
  if ((domain == "HTTP" || domain == "BLIP") && code == 404) c = errc::not_found;
  if ((domain == "HTTP" || domain == "BLIP") && code == 409) c = errc::conflict;
  if (domain == "HTTP" && code == 401) c = errc::unauthorized;
  if (domain == "HTTP" && code == 403) c = errc::read_only;
  /// The peer cannot serve it for now (a hub whose shared store is down): retry later.
  if (domain == "HTTP" && code == 503) c = errc::unavailable;
  std::string msg = "peer replied with error " + std::string(domain) + "/" + std::to_string(code);
  if (!m.body.empty()) {
    msg += ": ";
    /// Only a bounded, printable excerpt: the body comes from the peer.
    for (char ch : std::string_view(m.body).substr(0, 200)) msg.push_back(ch >= 0x20 ? ch : '?');
  }
  return error{c, std::move(msg)};
}

status check_reply(const message& m, std::string_view what) {
  if (m.type == message_type::error) return status{reply_error(m)};
  if (m.type != message_type::reply) return status{bad(what, "expected a reply message")};
  return {};
}

// ---- checkpoint body ---------------------------------------------------------------------

std::string checkpoint::to_json() const {
  std::string out = "{";
  auto field = [&](std::string_view key) {
    if (out.size() > 1) out.push_back(',');
    append_json_string(out, key);
    out.push_back(':');
  };
  if (time) {
    field("time");
    out += std::to_string(*time);
  }
  if (!local.empty()) field("local"), out += local;
  if (!local_completed.empty()) field("localCompleted"), out += local_completed;
  if (!remote.empty()) field("remote"), out += remote;
  out.push_back('}');
  return out;
}

expected<checkpoint> detail::checkpoint_from_element(simdjson::dom::element e,
                                                     std::string_view what) {
  simdjson::dom::object obj;
  if (e.get(obj)) return bad(what, "checkpoint is not a JSON object");
  checkpoint cp;
  for (auto [key, value] : obj) {
    if (key == "time") {
      int64_t t = 0;
      if (value.get(t)) return bad(what, "checkpoint time is not an integer");
      cp.time = t;
    } else if (key == "local") {
      cp.local = sequence_text(value);
    } else if (key == "remote") {
      cp.remote = sequence_text(value);
    } else if (key == "localCompleted") {
      if (!value.is_array()) return bad(what, "checkpoint localCompleted is not an array");
      cp.local_completed = simdjson::minify(value);
    }
  }
  return cp;
}

expected<checkpoint> checkpoint::from_json(std::string_view json) {
  auto e = parse_json(json, "checkpoint");
  if (!e) return e.err();
  return checkpoint_from_element(*e, "checkpoint");
}

/// Parses a checkpoint body of a message; an empty body is an empty checkpoint.
static expected<checkpoint> body_checkpoint(const message& m, std::string_view what) {
  if (m.body.empty()) return checkpoint{};
  auto e = parse_json(m.body, what);
  if (!e) return e.err();
  return checkpoint_from_element(*e, what);
}

// ---- getCheckpoint / setCheckpoint -------------------------------------------------------

message get_checkpoint_request::encode() const {
  message m = make_request(profile::get_checkpoint);
  add_property(m, "client", client);
  return m;
}

expected<get_checkpoint_request> get_checkpoint_request::decode(const message& m) {
  if (auto st = check_request(m, profile::get_checkpoint); !st.ok()) return st.err();
  auto client = required_property(m, "client", profile::get_checkpoint);
  if (!client) return client.err();
  return get_checkpoint_request{std::move(*client)};
}

message get_checkpoint_reply::encode(uint64_t request_number) const {
  message m = make_reply(request_number);
  add_property(m, "rev", rev);
  m.body = body.to_json();
  return m;
}

expected<get_checkpoint_reply> get_checkpoint_reply::decode(const message& m) {
  constexpr std::string_view what = "getCheckpoint reply";
  if (auto st = check_reply(m, what); !st.ok()) return st.err();
  auto rev = required_property(m, "rev", what);
  if (!rev) return rev.err();
  auto cp = body_checkpoint(m, what);
  if (!cp) return cp.err();
  return get_checkpoint_reply{std::move(*rev), std::move(*cp)};
}

message set_checkpoint_request::encode() const {
  message m = make_request(profile::set_checkpoint);
  add_property(m, "client", client);
  if (!rev.empty()) add_property(m, "rev", rev);
  m.body = body.to_json();
  return m;
}

expected<set_checkpoint_request> set_checkpoint_request::decode(const message& m) {
  constexpr std::string_view what = profile::set_checkpoint;
  if (auto st = check_request(m, what); !st.ok()) return st.err();
  auto client = required_property(m, "client", what);
  if (!client) return client.err();
  std::string_view rev = m.property("rev");
  if (!valid_utf8(rev)) return bad(what, "property rev is not UTF-8");
  if (m.body.empty()) return bad(what, "missing checkpoint body");
  auto cp = body_checkpoint(m, what);
  if (!cp) return cp.err();
  return set_checkpoint_request{std::move(*client), std::string(rev), std::move(*cp)};
}

message set_checkpoint_reply::encode(uint64_t request_number) const {
  message m = make_reply(request_number);
  add_property(m, "rev", rev);
  return m;
}

expected<set_checkpoint_reply> set_checkpoint_reply::decode(const message& m) {
  constexpr std::string_view what = "setCheckpoint reply";
  if (auto st = check_reply(m, what); !st.ok()) return st.err();
  auto rev = required_property(m, "rev", what);
  if (!rev) return rev.err();
  return set_checkpoint_reply{std::move(*rev)};
}

}  // namespace peerlite::protocol::rep
