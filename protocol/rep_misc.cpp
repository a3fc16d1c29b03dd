// subChanges, attachments and getCollections (see rep_messages.hpp).

#include "protocol/digest.hpp"
#include "protocol/rep_json.hpp"
#include "protocol/rep_messages.hpp"

namespace peerlite::protocol::rep {

using namespace detail;
using simdjson::dom::array;
using simdjson::dom::element;
using simdjson::dom::object;

namespace {

void append_string_array(std::string& out, const std::vector<std::string>& v) {
  out.push_back('[');
  for (size_t i = 0; i < v.size(); ++i) {
    if (i) out.push_back(',');
    append_json_string(out, v[i]);
  }
  out.push_back(']');
}

/// Reads obj[key] as an array of non-empty strings.
status read_string_array(object obj, std::string_view key, std::vector<std::string>& out,
                         std::string_view what) {
  array a;
  if (obj[key].get(a)) return status{bad(what, std::string(key) + " is not an array")};
  out.reserve(a.size());
  for (element e : a) {
    std::string_view s;
    if (e.get(s) || s.empty())
      return status{bad(what, std::string(key) + " holds a non-string or empty item")};
    out.emplace_back(s);
  }
  return {};
}

}  // namespace

// ---- subChanges --------------------------------------------------------------------------

message sub_changes_request::encode() const {
  message m = make_request(profile::sub_changes);
  if (!since.empty()) add_property(m, "since", sequence_to_property(since));
  if (continuous) add_property(m, "continuous", "true");
  add_property(m, "batch", std::to_string(batch));
  if (active_only) add_property(m, "activeOnly", "true");
  if (send_replacement_revs) add_property(m, "sendReplacementRevs", "1");
  add_property(m, "versioning", versioning);
  if (revocations) add_property(m, "revocations", "true");
  add_collection(m, collection);
  if (!doc_ids.empty()) {
    m.body = "{\"docIDs\":";
    append_string_array(m.body, doc_ids);
    m.body.push_back('}');
  }
  return m;
}

expected<sub_changes_request> sub_changes_request::decode(const message& m) {
  constexpr std::string_view what = profile::sub_changes;
  if (auto st = check_request(m, what); !st.ok()) return st.err();
  sub_changes_request r;
  auto since = sequence_from_property(m.property("since"), what);
  auto batch = uint_property(m, "batch", r.batch, UINT32_MAX, what);
  auto cont = bool_property(m, "continuous", false, what);
  auto active = bool_property(m, "activeOnly", false, what);
  auto repl = bool_property(m, "sendReplacementRevs", false, what);
  auto revoc = bool_property(m, "revocations", false, what);
  auto coll = collection_property(m, what);
  if (!since) return since.err();
  if (!batch) return batch.err();
  for (auto* b : {&cont, &active, &repl, &revoc})
    if (!*b) return b->err();
  if (!coll) return coll.err();
  r.since = std::move(*since);
  r.batch = static_cast<uint32_t>(*batch);
  r.continuous = *cont, r.active_only = *active, r.send_replacement_revs = *repl;
  r.revocations = *revoc;
  r.collection = *coll;
  r.versioning = m.property("versioning", "rev-trees");
  if (r.versioning != "rev-trees")
    return bad(what, "unsupported versioning '" + r.versioning.substr(0, 32) + "'");
  if (m.body.empty()) return r;
  auto e = parse_json(m.body, what);
  if (!e) return e.err();
  object obj;
  if (e->get(obj)) return bad(what, "body is not a JSON object");
  if (element ids; !obj["docIDs"].get(ids)) {
    if (auto st = read_string_array(obj, "docIDs", r.doc_ids, what); !st.ok()) return st.err();
  }
  return r;
}

// ---- attachments -------------------------------------------------------------------------

message get_attachment_request::encode() const {
  message m = make_request(profile::get_attachment);
  add_property(m, "digest", digest);
  add_property(m, "docID", doc_id);
  if (compress) add_property(m, "compress", "true");
  add_collection(m, collection);
  return m;
}

expected<get_attachment_request> get_attachment_request::decode(const message& m) {
  constexpr std::string_view what = profile::get_attachment;
  if (auto st = check_request(m, what); !st.ok()) return st.err();
  auto digest = required_property(m, "digest", what);
  if (!digest) return digest.err();
  std::string_view doc = m.property("docID");
  if (!valid_utf8(doc)) return bad(what, "property docID is not UTF-8");
  auto compress = bool_property(m, "compress", false, what);
  if (!compress) return compress.err();
  auto coll = collection_property(m, what);
  if (!coll) return coll.err();
  return get_attachment_request{std::move(*digest), std::string(doc), *compress, *coll};
}

message prove_attachment_request::encode() const {
  message m = make_request(profile::prove_attachment);
  add_property(m, "digest", digest);
  add_collection(m, collection);
  m.body = nonce;
  return m;
}

expected<prove_attachment_request> prove_attachment_request::decode(const message& m) {
  constexpr std::string_view what = profile::prove_attachment;
  if (auto st = check_request(m, what); !st.ok()) return st.err();
  auto digest = required_property(m, "digest", what);
  if (!digest) return digest.err();
  if (m.body.empty() || m.body.size() > 255)
    return bad(what, "nonce of " + std::to_string(m.body.size()) + " bytes (must be 1..255)");
  auto coll = collection_property(m, what);
  if (!coll) return coll.err();
  return prove_attachment_request{std::move(*digest), m.body, *coll};
}

std::string attachment_proof(std::string_view nonce, std::string_view blob) {
  auto len = static_cast<char>(static_cast<unsigned char>(nonce.size()));
  auto md = sha1_digest().update({&len, 1}).update(nonce).update(blob).finish();
  return "sha1-" + base64(md);
}

// ---- getCollections ----------------------------------------------------------------------

message get_collections_request::encode() const {
  message m = make_request(profile::get_collections);
  m.body = "{\"checkpoint_ids\":";
  append_string_array(m.body, checkpoint_ids);
  m.body += ",\"collections\":";
  append_string_array(m.body, collections);
  m.body.push_back('}');
  return m;
}

expected<get_collections_request> get_collections_request::decode(const message& m) {
  constexpr std::string_view what = profile::get_collections;
  if (auto st = check_request(m, what); !st.ok()) return st.err();
  auto e = parse_json(m.body, what);
  if (!e) return e.err();
  object obj;
  if (e->get(obj)) return bad(what, "body is not a JSON object");
  get_collections_request r;
  if (auto st = read_string_array(obj, "checkpoint_ids", r.checkpoint_ids, what); !st.ok())
    return st.err();
  if (auto st = read_string_array(obj, "collections", r.collections, what); !st.ok())
    return st.err();
  if (r.checkpoint_ids.size() != r.collections.size())
    return bad(what, "checkpoint_ids and collections differ in length");
  return r;
}

message get_collections_reply::encode(uint64_t request_number) const {
  message m = make_reply(request_number);
  std::string& b = m.body;
  b.push_back('[');
  for (size_t i = 0; i < entries.size(); ++i) {
    if (i) b.push_back(',');
    const entry& e = entries[i];
    if (e.st == state::missing) {
      b += "null";
    } else if (e.st == state::none) {
      b += "{}";
    } else {
      std::string cp = e.body.to_json();
      if (!e.rev.empty()) {  /// the dict carries its rev as one more key
        std::string d = "{\"rev\":";
        append_json_string(d, e.rev);
        if (cp.size() > 2) d.push_back(',');
        d.append(cp, 1);
        cp = std::move(d);
      }
      b += cp;
    }
  }
  b.push_back(']');
  return m;
}

static status decode_collection_entry(element e, get_collections_reply::entry& out) {
  constexpr std::string_view what = "getCollections reply";
  if (e.is_null()) {
    out.st = get_collections_reply::state::missing;
    return {};
  }
  object obj;
  if (e.get(obj)) return status{bad(what, "entry is neither a dict nor null")};
  if (obj.size() == 0) return {};  /// {}: no checkpoint yet
  out.st = get_collections_reply::state::found;
  std::string_view rev;
  if (element r; !obj["rev"].get(r) && (r.get(rev) || !valid_utf8(rev)))
    return status{bad(what, "checkpoint rev is not a string")};
  out.rev.assign(rev);
  auto cp = checkpoint_from_element(e, what);
  if (!cp) return status{cp.err()};
  out.body = std::move(*cp);
  return {};
}

expected<get_collections_reply> get_collections_reply::decode(const message& m) {
  constexpr std::string_view what = "getCollections reply";
  if (auto st = check_reply(m, what); !st.ok()) return st.err();
  auto e = parse_json(m.body, what);
  if (!e) return e.err();
  array a;
  if (e->get(a)) return bad(what, "body is not a JSON array");
  get_collections_reply r;
  r.entries.resize(a.size());
  size_t i = 0;
  for (element x : a)
    if (auto st = decode_collection_entry(x, r.entries[i++]); !st.ok()) return st.err();
  return r;
}

}  // namespace peerlite::protocol::rep
