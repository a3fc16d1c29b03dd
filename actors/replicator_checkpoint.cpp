// The active replicator's checkpointer (PROTOCOL.md §4) and its workers.
#include <openssl/evp.h>

#include "actors/database_core.hpp"
#include "actors/errors.hpp"
#include "actors/replicator_state.hpp"
#include "actors/tuning.hpp"
#include "protocol/rep_messages.hpp"

namespace peerlite::actors {

namespace rep = protocol::rep;

std::string remote_name(const replicator_config& cfg) {
  return cfg.target.uid.empty() ? cfg.target.target : cfg.target.uid;
}

std::string checkpoint_id(const std::string& private_uuid, const replicator_config& cfg) {
  /// Each input is length-prefixed so that no two different settings hash the same text.
  std::string input;
  auto add = [&](const std::string& s) { input += std::to_string(s.size()) + ":" + s; };
  add(private_uuid);
  add(remote_name(cfg));
  for (auto& id : cfg.document_ids) add(id);
  add(cfg.push_filter ? "push_filter" : "");
  add(cfg.pull_filter ? "pull_filter" : "");
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int md_len = 0;
  EVP_Digest(input.data(), input.size(), md, &md_len, EVP_sha1(), nullptr);
  unsigned char b64[4 * ((EVP_MAX_MD_SIZE + 2) / 3) + 1];
  int n = EVP_EncodeBlock(b64, md, static_cast<int>(md_len));
  return "cp-" + std::string(reinterpret_cast<char*>(b64), static_cast<size_t>(n));
}

namespace {

saved_checkpoint parse(const std::string& json) {
  saved_checkpoint cp;
  auto body = rep::checkpoint::from_json(json);
  if (!body) return cp;
  cp.local = rep::sequence_to_u64(body->local).value_or(0);
  cp.remote = body->remote;
  return cp;
}

void start_workers(repl_self self) {
  auto& st = self->state;
  auto& cfg = st.shared->config;
  auto parent = caf::actor_cast<caf::actor>(self);
  std::set<std::string> ids(cfg.document_ids.begin(), cfg.document_ids.end());
  if (cfg.type != replicator_type::pull) {
    pusher_config pc{cfg.db, st.conn, parent, true, cfg.continuous, st.start_cp.local, ids,
                     cfg.push_filter};
    pc.remote = st.remote_id;
    pc.with_puller = cfg.type == replicator_type::push_and_pull;
    st.pusher = spawn_pusher(self->system(), std::move(pc));
    self->link_to(st.pusher);
    st.mixer.update(worker_report{true, activity_level::busy, 0, 0, st.start_cp.local, {}, {}});
    self->send(st.pusher, start_atom::value);
  }
  if (cfg.type != replicator_type::push) {
    puller_config pc{cfg.db, st.conn, parent, true, cfg.continuous, st.start_cp.remote, ids,
                     cfg.pull_filter, cfg.resolver};
    pc.remote = st.remote_id;
    pc.direct = true;
    st.puller = spawn_puller(self->system(), std::move(pc));
    self->link_to(st.puller);
    st.mixer.update(worker_report{false, activity_level::busy, 0, 0, 0, st.start_cp.remote, {}});
    self->send(st.puller, start_atom::value);
  }
  st.current = st.saved = st.start_cp;
  status_changed(self);
}

/// Both copies read: agree on where to start (the earlier of the two on disagreement).
void choose_start(repl_self self, const saved_checkpoint& local, const saved_checkpoint& remote) {
  auto& st = self->state;
  saved_checkpoint start;
  if (!st.reset) {
    start.local = std::min(local.local, remote.local);
    if (local.remote == remote.remote) start.remote = local.remote;
  }
  st.start_cp = start;
  st.shared->local_checkpoint = start.local;
  start_workers(self);
}

}  // namespace

void exchange_checkpoints(repl_self self) {
  auto& st = self->state;
  auto& cfg = st.shared->config;
  st.cp_id = checkpoint_id(cfg.db.core()->private_uuid, cfg);
  saved_checkpoint local;
  st.local_cp_rev.clear();
  st.remote_cp_rev.clear();
  if (auto r = cfg.db.core()->acquire_reader()) {
    if (auto cp = (*r)->get_checkpoint(store::checkpoint_store::local, st.cp_id)) {
      st.local_cp_rev = cp->rev;
      local = parse(cp->body);
    }
  }
  auto gen = st.generation;
  /// First the store's id for this peer (what it holds is kept under it; the same name as in
  /// the checkpoint ID), then the peer's checkpoint.
  auto ask_peer = [=] {
    if (gen != self->state.generation) return;
    self->request(self->state.conn, kPeerRequestTimeout, request_atom::value,
                  rep::get_checkpoint_request{self->state.cp_id}.encode())
      .then(
          [=](protocol::message& reply) {
            if (gen != self->state.generation) return;
            saved_checkpoint remote;
            auto r = rep::get_checkpoint_reply::decode(reply);
            if (r) {
              self->state.remote_cp_rev = r->rev;
              remote = parse(r->body.to_json());
            } else if (r.err().code != errc::not_found) {
              return begin_close(self, r.err());
            }
            choose_start(self, local, remote);
          },
          [=](caf::error& err) {
            if (gen == self->state.generation) begin_close(self, to_error(err));
          });
  };
  st.remote_id = 0;
  self->request(cfg.db.core()->writer, kDbRequestTimeout, remote_atom::value, remote_name(cfg))
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

/// setCheckpoint said 409: our idea of the peer's rev is stale. Re-read it, then save again
/// (once: a second 409 leaves it to the next save).
void refresh_remote_rev(repl_self self, std::function<void()> then) {
  auto& st = self->state;
  self->request(st.conn, kPeerRequestTimeout, request_atom::value,
                rep::get_checkpoint_request{st.cp_id}.encode())
      .then(
          [=](protocol::message& reply) {
            auto r = rep::get_checkpoint_reply::decode(reply);
            self->state.remote_cp_rev = r ? r->rev : std::string{};
            finish_save(self, {});
            if (self->state.refreshed_once) return then ? then() : void();
            self->state.refreshed_once = true;
            save_checkpoint(self, then);
          },
          [=](caf::error&) { finish_save(self, then); });
}

void save_local(repl_self self, saved_checkpoint cp, std::string body, std::function<void()> then) {
  auto& st = self->state;
  auto db = st.shared->config.db.core()->writer;
  self->request(db, kDbRequestTimeout, checkpoint_atom::value, store::checkpoint_store::local,
                st.cp_id, body, st.local_cp_rev, !st.local_cp_rev.empty())
      .then(
          [=](std::string& rev) {
            self->state.local_cp_rev = rev;
            self->state.saved = cp;
            finish_save(self, then);
          },
          [=](caf::error&) {
            /// A stale local rev: forget it, the next save re-creates the copy.
            self->state.local_cp_rev.clear();
            finish_save(self, then);
          });
}

}  // namespace

void save_checkpoint(repl_self self, std::function<void()> then) {
  auto& st = self->state;
  bool workers = st.pusher || st.puller;
  if (st.saving) {
    st.waiters.push_back(std::move(then));
    return;
  }
  if (!workers || !st.conn || st.current == st.saved) {
    if (then) then();
    return;
  }
  st.saving = true;
  auto cp = st.current;
  rep::checkpoint body;
  body.time = std::chrono::duration_cast<std::chrono::seconds>(
                  std::chrono::system_clock::now().time_since_epoch())
                  .count();
  body.local = rep::sequence_from_u64(cp.local);
  body.remote = cp.remote;
  auto json = body.to_json();
  rep::set_checkpoint_request req{st.cp_id, st.remote_cp_rev, body};
  self->request(st.conn, kPeerRequestTimeout, request_atom::value, req.encode())
      .then(
          [=](protocol::message& reply) {
            auto r = rep::set_checkpoint_reply::decode(reply);
            if (!r) {
              if (r.err().code == errc::conflict) return refresh_remote_rev(self, then);
              return finish_save(self, then);
            }
            self->state.remote_cp_rev = r->rev;
            self->state.refreshed_once = false;
            save_local(self, cp, json, then);
          },
          [=](caf::error&) { finish_save(self, then); });
}

void stop_workers(repl_self self) {
  auto& st = self->state;
  for (auto a : {caf::actor_cast<caf::actor>(st.pusher), caf::actor_cast<caf::actor>(st.puller)})
    if (a) {
      self->unlink_from(a);
      self->send_exit(a, caf::exit_reason::user_shutdown);
    }
  st.pusher = pusher_actor{};
  st.puller = puller_actor{};
}

}  // namespace peerlite::actors
