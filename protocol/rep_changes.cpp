// The hot batch messages: changes and proposeChanges with their replies (see rep_messages.hpp).
// Encoders write JSON directly; decoders walk simdjson's DOM, which validates UTF-8 and JSON.
#include "protocol/rep_json.hpp"
#include "protocol/rep_messages.hpp"

namespace peerlite::protocol::rep {

using namespace detail;
using simdjson::dom::array;
using simdjson::dom::element;

namespace {

/// Prefixes errors with the entry index, the part a person debugging a peer needs.
error entry_error(std::string_view what, size_t i, std::string_view msg) {
  return bad(what, "entry " + std::to_string(i) + ": " + std::string(msg));
}

expected<array> body_array(const message& m, std::string_view what) {
  auto e = parse_json(m.body, what);
  if (!e) return e.err();
  array a;
  if (e->get(a)) return bad(what, "body is not a JSON array");
  return a;
}

/// Reads a non-empty string element into `out`.
bool get_string(element e, std::string& out) {
  std::string_view v;
  if (e.get(v) || v.empty()) return false;
  out.assign(v);
  return true;
}

/// The reply properties shared by changes and proposeChanges replies.
template <class Reply>
void add_reply_properties(message& m, const Reply& r) {
  add_property(m, "maxHistory", std::to_string(r.max_history));
  if (r.blobs) add_property(m, "blobs", "true");
  if (r.deltas) add_property(m, "deltas", "true");
}

template <class Reply>
status read_reply_properties(const message& m, Reply& r, std::string_view what) {
  auto mh = uint_property(m, "maxHistory", r.max_history, UINT32_MAX, what);
  if (!mh) return status{mh.err()};
  auto blobs = bool_property(m, "blobs", false, what);
  if (!blobs) return status{blobs.err()};
  auto deltas = bool_property(m, "deltas", false, what);
  if (!deltas) return status{deltas.err()};
  r.max_history = static_cast<uint32_t>(*mh);
  r.blobs = *blobs;
  r.deltas = *deltas;
  return {};
}

expected<change> decode_change(element e, size_t i, std::string_view what) {
  array a;
  if (e.get(a) || a.size() < 3) return entry_error(what, i, "not an array of 3 to 5 items");
  change c;
  auto it = a.begin();
  c.sequence = sequence_text(*it);
  if (c.sequence.empty()) return entry_error(what, i, "sequence is null");
  if (!get_string(*++it, c.doc_id)) return entry_error(what, i, "docID is not a string");
  if (!get_string(*++it, c.rev_id) || !valid_rev_id(c.rev_id))
    return entry_error(what, i, "revID is not a valid revision ID");
  if (++it != a.end()) {
    element d = *it;
    bool b = false;
    uint64_t flags = 0;
    /// Couchbase Lite sends deletion flags as a number (bit 0 = deleted); accept bools too.
    if (!d.get(flags))
      c.deleted = flags & 1;
    else if (!d.get(b))
      c.deleted = b;
    else if (!d.is_null())
      return entry_error(what, i, "deleted is not a number or boolean");
    if (++it != a.end() && !(*it).is_null() && (*it).get(c.body_size))
      return entry_error(what, i, "bodySize is not a non-negative integer");
  }
  return c;
}

}  // namespace

// ---- changes -----------------------------------------------------------------------------

message changes_request::encode() const {
  message m = make_request(profile::changes);
  add_collection(m, collection);
  m.urgent = true;
  m.no_reply = entries.empty();
  m.compressed = !entries.empty();
  std::string& b = m.body;
  b.reserve(16 + entries.size() * 80);
  b.push_back('[');
  for (const change& c : entries) {
    if (b.size() > 1) b.push_back(',');
    b.push_back('[');
    append_sequence(b, c.sequence);
    b.push_back(',');
    append_json_string(b, c.doc_id);
    b.push_back(',');
    append_json_string(b, c.rev_id);
    b += c.deleted ? ",1," : ",0,";
    append_u64(b, c.body_size);
    b.push_back(']');
  }
  b.push_back(']');
  return m;
}

expected<changes_request> changes_request::decode(const message& m) {
  constexpr std::string_view what = profile::changes;
  if (auto st = check_request(m, what); !st.ok()) return st.err();
  auto coll = collection_property(m, what);
  if (!coll) return coll.err();
  auto a = body_array(m, what);
  if (!a) return a.err();
  changes_request r;
  r.collection = *coll;
  r.entries.reserve(a->size());
  size_t i = 0;
  for (element e : *a) {
    auto c = decode_change(e, i++, what);
    if (!c) return c.err();
    r.entries.push_back(std::move(*c));
  }
  return r;
}

message changes_reply::encode(uint64_t request_number) const {
  message m = make_reply(request_number);
  m.urgent = true;
  m.compressed = true;
  add_reply_properties(m, *this);
  size_t n = entries.size();
  while (n > 0 && !entries[n - 1].wanted) --n;  /// trailing "not wanted" are implied
  std::string& b = m.body;
  b.push_back('[');
  for (size_t i = 0; i < n; ++i) {
    if (i) b.push_back(',');
    if (!entries[i].wanted) {
      b.push_back('0');
      continue;
    }
    b.push_back('[');
    for (size_t k = 0; k < entries[i].known_ancestors.size(); ++k) {
      if (k) b.push_back(',');
      append_json_string(b, entries[i].known_ancestors[k]);
    }
    b.push_back(']');
  }
  b.push_back(']');
  return m;
}

static status decode_changes_entry(element e, changes_reply::entry& out, size_t i) {
  constexpr std::string_view what = "changes reply";
  array a;
  if (!e.get(a)) {
    out.wanted = true;
    out.known_ancestors.reserve(a.size());
    for (element x : a) {
      std::string rev;
      if (!get_string(x, rev)) return status{entry_error(what, i, "ancestor is not a string")};
      out.known_ancestors.push_back(std::move(rev));
    }
    return {};
  }
  int64_t zero = -1;
  bool b = true;
  if (e.is_null() || (!e.get(zero) && zero == 0) || (!e.get(b) && !b)) return {};
  return status{entry_error(what, i, "neither an ancestor array nor 0/null")};
}

expected<changes_reply> changes_reply::decode(const message& m) {
  constexpr std::string_view what = "changes reply";
  if (auto st = check_reply(m, what); !st.ok()) return st.err();
  changes_reply r;
  if (auto st = read_reply_properties(m, r, what); !st.ok()) return st.err();
  auto a = body_array(m, what);
  if (!a) return a.err();
  r.entries.resize(a->size());
  size_t i = 0;
  for (element e : *a) {
    if (auto st = decode_changes_entry(e, r.entries[i], i); !st.ok()) return st.err();
    ++i;
  }
  return r;
}

// ---- proposeChanges ----------------------------------------------------------------------

message propose_changes_request::encode() const {
  message m = make_request(profile::propose_changes);
  add_property(m, "conflictIncludesRev", "true");
  add_collection(m, collection);
  m.urgent = true;
  m.compressed = true;
  std::string& b = m.body;
  b.reserve(16 + entries.size() * 80);
  b.push_back('[');
  for (const proposed_change& c : entries) {
    if (b.size() > 1) b.push_back(',');
    b.push_back('[');
    append_json_string(b, c.doc_id);
    b.push_back(',');
    append_json_string(b, c.rev_id);
    b.push_back(',');
    append_json_string(b, c.server_rev_id);
    b.push_back(',');
    append_u64(b, c.body_size);
    b.push_back(']');
  }
  b.push_back(']');
  return m;
}

static expected<proposed_change> decode_proposal(element e, size_t i) {
  constexpr std::string_view what = profile::propose_changes;
  array a;
  if (e.get(a) || a.size() < 2) return entry_error(what, i, "not an array of 2 to 4 items");
  proposed_change c;
  auto it = a.begin();
  if (!get_string(*it, c.doc_id)) return entry_error(what, i, "docID is not a string");
  if (!get_string(*++it, c.rev_id) || !valid_rev_id(c.rev_id))
    return entry_error(what, i, "revID is not a valid revision ID");
  if (++it != a.end()) {
    std::string_view server;
    if (!(*it).is_null() && ((*it).get(server) || (!server.empty() && !valid_rev_id(server))))
      return entry_error(what, i, "serverRevID is not a revision ID or \"\"");
    c.server_rev_id.assign(server);
    if (++it != a.end() && !(*it).is_null() && (*it).get(c.body_size))
      return entry_error(what, i, "bodySize is not a non-negative integer");
  }
  return c;
}

expected<propose_changes_request> propose_changes_request::decode(const message& m) {
  constexpr std::string_view what = profile::propose_changes;
  if (auto st = check_request(m, what); !st.ok()) return st.err();
  auto coll = collection_property(m, what);
  if (!coll) return coll.err();
  auto a = body_array(m, what);
  if (!a) return a.err();
  propose_changes_request r;
  r.collection = *coll;
  r.entries.reserve(a->size());
  size_t i = 0;
  for (element e : *a) {
    auto c = decode_proposal(e, i++);
    if (!c) return c.err();
    r.entries.push_back(std::move(*c));
  }
  return r;
}

message propose_changes_reply::encode(uint64_t request_number) const {
  message m = make_reply(request_number);
  m.urgent = true;
  m.compressed = true;
  add_reply_properties(m, *this);
  size_t n = entries.size();
  while (n > 0 && entries[n - 1].status == proposal_status::send) --n;  /// trailing 0s implied
  std::string& b = m.body;
  b.push_back('[');
  for (size_t i = 0; i < n; ++i) {
    if (i) b.push_back(',');
    const proposal_status& p = entries[i];
    if (p.status == proposal_status::conflict && !p.current_rev.empty()) {
      b += "{\"status\":409,\"rev\":";
      append_json_string(b, p.current_rev);
      b.push_back('}');
    } else {
      b += std::to_string(p.status);
    }
  }
  b.push_back(']');
  return m;
}

/// A status is 0 or an HTTP-like code; Couchbase Lite uses 0 / 304 / 409, servers add others.
static bool valid_status(int64_t s) { return s == 0 || (s >= 100 && s <= 599); }

static status decode_proposal_status(element e, proposal_status& out, size_t i) {
  constexpr std::string_view what = "proposeChanges reply";
  int64_t code = 0;
  if (e.is_null()) return {};
  if (!e.get(code)) {
    if (!valid_status(code)) return status{entry_error(what, i, "status out of range")};
    out.status = static_cast<int>(code);
    return {};
  }
  simdjson::dom::object obj;
  if (e.get(obj)) return status{entry_error(what, i, "neither a status nor an object")};
  if (obj["status"].get(code) || !valid_status(code))
    return status{entry_error(what, i, "object without a valid status")};
  out.status = static_cast<int>(code);
  element rev;
  if (!obj["rev"].get(rev)) {
    std::string_view v;
    if (rev.get(v) || !valid_rev_id(v)) return status{entry_error(what, i, "rev is not a revID")};
    out.current_rev.assign(v);
  }
  return {};
}

expected<propose_changes_reply> propose_changes_reply::decode(const message& m) {
  constexpr std::string_view what = "proposeChanges reply";
  if (auto st = check_reply(m, what); !st.ok()) return st.err();
  propose_changes_reply r;
  if (auto st = read_reply_properties(m, r, what); !st.ok()) return st.err();
  auto a = body_array(m, what);
  if (!a) return a.err();
  r.entries.resize(a->size());
  size_t i = 0;
  for (element e : *a) {
    if (auto st = decode_proposal_status(e, r.entries[i], i); !st.ok()) return st.err();
    ++i;
  }
  return r;
}

}  // namespace peerlite::protocol::rep
