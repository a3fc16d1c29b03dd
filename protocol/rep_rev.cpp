// rev and norev: one revision, or the refusal to send it (see rep_messages.hpp).
#include "protocol/rep_json.hpp"
#include "protocol/rep_messages.hpp"

namespace peerlite::protocol::rep {

using namespace detail;

namespace {

std::string join_history(const std::vector<std::string>& history) {
  std::string s;
  size_t n = 0;
  for (auto& h : history) n += h.size() + 1;
  s.reserve(n);
  for (auto& h : history) {
    if (!s.empty()) s.push_back(',');
    s += h;
  }
  return s;
}

status split_history(std::string_view h, std::vector<std::string>& out) {
  while (!h.empty()) {
    size_t comma = h.find(',');
    std::string_view rev = h.substr(0, comma);
    if (!valid_rev_id(rev))
      return status{bad(profile::rev,
                        "history holds an invalid revID '" + std::string(rev.substr(0, 64)) + "'")};
    out.emplace_back(rev);
    h.remove_prefix(comma == std::string_view::npos ? h.size() : comma + 1);
  }
  return {};
}

/// Properties of a rev, in Couchbase Lite's order; the body is added by the caller.
message rev_head(const rev_message& r) {
  message m = make_request(profile::rev);
  m.properties.reserve(10);
  add_property(m, "id", r.doc_id);
  add_property(m, "rev", r.rev_id);
  if (!r.sequence.empty()) add_property(m, "sequence", sequence_to_property(r.sequence));
  if (r.no_conflicts) add_property(m, "noconflicts", "1");
  if (r.deleted) add_property(m, "deleted", "1");
  if (!r.history.empty()) add_property(m, "history", join_history(r.history));
  if (!r.replaced_rev.empty()) add_property(m, "replacedRev", r.replaced_rev);
  if (r.deleted_branch) add_property(m, "deleted_branch", "1");
  add_collection(m, r.collection);
  return m;
}

/// Reads everything but the body.
expected<rev_message> rev_head_decode(const message& m) {
  constexpr std::string_view what = profile::rev;
  if (auto st = check_request(m, what); !st.ok()) return st.err();
  rev_message r;
  auto id = required_property(m, "id", what);
  if (!id) return id.err();
  r.doc_id = std::move(*id);
  r.rev_id = m.property("rev");
  if (!valid_rev_id(r.rev_id)) return bad(what, "property rev is not a valid revID");
  auto seq = sequence_from_property(m.property("sequence"), what);
  if (!seq) return seq.err();
  r.sequence = std::move(*seq);
  auto deleted = bool_property(m, "deleted", false, what);
  auto noconf = bool_property(m, "noconflicts", false, what);
  auto branch = bool_property(m, "deleted_branch", false, what);
  auto coll = collection_property(m, what);
  for (auto* e : {&deleted, &noconf, &branch})
    if (!*e) return e->err();
  if (!coll) return coll.err();
  r.deleted = *deleted, r.no_conflicts = *noconf, r.deleted_branch = *branch;
  r.collection = *coll;
  r.replaced_rev = m.property("replacedRev");
  if (!r.replaced_rev.empty() && !valid_rev_id(r.replaced_rev))
    return bad(what, "property replacedRev is not a valid revID");
  if (m.has_property("deltaSrc")) return bad(what, "delta revs are not supported (deltas=false)");
  if (auto st = split_history(m.property("history"), r.history); !st.ok()) return st.err();
  return r;
}

/// A rev body must be a JSON object; a deletion may come with an empty body.
status check_rev_body(std::string& body, bool deleted) {
  if (body.empty() && deleted) {
    body = "{}";
    return {};
  }
  auto e = parse_json(body, profile::rev);
  if (!e) return status{e.err()};
  if (!e->is_object()) return status{bad(profile::rev, "body is not a JSON object")};
  return {};
}

}  // namespace

message rev_message::encode() const& {
  message m = rev_head(*this);
  m.body = body;
  return m;
}

message rev_message::encode() && {
  message m = rev_head(*this);
  m.body = std::move(body);
  return m;
}

expected<rev_message> rev_message::decode(const message& m) {
  auto r = rev_head_decode(m);
  if (!r) return r;
  r->body = m.body;
  if (auto st = check_rev_body(r->body, r->deleted); !st.ok()) return st.err();
  return r;
}

expected<rev_message> rev_message::decode(message&& m) {
  auto r = rev_head_decode(m);
  if (!r) return r;
  r->body = std::move(m.body);
  if (auto st = check_rev_body(r->body, r->deleted); !st.ok()) return st.err();
  return r;
}

// ---- norev -------------------------------------------------------------------------------

message norev_message::encode() const {
  message m = make_request(profile::norev);
  m.no_reply = true;
  add_property(m, "id", doc_id);
  add_property(m, "rev", rev_id);
  if (!sequence.empty()) add_property(m, "sequence", sequence_to_property(sequence));
  add_property(m, "error", std::to_string(error));
  if (!reason.empty()) add_property(m, "reason", reason);
  add_collection(m, collection);
  return m;
}

expected<norev_message> norev_message::decode(const message& m) {
  constexpr std::string_view what = profile::norev;
  if (auto st = check_request(m, what); !st.ok()) return st.err();
  norev_message r;
  auto id = required_property(m, "id", what);
  if (!id) return id.err();
  r.doc_id = std::move(*id);
  r.rev_id = m.property("rev");
  if (!valid_rev_id(r.rev_id)) return bad(what, "property rev is not a valid revID");
  auto seq = sequence_from_property(m.property("sequence"), what);
  if (!seq) return seq.err();
  r.sequence = std::move(*seq);
  auto code = uint_property(m, "error", 0, 999, what);
  if (!code) return code.err();
  r.error = static_cast<int>(*code);
  r.reason = m.property("reason");
  if (!valid_utf8(r.reason)) return bad(what, "property reason is not UTF-8");
  auto coll = collection_property(m, what);
  if (!coll) return coll.err();
  r.collection = *coll;
  return r;
}

}  // namespace peerlite::protocol::rep
