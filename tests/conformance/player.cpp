#include "tests/conformance/player.hpp"

#include <algorithm>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <sstream>

namespace conformance {

namespace rep = proto::rep;
using steady = std::chrono::steady_clock;

namespace {

/// The player's end of the transport. The engine calls it from its threads; it only queues
/// frames and completes each callback at once.
class player_connection final : public peerlite::message_endpoint_connection {
 public:
  explicit player_connection(std::shared_ptr<link_state> s) : s_(std::move(s)) {}

  void open(peerlite::replicator_connection c, peerlite::messaging_completion done) override {
    {
      std::lock_guard<std::mutex> g{s_->mtx};
      s_->conn = std::move(c);
      s_->opened = true;
      ++s_->opens;
    }
    s_->cv.notify_all();
    done(true, std::nullopt);
  }

  void send(peerlite::message msg, peerlite::messaging_completion done) override {
    {
      std::lock_guard<std::mutex> g{s_->mtx};
      s_->inbox.push_back(msg.take());
    }
    s_->cv.notify_all();
    done(true, std::nullopt);
  }

  void close(std::optional<peerlite::messaging_error> err,
             peerlite::close_completion done) override {
    {
      std::lock_guard<std::mutex> g{s_->mtx};
      s_->closed = true;
      s_->close_error = std::move(err);
    }
    s_->cv.notify_all();
    done();
  }

 private:
  std::shared_ptr<link_state> s_;
};

std::string printable(std::string_view body, size_t limit = 160) {
  for (unsigned char c : body)
    if (c < 0x20 && c != '\n' && c != '\t') return "<" + std::to_string(body.size()) + " bytes>";
  if (body.size() <= limit) return std::string(body);
  return std::string(body.substr(0, limit)) + "...(" + std::to_string(body.size()) + " bytes)";
}

std::string qt(std::string_view s) { return "\"" + std::string(s) + "\""; }

bool json_equal(std::string_view a, std::string_view b) {
  auto ja = nlohmann::json::parse(a, nullptr, false);
  auto jb = nlohmann::json::parse(b, nullptr, false);
  if (ja.is_discarded() || jb.is_discarded()) return a == b;
  return ja == jb;
}

std::string join(const std::vector<std::string>& v) {
  std::string s;
  for (auto& x : v) s += (s.empty() ? "" : ",") + x;
  return s;
}

/// Sequences and checkpoint values: an absent value and 0 both mean "from the start".
std::string norm_seq(std::string_view s) { return s == "0" ? std::string() : std::string(s); }

std::string show_seq(std::string_view s) { return s.empty() ? "(absent)" : std::string(s); }

uint64_t generation(std::string_view rev) {
  uint64_t g = 0;
  for (char c : rev) {
    if (c < '0' || c > '9') break;
    g = g * 10 + static_cast<uint64_t>(c - '0');
  }
  return g;
}

std::string status_text(const rep::proposal_status& s) {
  if (s.status == 409 && !s.current_rev.empty())
    return "{\"status\":409,\"rev\":\"" + s.current_rev + "\"}";
  return std::to_string(s.status);
}

std::string kind(const proto::message& m) {
  if (!m.is_error()) return "a reply";
  return "error " + std::string(m.error_domain()) + "/" + std::to_string(m.error_code()) +
         (m.body.empty() ? "" : " (" + printable(m.body, 100) + ")");
}

bool lists_doc(const proto::message& changes, std::string_view id) {
  auto req = rep::changes_request::decode(changes);
  if (!req) return false;
  for (auto& e : req->entries)
    if (e.doc_id == id) return true;
  return false;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Setup and bookkeeping

player::player(const capture& cap, our_role role, case_notes notes)
    : cap_(cap), role_(role), notes_(std::move(notes)), link_(std::make_shared<link_state>()) {
  matched_.assign(cap_.msgs.size(), false);
  last_activity_ = steady::now();
  for (size_t i = 0; i < cap_.msgs.size(); ++i) {
    const auto& m = cap_.msgs[i];
    if (m.c2s != engine_dir() && m.is_request()) plan_.push_back(i);
  }
  if (role_ == our_role::passive) {
    /// Our engine's `changes` are answered per docID with the captured answer, so that a
    /// different batching (or a wrong list) still gets a meaningful reply.
    for (size_t k : cap_.requests(false, rep::profile::changes)) {
      auto req = rep::changes_request::decode(cap_.msgs[k].msg);
      if (!req || req->entries.empty() || cap_.msgs[k].reply == npos) continue;
      auto reply = rep::changes_reply::decode(cap_.msgs[cap_.msgs[k].reply].msg);
      if (!reply) continue;
      if (!changes_reply_props_) changes_reply_props_ = *reply;
      for (size_t i = 0; i < req->entries.size(); ++i)
        changes_answer_[req->entries[i].doc_id] =
            i < reply->entries.size() ? reply->entries[i] : rep::changes_reply::entry{};
    }
  } else {
    /// Our proposeChanges entries are answered per docID, in the capture's order: a retry of
    /// the same document gets the capture's second answer.
    for (size_t k : cap_.requests(true, rep::profile::propose_changes)) {
      auto req = rep::propose_changes_request::decode(cap_.msgs[k].msg);
      if (!req || cap_.msgs[k].reply == npos) continue;
      auto reply = rep::propose_changes_reply::decode(cap_.msgs[cap_.msgs[k].reply].msg);
      if (!reply) continue;
      for (size_t i = 0; i < req->entries.size(); ++i) {
        rep::proposal_status st;
        if (i < reply->entries.size()) st = reply->entries[i];
        answers_[req->entries[i].doc_id].push_back(
            {req->entries[i].rev_id, req->entries[i].server_rev_id, st});
      }
    }
  }
}

player::~player() = default;

std::unique_ptr<peerlite::message_endpoint_connection> player::connection() {
  return std::make_unique<player_connection>(link_);
}

void player::diff(std::string line) {
  log("!! " + line);
  diffs_.push_back(std::move(line));
}

void player::note(std::string line) {
  log("ok " + line);
  notes_log_.push_back(std::move(line));
}

void player::log(std::string line) { log_.push_back(std::move(line)); }

std::string player::describe(const proto::message& m) const {
  std::ostringstream os;
  if (m.type == proto::message_type::request) {
    os << m.profile() << " #" << m.number;
  } else {
    os << (m.is_error() ? "ERR #" : "RPY #") << m.number;
  }
  std::string props;
  for (auto& [k, v] : m.properties) {
    if (k == "Profile") continue;
    props += (props.empty() ? "" : ", ") + k + "=" + printable(v, 60);
  }
  if (!props.empty()) os << " {" << props << "}";
  if (m.no_reply) os << " [noreply]";
  if (!m.body.empty()) os << " " << printable(m.body);
  return os.str();
}

std::string player::describe_captured(size_t k) const {
  const auto& c = cap_.msgs[k];
  std::string s = c.c2s ? "c2s " : "s2c ";
  if (!c.is_request() && c.answers != npos)
    s += "reply to " + std::string(cap_.msgs[c.answers].profile()) + ": ";
  return s + describe(c.msg);
}

// ---------------------------------------------------------------------------------------------
// The transport loop

bool player::wait_open() {
  std::unique_lock<std::mutex> lk(link_->mtx);
  if (!link_->cv.wait_for(lk, kPlayerTimeout, [&] { return link_->opened; })) return false;
  conn_ = link_->conn;
  return true;
}

bool player::link_closed() {
  std::lock_guard<std::mutex> g{link_->mtx};
  return link_->closed;
}

void player::flush() {
  if (!conn_ || broken_) return;
  std::string frame;
  while (sess_.next_frame(frame)) {
    conn_.receive(peerlite::message(std::move(frame)));
    last_activity_ = steady::now();
  }
}

bool player::pump(std::chrono::milliseconds wait) {
  flush();
  std::string frame;
  {
    std::unique_lock<std::mutex> lk(link_->mtx);
    link_->cv.wait_for(lk, wait, [&] { return !link_->inbox.empty() || link_->closed; });
    if (link_->inbox.empty()) return false;
    frame = std::move(link_->inbox.front());
    link_->inbox.pop_front();
  }
  last_activity_ = steady::now();
  if (broken_) return true;
  if (auto st = sess_.receive_frame(frame); !st.ok()) {
    broken_ = true;
    diff("our engine's BLIP stream does not decode: " + st.message());
    return true;
  }
  while (auto m = sess_.next_incoming()) on_engine_message(std::move(*m));
  send_plan();
  flush();
  return true;
}

bool player::stalled() const {
  auto limit = sess_.pending_count() > 0 ? kPlayerTimeout : kStallTimeout;
  return steady::now() - last_activity_ > limit;
}

/// Our engine is silent: what the next captured request waits for never came. Those messages
/// are reported missing, and the session goes on without them. Returns how many were marked.
size_t player::mark_blocking_missing() {
  size_t marked = 0;
  auto mark = [&](size_t i) {
    if (matched_[i]) return;
    matched_[i] = true;
    missing_.insert(i);
    ++marked;
    log("?? missing (our engine stayed silent for " + std::to_string(kStallTimeout.count()) +
        " ms): " + describe_captured(i));
  };
  if (next_plan_ < plan_.size()) {
    std::string why;
    while (gate_for(plan_[next_plan_], why) == gate::wait && blocker_ != npos &&
           !matched_[blocker_])
      mark(blocker_);
  } else {
    for (size_t i = 0; i < cap_.msgs.size(); ++i)
      if (cap_.msgs[i].c2s == engine_dir()) mark(i);
  }
  return marked;
}

// ---------------------------------------------------------------------------------------------
// The player's own (captured) requests

void player::send_plan() {
  while (next_plan_ < plan_.size() && !broken_) {
    size_t k = plan_[next_plan_];
    std::string why;
    gate g = gate_for(k, why);
    if (g == gate::wait) return;
    ++next_plan_;
    if (g == gate::skip) {
      skipped_.insert(k);
      log("-- not sent: captured " + describe_captured(k) + " (" + why + ")");
      continue;
    }
    send_captured_request(k);
  }
}

player::gate player::gate_for(size_t k, std::string& why) {
  const auto& m = cap_.msgs[k];
  blocker_ = npos;
  auto first_unseen_before = [&](size_t end) -> size_t {
    for (size_t i = 0; i < end; ++i)
      if (cap_.msgs[i].c2s == engine_dir() && !matched_[i]) return i;
    return npos;
  };
  if (role_ == our_role::passive) {
    /// The real client sent this after everything the server had sent before it.
    if (size_t i = first_unseen_before(k); i != npos) {
      why = "waiting for " + describe_captured(i);
      blocker_ = i;
      return gate::wait;
    }
    return gate::send;
  }
  auto p = m.profile();
  if (p == rep::profile::changes) {
    /// The server's changes answer our subChanges (of the same collection).
    bool any = false;
    for (size_t i = 0; i < k; ++i) {
      const auto& s = cap_.msgs[i];
      if (!s.c2s || !s.is_request() || s.profile() != rep::profile::sub_changes) continue;
      if (s.msg.property("collection") != m.msg.property("collection")) continue;
      any = true;
      if (!matched_[i]) {
        why = "waiting for our subChanges";
        blocker_ = i;
        return gate::wait;
      }
    }
    if (any) return gate::send;
  }
  if (p == rep::profile::rev || p == rep::profile::norev) {
    /// A rev answers our reply to the `changes` that listed it, and only if we asked for it.
    auto id = m.msg.property("id");
    for (size_t i = k; i-- > 0;) {
      const auto& c = cap_.msgs[i];
      if (c.c2s || !c.is_request() || c.profile() != rep::profile::changes) continue;
      if (!lists_doc(c.msg, id)) continue;
      if (c.reply == npos) break;
      if (!matched_[c.reply]) {
        why = "waiting for our reply to the changes listing " + std::string(id);
        blocker_ = c.reply;
        return gate::wait;
      }
      auto a = asked_[i].find(std::string(id));
      if (a == asked_[i].end() || !a->second) {
        why = "our reply to changes did not ask for " + std::string(id) + " " +
              std::string(m.msg.property("rev"));
        return gate::skip;
      }
      return gate::send;
    }
  }
  if (p == rep::profile::get_attachment) {
    /// The server asks for a blob once our rev carrying it has arrived.
    auto id = m.msg.property("docID");
    for (size_t i = 0; i < k; ++i) {
      const auto& r = cap_.msgs[i];
      if (!r.c2s || !r.is_request() || r.profile() != rep::profile::rev) continue;
      if (r.msg.property("id") != id) continue;
      if (!matched_[i]) {
        why = "waiting for our rev of " + std::string(id);
        blocker_ = i;
        return gate::wait;
      }
      return gate::send;
    }
  }
  if (size_t i = first_unseen_before(k); i != npos) {
    why = "waiting for " + describe_captured(i);
    blocker_ = i;
    return gate::wait;
  }
  return gate::send;
}

void player::send_captured_request(size_t k) {
  proto::message m = cap_.msgs[k].msg;
  auto p = std::string(m.profile());
  if (p == rep::profile::set_checkpoint) {
    /// Our engine numbers checkpoint revisions itself: carry on from the one it gave.
    auto it = cp_rev_.find(std::string(m.property("client")));
    if (it != cp_rev_.end() && it->second != m.property("rev")) {
      for (auto& [key, v] : m.properties)
        if (key == "rev") v = it->second;
      log("-- setCheckpoint carries our engine's checkpoint rev " + it->second);
    }
  }
  if (p == rep::profile::rev && m.has_property("deltaSrc")) {
    /// We announce no `deltas`, so a Couchbase Lite peer sends us the full body instead.
    std::string key = std::string(m.property("id")) + " " + std::string(m.property("rev"));
    auto it = notes_.full_bodies.find(key);
    if (it != notes_.full_bodies.end()) {
      m.body = it->second;
      std::erase_if(m.properties, [](auto& kv) { return kv.first == "deltaSrc"; });
      note("the captured delta rev " + key + " is sent with its full body: we announce no deltas");
    }
  }
  if (role_ == our_role::active) {
    if (p == rep::profile::changes) {
      if (auto req = rep::changes_request::decode(m))
        for (auto& e : req->entries) peer_current_[e.doc_id] = e.rev_id;
    } else if (p == rep::profile::rev) {
      peer_current_[std::string(m.property("id"))] = std::string(m.property("rev"));
    }
  }
  m.number = sess_.send(m);
  if (m.number == 0) {
    diff("the player could not send captured " + describe_captured(k));
    return;
  }
  sent_[m.number] = k;
  log("-> " + describe(m));
  last_activity_ = steady::now();
}

// ---------------------------------------------------------------------------------------------
// Our engine's messages

void player::on_engine_message(proto::message m) {
  log("<- " + describe(m));
  if (m.type == proto::message_type::request)
    on_engine_request(std::move(m));
  else
    on_engine_reply(std::move(m));
}

void player::on_engine_reply(proto::message m) {
  auto it = sent_.find(m.number);
  if (it == sent_.end())
    return diff("our engine answered request #" + std::to_string(m.number) +
                ", which the player never sent");
  size_t k = it->second;
  size_t r = cap_.msgs[k].reply;
  if (r == npos)
    return diff("our engine answered " + describe_captured(k) + ", which Couchbase Lite did not");
  matched_[r] = true;
  if (missing_.erase(r)) log("?? arrived after the player had given up on it");
  compare_reply(k, cap_.msgs[r].msg, m);
}

void player::reply_to(const proto::message& ours, proto::message reply) {
  reply.number = ours.number;
  if (reply.type == proto::message_type::request) reply.type = proto::message_type::reply;
  if (sess_.send(reply) == 0) return diff("the player could not answer " + describe(ours));
  log("-> " + describe(reply));
}

void player::reply_captured(const proto::message& ours, size_t k) {
  size_t r = cap_.msgs[k].reply;
  if (r == npos) {
    diff("our " + describe(ours) + " asks for a reply; Couchbase Lite's did not");
    proto::message empty;
    empty.type = proto::message_type::reply;
    return reply_to(ours, empty);
  }
  reply_to(ours, cap_.msgs[r].msg);
}

size_t player::match_next(std::string_view profile) {
  for (size_t i = 0; i < cap_.msgs.size(); ++i) {
    const auto& c = cap_.msgs[i];
    if (c.c2s == engine_dir() && c.is_request() && (!matched_[i] || missing_.count(i)) &&
        c.profile() == profile) {
      matched_[i] = true;
      missing_.erase(i);
      return i;
    }
  }
  return npos;
}

size_t player::match_by(std::string_view profile, std::string_view key, std::string_view value,
                        std::string_view key2, std::string_view value2) {
  for (size_t i = 0; i < cap_.msgs.size(); ++i) {
    const auto& c = cap_.msgs[i];
    if (c.c2s != engine_dir() || !c.is_request() || (matched_[i] && !missing_.count(i)) ||
        c.profile() != profile)
      continue;
    if (c.msg.property(key) != value) continue;
    if (!key2.empty() && c.msg.property(key2) != value2) continue;
    matched_[i] = true;
    missing_.erase(i);
    return i;
  }
  return npos;
}

size_t player::match_rev(const proto::message& m) {
  auto id = m.property("id");
  size_t k = match_by(rep::profile::rev, "id", id, "rev", m.property("rev"));
  if (k == npos) k = match_by(rep::profile::rev, "id", id);
  if (k != npos) {
    /// "number collection|id": each collection's revs are ordered on their own.
    auto tag = [](const proto::message& msg, std::string_view doc) {
      return std::to_string(msg.number) + " " + std::string(msg.property("collection")) + "|" +
             std::string(doc);
    };
    our_rev_order_.push_back(tag(m, id));
    captured_rev_order_.push_back(tag(cap_.msgs[k].msg, id));
  }
  return k;
}

void player::on_engine_request(proto::message m) {
  std::string p(m.profile());
  if (role_ == our_role::active) {
    if (p == rep::profile::set_checkpoint) return on_active_set_checkpoint(m);
    if (p == rep::profile::propose_changes) {
      /// Per collection: two collections' pushers propose in either order.
      auto coll = m.property("collection");
      return on_active_propose(m, coll.empty() ? match_next(p) : match_by(p, "collection", coll));
    }
    if (p == rep::profile::rev) return on_active_rev(m);
  } else if (p == rep::profile::changes) {
    return on_passive_changes(m);
  }
  size_t k = npos;
  if (p == rep::profile::rev)
    k = match_rev(m);
  else if (p == rep::profile::get_attachment)
    k = match_by(p, "digest", m.property("digest"), "docID", m.property("docID"));
  else if (p == rep::profile::norev)
    k = match_by(p, "id", m.property("id"));
  else if (auto coll = m.property("collection"); !coll.empty())
    k = match_by(p, "collection", coll);  // per collection: their order varies between runs
  else
    k = match_next(p);
  if (k == npos) {
    extras_.push_back(describe(m));
    diff("our engine sent a request Couchbase Lite did not send: " + describe(m));
    if (m.no_reply) return;
    if (p == rep::profile::rev) {
      proto::message empty;
      empty.type = proto::message_type::reply;
      return reply_to(m, empty);
    }
    /// An unknown checkpoint is HTTP 404, an unknown Profile BLIP 404, as Couchbase Lite.
    return reply_to(
        m, proto::make_error_reply(0, p == rep::profile::get_checkpoint ? "HTTP" : "BLIP", 404,
                                   "not in the capture"));
  }
  compare_request(k, m);
  if (m.no_reply) return;
  reply_captured(m, k);
  if (role_ == our_role::active && p == rep::profile::get_checkpoint &&
      cap_.msgs[k].reply != npos) {
    const auto& r = cap_.msgs[cap_.msgs[k].reply].msg;
    peer_cp_rev_ = r.is_error() ? std::string() : std::string(r.property("rev"));
  }
}

void player::on_active_set_checkpoint(proto::message& m) {
  auto req = rep::set_checkpoint_request::decode(m);
  if (!req) {
    diff("our setCheckpoint does not decode: " + req.err().message);
    return reply_to(m, proto::make_error_reply(0, "BLIP", 400, req.err().message));
  }
  our_checkpoints_.emplace_back(std::string(m.property("collection")), req->body.to_json());
  /// The player keeps the peer's checkpoint like a real peer: numbered N-cc, and a save that
  /// does not name the current revision is refused with 409. The capture's own revs are not
  /// replayed, because our engine may save more (or fewer) times than Couchbase Lite.
  /// Each checkpoint ID (one per collection) has its own revs.
  auto held_it = peer_cp_revs_.find(req->client);
  std::string held = held_it != peer_cp_revs_.end() ? held_it->second : peer_cp_rev_;
  if (req->rev != held) {
    diff("setCheckpoint names checkpoint rev " + qt(req->rev) + " but the peer holds " +
         qt(held) + " (it would answer 409)");
    return reply_to(m, proto::make_error_reply(0, "HTTP", 409, "checkpoint rev mismatch"));
  }
  held = std::to_string(generation(held) + 1) + "-cc";
  peer_cp_revs_[req->client] = held;
  reply_to(m, rep::set_checkpoint_reply{held}.encode(0));
}

void player::on_active_propose(proto::message& m, size_t k) {
  auto req = rep::propose_changes_request::decode(m);
  if (!req) {
    diff("our proposeChanges does not decode: " + req.err().message);
    return reply_to(m, proto::make_error_reply(0, "BLIP", 400, req.err().message));
  }
  if (m.property("conflictIncludesRev") != "true")
    diff("proposeChanges #" + std::to_string(m.number) +
         " lacks conflictIncludesRev=true (Couchbase Lite always sends it)");
  /// The reply's properties are the captured reply's; our engine may batch differently, so
  /// the last captured reply serves extra messages.
  size_t ck = k;
  if (ck == npos) {
    auto all = cap_.requests(true, rep::profile::propose_changes);
    if (!all.empty()) ck = all.back();
  }
  rep::propose_changes_reply reply;
  if (ck != npos) {
    if (m.property("collection") != cap_.msgs[ck].msg.property("collection"))
      diff("proposeChanges #" + std::to_string(m.number) + ": collection " +
           qt(m.property("collection")) + " but Couchbase Lite sent " +
           qt(cap_.msgs[ck].msg.property("collection")));
    if (cap_.msgs[ck].reply != npos)
      if (auto cr = rep::propose_changes_reply::decode(cap_.msgs[cap_.msgs[ck].reply].msg)) {
        reply.max_history = cr->max_history;
        reply.blobs = cr->blobs;
        reply.deltas = cr->deltas;
      }
  }
  for (auto& e : req->entries) {
    rep::proposal_status st;
    auto& q = answers_[e.doc_id];
    if (!q.empty()) {
      st = q.front().status;
      q.pop_front();
      our_proposals_.push_back(e);
      our_proposal_colls_.emplace_back(m.property("collection"));
    } else if (notes_.allow_resolution_push && refused_.count(e.doc_id) &&
               peer_current_.count(e.doc_id) && e.server_rev_id == peer_current_[e.doc_id] &&
               generation(e.rev_id) > generation(e.server_rev_id)) {
      resolution_revs_.insert(e.doc_id + " " + e.rev_id);
      note("proposeChanges [" + e.doc_id + ", " + e.rev_id + ", parent " + e.server_rev_id +
           "] pushes our conflict resolution on top of the peer's revision: answered 0");
    } else {
      /// No captured answer: the flattened comparison reports the entry. It is answered as
      /// the passive Couchbase Lite would (README: 304 when the proposed revision is its
      /// current one, 0 when the proposed parent is, else 409 with its current revision),
      /// where the capture shows the peer's current revision; else 304 ("the peer has it"),
      /// which lets the session go on without a rev the capture cannot judge.
      our_proposals_.push_back(e);
      our_proposal_colls_.emplace_back(m.property("collection"));
      auto cur = peer_current_.find(e.doc_id);
      if (cur == peer_current_.end() || cur->second == e.rev_id) {
        st.status = rep::proposal_status::have_it;
      } else if (cur->second == e.server_rev_id) {
        st.status = rep::proposal_status::send;
        unjudged_.insert(e.doc_id + " " + e.rev_id);
      } else {
        st = {rep::proposal_status::conflict, cur->second};
      }
      log("-- no captured answer for [" + e.doc_id + ", " + e.rev_id + ", parent " +
          qt(e.server_rev_id) + "]: answered " + status_text(st) + " as the peer would");
    }
    last_answer_[e.doc_id + " " + e.rev_id] = st.status;
    if (st.status == rep::proposal_status::conflict) {
      refused_.insert(e.doc_id);
      if (!st.current_rev.empty()) peer_current_[e.doc_id] = st.current_rev;
    }
    reply.entries.push_back(st);
  }
  reply_to(m, reply.encode(0));
}

void player::on_active_rev(proto::message& m) {
  std::string id(m.property("id")), rev(m.property("rev"));
  if (resolution_revs_.count(id + " " + rev)) {
    /// The tolerated resolution push (case_notes::allow_resolution_push): it must extend the
    /// peer's revision and carry noconflicts like any rev accepted through proposeChanges.
    auto r = rep::rev_message::decode(m);
    if (!r) {
      diff("rev " + id + " " + rev + " does not decode: " + r.err().message);
    } else {
      if (!r->no_conflicts)
        diff("rev " + id + " " + rev +
             " (our conflict resolution, accepted through proposeChanges) lacks noconflicts");
      if (r->history.empty() || r->history.front() != peer_current_[id])
        diff("rev " + id + " " + rev + " (our conflict resolution): history " +
             qt(join(r->history)) + " does not start at the peer's revision " + peer_current_[id]);
      note("rev " + id + " " + rev + " is our pushed conflict resolution");
    }
    proto::message empty;
    empty.type = proto::message_type::reply;
    return reply_to(m, empty);
  }
  if (auto a = last_answer_.find(id + " " + rev);
      a != last_answer_.end() && a->second == rep::proposal_status::conflict) {
    /// Checked before matching: the capture may hold this very rev, sent after a retry.
    extras_.push_back(describe(m));
    diff("our engine sent rev " + id + " " + rev +
         " after the peer answered 409 to it; Couchbase Lite never sends a rev after a 409");
    return reply_to(m, proto::make_error_reply(0, "HTTP", 409, "conflict"));
  }
  size_t k = match_rev(m);
  if (k == npos && unjudged_.count(id + " " + rev)) {
    /// The rev of a proposal the capture has no answer for, which the player accepted as the
    /// peer would: the peer stores it only if it extends its current revision (noconflicts).
    extras_.push_back(describe(m));
    unjudged_.erase(id + " " + rev);
    diff("our engine sent rev " + id + " " + rev + ", which Couchbase Lite did not send");
    auto r = rep::rev_message::decode(m);
    if (r && !r->history.empty() && r->history.front() == peer_current_[id]) {
      peer_current_[id] = rev;
      proto::message empty;
      empty.type = proto::message_type::reply;
      return reply_to(m, empty);
    }
    return reply_to(m,
                    proto::make_error_reply(0, "HTTP", 409, "conflicts with the current revision"));
  }
  if (k == npos) {
    extras_.push_back(describe(m));
    if (refused_.count(id)) {
      diff("our engine sent rev " + id + " " + rev +
           " after the peer answered 409 for it; Couchbase Lite never sends a rev after a 409");
      return reply_to(m, proto::make_error_reply(0, "HTTP", 409, "conflict"));
    }
    diff("our engine sent a rev Couchbase Lite did not send: " + describe(m));
    proto::message empty;
    empty.type = proto::message_type::reply;
    return reply_to(m, empty);
  }
  compare_rev(k, m);
  reply_captured(m, k);
}

void player::on_passive_changes(proto::message& m) {
  auto req = rep::changes_request::decode(m);
  if (!req) {
    diff("our changes does not decode: " + req.err().message);
    if (!m.no_reply) reply_to(m, proto::make_error_reply(0, "BLIP", 400, req.err().message));
    return;
  }
  std::string coll(m.property("collection"));
  std::vector<size_t> captured;
  for (size_t k : cap_.requests(false, rep::profile::changes))
    if (cap_.msgs[k].msg.property("collection") == coll) captured.push_back(k);
  if (req->entries.empty()) {
    ++our_empty_changes_;
    for (size_t k : captured)
      if (!matched_[k] && cap_.msgs[k].msg.body == "[]") {
        matched_[k] = true;
        break;
      }
    if (!m.no_reply) {
      diff("our caught-up changes [] asks for a reply; Couchbase Lite sends it no-reply");
      reply_to(m, rep::changes_reply{}.encode(0));
    }
    return;
  }
  auto& ours = our_changes_[coll];
  ours.insert(ours.end(), req->entries.begin(), req->entries.end());
  /// Captured non-empty changes of the same collection count as seen once as many entries
  /// arrived (batching may differ; the entries themselves are compared at the end, flattened
  /// per collection, so a list for a collection Couchbase Lite never listed shows there).
  size_t cum = 0;
  for (size_t k : captured) {
    auto c = rep::changes_request::decode(cap_.msgs[k].msg);
    if (!c || c->entries.empty()) continue;
    cum += c->entries.size();
    if (cum <= ours.size()) matched_[k] = true;
  }
  if (m.no_reply)
    return diff("our non-empty changes #" + std::to_string(m.number) + " is no-reply");
  rep::changes_reply reply;
  if (changes_reply_props_) {
    reply.max_history = changes_reply_props_->max_history;
    reply.blobs = changes_reply_props_->blobs;
    reply.deltas = changes_reply_props_->deltas;
  }
  for (auto& e : req->entries) {
    auto it = changes_answer_.find(e.doc_id);
    reply.entries.push_back(it != changes_answer_.end() ? it->second : rep::changes_reply::entry{});
  }
  reply_to(m, reply.encode(0));
}

// ---------------------------------------------------------------------------------------------
// Comparisons

void player::compare_request(size_t k, const proto::message& ours) {
  const auto& theirs = cap_.msgs[k].msg;
  std::string p(theirs.profile());
  if (ours.no_reply != theirs.no_reply)
    diff(p + " #" + std::to_string(ours.number) + ": no-reply is " +
         (ours.no_reply ? "set" : "not set") + " but Couchbase Lite's " +
         (theirs.no_reply ? "sets" : "does not set") + " it");
  if (p == rep::profile::rev) return compare_rev(k, ours);
  if (p == rep::profile::get_checkpoint) {
    /// `client` is the checkpoint ID: a SHA-1 over each database's private UUID and the
    /// remote's URL, so it can never equal Couchbase Lite's. Nothing else to compare.
    return;
  }
  if (p == rep::profile::sub_changes) {
    auto a = rep::sub_changes_request::decode(theirs);
    auto b = rep::sub_changes_request::decode(ours);
    if (!b) return diff("our subChanges does not decode: " + b.err().message);
    if (!a) return;
    /// `since` absent and "0" both mean "from the start".
    if (norm_seq(a->since) != norm_seq(b->since))
      diff("subChanges: since " + show_seq(b->since) + " but Couchbase Lite sent " +
           show_seq(a->since));
    bool want_active_only = notes_.active_only.value_or(a->active_only);
    if (notes_.active_only && *notes_.active_only != a->active_only)
      note(std::string("subChanges: activeOnly expected ") +
           (want_active_only ? "true" : "absent") +
           " by the rule of the later recordings, not as this capture has it");
    if (want_active_only != b->active_only)
      diff(std::string("subChanges: activeOnly ") + (b->active_only ? "true" : "absent") +
           " but Couchbase Lite sent " + (want_active_only ? "true" : "none") +
           " (a pull into a database with no documents and no checkpoint asks for live "
           "documents only)");
    if (a->continuous != b->continuous)
      diff(std::string("subChanges: continuous ") + (b->continuous ? "true" : "false") +
           " but Couchbase Lite " + (a->continuous ? "true" : "false"));
    if (a->batch != b->batch)
      diff("subChanges: batch " + std::to_string(b->batch) + " but Couchbase Lite " +
           std::to_string(a->batch));
    if (a->versioning != b->versioning)
      diff("subChanges: versioning " + b->versioning + " but Couchbase Lite " + a->versioning);
    if (a->doc_ids != b->doc_ids) diff("subChanges: docIDs differ");
    if (a->collection != b->collection)
      diff("subChanges: collection " + qt(ours.property("collection")) + " but Couchbase Lite " +
           qt(theirs.property("collection")));
    /// Not compared: `revocations` asks Sync Gateway for access-revocation notices; peers
    /// never revoke access, so we do not ask.
    if (a->send_replacement_revs != b->send_replacement_revs)
      diff(std::string("subChanges: sendReplacementRevs ") +
           (b->send_replacement_revs ? "set" : "absent") + " but Couchbase Lite " +
           (a->send_replacement_revs ? "sets it" : "does not"));
    return;
  }
  if (p == rep::profile::get_attachment) {
    for (auto key : {"digest", "docID", "compress", "collection"})
      if (theirs.property(key) != ours.property(key))
        diff("getAttachment " + std::string(ours.property("docID")) + ": " + key + " " +
             qt(ours.property(key)) + " but Couchbase Lite " + qt(theirs.property(key)));
    return;
  }
  if (p == rep::profile::norev) {
    for (auto key : {"id", "rev", "collection"})
      if (theirs.property(key) != ours.property(key))
        diff("norev: " + std::string(key) + " " + qt(ours.property(key)) + " but Couchbase Lite " +
             qt(theirs.property(key)));
    return;
  }
  if (p == rep::profile::get_collections) {
    /// checkpoint_ids differ for the same reason as getCheckpoint's client.
    auto a = rep::get_collections_request::decode(theirs);
    auto b = rep::get_collections_request::decode(ours);
    if (!b) return diff("our getCollections does not decode: " + b.err().message);
    if (a && a->collections != b->collections)
      diff("getCollections: collections " + join(b->collections) + " but Couchbase Lite " +
           join(a->collections));
    return;
  }
  if (!json_equal(theirs.body, ours.body))
    diff(p + ": body " + printable(ours.body) + " but Couchbase Lite " + printable(theirs.body));
}

void player::compare_rev(size_t k, const proto::message& ours) {
  proto::message theirs_msg = cap_.msgs[k].msg;
  std::string id(theirs_msg.property("id")), rev(theirs_msg.property("rev"));
  std::string expected_body = theirs_msg.body;
  bool delta = theirs_msg.has_property("deltaSrc");
  if (delta) {
    /// Couchbase Lite sent a delta because the peer announced `deltas`; we send full bodies
    /// (allowed: deltas are the sender's option), so ours is compared with the full body.
    auto it = notes_.full_bodies.find(id + " " + rev);
    if (it != notes_.full_bodies.end()) expected_body = it->second;
    std::erase_if(theirs_msg.properties, [](auto& kv) { return kv.first == "deltaSrc"; });
  }
  std::string what = "rev " + id + " " + rev;
  if (ours.has_property("deltaSrc"))
    diff(what + ": we sent a delta (deltaSrc " + std::string(ours.property("deltaSrc")) +
         "); our peers never get deltas from us");
  auto b = rep::rev_message::decode(ours);
  if (!b) return diff(what + ": ours does not decode: " + b.err().message);
  auto a = rep::rev_message::decode(theirs_msg);
  if (!a) return diff(what + ": the captured rev does not decode: " + a.err().message);
  if (a->rev_id != b->rev_id) diff(what + ": we sent revID " + b->rev_id);
  if (a->sequence != b->sequence)
    diff(what + ": sequence " + show_seq(b->sequence) + " but Couchbase Lite " +
         show_seq(a->sequence));
  if (a->deleted != b->deleted)
    diff(what + ": deleted " + (b->deleted ? "set" : "absent") + " but Couchbase Lite " +
         (a->deleted ? "sets deleted=1" : "does not"));
  if (a->history != b->history)
    diff(what + ": history " + qt(join(b->history)) + " but Couchbase Lite " +
         qt(join(a->history)) +
         " (ancestors newest first, stopping at the first one the receiver is known to have)");
  if (a->no_conflicts != b->no_conflicts)
    diff(what + (b->no_conflicts
                     ? ": we set noconflicts=1; Couchbase Lite does not (a rev that answers "
                       "`changes` never carries it)"
                     : ": noconflicts absent; Couchbase Lite sets noconflicts=1 on every rev "
                       "accepted through proposeChanges"));
  if (a->collection != b->collection)
    diff(what + ": collection " + qt(ours.property("collection")) + " but Couchbase Lite " +
         qt(theirs_msg.property("collection")));
  if (!json_equal(expected_body, b->body))
    diff(what + ": body " + printable(b->body) + " but Couchbase Lite " + printable(expected_body) +
         (delta ? " (the delta applied to its source)" : ""));
}

void player::compare_reply(size_t k, const proto::message& theirs, const proto::message& ours) {
  std::string p(cap_.msgs[k].profile());
  std::string what = p + " reply";
  if (p == rep::profile::rev || p == rep::profile::get_attachment || p == rep::profile::norev)
    what +=
        " (" +
        std::string(cap_.msgs[k].msg.property(p == rep::profile::get_attachment ? "docID" : "id")) +
        ")";
  if (role_ == our_role::passive &&
      (p == rep::profile::get_checkpoint || p == rep::profile::set_checkpoint) && !ours.is_error())
    cp_rev_[std::string(cap_.msgs[k].msg.property("client"))] = ours.property("rev");
  if (theirs.is_error() || ours.is_error()) {
    if (theirs.is_error() != ours.is_error())
      diff(what + ": we answered " + kind(ours) + ", Couchbase Lite answered " + kind(theirs));
    else if (theirs.error_domain() != ours.error_domain() ||
             theirs.error_code() != ours.error_code())
      diff(what + ": we answered " + kind(ours) + ", Couchbase Lite " + kind(theirs));
    return;
  }
  /// Properties of proposeChanges and changes replies: maxHistory and blobs as Couchbase Lite;
  /// `deltas` never, because we neither send nor apply deltas (Couchbase Lite says true).
  auto props = [&](uint32_t a_max, bool a_blobs, uint32_t b_max, bool b_blobs, bool b_deltas) {
    if (a_max != b_max)
      diff(what + ": maxHistory " + std::to_string(b_max) + " but Couchbase Lite " +
           std::to_string(a_max));
    if (a_blobs != b_blobs)
      diff(what + ": blobs " + (b_blobs ? "true" : "absent") + " but Couchbase Lite " +
           (a_blobs ? "true" : "absent"));
    if (b_deltas) diff(what + ": we announce deltas=true, but we cannot apply deltas");
  };
  if (p == rep::profile::get_checkpoint) {
    if (theirs.property("rev") != ours.property("rev"))
      diff(what + ": rev " + qt(ours.property("rev")) + " but Couchbase Lite " +
           qt(theirs.property("rev")));
    auto a = rep::checkpoint::from_json(theirs.body);
    auto b = rep::checkpoint::from_json(ours.body);
    if (!b) return diff(what + ": our body does not parse: " + printable(ours.body));
    if (a && (a->time != b->time || a->local != b->local ||
              a->local_completed != b->local_completed || a->remote != b->remote))
      diff(what + ": body " + b->to_json() + " but Couchbase Lite " + a->to_json());
    return;
  }
  if (p == rep::profile::set_checkpoint) {
    if (theirs.property("rev") != ours.property("rev"))
      diff(what + ": rev " + qt(ours.property("rev")) + " but Couchbase Lite " +
           qt(theirs.property("rev")));
    return;
  }
  if (p == rep::profile::propose_changes) {
    auto a = rep::propose_changes_reply::decode(theirs);
    auto b = rep::propose_changes_reply::decode(ours);
    if (!b) return diff(what + ": ours does not decode: " + b.err().message);
    if (!a) return;
    auto req = rep::propose_changes_request::decode(cap_.msgs[k].msg);
    size_t n = req ? req->entries.size() : std::max(a->entries.size(), b->entries.size());
    for (size_t i = 0; i < n; ++i) {
      rep::proposal_status sa = i < a->entries.size() ? a->entries[i] : rep::proposal_status{};
      rep::proposal_status sb = i < b->entries.size() ? b->entries[i] : rep::proposal_status{};
      if (sa.status != sb.status || (sa.status == 409 && sa.current_rev != sb.current_rev)) {
        std::string entry = req && i < req->entries.size()
                                ? " [" + req->entries[i].doc_id + " " + req->entries[i].rev_id +
                                      ", parent " + qt(req->entries[i].server_rev_id) + "]"
                                : "";
        diff(what + ": entry " + std::to_string(i) + entry + ": we answered " + status_text(sb) +
             ", Couchbase Lite " + status_text(sa));
      }
    }
    return props(a->max_history, a->blobs, b->max_history, b->blobs, b->deltas);
  }
  if (p == rep::profile::changes) {
    auto a = rep::changes_reply::decode(theirs);
    auto b = rep::changes_reply::decode(ours);
    if (!b) return diff(what + ": ours does not decode: " + b.err().message);
    auto req = rep::changes_request::decode(cap_.msgs[k].msg);
    if (!a || !req) return;
    for (size_t i = 0; i < req->entries.size(); ++i) {
      const auto& e = req->entries[i];
      asked_[k][e.doc_id] = b->wants(i);
      bool wa = a->wants(i), wb = b->wants(i);
      auto ka = wa ? a->entries[i].known_ancestors : std::vector<std::string>{};
      auto kb = wb ? b->entries[i].known_ancestors : std::vector<std::string>{};
      if (wa != wb)
        diff(what + ": " + e.doc_id + " " + e.rev_id + ": we " +
             (wb ? "ask for it" : "do not ask for it") + ", Couchbase Lite " +
             (wa ? "asks for it" : "does not"));
      else if (ka != kb)
        diff(what + ": " + e.doc_id + " " + e.rev_id + ": known ancestors [" + join(kb) +
             "] but Couchbase Lite [" + join(ka) + "]");
    }
    return props(a->max_history, a->blobs, b->max_history, b->blobs, b->deltas);
  }
  if (p == rep::profile::get_collections) {
    if (!json_equal(theirs.body, ours.body))
      diff(what + ": body " + printable(ours.body) + " but Couchbase Lite " +
           printable(theirs.body));
    return;
  }
  if (theirs.body != ours.body)
    diff(what + ": body " + printable(ours.body) + " but Couchbase Lite " + printable(theirs.body));
}

// ---------------------------------------------------------------------------------------------
// Playing and finishing

void player::play_client() {
  last_activity_ = steady::now();
  if (!wait_open())
    return diff("our passive replicator did not open the connection within " +
                std::to_string(kPlayerTimeout.count()) + " ms");
  send_plan();
  flush();
  auto all_seen = [&] {
    for (size_t i = 0; i < cap_.msgs.size(); ++i)
      if (cap_.msgs[i].c2s == engine_dir() && !matched_[i]) return false;
    return true;
  };
  while (!broken_) {
    if (link_closed() && !pump(0ms)) {
      diff("our engine closed the connection before the session ended");
      break;
    }
    if (next_plan_ == plan_.size() && all_seen()) break;
    if (!pump(50ms) && stalled()) {
      if (mark_blocking_missing() == 0) {
        diff("the session stalled: our engine silent for " + std::to_string(kStallTimeout.count()) +
             " ms and nothing left to wait for");
        break;
      }
      last_activity_ = steady::now();
      send_plan();
      flush();
    }
  }
  /// Listen a little longer: an extra message from our engine must not go unnoticed.
  auto until = steady::now() + kQuietPeriod;
  while (!broken_ && !link_closed() && steady::now() < until)
    pump(std::chrono::duration_cast<std::chrono::milliseconds>(until - steady::now()));
  if (!link_closed()) {
    log("-> close");
    conn_.close();
    auto deadline = steady::now() + kPlayerTimeout;
    while (!link_closed() && steady::now() < deadline) pump(20ms);
    while (pump(0ms)) {
    }
    if (!link_closed())
      diff("our engine did not close the connection within " +
           std::to_string(kPlayerTimeout.count()) + " ms of the player closing it");
  }
  finish_passive();
}

void player::play_server(const std::function<bool()>& stopped) {
  last_activity_ = steady::now();
  if (!wait_open())
    return diff("our replicator did not open a connection within " +
                std::to_string(kPlayerTimeout.count()) + " ms");
  send_plan();
  flush();
  while (!broken_) {
    if (link_closed()) {
      while (pump(0ms)) {
      }
      break;
    }
    if (pump(50ms)) continue;
    if (stopped()) break;
    if (!stalled()) continue;
    if (next_plan_ < plan_.size() && mark_blocking_missing() > 0) {
      last_activity_ = steady::now();
      send_plan();
      flush();
      continue;
    }
    diff("our replicator stalled: silent for " + std::to_string(kStallTimeout.count()) +
         " ms without stopping" +
         (sess_.pending_count() ? " (a player request is unanswered)" : ""));
    break;
  }
}

void player::finish_common() {
  {
    std::lock_guard<std::mutex> g{link_->mtx};
    if (link_->opens != 1)
      diff("our engine opened " + std::to_string(link_->opens) + " connections; expected 1");
    if (link_->close_error)
      diff("our engine closed the connection with an error: " + link_->close_error->what);
  }
  for (size_t i = 0; i < cap_.msgs.size(); ++i)
    if (cap_.msgs[i].c2s == engine_dir() && (!matched_[i] || missing_.count(i)))
      diff("missing: our engine never sent the equivalent of " + describe_captured(i));
  for (size_t j = next_plan_; j < plan_.size(); ++j) {
    std::string why;
    gate_for(plan_[j], why);
    diff("the player never got to send captured " + describe_captured(plan_[j]) + " (" + why + ")");
  }
  /// Revs in request-number order (completion order differs when big ones span frames), per
  /// collection: two collections' revs interleave differently from run to run.
  auto sorted = [](std::vector<std::string> v) {
    auto coll = [](const std::string& s) {
      auto sp = s.find(' ');
      return s.substr(sp + 1, s.find('|', sp) - sp - 1);
    };
    std::stable_sort(v.begin(), v.end(), [&](const std::string& a, const std::string& b) {
      auto ca = coll(a), cb = coll(b);
      return ca != cb ? ca < cb : std::stoull(a) < std::stoull(b);
    });
    std::vector<std::string> ids;
    for (auto& s : v) {
      auto rest = s.substr(s.find(' ') + 1);
      ids.push_back(rest[0] == '|' ? rest.substr(1) : rest);
    }
    return ids;
  };
  auto ours = sorted(our_rev_order_), theirs = sorted(captured_rev_order_);
  if (ours != theirs)
    diff("revs go out in the order [" + join(ours) + "]; Couchbase Lite's order is [" +
         join(theirs) + "]");
}

void player::finish_passive() {
  std::map<std::string, std::vector<rep::change>> their_changes;
  size_t their_empty = 0;
  for (size_t k : cap_.requests(false, rep::profile::changes)) {
    auto c = rep::changes_request::decode(cap_.msgs[k].msg);
    if (!c) continue;
    if (c->entries.empty()) ++their_empty;
    auto& theirs = their_changes[std::string(cap_.msgs[k].msg.property("collection"))];
    theirs.insert(theirs.end(), c->entries.begin(), c->entries.end());
    matched_[k] = true;  // judged below, entry by entry
    missing_.erase(k);
  }
  for (auto& [coll, ours] : our_changes_) their_changes[coll];  // ours alone show too
  for (auto& [coll, theirs] : their_changes) {
    auto& our_list = our_changes_[coll];
    if (theirs.empty() && our_list.empty()) continue;
    std::string where = coll.empty() ? std::string() : " (collection " + qt(coll) + ")";
    /// bodySize is not compared: Couchbase Lite counts its internal Fleece size.
    size_t shown = 0, wrong = 0;
    for (size_t i = 0; i < std::max(theirs.size(), our_list.size()); ++i) {
      auto show = [](const rep::change* c) {
        if (!c) return std::string("(nothing)");
        return "[" + c->sequence + "," + c->doc_id + "," + c->rev_id + "," +
               (c->deleted ? "1" : "0") + "]";
      };
      const rep::change* a = i < theirs.size() ? &theirs[i] : nullptr;
      const rep::change* b = i < our_list.size() ? &our_list[i] : nullptr;
      if (a && b && a->sequence == b->sequence && a->doc_id == b->doc_id &&
          a->rev_id == b->rev_id && a->deleted == b->deleted)
        continue;
      ++wrong;
      if (shown++ < 8)
        diff("changes entry " + std::to_string(i) + where + ": we sent " + show(b) +
             ", Couchbase Lite " + show(a));
    }
    if (wrong > 8) diff("... and " + std::to_string(wrong - 8) + " more changes entries differ");
  }
  if (their_empty > 0 && our_empty_changes_ == 0) diff("we never sent the caught-up `changes []`");
  finish_common();
}

void player::finish_active(const peerlite::replicator_status& final_status,
                           uint64_t last_sequence) {
  /// proposeChanges, flattened: our engine may batch differently (LiteCore: 200 per message),
  /// which changes nothing for the peer. bodySize is not compared (Fleece size).
  /// Each collection's entries in their order, the collections one after another (two
  /// collections' pushers interleave their lists differently from run to run).
  std::vector<std::pair<std::string, rep::proposed_change>> tagged_theirs, tagged_ours;
  for (size_t k : cap_.requests(true, rep::profile::propose_changes)) {
    if (auto r = rep::propose_changes_request::decode(cap_.msgs[k].msg))
      for (auto& e : r->entries)
        tagged_theirs.emplace_back(std::string(cap_.msgs[k].msg.property("collection")), e);
    matched_[k] = true;  // judged below, entry by entry
    missing_.erase(k);
  }
  for (size_t i = 0; i < our_proposals_.size(); ++i)
    tagged_ours.emplace_back(our_proposal_colls_[i], our_proposals_[i]);
  auto by_collection = [](auto& v) {
    std::stable_sort(v.begin(), v.end(),
                     [](const auto& a, const auto& b) { return a.first < b.first; });
  };
  by_collection(tagged_theirs);
  by_collection(tagged_ours);
  std::vector<rep::proposed_change> theirs, ours_sorted;
  for (auto& [c, e] : tagged_theirs) theirs.push_back(e);
  for (auto& [c, e] : tagged_ours) ours_sorted.push_back(e);
  size_t shown = 0, wrong = 0;
  for (size_t i = 0; i < std::max(theirs.size(), ours_sorted.size()); ++i) {
    auto show = [](const rep::proposed_change* c) {
      if (!c) return std::string("(nothing)");
      return "[" + c->doc_id + "," + c->rev_id + ", parent " + qt(c->server_rev_id) + "]";
    };
    const auto* a = i < theirs.size() ? &theirs[i] : nullptr;
    const auto* b = i < ours_sorted.size() ? &ours_sorted[i] : nullptr;
    if (a && b && a->doc_id == b->doc_id && a->rev_id == b->rev_id &&
        a->server_rev_id == b->server_rev_id)
      continue;
    ++wrong;
    if (shown++ < 8) {
      std::string why;
      if (a && b && a->doc_id == b->doc_id && a->rev_id == b->rev_id)
        why = " (the parent is the newest revision the peer is known to have; \"\" for none)";
      diff("proposeChanges entry " + std::to_string(i) + ": we proposed " + show(b) +
           ", Couchbase Lite " + show(a) + why);
    }
  }
  if (wrong > 8)
    diff("... and " + std::to_string(wrong - 8) + " more proposeChanges entries differ");

  /// Checkpoints: how often each side saves differs (the capture's revs are not replayed, see
  /// on_active_set_checkpoint), and `time` always does; the last save's local/remote count.
  auto all_cps = cap_.requests(true, rep::profile::set_checkpoint);
  for (size_t k : all_cps) {
    matched_[k] = true;  // judged below: the last one of each collection
    missing_.erase(k);
  }
  std::set<std::string> cp_colls;
  for (size_t k : all_cps) cp_colls.insert(std::string(cap_.msgs[k].msg.property("collection")));
  for (auto& coll : cp_colls) {
    std::vector<size_t> cps;
    for (size_t k : all_cps)
      if (cap_.msgs[k].msg.property("collection") == coll) cps.push_back(k);
    std::vector<std::string> mine;
    for (auto& [c, body] : our_checkpoints_)
      if (c == coll) mine.push_back(body);
    std::string where = coll.empty() ? std::string() : " (collection " + qt(coll) + ")";
    if (mine.empty()) {
      diff("we never saved the checkpoint (setCheckpoint)" + where);
    } else {
      auto a = rep::checkpoint::from_json(cap_.msgs[cps.back()].msg.body);
      auto b = rep::checkpoint::from_json(mine.back());
      if (a && b) {
        std::string want_local = norm_seq(a->local);
        if (!resolution_revs_.empty() || (notes_.allow_resolution_push && !refused_.empty())) {
          /// Our puller settles every document refused with 409 in the same run, by pushing
          /// a merge on top of the peer's revision or by keeping the peer's revision (issue
          /// 10, case 5): nothing waits, so everything up to our last sequence is done, where
          /// Couchbase Lite's checkpoint kept the conflicted ones pending.
          want_local = norm_seq(std::to_string(last_sequence));
          note("checkpoint local expected at our last sequence " + want_local +
               " (conflicts resolved in this run)");
        }
        /// Our pusher's checkpoint also passes the sequences that revisions pulled in this run
        /// got here (it reads them from the feed and has nothing to push for them), where
        /// Couchbase Lite's stays at its last pushed sequence: at most one more per rev the
        /// peer sent us, never past our last sequence (update-delta-bidi: 4 where it has 3).
        /// Anything we failed to push shows in the proposeChanges comparison above.
        bool ahead_by_pulled = false;
        auto to_n = [](const std::string& s) {
          return s.empty() ? std::optional<uint64_t>(0) : rep::sequence_to_u64(s);
        };
        auto want_n = to_n(want_local);
        auto ours_n = to_n(norm_seq(b->local));
        size_t pulled = cap_.requests(false, rep::profile::rev).size();
        if (want_n && ours_n && *ours_n > *want_n && *ours_n <= *want_n + pulled &&
            *ours_n <= last_sequence) {
          ahead_by_pulled = true;
          note("checkpoint local " + show_seq(b->local) + " is past Couchbase Lite's " +
               show_seq(want_local) + " by sequences of revisions pulled in this run");
        }
        if (norm_seq(b->local) != want_local && !ahead_by_pulled)
          diff("last setCheckpoint" + where + ": local " + show_seq(b->local) + " but Couchbase Lite " +
               show_seq(want_local) + " (body " + mine.back() + " vs " +
               cap_.msgs[cps.back()].msg.body + ")");
        if (norm_seq(b->remote) != norm_seq(a->remote))
          diff("last setCheckpoint" + where + ": remote " + show_seq(b->remote) + " but Couchbase Lite " +
               show_seq(a->remote) + " (body " + mine.back() + " vs " +
               cap_.msgs[cps.back()].msg.body + ")");
      }
    }
  }
  for (auto& key : unjudged_)
    diff("the peer answered 0 to our proposal [" + key +
         "] (as Couchbase Lite would) but we never sent that rev");
  bool normal = cap_.close_code_c2s == 1000 || cap_.close_code_c2s == 0;
  if (!notes_.expected_stop_error.empty()) {
    if (final_status.err.message.find(notes_.expected_stop_error) == std::string::npos)
      diff("our replicator should stop with \"" + notes_.expected_stop_error +
           "\" as Couchbase Lite's does; it stopped with " +
           (final_status.err.code == peerlite::errc::ok ? std::string("no error")
                                                         : final_status.err.message));
  } else if (normal && final_status.err.code != peerlite::errc::ok)
    diff("our replicator stopped with error " +
         std::string(peerlite::to_string(final_status.err.code)) + " (" + final_status.err.message +
         "); Couchbase Lite's session ended normally (close 1000)");
  if (!normal && final_status.err.code == peerlite::errc::ok)
    diff("our replicator stopped without error; Couchbase Lite's ended with close code " +
         std::to_string(cap_.close_code_c2s));
  finish_common();
}

std::string player::report() const {
  std::ostringstream os;
  os << cap_.name << " (our engine is the " << (role_ == our_role::passive ? "passive" : "active")
     << " peer): " << diffs_.size() << " difference(s) from Couchbase Lite 3.2\n";
  for (auto& d : diffs_) os << "  - " << d << "\n";
  if (!notes_log_.empty()) {
    os << "documented deviations seen (not failures):\n";
    for (auto& n : notes_log_) os << "  * " << n << "\n";
  }
  os << "transcript (-> player to our engine, <- our engine, !! difference):\n";
  /// Long transcripts keep their head and tail, unless PEERLITE_CONFORMANCE_FULL is set.
  size_t head = 90, tail = 30;
  if (std::getenv("PEERLITE_CONFORMANCE_FULL")) head = log_.size();
  for (size_t i = 0; i < log_.size(); ++i) {
    if (log_.size() > head + tail && i == head)
      os << "    ... " << (log_.size() - head - tail) << " lines ...\n";
    if (log_.size() > head + tail && i >= head && i < log_.size() - tail) continue;
    os << "    " << log_[i] << "\n";
  }
  return os.str();
}

}  // namespace conformance
