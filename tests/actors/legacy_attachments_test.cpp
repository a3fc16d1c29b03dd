// Blob replication against peers that differ from a current peerlite in what they announce or
// how hard they are pushed, seen through a BLIP relay between the two sides (MESSAGE_STREAM):
//  - the puller's fetch window: however many blobs the incoming revs lack, at most
//    kMaxBlobFetches getAttachment requests are on the wire at once, and every document still
//    arrives (a failed fetch frees its place for the next);
//  - legacy `_attachments` stubs: a peer whose replies to proposeChanges / changes do not say
//    `blobs: true` (a pre-blob peer) gets, in each rev body holding blob dicts, a top-level
//    `_attachments` entry "blob_<JSON pointer>" per blob with revpos = the rev's generation;
//    a peer that says it (any peerlite, Couchbase Lite 3.x) gets the stored bodies unchanged.
//
// The relay decodes every frame one side sends with a protocol::session of its own and sends
// the messages on through a second session to the other side (numbers mapped both ways), so
// it sees whole messages, counts requests in flight, and can drop reply properties.
#define BOOST_TEST_MODULE legacy_attachments
#include <simdjson.h>

#include <boost/test/unit_test.hpp>
#include <cstring>
#include <optional>
#include <random>
#include <set>

#include "actors/connection.hpp"
#include "actors/pusher_state.hpp"
#include "actors/tuning.hpp"
#include "protocol/rep_messages.hpp"
#include "protocol/session.hpp"
#include "tests/actors/seed_harness.hpp"

using namespace peerlite;
using namespace peerlite::test;

namespace {

constexpr auto kRunTimeout = 60s;   ///< one one-shot replication, start to STOPPED
constexpr auto kEventTimeout = 5s;  ///< document events trailing a run's STOPPED report

std::string random_bytes(size_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::string out(n, '\0');
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    uint64_t v = rng();
    std::memcpy(out.data() + i, &v, 8);
  }
  for (; i < n; ++i) out[i] = static_cast<char>(rng());
  return out;
}

blob save(database& db, std::string_view data, std::string_view type) {
  auto b = db.save_blob(data, type);
  BOOST_REQUIRE_MESSAGE(b, (b ? std::string() : b.err().message));
  return *b;
}

std::string put(database& db, const std::string& id, const std::string& body) {
  auto r = db.put(id, body);
  BOOST_REQUIRE_MESSAGE(r, id + ": " + (r ? std::string() : r.err().message));
  return *r;
}

std::string body_of(const database& db, const std::string& id) {
  auto d = db.get(id);
  return d ? d->body : "!" + d.err().message;
}

std::string blob_bytes(const database& db, const std::string& digest) {
  auto b = db.read_blob(digest);
  return b ? *b : "!" + b.err().message;
}

// --- the relay ---

/// One message the relay passed on, as it was sent on (after any rewrite).
struct relayed {
  bool from_active = false;
  protocol::message msg;
  std::string request_profile;  ///< for a reply: the Profile of the request it answers
};

/// What the relay changes: drop the `blobs` property of replies to changes/proposeChanges
/// going to the active side (the passive peer is "legacy") and/or to the passive side.
struct relay_options {
  bool legacy_passive = false;
  bool legacy_active = false;
};

class relay : public std::enable_shared_from_this<relay> {
 public:
  explicit relay(relay_options o) : opts_(o) {}

  /// One side's transport: what that side's connection actor sends comes into the relay.
  class face : public message_endpoint_connection {
   public:
    face(std::shared_ptr<relay> r, bool active) : r_(std::move(r)), active_(active) {}
    void open(replicator_connection c, messaging_completion done) override {
      done(true, std::nullopt);
      r_->opened(active_, std::move(c));
    }
    void send(message msg, messaging_completion done) override {
      r_->frame(active_, msg.data());
      done(true, std::nullopt);
    }
    void close(std::optional<messaging_error> e, close_completion done) override {
      done();
      r_->closed(active_, std::move(e));
    }

   private:
    std::shared_ptr<relay> r_;
    bool active_;
  };

  std::vector<relayed> messages() {
    std::lock_guard<std::mutex> g{mtx_};
    return log_;
  }
  /// Requests with this Profile that one side sent, in order.
  std::vector<relayed> requests(const std::string& profile, bool from_active) {
    std::vector<relayed> out;
    for (auto& m : messages())
      if (m.msg.type == protocol::message_type::request && m.from_active == from_active &&
          m.msg.profile() == profile)
        out.push_back(m);
    return out;
  }
  /// Replies (or errors) to requests with this Profile.
  std::vector<relayed> replies(const std::string& profile) {
    std::vector<relayed> out;
    for (auto& m : messages())
      if (m.msg.type != protocol::message_type::request && m.request_profile == profile)
        out.push_back(m);
    return out;
  }
  /// The most getAttachment requests one side had unanswered at once.
  size_t max_get_attachments(bool from_active) {
    std::lock_guard<std::mutex> g{mtx_};
    return max_gets_[from_active];
  }
  std::string failure() {
    std::lock_guard<std::mutex> g{mtx_};
    return failure_;
  }

 private:
  struct side {
    protocol::session s;  ///< speaks to this side: decodes its frames, encodes frames for it
    replicator_connection rc;
    bool open = false;
    bool closed = false;
    std::vector<std::string> waiting;  ///< frames for it before it opened
    /// Its requests the relay sent on: the other session's number -> (its number, Profile).
    std::map<uint64_t, std::pair<uint64_t, std::string>> pending;
  };

  void opened(bool active, replicator_connection c) {
    std::lock_guard<std::mutex> g{mtx_};
    auto& me = active ? a_ : b_;
    me.rc = std::move(c);
    me.open = true;
    for (auto& f : me.waiting) me.rc.receive(message(std::move(f)));
    me.waiting.clear();
  }

  void closed(bool active, std::optional<messaging_error> e) {
    replicator_connection other;
    {
      std::lock_guard<std::mutex> g{mtx_};
      auto& me = active ? a_ : b_;
      auto& you = active ? b_ : a_;
      me.closed = true;
      me.rc = {};
      if (!you.closed) other = you.rc;
    }
    if (other) other.close(std::move(e));
  }

  void frame(bool from_active, std::string_view bytes) {
    std::lock_guard<std::mutex> g{mtx_};
    auto& me = from_active ? a_ : b_;
    auto& you = from_active ? b_ : a_;
    if (auto st = me.s.receive_frame(bytes); !st.ok()) {
      if (failure_.empty()) failure_ = st.message();
      return;
    }
    while (auto m = me.s.next_incoming()) {
      relayed r{from_active, *m, {}};
      if (m->type == protocol::message_type::request) {
        auto number = m->number;
        std::string profile(m->profile());
        m->number = 0;
        bool expects = !m->no_reply;
        auto sent = you.s.send(std::move(*m));
        if (expects) {
          me.pending[sent] = {number, profile};
          if (profile == "getAttachment") {
            auto n = ++gets_[from_active];
            max_gets_[from_active] = std::max(max_gets_[from_active], n);
          }
        }
      } else {
        /// A reply to a request of `you`: its number in `you`'s session is in you.pending.
        auto it = you.pending.find(m->number);
        if (it == you.pending.end()) {
          if (failure_.empty()) failure_ = "reply to an unknown request";
          continue;
        }
        r.request_profile = it->second.second;
        m->number = it->second.first;
        you.pending.erase(it);
        if (r.request_profile == "getAttachment") --gets_[!from_active];
        bool legacy = from_active ? opts_.legacy_active : opts_.legacy_passive;
        if (legacy && (r.request_profile == "changes" || r.request_profile == "proposeChanges")) {
          auto& p = m->properties;
          p.erase(std::remove_if(p.begin(), p.end(), [](auto& kv) { return kv.first == "blobs"; }),
                  p.end());
          r.msg.properties = p;
        }
        you.s.send(std::move(*m));
      }
      r.msg.number = 0;
      log_.push_back(std::move(r));
    }
    flush(a_);
    flush(b_);
  }

  /// Hands each side the frames its session has for it (in order: under the lock).
  void flush(side& to) {
    std::string f;
    while (to.s.next_frame(f)) {
      if (to.closed) continue;
      if (!to.open)
        to.waiting.push_back(std::move(f));
      else
        to.rc.receive(message(std::move(f)));
      f = std::string();
    }
  }

  relay_options opts_;
  std::mutex mtx_;
  side a_, b_;
  std::vector<relayed> log_;
  size_t gets_[2] = {0, 0};
  size_t max_gets_[2] = {0, 0};
  std::string failure_;
};

/// A passive peerlite on `db` behind a relay: each endpoint connect makes a new relay.
struct relay_host {
  database db;
  std::shared_ptr<caf::actor_system> sys = actors::shared_system();
  std::shared_ptr<passive_record> record = std::make_shared<passive_record>();
  actors::passive_observer observer;
  std::atomic<uint64_t> accepted{0};
  std::mutex mtx;
  std::shared_ptr<relay> last;

  explicit relay_host(database d) : db(std::move(d)) { observer = sys->spawn(observer_impl, record); }
  ~relay_host() { caf::anon_send_exit(observer, caf::exit_reason::user_shutdown); }

  std::shared_ptr<relay> current() {
    std::lock_guard<std::mutex> g{mtx};
    return last;
  }

  message_endpoint endpoint(const std::string& uid, relay_options opts = {}) {
    message_endpoint ep;
    ep.uid = uid;
    ep.target = "relay:" + uid;
    ep.protocol = protocol_type::message_stream;
    ep.delegate = [this, opts](const message_endpoint&) -> std::unique_ptr<message_endpoint_connection> {
      auto r = std::make_shared<relay>(opts);
      {
        std::lock_guard<std::mutex> g{mtx};
        last = r;
      }
      auto inner = actors::spawn_passive_replicator(*sys, db, observer, ++accepted);
      std::shared_ptr<message_endpoint_connection> passive = std::make_shared<relay::face>(r, false);
      actors::spawn_connection(*sys, std::move(passive),
                               protocol_type::message_stream, actors::role::passive, inner);
      return std::make_unique<relay::face>(r, true);
    };
    return ep;
  }

  /// The passive side's failed documents (waits for `n` events in all).
  std::map<std::string, error> failures(size_t n) {
    wait_until(
        [&] {
          std::lock_guard<std::mutex> g{record->mtx};
          return record->events.size() >= n;
        },
        kEventTimeout);
    std::lock_guard<std::mutex> g{record->mtx};
    std::map<std::string, error> out;
    for (auto& e : record->events)
      if (e.err.code != errc::ok) out[e.id] = e.err;
    return out;
  }
};

struct run_result {
  replicator_status status;
  std::vector<replicated_document> events;
  std::set<std::string> ids(bool ok) const {
    std::set<std::string> out;
    for (auto& e : events)
      if ((e.err.code == errc::ok) == ok) out.insert(e.id);
    return out;
  }
  std::string failures() const {
    std::string s;
    for (auto& e : events)
      if (e.err.code != errc::ok) s += e.id + ": " + e.err.message + "; ";
    return s;
  }
};

run_result run_once(database db, message_endpoint target, replicator_type type,
                    size_t expect_events) {
  replicator_config cfg;
  cfg.db = std::move(db);
  cfg.target = std::move(target);
  cfg.type = type;
  cfg.max_attempts = 1;
  replicator r(cfg);
  auto mtx = std::make_shared<std::mutex>();
  auto events = std::make_shared<std::vector<replicated_document>>();
  auto token = r.add_document_listener([mtx, events](const std::vector<replicated_document>& ev) {
    std::lock_guard<std::mutex> g{*mtx};
    events->insert(events->end(), ev.begin(), ev.end());
  });
  run_result out;
  out.status = run_to_stop(r, kRunTimeout);
  wait_until(
      [&] {
        std::lock_guard<std::mutex> g{*mtx};
        return events->size() >= expect_events;
      },
      kEventTimeout);
  std::lock_guard<std::mutex> g{*mtx};
  out.events = *events;
  return out;
}

/// getAttachment requests per digest.
std::map<std::string, int> gets_by_digest(const std::vector<relayed>& gets) {
  std::map<std::string, int> out;
  for (auto& g : gets) ++out[std::string(g.msg.property("digest"))];
  return out;
}

/// The rev bodies one side sent, by document ID (the last one of each).
std::map<std::string, std::pair<std::string, std::string>> rev_bodies(relay& r, bool from_active) {
  std::map<std::string, std::pair<std::string, std::string>> out;  // id -> (rev, body)
  for (auto& m : r.requests("rev", from_active))
    out[std::string(m.msg.property("id"))] = {std::string(m.msg.property("rev")), m.msg.body};
  return out;
}

// --- JSON checks on bodies ---

/// Each top-level member of a JSON object, minified, except `_attachments`.
std::map<std::string, std::string> members(const std::string& json) {
  simdjson::dom::parser p;
  simdjson::dom::object o;
  std::map<std::string, std::string> out;
  if (p.parse(json).get(o) != simdjson::SUCCESS) {
    out["!"] = "not a JSON object: " + json;
    return out;
  }
  for (auto f : o)
    if (f.key != "_attachments") out[std::string(f.key)] = simdjson::minify(f.value);
  return out;
}

/// The `_attachments` entries of a body: name -> minified dict ("" map when absent).
std::map<std::string, std::string> attachments(const std::string& json) {
  simdjson::dom::parser p;
  simdjson::dom::object o, atts;
  std::map<std::string, std::string> out;
  if (p.parse(json).get(o) != simdjson::SUCCESS) return out;
  if (o["_attachments"].get(atts) != simdjson::SUCCESS) return out;
  for (auto f : atts) out[std::string(f.key)] = simdjson::minify(f.value);
  return out;
}

std::string stub(const blob& b, int revpos) {
  return R"({"content_type":")" + b.content_type + R"(","digest":")" + b.digest +
         R"(","length":)" + std::to_string(b.length) + R"(,"revpos":)" + std::to_string(revpos) +
         R"(,"stub":true})";
}

int generation(const std::string& rev) { return std::stoi(rev.substr(0, rev.find('-'))); }

void require_relay_ok(relay& r) { BOOST_REQUIRE_MESSAGE(r.failure().empty(), r.failure()); }

}  // namespace

// ============================================================================================
// 1. The fetch window
// ============================================================================================

/// A pull of 300 documents, each with its own 20 KB blob: the active puller never has more
/// than kMaxBlobFetches getAttachment requests unanswered, runs more than one at once, and
/// every document and blob arrives.
BOOST_AUTO_TEST_CASE(a_pull_keeps_at_most_the_window_of_blob_fetches_in_flight) {
  constexpr int kDocs = 300;
  temp_db hub_db("hub"), active("active");
  relay_host hub(hub_db.db);
  std::vector<blob> blobs;
  for (int i = 0; i < kDocs; ++i) {
    blobs.push_back(save(hub_db.db, random_bytes(20000, 100 + i), "image/jpeg"));
    put(hub_db.db, "d" + std::to_string(i), R"({"i":)" + std::to_string(i) + R"(,"img":)" +
                                                 blobs.back().to_json() + "}");
  }
  auto r = run_once(active.db, hub.endpoint("peer-a"), replicator_type::pull, kDocs);
  BOOST_TEST(r.status.err.code == errc::ok, r.status.err.message);
  BOOST_TEST(r.ids(false).empty(), r.failures());
  BOOST_TEST(r.ids(true).size() == size_t(kDocs));
  auto relay = hub.current();
  BOOST_REQUIRE(relay);
  require_relay_ok(*relay);
  auto gets = relay->requests("getAttachment", true);
  BOOST_TEST(gets.size() == size_t(kDocs));
  BOOST_TEST(gets_by_digest(gets).size() == size_t(kDocs));
  auto most = relay->max_get_attachments(true);
  BOOST_TEST_MESSAGE("most getAttachment requests in flight: " << most);
  BOOST_TEST(most <= actors::kMaxBlobFetches);
  BOOST_TEST(most >= 2u);
  BOOST_TEST(*active.db.document_count() == uint64_t(kDocs));
  for (int i : {0, 150, kDocs - 1}) {
    BOOST_TEST(body_of(active.db, "d" + std::to_string(i)) ==
               body_of(hub_db.db, "d" + std::to_string(i)));
    BOOST_TEST((blob_bytes(active.db, blobs[i].digest) == random_bytes(20000, 100 + i)));
  }
}

/// A push of 120 documents with their own blobs, every tenth blob deleted from the pushing
/// side's file (so the passive puller's fetch gets 404): the passive puller stays within the
/// window, each failure frees its place (the run ends), only those 12 documents fail, and one
/// blob shared by several documents is still fetched once.
BOOST_AUTO_TEST_CASE(a_push_keeps_the_window_and_failed_fetches_free_their_places) {
  constexpr int kDocs = 120;
  temp_db active("active"), hub_db("hub");
  relay_host hub(hub_db.db);
  auto shared = save(active.db, random_bytes(30000, 7), "application/octet-stream");
  std::vector<blob> blobs;
  std::set<std::string> bad;
  for (int i = 0; i < kDocs; ++i) {
    blobs.push_back(save(active.db, random_bytes(10000, 200 + i), "image/png"));
    std::string id = "p" + std::to_string(i);
    put(active.db, id, R"({"a":)" + blobs.back().to_json() + R"(,"s":)" + shared.to_json() + "}");
    if (i % 10 == 3) bad.insert(id);
  }
  {
    for (int i = 3; i < kDocs; i += 10)
      BOOST_REQUIRE_EQUAL(
          raw_exec(active.location, "DELETE FROM blobs WHERE digest = ?1", {{blobs[i].digest}}),
          1);
  }
  auto r = run_once(active.db, hub.endpoint("peer-a"), replicator_type::push, kDocs);
  BOOST_TEST(r.status.err.code == errc::ok, r.status.err.message);
  BOOST_TEST(r.ids(false) == bad, r.failures());
  BOOST_TEST(r.ids(true).size() == size_t(kDocs) - bad.size());
  auto relay = hub.current();
  BOOST_REQUIRE(relay);
  require_relay_ok(*relay);
  auto most = relay->max_get_attachments(false);
  BOOST_TEST_MESSAGE("most getAttachment requests in flight: " << most);
  BOOST_TEST(most <= actors::kMaxBlobFetches);
  BOOST_TEST(most >= 2u);
  auto per = gets_by_digest(relay->requests("getAttachment", false));
  BOOST_TEST(per[shared.digest] == 1);
  BOOST_TEST(per.size() == size_t(kDocs) + 1);
  auto passive_bad = hub.failures(kDocs);
  BOOST_TEST(passive_bad.size() == bad.size());
  BOOST_TEST(*hub_db.db.document_count() == uint64_t(kDocs) - bad.size());
  BOOST_TEST((blob_bytes(hub_db.db, shared.digest) == random_bytes(30000, 7)));
}

// ============================================================================================
// 2. Legacy `_attachments` stubs
// ============================================================================================

/// The stub builder itself: spliced in after the other members; entries already in
/// `_attachments` kept (a same-named one wins); escaped pointers; bodies without blob dicts
/// untouched.
BOOST_AUTO_TEST_CASE(with_legacy_attachments_adds_stubs_and_keeps_existing_entries) {
  const std::string d1 = "sha1-AAAAAAAAAAAAAAAAAAAAAAAAAAA=", d2 = "sha1-BBBBBBBBBBBBBBBBBBBBBBBBBBB=";
  auto dict = [](const std::string& d, int len) {
    return R"({"@type":"blob","content_type":"text/plain","digest":")" + d +
           R"(","length":)" + std::to_string(len) + "}";
  };
  using actors::with_legacy_attachments;
  std::string plain = R"({"a":1,"b":[1,2.5,"x"]})";
  BOOST_TEST(with_legacy_attachments(plain, "3-abc") == plain);
  std::string legacy_only =
      R"({"_attachments":{"f":{"digest":")" + d1 + R"(","length":3,"stub":true}}})";
  BOOST_TEST(with_legacy_attachments(legacy_only, "1-abc") == legacy_only);

  std::string body = R"({"n":1.5e3,"x/y":)" + dict(d1, 10) + R"(,"list":[0,)" + dict(d2, 20) + "]}";
  auto out = with_legacy_attachments(body, "12-deadbeef");
  /// Spliced: the stored bytes, then `_attachments`.
  BOOST_TEST(out.substr(0, body.size() - 1) == body.substr(0, body.size() - 1));
  BOOST_TEST(members(out) == members(body));
  auto atts = attachments(out);
  BOOST_TEST(atts.size() == 2u);
  BOOST_TEST(atts["blob_/x~1y"] == R"({"content_type":"text/plain","digest":")" + d1 +
                                       R"(","length":10,"revpos":12,"stub":true})");
  BOOST_TEST(atts["blob_/list/1"] == R"({"content_type":"text/plain","digest":")" + d2 +
                                         R"(","length":20,"revpos":12,"stub":true})");
  /// find_blobs sees the blob twice (dict and stub) with one digest: fetched once.
  auto refs = store::find_blobs(out);
  BOOST_TEST(refs.size() == 4u);

  std::string mixed = R"({"_attachments":{"old.txt":{"digest":")" + d2 +
                      R"(","length":20,"revpos":1,"stub":true},"blob_/img":{"keep":"me"}},"img":)" +
                      dict(d1, 10) + R"(,"other":)" + dict(d1, 10) + "}";
  out = with_legacy_attachments(mixed, "2-aa");
  BOOST_TEST(members(out) == members(mixed));
  atts = attachments(out);
  BOOST_TEST(atts.size() == 3u);
  BOOST_TEST(atts["old.txt"] == R"({"digest":")" + d2 + R"(","length":20,"revpos":1,"stub":true})");
  BOOST_TEST(atts["blob_/img"] == R"({"keep":"me"})");
  BOOST_TEST(atts["blob_/other"] == R"({"content_type":"text/plain","digest":")" + d1 +
                                        R"(","length":10,"revpos":2,"stub":true})");
  /// `_attachments` that is not an object: left alone.
  std::string odd = R"({"_attachments":7,"img":)" + dict(d1, 10) + "}";
  BOOST_TEST(with_legacy_attachments(odd, "1-a") == odd);
}

/// Push to a passive peer whose proposeChanges replies lack `blobs: true`: every rev with blob
/// dicts carries `_attachments` stubs "blob_<pointer>" with revpos = its generation (and keeps
/// its own legacy entries), the other members are the stored ones, a rev without blobs is sent
/// as stored; the receiving peerlite fetches each blob once although the body names it twice,
/// and stores everything.
BOOST_AUTO_TEST_CASE(a_pusher_sends_legacy_stubs_to_a_peer_not_announcing_blobs) {
  temp_db active("active"), hub_db("hub");
  relay_host hub(hub_db.db);
  auto png = save(active.db, random_bytes(50000, 1), "image/png");
  auto txt = save(active.db, "some text for a text blob", "text/plain");
  auto old = save(active.db, "legacy bytes", "application/json");
  auto v3 = save(active.db, random_bytes(7000, 3), "application/octet-stream");
  put(active.db, "photo", R"({"title":"x","photo":)" + png.to_json() + R"(,"notes":[)" +
                              txt.to_json() + "]}");
  put(active.db, "mixed",
      R"({"_attachments":{"readme.json":{"content_type":"application/json","digest":")" +
          old.digest + R"(","length":)" + std::to_string(old.length) +
          R"(,"revpos":1,"stub":true}},"img":)" + png.to_json() + "}");
  put(active.db, "plain", R"({"no":"blob"})");
  put(active.db, "old-style",
      R"({"_attachments":{"a.json":{"content_type":"application/json","digest":")" + old.digest +
          R"(","length":)" + std::to_string(old.length) + R"(,"revpos":1,"stub":true}}})");
  put(active.db, "third", R"({"v":1})");
  put(active.db, "third", R"({"v":2})");
  auto third_rev = put(active.db, "third", R"({"v":3,"file":)" + v3.to_json() + "}");
  BOOST_REQUIRE(generation(third_rev) == 3);

  auto r = run_once(active.db, hub.endpoint("peer-a", {.legacy_passive = true}),
                    replicator_type::push, 5);
  BOOST_TEST(r.status.err.code == errc::ok, r.status.err.message);
  BOOST_TEST(r.ids(false).empty(), r.failures());
  BOOST_TEST(r.ids(true).size() == 5u);
  auto relay = hub.current();
  BOOST_REQUIRE(relay);
  require_relay_ok(*relay);
  for (auto& rep : relay->replies("proposeChanges"))
    BOOST_TEST(!rep.msg.has_property("blobs"));

  auto sent = rev_bodies(*relay, true);
  BOOST_REQUIRE(sent.size() == 5u);
  for (auto id : {"photo", "mixed", "plain", "old-style", "third"}) {
    BOOST_TEST_CONTEXT(id) {
      auto stored = body_of(active.db, id);
      BOOST_TEST(members(sent[id].second) == members(stored));
    }
  }
  auto photo = attachments(sent["photo"].second);
  BOOST_TEST(photo.size() == 2u);
  BOOST_TEST(photo["blob_/photo"] == stub(png, 1));
  BOOST_TEST(photo["blob_/notes/0"] == stub(txt, 1));
  auto mixed = attachments(sent["mixed"].second);
  BOOST_TEST(mixed.size() == 2u);
  BOOST_TEST(mixed["readme.json"] == attachments(body_of(active.db, "mixed"))["readme.json"]);
  BOOST_TEST(mixed["blob_/img"] == stub(png, 1));
  BOOST_TEST(sent["plain"].second == body_of(active.db, "plain"));
  BOOST_TEST(sent["old-style"].second == body_of(active.db, "old-style"));
  BOOST_TEST(sent["third"].first == third_rev);
  auto third = attachments(sent["third"].second);
  BOOST_TEST(third.size() == 1u);
  BOOST_TEST(third["blob_/file"] == stub(v3, 3));

  /// The receiving peerlite: each blob fetched once, every document and blob stored.
  auto per = gets_by_digest(relay->requests("getAttachment", false));
  BOOST_TEST(per.size() == 4u);
  for (auto& [digest, n] : per) BOOST_TEST(n == 1, digest);
  BOOST_TEST(hub.failures(5).empty());
  BOOST_TEST(*hub_db.db.document_count() == 5u);
  BOOST_TEST(body_of(hub_db.db, "photo") == sent["photo"].second);
  BOOST_TEST((blob_bytes(hub_db.db, png.digest) == random_bytes(50000, 1)));
  BOOST_TEST((blob_bytes(hub_db.db, txt.digest) == "some text for a text blob"));
  BOOST_TEST((blob_bytes(hub_db.db, old.digest) == "legacy bytes"));
  BOOST_TEST((blob_bytes(hub_db.db, v3.digest) == random_bytes(7000, 3)));
}

/// The passive side's pusher: an active puller whose `changes` replies lack `blobs: true` gets
/// the stubs too; the pulling peerlite fetches each blob once and stores the documents.
BOOST_AUTO_TEST_CASE(a_passive_pusher_sends_legacy_stubs_to_a_puller_not_announcing_blobs) {
  temp_db hub_db("hub"), active("active");
  relay_host hub(hub_db.db);
  auto a = save(hub_db.db, random_bytes(40000, 11), "image/png");
  auto b = save(hub_db.db, "text text text", "text/plain");
  put(hub_db.db, "one", R"({"a":)" + a.to_json() + "}");
  put(hub_db.db, "two", R"({"a":)" + a.to_json() + R"(,"b":{"deep":)" + b.to_json() + "}}");
  put(hub_db.db, "two", R"({"a":)" + a.to_json() + R"(,"b":{"deep":)" + b.to_json() + R"(},"v":2})");
  put(hub_db.db, "none", R"({"x":1})");

  auto r = run_once(active.db, hub.endpoint("peer-a", {.legacy_active = true}),
                    replicator_type::pull, 3);
  BOOST_TEST(r.status.err.code == errc::ok, r.status.err.message);
  BOOST_TEST(r.ids(false).empty(), r.failures());
  BOOST_TEST(r.ids(true).size() == 3u);
  auto relay = hub.current();
  BOOST_REQUIRE(relay);
  require_relay_ok(*relay);
  BOOST_TEST(!relay->replies("changes").empty());
  for (auto& rep : relay->replies("changes")) BOOST_TEST(!rep.msg.has_property("blobs"));
  auto sent = rev_bodies(*relay, false);
  BOOST_REQUIRE(sent.size() == 3u);
  BOOST_TEST(sent["none"].second == body_of(hub_db.db, "none"));
  BOOST_TEST(members(sent["one"].second) == members(body_of(hub_db.db, "one")));
  BOOST_TEST(attachments(sent["one"].second) ==
             (std::map<std::string, std::string>{{"blob_/a", stub(a, 1)}}));
  BOOST_TEST(members(sent["two"].second) == members(body_of(hub_db.db, "two")));
  BOOST_TEST(attachments(sent["two"].second) ==
             (std::map<std::string, std::string>{{"blob_/a", stub(a, 2)},
                                                 {"blob_/b/deep", stub(b, 2)}}));
  auto per = gets_by_digest(relay->requests("getAttachment", true));
  BOOST_TEST(per.size() == 2u);
  for (auto& [digest, n] : per) BOOST_TEST(n == 1, digest);
  BOOST_TEST(*active.db.document_count() == 3u);
  BOOST_TEST(body_of(active.db, "two") == sent["two"].second);
  BOOST_TEST((blob_bytes(active.db, a.digest) == random_bytes(40000, 11)));
  BOOST_TEST((blob_bytes(active.db, b.digest) == "text text text"));
}

/// peerlite against peerlite (both announce blobs): no stubs either way, every rev body on the
/// wire is byte-identical to the stored one.
BOOST_AUTO_TEST_CASE(a_peer_announcing_blobs_gets_the_stored_bodies_unchanged) {
  temp_db active("active"), hub_db("hub"), third("third");
  relay_host hub(hub_db.db);
  auto a = save(active.db, random_bytes(30000, 21), "image/png");
  auto b = save(active.db, "plain text blob", "text/plain");
  put(active.db, "one", R"({"a":)" + a.to_json() + R"(,"list":[)" + b.to_json() + "]}");
  put(active.db, "two", R"({"n": 1.50, "a" : )" + a.to_json() + " }");
  put(active.db, "none", R"({"x":1})");
  auto push = run_once(active.db, hub.endpoint("peer-a"), replicator_type::push, 3);
  BOOST_TEST(push.status.err.code == errc::ok, push.status.err.message);
  BOOST_TEST(push.ids(true).size() == 3u, push.failures());
  auto relay = hub.current();
  BOOST_REQUIRE(relay);
  require_relay_ok(*relay);
  for (auto& rep : relay->replies("proposeChanges"))
    BOOST_TEST(rep.msg.property("blobs") == "true");
  auto sent = rev_bodies(*relay, true);
  BOOST_REQUIRE(sent.size() == 3u);
  for (auto& [id, rb] : sent) {
    BOOST_TEST(rb.second == body_of(active.db, id), id);
    BOOST_TEST(rb.second.find("_attachments") == std::string::npos, id);
  }

  auto pull = run_once(third.db, hub.endpoint("peer-c"), replicator_type::pull, 3);
  BOOST_TEST(pull.status.err.code == errc::ok, pull.status.err.message);
  BOOST_TEST(pull.ids(true).size() == 3u, pull.failures());
  relay = hub.current();
  require_relay_ok(*relay);
  for (auto& rep : relay->replies("changes")) BOOST_TEST(rep.msg.property("blobs") == "true");
  sent = rev_bodies(*relay, false);
  BOOST_REQUIRE(sent.size() == 3u);
  for (auto& [id, rb] : sent) {
    BOOST_TEST(rb.second == body_of(hub_db.db, id), id);
    BOOST_TEST(rb.second == body_of(active.db, id), id);
    BOOST_TEST(body_of(third.db, id) == body_of(active.db, id), id);
  }
  BOOST_TEST((blob_bytes(third.db, a.digest) == random_bytes(30000, 21)));
}
