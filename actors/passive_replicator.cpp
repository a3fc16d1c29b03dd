// The passive replicator: serves one accepted connection (PROTOCOL.md §3, "Passive side").
#include "actors/passive_replicator.hpp"

#include <map>
#include <set>

#include "actors/database_core.hpp"
#include "actors/errors.hpp"
#include "actors/request_deadlines.hpp"
#include "actors/status_mixer.hpp"
#include "actors/tuning.hpp"
#include "actors/workers.hpp"
#include "protocol/rep_messages.hpp"

namespace peerlite::actors {

namespace rep = protocol::rep;

namespace {

using passive_actor = connection_owner::extend<
    caf::reacts_to<worker_status_atom, worker_report>,
    caf::reacts_to<doc_events_atom, uint64_t, std::vector<replicated_document>>,
    caf::reacts_to<tick_atom>>;

struct passive_state {
  database db;
  /// Deadlines of this actor's requests (see request_deadlines.hpp).
  request_deadlines deadlines;
  passive_observer observer;
  uint64_t id = 0;
  bool read_only = false;
  connection_api conn;
  puller_actor puller;
  /// One pusher per subscribed collection, by its getCollections index (0 without one).
  std::map<uint32_t, pusher_actor> pushers;
  /// Set by getCollections: index -> local collection (-1: not served here), and its name.
  std::optional<std::vector<store::collection_id>> colls;
  std::vector<std::string> coll_names;
  /// The collections served ("scope.name"); empty = all (listener_config::collections).
  std::set<std::string> served;
  /// What the peer pushed, shared by the puller and the pushers (see pushed_revs).
  std::shared_ptr<pushed_revs> pushed = std::make_shared<pushed_revs>();
  status_mixer mixer;
  status_pacer pacer;
  replicator_status last_sent;
  bool closed = false;
  static inline const char* name = "peerlite.passive";
};

using passive_self = passive_actor::stateful_pointer<passive_state>;

/// The passive puller's lane: it serves every collection and names its events itself.
constexpr uint32_t kPassivePullerLane = UINT32_MAX;

void emit(passive_self self, replicator_status s) {
  auto& st = self->state;
  st.last_sent = s;
  st.pacer.last = std::chrono::steady_clock::now();
  st.pacer.level = s.activity;
  if (st.observer) self->send(st.observer, repl_status_atom::value, st.id, std::move(s));
}

void status_changed(passive_self self) {
  auto& st = self->state;
  if (st.closed) return;
  auto now = std::chrono::steady_clock::now();
  auto s = st.mixer.connected();
  /// Only progress is paced: a new activity level goes out at once.
  if (st.pacer.may_send(now) || s.activity != st.pacer.level) return emit(self, std::move(s));
  if (!st.pacer.tick_pending) {
    st.pacer.tick_pending = true;
    self->delayed_send(self, st.pacer.delay(now), tick_atom::value);
  }
}

protocol::message get_checkpoint(passive_self self, const protocol::message& msg) {
  auto req = rep::get_checkpoint_request::decode(msg);
  if (!req) return protocol::make_error_reply(0, "BLIP", 400, req.err().message);
  auto r = self->state.db.core()->acquire_reader();
  if (!r) return http_error_reply(r.err());
  auto cp = (*r)->get_checkpoint(store::checkpoint_store::peer, req->client);
  if (!cp) {
    if (cp.err().code != errc::not_found) return http_error_reply(cp.err());
    return protocol::make_error_reply(0, "HTTP", 404, cp.err().message);
  }
  auto body = rep::checkpoint::from_json(cp->body);
  if (!body)
    return http_error_reply(body.err());
  return rep::get_checkpoint_reply{cp->rev, std::move(*body)}.encode(0);
}

caf::result<protocol::message> set_checkpoint(passive_self self, const protocol::message& msg) {
  auto req = rep::set_checkpoint_request::decode(msg);
  if (!req) return protocol::make_error_reply(0, "BLIP", 400, req.err().message);
  auto rp = self->make_response_promise<protocol::message>();
  timed_request(self, self->state.db.core()->writer, kDbRequestTimeout, checkpoint_atom::value,
                store::checkpoint_store::peer, req->client, req->body.to_json(), req->rev,
                !req->rev.empty())
      .then([=](std::string& rev) mutable { rp.deliver(rep::set_checkpoint_reply{rev}.encode(0)); },
            [=](caf::error& err) mutable { rp.deliver(http_error_reply(to_error(err))); });
  return rp;
}

/// getCollections: which of the client's collections this database serves (all of its own),
/// and the checkpoint each one has here: a dict with its rev, {} (none yet) or null.
protocol::message get_collections(passive_self self, const protocol::message& msg) {
  auto& st = self->state;
  auto req = rep::get_collections_request::decode(msg);
  if (!req) return protocol::make_error_reply(0, "BLIP", 400, req.err().message);
  auto r = st.db.core()->acquire_reader();
  if (!r) return http_error_reply(r.err());
  rep::get_collections_reply reply;
  std::vector<store::collection_id> ids;
  for (size_t i = 0; i < req->collections.size(); ++i) {
    auto& entry = reply.entries.emplace_back();
    auto id = (*r)->find_collection(req->collections[i]);
    if (id && !st.served.empty()) {
      auto parsed = store::parse_collection_name(req->collections[i]);
      if (!parsed || !st.served.count(parsed->first + "." + parsed->second))
        id = error{errc::not_found, "not served"};
    }
    if (!id) {
      entry.st = rep::get_collections_reply::state::missing;
      ids.push_back(-1);
      continue;
    }
    ids.push_back(*id);
    auto cp = (*r)->get_checkpoint(store::checkpoint_store::peer, req->checkpoint_ids[i]);
    if (!cp) continue;  // none yet: {}
    auto body = rep::checkpoint::from_json(cp->body);
    if (!body) continue;
    entry.st = rep::get_collections_reply::state::found;
    entry.body = std::move(*body);
    entry.rev = cp->rev;
  }
  st.colls = ids;
  st.coll_names.clear();
  for (auto& name : req->collections)
    st.coll_names.push_back(name.find('.') == std::string::npos ? "_default." + name : name);
  /// Before the reply leaves: the client's next requests reach the puller after this.
  if (st.puller) self->send(st.puller, colls_atom::value, std::move(ids), st.coll_names);
  return reply.encode(0);
}

protocol::message sub_changes(passive_self self, const protocol::message& msg) {
  auto& st = self->state;
  auto req = rep::sub_changes_request::decode(msg);
  if (!req) return protocol::make_error_reply(0, "BLIP", 400, req.err().message);
  store::collection_id coll = 0;
  if (st.colls) {
    if (!req->collection)
      return protocol::make_error_reply(0, "BLIP", 400, "subChanges: missing collection");
    if (*req->collection >= st.colls->size() || (*st.colls)[*req->collection] < 0)
      return protocol::make_error_reply(
          0, "BLIP", 404, "collection " + std::to_string(*req->collection) + " is not served");
    coll = (*st.colls)[*req->collection];
  }
  uint32_t key = req->collection.value_or(0);
  if (st.pushers.count(key))
    return protocol::make_error_reply(0, "BLIP", 409, "already subscribed");
  pusher_config cfg;
  cfg.lane = key;
  cfg.coll = coll;
  cfg.index = st.colls ? req->collection : std::nullopt;
  cfg.db = st.db;
  cfg.conn = st.conn;
  cfg.parent = caf::actor_cast<caf::actor>(self);
  cfg.propose = false;
  cfg.continuous = req->continuous;
  cfg.since = rep::sequence_to_u64(req->since).value_or(0);
  cfg.active_only = req->active_only;
  cfg.doc_ids.insert(req->doc_ids.begin(), req->doc_ids.end());
  cfg.pushed = st.pushed;
  cfg.lanes = st.colls ? static_cast<uint32_t>(st.colls->size()) : 1;
  auto pusher = spawn_pusher(self->system(), std::move(cfg));
  st.pushers.emplace(key, pusher);
  self->link_to(pusher);
  self->send(pusher, start_atom::value);
  return empty_reply();
}

caf::result<protocol::message> incoming(passive_self self, protocol::message& msg) {
  auto& st = self->state;
  auto p = msg.profile();
  if (p == rep::profile::get_checkpoint) return get_checkpoint(self, msg);
  if (p == rep::profile::set_checkpoint) return set_checkpoint(self, msg);
  if (p == rep::profile::sub_changes) return sub_changes(self, msg);
  if (p == rep::profile::get_collections) return get_collections(self, msg);
  if (auto blob = serve_blob_request(st.db, msg)) return std::move(*blob);
  bool push = p == rep::profile::rev || p == rep::profile::changes ||
              p == rep::profile::propose_changes || p == rep::profile::norev;
  if (push && st.read_only)
    return protocol::make_error_reply(0, "HTTP", 403, "this listener is read-only: push refused");
  if (push && st.puller) return self->delegate(st.puller, incoming_atom::value, std::move(msg));
  return protocol::make_error_reply(0, "BLIP", 404, "no handler for " + std::string(p));
}

void on_connected(passive_self self, connection_api conn) {
  auto& st = self->state;
  st.conn = conn;
  puller_config cfg;
  cfg.db = st.db;
  cfg.conn = conn;
  cfg.parent = caf::actor_cast<caf::actor>(self);
  cfg.active = false;
  /// A read-only side answers pushes itself (403), so only a writable one lets the
  /// connection hand the peer's revs to the puller directly.
  cfg.direct = !st.read_only;
  cfg.lane = kPassivePullerLane;
  cfg.pushed = st.pushed;
  st.puller = spawn_puller(self->system(), std::move(cfg));
  self->link_to(st.puller);
  emit(self, replicator_status{activity_level::idle, {}, {}});
}

void on_closed(passive_self self, const close_info& info) {
  auto& st = self->state;
  if (st.closed) return;
  st.closed = true;
  std::vector<caf::actor> workers{caf::actor_cast<caf::actor>(st.puller)};
  for (auto& [index, pusher] : st.pushers) workers.push_back(caf::actor_cast<caf::actor>(pusher));
  for (auto& a : workers)
    if (a) {
      self->unlink_from(a);
      self->send_exit(a, caf::exit_reason::user_shutdown);
    }
  auto s = st.mixer.connected();
  s.activity = activity_level::stopped;
  if (info.code != errc::ok) s.err = error{info.code, info.message};
  emit(self, std::move(s));
  self->quit();
}

passive_actor::behavior_type passive_impl(passive_self self, database db, passive_observer observer,
                                          uint64_t id, bool read_only,
                                          std::vector<std::string> served) {
  self->state.read_only = read_only;
  for (auto& name : served)
    if (auto parsed = store::parse_collection_name(name))
      self->state.served.insert(parsed->first + "." + parsed->second);
  self->state.db = std::move(db);
  self->state.observer = std::move(observer);
  self->state.id = id;
  return {
      [=](incoming_atom, protocol::message& msg) { return incoming(self, msg); },
      [=](connected_atom, connection_api conn) { on_connected(self, std::move(conn)); },
      [=](closed_atom, const close_info& info) { on_closed(self, info); },
      [=](worker_status_atom, const worker_report& w) {
        auto& st = self->state;
        st.mixer.update(w);
        /// A subChanges the connection took before a rev is in this mailbox ahead of the
        /// report that the rev's commit is done, so its pusher exists by then.
        if (st.pushers.empty() && st.mixer.all_idle()) st.pushed->clear();
        status_changed(self);
      },
      [=](doc_events_atom, uint64_t lane, std::vector<replicated_document>& events) {
        auto& st = self->state;
        /// A pusher's lane is its collection index; the puller names its own events.
        if (lane != kPassivePullerLane && lane < st.coll_names.size())
          for (auto& e : events) e.collection = st.coll_names[lane];
        if (st.observer && !events.empty())
          self->send(st.observer, doc_events_atom::value, st.id, std::move(events));
      },
      [=](tick_atom) {
        auto& st = self->state;
        st.pacer.tick_pending = false;
        if (!st.closed) emit(self, st.mixer.connected());
      },
  };
}

}  // namespace

connection_owner spawn_passive_replicator(caf::actor_system& sys, database db,
                                          passive_observer observer, uint64_t connection_id,
                                          bool read_only, std::vector<std::string> served) {
  return sys.spawn(passive_impl, std::move(db), std::move(observer), connection_id, read_only,
                   std::move(served));
}

}  // namespace peerlite::actors
