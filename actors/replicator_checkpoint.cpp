// The active replicator's checkpointer (PROTOCOL.md §4) and its workers.

#include "actors/database_core.hpp"
#include "actors/errors.hpp"
#include "actors/replicator_state.hpp"
#include "actors/tuning.hpp"
#include "protocol/digest.hpp"
#include "protocol/rep_messages.hpp"

namespace peerlite::actors {

namespace rep = protocol::rep;

std::string remote_name(const replicator_config& cfg) {
  return cfg.target.uid.empty() ? cfg.target.target : cfg.target.uid;
}

namespace {

/// "cp-" + base64 of the digest of `input`: SHA-1 for the default collection (28 characters),
/// SHA-256 for a named one (44), as Couchbase Lite's checkpoint IDs.
std::string cp_digest(const std::string& input, bool sha256) {
  if (sha256) return "cp-" + protocol::base64(protocol::sha256_digest().update(input).finish());
  return "cp-" + protocol::base64(protocol::sha1_digest().update(input).finish());
}

}  // namespace

std::string checkpoint_id(const std::string& private_uuid, const replicator_config& cfg) {
  /// Each input is length-prefixed so that no two different settings hash the same text.
  std::string input;
  auto add = [&](const std::string& s) { input += std::to_string(s.size()) + ":" + s; };
  add(private_uuid);
  add(remote_name(cfg));
  for (auto& id : cfg.document_ids) add(id);
  add(cfg.push_filter ? "push_filter" : "");
  add(cfg.pull_filter ? "pull_filter" : "");
  return cp_digest(input, false);
}

namespace {

/// A lane's checkpoint ID: the replicator's own for the default collection without
/// collections; with collections, the same inputs plus the collection's name and settings.
std::string lane_checkpoint_id(const std::string& private_uuid, const replicator_config& cfg,
                               const lane& l) {
  if (!l.index) return checkpoint_id(private_uuid, cfg);
  std::string input;
  auto add = [&](const std::string& s) { input += std::to_string(s.size()) + ":" + s; };
  add(private_uuid);
  add(remote_name(cfg));
  add(l.name);
  for (auto& id : l.doc_ids) add(id);
  add(l.push_filter ? "push_filter" : "");
  add(l.pull_filter ? "pull_filter" : "");
  return cp_digest(input, l.coll != 0);
}

saved_checkpoint parse(const std::string& json) {
  saved_checkpoint cp;
  auto body = rep::checkpoint::from_json(json);
  if (!body) return cp;
  cp.local = rep::sequence_to_u64(body->local).value_or(0);
  cp.remote = body->remote;
  return cp;
}

/// The lanes of this connection, from the config: one per configured collection, or the
/// default collection alone. An unknown local collection is an error naming it.
expected<std::vector<lane>> make_lanes(const replicator_config& cfg) {
  std::vector<lane> out;
  if (cfg.collections.empty()) {
    lane l;
    l.name = "_default";
    l.doc_ids.insert(cfg.document_ids.begin(), cfg.document_ids.end());
    l.push_filter = cfg.push_filter;
    l.pull_filter = cfg.pull_filter;
    l.resolver = cfg.resolver;
    out.push_back(std::move(l));
    return out;
  }
  auto r = cfg.db.core()->acquire_reader();
  if (!r) return r.err();
  for (size_t i = 0; i < cfg.collections.size(); ++i) {
    auto& c = cfg.collections[i];
    auto id = (*r)->find_collection(c.name);
    if (!id)
      return error{id.err().code == errc::not_found ? errc::not_found : errc::invalid_argument,
                   "collection \"" + c.name + "\": " + id.err().message};
    lane l;
    auto parsed = store::parse_collection_name(c.name);
    l.name = *id == 0 ? "_default" : parsed->first + "." + parsed->second;
    l.coll = *id;
    l.index = static_cast<uint32_t>(i);
    l.doc_ids.insert(c.document_ids.begin(), c.document_ids.end());
    l.push_filter = c.push_filter;
    l.pull_filter = c.pull_filter;
    l.resolver = c.resolver;
    out.push_back(std::move(l));
  }
  return out;
}

void start_workers(repl_self self) {
  auto& st = self->state;
  auto& cfg = st.shared->config;
  auto parent = caf::actor_cast<caf::actor>(self);
  /// One lane: the connection hands the peer's revs and lists straight to its puller. Several:
  /// they come through the replicator, which picks the puller by their `collection`.
  bool direct = st.lanes.size() == 1;
  for (uint32_t i = 0; i < st.lanes.size(); ++i) {
    auto& l = st.lanes[i];
    if (cfg.type != replicator_type::pull) {
      pusher_config pc{cfg.db,         st.conn,          parent,    true,
                       cfg.continuous, l.start_cp.local, l.doc_ids, l.push_filter};
      pc.remote = st.remote_id;
      pc.with_puller = cfg.type == replicator_type::push_and_pull;
      pc.resolver = l.resolver;
      pc.coll = l.coll;
      pc.index = l.index;
      pc.lane = i;
      pc.lanes = static_cast<uint32_t>(st.lanes.size());
      l.pusher = spawn_pusher(self->system(), std::move(pc));
      self->link_to(l.pusher);
      st.mixer.update(worker_report{true, activity_level::busy, 0, 0, l.start_cp.local, {}, {}}, i);
      self->send(l.pusher, start_atom::value);
    }
    if (cfg.type != replicator_type::push) {
      puller_config pc{cfg.db,    st.conn,       parent,    true, cfg.continuous, l.start_cp.remote,
                       l.doc_ids, l.pull_filter, l.resolver};
      pc.remote = st.remote_id;
      pc.direct = direct;
      pc.coll = l.coll;
      pc.index = l.index;
      pc.lane = i;
      l.puller = spawn_puller(self->system(), std::move(pc));
      self->link_to(l.puller);
      st.mixer.update(worker_report{false, activity_level::busy, 0, 0, 0, l.start_cp.remote, {}},
                      i);
      /// Push-and-pull: its pusher starts it (see the pusher's start_atom).
      if (cfg.type == replicator_type::pull) self->send(l.puller, start_atom::value);
    }
    l.current = l.saved = l.start_cp;
  }
  status_changed(self);
}

/// Both copies read: agree on where to start (the earlier of the two on disagreement).
void choose_start(repl_self self, lane& l, const saved_checkpoint& local,
                  const saved_checkpoint& remote) {
  auto& st = self->state;
  saved_checkpoint start;
  if (!st.reset) {
    start.local = std::min(local.local, remote.local);
    if (local.remote == remote.remote) start.remote = local.remote;
  }
  l.start_cp = start;
  if (!l.index || l.coll == 0) st.shared->local_checkpoint = start.local;
}

/// Our own copy of each lane's checkpoint.
std::vector<saved_checkpoint> read_local_checkpoints(repl_self self) {
  auto& st = self->state;
  std::vector<saved_checkpoint> out(st.lanes.size());
  auto r = st.shared->config.db.core()->acquire_reader();
  if (!r) return out;
  for (size_t i = 0; i < st.lanes.size(); ++i) {
    auto& l = st.lanes[i];
    if (auto cp = (*r)->get_checkpoint(store::checkpoint_store::local, l.cp_id)) {
      l.local_cp_rev = cp->rev;
      out[i] = parse(cp->body);
    }
  }
  return out;
}

/// Collection-aware: one getCollections gives every lane's remote checkpoint, or says which
/// collection the peer does not serve (that stops the replicator, as Couchbase Lite does).
void ask_collections(repl_self self, std::vector<saved_checkpoint> locals) {
  auto& st = self->state;
  rep::get_collections_request req;
  for (auto& l : st.lanes) {
    req.checkpoint_ids.push_back(l.cp_id);
    req.collections.push_back(l.name);
  }
  auto gen = st.generation;
  timed_request(self, st.conn, kPeerRequestTimeout, request_atom::value, req.encode())
      .then(
          [=](protocol::message& reply) {
            auto& s = self->state;
            if (gen != s.generation) return;
            auto r = rep::get_collections_reply::decode(reply);
            if (!r) return begin_close(self, r.err());
            if (r->entries.size() != s.lanes.size())
              return begin_close(
                  self,
                  error{errc::protocol_error,
                        "getCollections: the reply has " + std::to_string(r->entries.size()) +
                            " entries for " + std::to_string(s.lanes.size()) + " collections"});
            for (size_t i = 0; i < s.lanes.size(); ++i) {
              auto& e = r->entries[i];
              if (e.st == rep::get_collections_reply::state::missing) {
                s.close_normally = true;
                return begin_close(self, error{errc::not_found, "Collection '" + s.lanes[i].name +
                                                                    "' is not found on the "
                                                                    "remote server"});
              }
            }
            for (size_t i = 0; i < s.lanes.size(); ++i) {
              auto& e = r->entries[i];
              saved_checkpoint remote;
              if (e.st == rep::get_collections_reply::state::found) {
                s.lanes[i].remote_cp_rev = e.rev;
                remote = parse(e.body.to_json());
              }
              choose_start(self, s.lanes[i], locals[i], remote);
            }
            start_workers(self);
          },
          [=](caf::error& err) {
            if (gen == self->state.generation) begin_close(self, to_error(err));
          });
}

/// Without collections: getCheckpoint for the one lane.
void ask_checkpoint(repl_self self, std::vector<saved_checkpoint> locals) {
  auto gen = self->state.generation;
  timed_request(self, self->state.conn, kPeerRequestTimeout, request_atom::value,
                rep::get_checkpoint_request{self->state.lanes[0].cp_id}.encode())
      .then(
          [=](protocol::message& reply) {
            auto& s = self->state;
            if (gen != s.generation) return;
            saved_checkpoint remote;
            auto r = rep::get_checkpoint_reply::decode(reply);
            if (r) {
              s.lanes[0].remote_cp_rev = r->rev;
              remote = parse(r->body.to_json());
            } else if (r.err().code != errc::not_found) {
              return begin_close(self, r.err());
            }
            choose_start(self, s.lanes[0], locals[0], remote);
            start_workers(self);
          },
          [=](caf::error& err) {
            if (gen == self->state.generation) begin_close(self, to_error(err));
          });
}

}  // namespace

void exchange_checkpoints(repl_self self) {
  auto& st = self->state;
  auto& cfg = st.shared->config;
  auto lanes = make_lanes(cfg);
  if (!lanes) return begin_close(self, lanes.err());
  st.lanes = std::move(*lanes);
  st.collection_aware = !cfg.collections.empty();
  for (auto& l : st.lanes) l.cp_id = lane_checkpoint_id(cfg.db.core()->private_uuid, cfg, l);
  auto locals = read_local_checkpoints(self);
  auto gen = st.generation;
  /// First the store's id for this peer (what it holds is kept under it; the same name as in
  /// the checkpoint ID), then the peer's checkpoints.
  auto ask_peer = [=] {
    if (gen != self->state.generation) return;
    if (self->state.collection_aware) return ask_collections(self, locals);
    ask_checkpoint(self, locals);
  };
  st.remote_id = 0;
  timed_request(self, cfg.db.core()->writer, kDbRequestTimeout, remote_atom::value,
                remote_name(cfg))
      .then(
          [=](uint64_t id) {
            self->state.remote_id = id;
            ask_peer();
          },
          /// A read-only database records nothing: push without parents, as to a new peer.
          [=](caf::error&) { ask_peer(); });
}

void schedule_checkpoint(repl_self self) {
  auto& st = self->state;
  if (st.save_scheduled) return;
  st.save_scheduled = true;
  self->delayed_send(self, kCheckpointSaveDelay, checkpoint_atom::value, st.generation);
}

namespace {

/// Ends a save: runs its continuation, then any save requested meanwhile (with theirs).
void finish_save(repl_self self, const std::function<void()>& then) {
  auto& st = self->state;
  st.saving = false;
  if (then) then();
  if (st.waiters.empty()) return;
  auto waiters = std::move(st.waiters);
  st.waiters.clear();
  save_checkpoint(self, [waiters] {
    for (auto& f : waiters)
      if (f) f();
  });
}

void save_lane(repl_self self, size_t i, std::function<void()> then);

/// The next lane with something to save after `i`, or the end of the save.
void save_next(repl_self self, size_t i, std::function<void()> then) {
  auto& st = self->state;
  for (; i < st.lanes.size(); ++i)
    if (!(st.lanes[i].current == st.lanes[i].saved)) return save_lane(self, i, std::move(then));
  finish_save(self, then);
}

/// setCheckpoint said 409: our idea of the peer's rev is stale. Re-read it, then save the lane
/// again (once: a second 409 leaves it to the next save).
void refresh_remote_rev(repl_self self, size_t i, std::function<void()> then) {
  auto& st = self->state;
  auto& l = st.lanes[i];
  auto on_rev = [=](std::string rev) {
    auto& lane = self->state.lanes[i];
    lane.remote_cp_rev = std::move(rev);
    if (lane.refreshed_once) return save_next(self, i + 1, then);
    lane.refreshed_once = true;
    save_lane(self, i, then);
  };
  if (st.collection_aware) {
    rep::get_collections_request req{{l.cp_id}, {l.name}};
    timed_request(self, st.conn, kPeerRequestTimeout, request_atom::value, req.encode())
        .then(
            [=](protocol::message& reply) {
              auto r = rep::get_collections_reply::decode(reply);
              on_rev(r && !r->entries.empty() ? r->entries[0].rev : std::string{});
            },
            [=](caf::error&) { save_next(self, i + 1, then); });
    return;
  }
  timed_request(self, st.conn, kPeerRequestTimeout, request_atom::value,
                rep::get_checkpoint_request{l.cp_id}.encode())
      .then(
          [=](protocol::message& reply) {
            auto r = rep::get_checkpoint_reply::decode(reply);
            on_rev(r ? r->rev : std::string{});
          },
          [=](caf::error&) { save_next(self, i + 1, then); });
}

void save_local(repl_self self, size_t i, saved_checkpoint cp, std::string body,
                std::function<void()> then) {
  auto& st = self->state;
  auto& l = st.lanes[i];
  auto db = st.shared->config.db.core()->writer;
  timed_request(self, db, kDbRequestTimeout, checkpoint_atom::value, store::checkpoint_store::local,
                l.cp_id, body, l.local_cp_rev, !l.local_cp_rev.empty())
      .then(
          [=](std::string& rev) {
            self->state.lanes[i].local_cp_rev = rev;
            self->state.lanes[i].saved = cp;
            save_next(self, i + 1, then);
          },
          [=](caf::error&) {
            /// A stale local rev: forget it, the next save re-creates the copy.
            self->state.lanes[i].local_cp_rev.clear();
            save_next(self, i + 1, then);
          });
}

void save_lane(repl_self self, size_t i, std::function<void()> then) {
  auto& st = self->state;
  auto& l = st.lanes[i];
  auto cp = l.current;
  rep::checkpoint body;
  body.time = std::chrono::duration_cast<std::chrono::seconds>(
                  std::chrono::system_clock::now().time_since_epoch())
                  .count();
  body.local = rep::sequence_from_u64(cp.local);
  body.remote = cp.remote;
  auto json = body.to_json();
  rep::set_checkpoint_request req{l.cp_id, l.remote_cp_rev, body};
  auto msg = req.encode();
  if (l.index) msg.properties.emplace_back("collection", std::to_string(*l.index));
  timed_request(self, st.conn, kPeerRequestTimeout, request_atom::value, std::move(msg))
      .then(
          [=](protocol::message& reply) {
            auto r = rep::set_checkpoint_reply::decode(reply);
            if (!r) {
              if (r.err().code == errc::conflict) return refresh_remote_rev(self, i, then);
              return save_next(self, i + 1, then);
            }
            self->state.lanes[i].remote_cp_rev = r->rev;
            self->state.lanes[i].refreshed_once = false;
            save_local(self, i, cp, json, then);
          },
          [=](caf::error&) { save_next(self, i + 1, then); });
}

}  // namespace

void save_checkpoint(repl_self self, std::function<void()> then) {
  auto& st = self->state;
  if (st.saving) {
    st.waiters.push_back(std::move(then));
    return;
  }
  bool pending = false;
  for (auto& l : st.lanes) pending = pending || !(l.current == l.saved);
  if (!has_workers(st) || !st.conn || !pending) {
    if (then) then();
    return;
  }
  st.saving = true;
  save_next(self, 0, std::move(then));
}

void stop_workers(repl_self self) {
  auto& st = self->state;
  for (auto& l : st.lanes) {
    for (auto a : {caf::actor_cast<caf::actor>(l.pusher), caf::actor_cast<caf::actor>(l.puller)})
      if (a) {
        self->unlink_from(a);
        self->send_exit(a, caf::exit_reason::user_shutdown);
      }
    l.pusher = pusher_actor{};
    l.puller = puller_actor{};
  }
}

lane* lane_at(repl_self self, uint64_t i) {
  auto& lanes = self->state.lanes;
  return i < lanes.size() ? &lanes[i] : nullptr;
}

bool has_workers(const replicator_state& st) {
  for (auto& l : st.lanes)
    if (l.pusher || l.puller) return true;
  return false;
}

}  // namespace peerlite::actors
