// The listener actor (see listener.hpp).
#include "actors/listener.hpp"

#include <unordered_map>

#include "actors/connection.hpp"
#include "protocol/websocket.hpp"

namespace peerlite::actors {

namespace {

/// The actors behind one accepted connection; the entry ends when both are gone.
struct entry {
  connection_api conn;
  caf::actor_addr conn_addr;
  caf::actor_addr repl_addr;
  bool conn_down = false;
  bool repl_down = false;
};

struct listener_state {
  listener_config config;
  std::shared_ptr<listener_shared> shared;
  std::map<uint64_t, entry> entries;
  std::unordered_map<caf::actor_addr, uint64_t> by_addr;
  static inline const char* name = "peerlite.listener";
};

using self_ptr = listener_actor::stateful_pointer<listener_state>;

/// Updates the shared list and calls the change listeners outside the lock. A removed entry
/// leaves the list only after its listeners heard the final status, so wait_closed() returning
/// means every STOPPED event was delivered.
void publish(self_ptr self, uint64_t id, const replicator_status& status, bool remove) {
  auto& sh = *self->state.shared;
  listener_connection_status snapshot;
  std::vector<listener_change_fn> fns;
  {
    std::lock_guard<std::mutex> guard{sh.mtx};
    auto it = sh.live.find(id);
    if (it == sh.live.end()) return;
    it->second.status = status;
    snapshot = it->second;
    for (auto& [token, fn] : sh.change_fns) fns.push_back(fn);
  }
  for (auto& fn : fns) fn(snapshot);
  if (!remove) return;
  {
    std::lock_guard<std::mutex> guard{sh.mtx};
    sh.live.erase(id);
  }
  sh.cv.notify_all();
}

void start_connection(self_ptr self, uint64_t id,
                      std::shared_ptr<message_endpoint_connection> app) {
  auto& st = self->state;
  auto& sys = self->system();
  auto repl = spawn_passive_replicator(sys, st.config.db, caf::actor_cast<passive_observer>(self),
                                       id, st.config.read_only, st.config.collections);
  connection_options options;
  options.heartbeat = st.config.heartbeat;
  options.session.deflate_window_bits = st.config.deflate_window_bits;
  options.session.deflate_mem_level = st.config.deflate_mem_level;
  options.max_unreplied_requests = st.config.max_unreplied_requests;
  auto conn =
      spawn_connection(sys, std::move(app), st.config.protocol, role::passive, repl, options);
  self->monitor(conn);
  self->monitor(repl);
  entry e{conn, conn.address(), repl.address()};
  st.by_addr[e.conn_addr] = id;
  st.by_addr[e.repl_addr] = id;
  st.entries.emplace(id, std::move(e));
}

void on_down(self_ptr self, const caf::down_msg& dm) {
  auto& st = self->state;
  auto it = st.by_addr.find(dm.source);
  if (it == st.by_addr.end()) return;
  auto id = it->second;
  st.by_addr.erase(it);
  auto e = st.entries.find(id);
  if (e == st.entries.end()) return;
  (dm.source == e->second.conn_addr ? e->second.conn_down : e->second.repl_down) = true;
  if (!e->second.conn_down || !e->second.repl_down) return;
  st.entries.erase(e);
  /// The replicator's final status arrived before its DOWN; keep its error if it gave one.
  replicator_status last;
  {
    std::lock_guard<std::mutex> guard{st.shared->mtx};
    if (auto l = st.shared->live.find(id); l != st.shared->live.end()) last = l->second.status;
  }
  last.activity = activity_level::stopped;
  publish(self, id, last, true);
}

void close_entry(self_ptr self, const entry& e) {
  close_info info;
  info.message = "closed by the listener";
  self->send(e.conn, close_atom::value, std::move(info));
}

/// Closes `e` with a recoverable error (WebSocket 4001): the active peer goes OFFLINE and
/// retries instead of stopping.
void close_entry_going_away(self_ptr self, const entry& e, const std::string& reason) {
  close_info info;
  info.code = errc::transport_transient;
  info.message = reason;
  info.recoverable = true;
  info.ws_code = protocol::ws::close_code::app_transient;
  self->send(e.conn, close_atom::value, std::move(info));
}

listener_actor::behavior_type listener_impl(self_ptr self, listener_config config,
                                            std::shared_ptr<listener_shared> shared) {
  self->state.config = std::move(config);
  self->state.shared = std::move(shared);
  self->set_down_handler([self](caf::down_msg& dm) { on_down(self, dm); });
  return {
      [self](accept_atom, uint64_t id, std::shared_ptr<message_endpoint_connection>& app) {
        start_connection(self, id, std::move(app));
      },
      [self](close_one_atom, uint64_t id) {
        if (auto it = self->state.entries.find(id); it != self->state.entries.end())
          close_entry(self, it->second);
      },
      [self](close_all_atom) {
        for (auto& [id, e] : self->state.entries) close_entry(self, e);
      },
      [self](close_all_atom, const std::string& reason) {
        for (auto& [id, e] : self->state.entries) close_entry_going_away(self, e, reason);
      },
      [self](repl_status_atom, uint64_t id, replicator_status& status) {
        /// The final STOPPED is published when the entry ends (both actors gone).
        if (status.activity == activity_level::stopped) {
          std::lock_guard<std::mutex> guard{self->state.shared->mtx};
          if (auto l = self->state.shared->live.find(id); l != self->state.shared->live.end())
            l->second.status.err = status.err;
          return;
        }
        publish(self, id, status, false);
      },
      [self](doc_events_atom, uint64_t id, std::vector<replicated_document>& docs) {
        std::vector<listener_document_fn> fns;
        {
          std::lock_guard<std::mutex> guard{self->state.shared->mtx};
          for (auto& [token, fn] : self->state.shared->doc_fns) fns.push_back(fn);
        }
        for (auto& fn : fns) fn(id, docs);
      },
  };
}

}  // namespace

listener_actor spawn_listener(caf::actor_system& sys, listener_config config,
                              std::shared_ptr<listener_shared> shared) {
  return sys.spawn(listener_impl, std::move(config), std::move(shared));
}

}  // namespace peerlite::actors
