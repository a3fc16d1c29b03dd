#include "tests/conformance/seeds.hpp"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <nlohmann/json.hpp>
#include <stdexcept>

#include "store/database.hpp"

namespace peerlite::actors {
/// actors/replicator_checkpoint.cpp: "cp-" + base64(SHA-1(private UUID, remote uid, doc IDs,
/// filters)). Declared here rather than including the actor header it lives in.
std::string checkpoint_id(const std::string& private_uuid, const replicator_config& cfg);
}  // namespace peerlite::actors

namespace conformance {

seeded_db::~seeded_db() {
  db = peerlite::database{};
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
}

std::unique_ptr<seeded_db> build_db(const seed& s, const std::string& remote_name) {
  namespace store = peerlite::store;
  static std::atomic<int> counter{0};
  auto out = std::make_unique<seeded_db>();
  out->dir =
      std::filesystem::temp_directory_path() /
      ("peerlite-conformance-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
  std::filesystem::create_directories(out->dir);
  std::string path = (out->dir / "db.sqlite").string();
  {
    auto opened = store::database::open(path);
    if (!opened) throw std::runtime_error("seed: open " + path + ": " + opened.err().message);
    store::database& db = **opened;
    auto insert_all = [&](const std::vector<seed_rev>& revs) {
      for (size_t i = 0; i < revs.size(); ++i) {
        const auto& r = revs[i];
        store::incoming_revision in;
        in.id = r.id;
        in.rev = r.rev;
        in.history = r.history;
        in.body = r.body;
        in.deleted = r.deleted;
        auto res = db.insert_with_history(in);
        if (!res)
          throw std::runtime_error("seed: insert " + r.id + " " + r.rev + ": " + res.err().message);
        if (res->sequence != i + 1)
          throw std::runtime_error("seed: " + r.id + " " + r.rev + " got sequence " +
                                   std::to_string(res->sequence) + ", the capture has " +
                                   std::to_string(i + 1));
      }
    };
    insert_all(s.revs);
    for (const auto& [name, revs] : s.named) {
      auto id = db.create_collection(name);
      if (!id) throw std::runtime_error("seed: collection " + name + ": " + id.err().message);
      if (auto st = db.use_collection(*id); !st.ok())
        throw std::runtime_error("seed: use " + name + ": " + st.message());
      insert_all(revs);
      (void)db.use_collection(0);
    }
    for (const auto& b : s.blobs)
      if (auto d = db.put_blob(b); !d)
        throw std::runtime_error("seed: put_blob: " + d.err().message);
    if (!s.remote_holds.empty()) {
      auto rid = db.remote(remote_name);
      if (!rid) throw std::runtime_error("seed: remote " + remote_name + ": " + rid.err().message);
      std::vector<store::rev_ref> refs;
      for (auto& [id, rev] : s.remote_holds) refs.push_back({id, rev});
      if (auto st = db.set_remote_revs(*rid, refs); !st.ok())
        throw std::runtime_error("seed: set_remote_revs: " + st.message());
    }
    for (const auto& cp : s.peer_checkpoints) {
      std::optional<std::string> rev;
      for (int g = 0; g < cp.generation; ++g) {
        auto r = db.set_checkpoint(store::checkpoint_store::peer, cp.client, cp.body, rev);
        if (!r)
          throw std::runtime_error("seed: peer checkpoint " + cp.client + ": " + r.err().message);
        rev = *r;
      }
    }
    if (!s.local_checkpoint.empty()) {
      peerlite::replicator_config cfg;
      cfg.target.uid = remote_name;
      auto id = peerlite::actors::checkpoint_id(db.private_uuid(), cfg);
      auto r = db.set_checkpoint(store::checkpoint_store::local, id, s.local_checkpoint, {});
      if (!r) throw std::runtime_error("seed: local checkpoint: " + r.err().message);
    }
  }
  auto db = peerlite::database::open(path);
  if (!db) throw std::runtime_error("seed: reopen " + path + ": " + db.err().message);
  out->db = *db;
  return out;
}

namespace {

seed_rev rv(std::string id, std::string rev, std::string body,
            std::vector<std::string> history = {}) {
  return {std::move(id), std::move(rev), std::move(body), std::move(history), false};
}

std::vector<std::string> split(std::string_view h) {
  std::vector<std::string> out;
  while (!h.empty()) {
    auto c = h.find(',');
    out.emplace_back(h.substr(0, c));
    h.remove_prefix(c == std::string_view::npos ? h.size() : c + 1);
  }
  return out;
}

seed_rev from_msg(const cap_msg& m) {
  return {std::string(m.msg.property("id")), std::string(m.msg.property("rev")), m.msg.body,
          split(m.msg.property("history")), m.msg.property("deleted") == "1"};
}

/// The revs one side of a capture sent (optionally of one collection), ordered by their
/// `sequence` property: the sender's own sequence order.
std::vector<seed_rev> revs_of(const std::string& name, bool c2s, std::string_view collection = {}) {
  const capture& cap = get_capture(name);
  std::vector<std::pair<uint64_t, seed_rev>> v;
  for (auto& m : cap.msgs) {
    if (m.c2s != c2s || !m.is_request() || m.profile() != "rev") continue;
    if (!collection.empty() && m.msg.property("collection") != collection) continue;
    v.emplace_back(std::stoull(std::string(m.msg.property("sequence"))), from_msg(m));
  }
  std::stable_sort(v.begin(), v.end(), [](auto& a, auto& b) { return a.first < b.first; });
  std::vector<seed_rev> out;
  for (auto& [seq, r] : v) out.push_back(std::move(r));
  return out;
}

seed_rev captured(const std::string& name, std::string_view id, std::string_view rev = {}) {
  const cap_msg* m = get_capture(name).find_rev(id, rev);
  if (!m) throw std::runtime_error("seed: no captured rev " + std::string(id) + " in " + name);
  return from_msg(*m);
}

void append(std::vector<seed_rev>& to, std::vector<seed_rev> more) {
  for (auto& r : more) to.push_back(std::move(r));
}

std::vector<std::pair<std::string, std::string>> holds(const std::vector<seed_rev>& revs) {
  std::vector<std::pair<std::string, std::string>> out;
  for (auto& r : revs) out.emplace_back(r.id, r.rev);
  return out;
}

// ---- update-push / update-pull: u1..u4 at generation 1 on both sides.
// Their gen-1 bodies never travel: invented. u4's revID never appears at all: invented.
const std::string U1 = "1-2f43e1a60c745e8da5d6b1941b704746f845544b";
const std::string U2 = "1-3e9980415f3297cc59f664367a9d2f801e85ef8d";
const std::string U3 = "1-e9c21836e688fb14fe61266786571d09879b4576";
const std::string U4 = "1-d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4";  // invented
const std::string U3_DEL = "2-cd29506f651f0f66f7e4c6f2a82f8e3f8cb7d6dd";

std::vector<seed_rev> u_gen1() {
  return {rv("u1", U1, R"({"title":"one","v":1})"), rv("u2", U2, R"({"title":"two","v":1})"),
          rv("u3", U3, R"({"title":"three","v":1})"), rv("u4", U4, R"({"title":"four","v":1})")};
}

// ---- conflict-*: c1..c3 at generation 1 on both sides (bodies invented).
const std::string C1 = "1-a98446b4ea15a8a93b2f2c5074ca911e9c9ff633";
const std::string C2 = "1-555798ec5bad42961ee8692324aa786625d54052";
const std::string C3 = "1-488c52fbdb404b62918afd9331a4e7646cd660d1";

std::vector<seed_rev> c_gen1() {
  return {rv("c1", C1, R"({"title":"c-one","v":1})"), rv("c2", C2, R"({"title":"c-two","v":1})"),
          rv("c3", C3, R"({"title":"c-three","v":1})")};
}

/// The active side's edits: c1 and c2 were never sent (409), so their bodies are invented
/// (sized like the captured bodySize 30); c3's is captured.
std::vector<seed_rev> c_active() {
  auto v = c_gen1();
  v.push_back(rv("c1", "2-98b57224e67fb5677b036d7541cf4fa627d52500",
                 R"({"title":"c-one","v":2,"by":"active"})", {C1}));
  v.push_back(rv("c2", "2-a0835f43f8fd0ab39e90ac12be2fcecae8993e58",
                 R"({"title":"c-two","v":2,"by":"active"})", {C2}));
  v.push_back(captured("conflict-push", "c3"));
  return v;
}

/// The passive side's edits: c1 updated, c2 deleted (both captured in conflict-pull).
std::vector<seed_rev> c_passive() {
  auto v = c_gen1();
  v.push_back(captured("conflict-pull", "c1"));
  v.push_back(captured("conflict-pull", "c2"));
  return v;
}

// ---- retry-push. The setup pulled 3 documents (the checkpoint says remote 3, and r1 gen 3 is
// sequence 6 after r1 gen 2 and r2 gen 2): the third, r3, is invented, revID included.
// Gen-1 and gen-2 bodies never travel: invented.
const std::string R1 = "1-d8889ceb816276c8f1fba41758c42a23edaa668c";
const std::string R2 = "1-90219b0e0ec71b38c25f9364b734e7465b44d111";
const std::string R3 = "1-c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3";  // invented
const std::string R1_2 = "2-6518e5d79514f5188807b451f17eaca59b6e249e";
const std::string R2_2 = "2-496b3336d31dab54c001db8d2cf311e68c4daf3d";

std::vector<seed_rev> r_common() {
  return {rv("r1", R1, R"({"title":"r-one","v":1})"), rv("r2", R2, R"({"title":"r-two","v":1})"),
          rv("r3", R3, R"({"title":"r-three","v":1})"),
          rv("r1", R1_2, R"({"title":"r-one","v":2})", {R1}),
          rv("r2", R2_2, R"({"title":"r-two","v":2})", {R2})};
}

// ---- active-only-pull(-again): k1..k3 live (captured), t1..t3 created (gen-1 bodies
// invented; revIDs from the tombstones' history) and then deleted, at sequences 7..9.
std::vector<seed_rev> k_and_t() {
  auto v = revs_of("active-only-pull", false);
  auto tombs = revs_of("active-only-pull-again", false);
  int n = 0;
  for (auto& t : tombs)
    v.push_back(rv(t.id, t.history.at(0), "{\"gone\":" + std::to_string(++n) + "}"));
  append(v, tombs);
  return v;
}

// ---- update-delta-bidi: 256-byte bodies. d2 gen 2 is captured in full; the other bodies are
// invented from it (d1 gen 2 = d1 gen 1 with the captured delta {"v":2} applied).
const std::string D1 = "1-492cd1822a402e5d62e98dcfb8ee968966477654";
const std::string D2 = "1-e3c9b22eecfee432d7caf37d6ced7470b7fbef6d";
const std::string D1_2 = "2-f0dfe19494268f7ba995db6c637ce509845db7b8";

std::string d_body(const std::string& title, int v) {
  auto j = nlohmann::json::parse(captured("update-delta-bidi", "d2").body);
  j["title"] = title;
  j["v"] = v;
  return j.dump();
}

// ---- blob-push / blob-prove: the passive peer held "only b1"; its revID is not in any
// capture: invented.
/// The blob bodies a capture moved: the replies to its getAttachment requests.
std::vector<std::string> blobs_of(const std::string& name) {
  const auto& cap = get_capture(name);
  std::vector<std::string> out;
  for (bool c2s : {true, false})
    for (size_t i : cap.requests(c2s, "getAttachment"))
      if (cap.msgs[i].reply != npos) out.push_back(cap.msgs[cap.msgs[i].reply].msg.body);
  return out;
}

seed_rev blob_b1() {
  return rv("b1", "1-b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1", R"({"n":1,"from":"b"})");
}

}  // namespace

seed passive_seed(const std::string& name) {
  seed s;
  if (name == "push") {
    s.revs = revs_of("pull", false);  // b1..b3 (docs-b)
  } else if (name == "pull" || name == "bidi") {
    s.revs = revs_of("pull", false);        // b1..b3: sequences 1..3
    append(s.revs, revs_of("push", true));  // a1..a5, big from the push: 4..9
    if (name == "pull") {
      s.peer_checkpoints = {
          {"cp-GvDu3FhguKVJfNlz33lSeuXzTpM=", R"({"time":1795690828,"local":6})", 1}};
    } else {
      s.revs.push_back(captured("bidi", "a1"));  // the passive side's edit: sequence 10
      s.peer_checkpoints = {
          {"cp-GvDu3FhguKVJfNlz33lSeuXzTpM=", R"({"time":1795690829,"local":6,"remote":9})", 3}};
    }
  } else if (name == "push-big") {
    s.revs = {captured("pull-big", "z")};
  } else if (name == "pull-big") {
    s.revs = revs_of("pull-big", false);
  } else if (name == "blob-pull") {
    s.revs = revs_of("blob-pull", false);
    s.blobs = blobs_of("blob-pull");
  } else if (name == "blob-push") {
    s.revs = {blob_b1()};
  } else if (name == "blob-prove") {
    s.revs = {blob_b1()};
    append(s.revs, revs_of("blob-push", true));
    s.blobs = blobs_of("blob-push");
  } else if (name == "blob-big-push") {
    /// The capture does not say what the receiving peer held; it accepted both docs: empty.
  } else if (name == "collections") {
    /// The peer held o9 in store.orders and p1 in the default collection (both revs travel in
    /// collections-pull, where that peer holds what this session added too).
    s.revs = revs_of("collections-pull", false, "1");
    s.revs.resize(1);  // p1 (d1 arrives in this session)
    s.named = {{"store.orders", {captured("collections-pull", "o9")}}};
  } else if (name == "collections-pull") {
    s.revs = revs_of("collections-pull", false, "1");  // p1, d1
    s.named = {{"store.orders", revs_of("collections-pull", false, "0")}};
    s.blobs = blobs_of("collections-pull");
  } else if (name == "collections-unshared") {
    /// An unmodified `cblite serve` sharing only the default collection; contents unknown.
  } else if (name == "update-push") {
    s.revs = u_gen1();
    s.peer_checkpoints = {
        {"cp-YOykHA9Dfbyz6wHd9p22vwg/qqc=", R"({"time":1796487809,"remote":4})", 1}};
  } else if (name == "update-pull") {
    s.revs = u_gen1();
    s.revs.push_back(captured("update-pull", "u1"));
    /// u2 gen 2 travels only as a revID in history: its body is invented.
    s.revs.push_back(
        rv("u2", "2-69f6b9fc268e7b275ae1b006fe410b4f34e7ddc3", R"({"title":"two","v":2})", {U2}));
    s.revs.push_back(captured("update-pull", "u2"));
    s.revs.push_back(captured("update-pull", "u3"));
    s.revs.push_back(captured("update-pull", "n1"));
    s.peer_checkpoints = {
        {"cp-EE0Us3kkiWfNRf0u578CsOX8CXI=", R"({"time":1796487811,"remote":4})", 1}};
  } else if (name == "conflict-push") {
    s.revs = c_passive();
    s.peer_checkpoints = {
        {"cp-3rCQoowB9CM8AZK680Brs9gKDJs=", R"({"time":1796487814,"remote":3})", 1}};
  } else if (name == "conflict-pull") {
    s.revs = c_passive();
    s.peer_checkpoints = {
        {"cp-xcx5t0vQfjvvSyit0nkQpVuEtuU=", R"({"time":1796487817,"remote":3})", 2}};
  } else if (name == "conflict-bidi") {
    s.revs = c_passive();
    s.peer_checkpoints = {
        {"cp-casNw2/lHEA9oyQpfSBsPXmcGy0=", R"({"time":1796487819,"remote":3})", 1}};
  } else if (name == "retry-push") {
    /// r1 gen 2 and r2 gen 2 arrived from the active database over another URL.
    s.revs = r_common();
    s.peer_checkpoints = {
        {"cp-4q8dwjnaE2Fy/3VMoImUhkXi/4g=", R"({"time":1796487825,"remote":3})", 2}};
  } else if (name == "active-only-pull") {
    s.revs = k_and_t();
  } else if (name == "active-only-pull-again") {
    s.revs = k_and_t();
    s.peer_checkpoints = {
        {"cp-5vH92PVEafFpOcRV5w4MVknnBLM=", R"({"time":1796487822,"remote":3})", 1}};
  } else if (name == "update-delta-bidi") {
    s.revs = {rv("d1", D1, d_body("d-one", 1)), rv("d2", D2, d_body("d-two", 1)),
              captured("update-delta-bidi", "d2")};
    s.peer_checkpoints = {
        {"cp-GRakUjeqtwY4n5vYekl0BJxr9h0=", R"({"time":1796487828,"remote":2})", 1}};
  } else {
    throw std::runtime_error("no passive seed for " + name);
  }
  return s;
}

seed active_seed(const std::string& name) {
  seed s;
  if (name == "push") {
    s.revs = revs_of("push", true);  // a1..a5, big (docs-a)
  } else if (name == "pull") {
    /// After the push: the remote holds a1..big, and both checkpoint copies say local 6.
    s.revs = revs_of("push", true);
    s.remote_holds = holds(s.revs);
    s.local_checkpoint = R"({"time":1795690828,"local":6})";
  } else if (name == "bidi") {
    s.revs = revs_of("push", true);          // 1..6
    append(s.revs, revs_of("pull", false));  // b1..b3 pulled: 7..9
    s.remote_holds = holds(s.revs);
    /// The active side's edits: a1 updated (never sent, 409: body invented, 24 bytes like the
    /// other side's edit) and a2 deleted (captured).
    s.revs.push_back(rv("a1", "2-3e1a932fa786def38dfaa09c8aa135cdfcae8f09",
                        R"({"n":1,"from":"a","edit":"a-side"})",
                        {"1-fc8e5ac9d7cdd170cca73b7cc05fa7a6a69a1ef9"}));
    s.revs.push_back(captured("bidi", "a2"));
    s.local_checkpoint = R"({"time":1795690829,"local":6,"remote":9})";
  } else if (name == "push-big") {
    s.revs = revs_of("push-big", true);
  } else if (name == "collections-pull") {
    /// A new database with store.orders created (and empty).
    s.named = {{"store.orders", {}}};
  } else if (name == "pull-big" || name == "blob-pull" || name == "active-only-pull") {
    /// Pulls into a new, empty database.
  } else if (name == "blob-push" || name == "blob-prove" || name == "blob-big-push") {
    s.revs = revs_of(name, true);
    /// blob-prove moved no blob: the photo it shares with blob-push comes from that capture.
    s.blobs = blobs_of(name == "blob-prove" ? "blob-push" : name);
  } else if (name == "collections") {
    /// d1 in the default collection; o1..o3 (o2 with a text blob) in store.orders.
    s.revs = revs_of("collections", true, "1");
    s.named = {{"store.orders", revs_of("collections", true, "0")}};
    s.blobs = blobs_of("collections");
  } else if (name == "collections-unshared") {
    /// It pushed store.orders; the capture ends before any document moves.
    s.named = {{"store.orders", {}}};
  } else if (name == "update-push") {
    s.revs = u_gen1();  // 1..4
    s.remote_holds = holds(s.revs);
    s.revs.push_back(captured("update-push", "u1"));  // 5
    /// u2 gen 2 travels only as a revID in history: its body is invented.
    s.revs.push_back(rv("u2", "2-885f9baf193211578980c0de262c536190138ca8",
                        R"({"title":"two","v":2})", {U2}));  // 6
    s.revs.push_back(captured("update-push", "u2"));         // 7
    s.revs.push_back(captured("update-push", "u3"));         // 8 (deleted)
    s.revs.push_back(captured("update-push", "n1"));         // 9
    s.local_checkpoint = R"({"time":1796487809,"remote":4})";
  } else if (name == "update-pull") {
    s.revs = u_gen1();
    s.remote_holds = holds(s.revs);
    s.local_checkpoint = R"({"time":1796487811,"remote":4})";
  } else if (name == "conflict-push" || name == "conflict-pull" || name == "conflict-bidi") {
    s.revs = c_active();
    s.remote_holds = holds(c_gen1());
    s.local_checkpoint = name == "conflict-push"   ? R"({"time":1796487814,"remote":3})"
                         : name == "conflict-pull" ? R"({"time":1796487817,"remote":3})"
                                                   : R"({"time":1796487819,"remote":3})";
  } else if (name == "retry-push") {
    /// This URL's remote got r1, r2, r3 at gen 1 in the setup; gen 2 went over another URL,
    /// so nothing records it for this one.
    s.revs = r_common();
    s.remote_holds = {{"r1", R1}, {"r2", R2}, {"r3", R3}};
    s.revs.push_back(captured("retry-push", "r1"));  // r1 gen 3: sequence 6
    s.local_checkpoint = R"({"time":1796487825,"remote":3})";
  } else if (name == "active-only-pull-again") {
    s.revs = revs_of("active-only-pull", false);  // k1..k3 from the first pull
    s.remote_holds = holds(s.revs);
    s.local_checkpoint = R"({"time":1796487822,"remote":3})";
  } else if (name == "update-delta-bidi") {
    s.revs = {rv("d1", D1, d_body("d-one", 1)), rv("d2", D2, d_body("d-two", 1)),
              rv("d1", D1_2, d_body("d-one", 2), {D1})};
    s.remote_holds = {{"d1", D1}, {"d2", D2}};
    s.local_checkpoint = R"({"time":1796487828,"remote":2})";
  } else {
    throw std::runtime_error("no active seed for " + name);
  }
  return s;
}

peerlite::replicator_type active_type(const std::string& name) {
  using peerlite::replicator_type;
  if (name == "bidi" || name == "conflict-bidi" || name == "update-delta-bidi")
    return replicator_type::push_and_pull;
  if (name.find("pull") != std::string::npos) return replicator_type::pull;
  return replicator_type::push;
}

case_notes notes_for(const std::string& name) {
  case_notes n;
  if (name == "update-delta-bidi") n.full_bodies["d1 " + D1_2] = d_body("d-one", 2);
  if (name == "bidi" || name == "conflict-bidi") n.allow_resolution_push = true;
  if (name == "collections-unshared")
    n.expected_stop_error = "Collection 'store.orders' is not found on the remote server";
  /// pull-big pulls into an empty database without activeOnly, but it was recorded (on 26 Nov,
  /// with push, pull, bidi, push-big) by another cblite build: its HTTP upgrade says
  /// "User-Agent: cblite/0.0.0", the later sessions' say "cblite/3.2.0 (9)".
  /// Every later recording by cblite 3.2.0 pulling into an empty database without checkpoint
  /// (blob-pull, active-only-pull, collections-pull) sends activeOnly: true, which is the
  /// rule in the captures' README; we follow it here too.
  if (name == "pull-big") n.active_only = true;
  return n;
}

}  // namespace conformance
