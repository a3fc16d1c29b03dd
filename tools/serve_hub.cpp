#include "tools/serve_hub.hpp"

#include <atomic>
#include <map>
#include <mutex>
#include <thread>

#include "actors/connection.hpp"
#include "actors/passive_replicator.hpp"
#include "actors/runtime.hpp"

namespace peerlite::tools {

/// Longest the hub waits for its connections to close when it is destroyed: the engine's
/// close timeout (5 s) plus slack.
constexpr std::chrono::seconds kHubShutdownTimeout{8};
/// The hub's deflater per connection: window 2^10 and memLevel 2 take ~6 KiB instead of zlib's
/// default ~384 KiB (windowBits 15, memLevel 9) once a connection has sent compressed frames;
/// with thousands of peers that would dominate (issue 5: <= 64 KiB per idle connection). Any
/// inflater reads a smaller window; the ratio drops a little on large bodies.
constexpr int kHubDeflateWindowBits = 10;
constexpr int kHubDeflateMemLevel = 2;

struct hub::state {
  database db;
  std::shared_ptr<caf::actor_system> sys = actors::shared_system();
  actors::passive_observer observer;
  mutable std::mutex mx;
  std::map<uint64_t, actors::connection_api> live;
  uint64_t next_id = 0;
  std::atomic<uint64_t> in{0}, out{0};
  std::chrono::milliseconds heartbeat{0};
};

namespace {

/// Receives every passive replicator's reports: counts documents, forgets stopped ones.
actors::passive_observer::behavior_type watch(actors::passive_observer::pointer,
                                              std::shared_ptr<hub::state> st) {
  return {
      [st](actors::repl_status_atom, uint64_t id, replicator_status s) {
        if (s.activity != activity_level::stopped) return;
        std::lock_guard lk(st->mx);
        st->live.erase(id);
      },
      [st](actors::doc_events_atom, uint64_t, std::vector<replicated_document> events) {
        for (auto& e : events) {
          if (e.err.code != errc::ok) continue;
          (e.direction == replication_direction::pull ? st->in : st->out)++;
        }
      },
  };
}

}  // namespace

hub::hub(database db, std::chrono::milliseconds heartbeat) : state_(std::make_shared<state>()) {
  state_->db = std::move(db);
  state_->heartbeat = heartbeat;
  state_->observer = state_->sys->spawn(watch, state_);
}

hub::~hub() {
  close_all();
  wait_all_stopped(kHubShutdownTimeout);
  caf::anon_send_exit(state_->observer, caf::exit_reason::user_shutdown);
}

void hub::accept(std::unique_ptr<message_endpoint_connection> connection, protocol_type protocol) {
  std::lock_guard lk(state_->mx);
  auto id = ++state_->next_id;
  auto owner = actors::spawn_passive_replicator(*state_->sys, state_->db, state_->observer, id);
  actors::connection_options options;
  if (state_->heartbeat.count() > 0) options.heartbeat = state_->heartbeat;
  options.session.deflate_window_bits = kHubDeflateWindowBits;
  options.session.deflate_mem_level = kHubDeflateMemLevel;
  state_->live[id] = actors::spawn_connection(*state_->sys, std::move(connection), protocol,
                                              actors::role::passive, owner, options);
}

size_t hub::live_connections() const {
  std::lock_guard lk(state_->mx);
  return state_->live.size();
}

uint64_t hub::docs_in() const { return state_->in.load(); }
uint64_t hub::docs_out() const { return state_->out.load(); }

void hub::close_all() {
  std::lock_guard lk(state_->mx);
  actors::close_info going_away{errc::ok, "hub shutting down", false, false, 1001};
  for (auto& [id, conn] : state_->live) caf::anon_send(conn, actors::close_atom::value, going_away);
}

bool hub::wait_all_stopped(std::chrono::milliseconds timeout) const {
  auto end = std::chrono::steady_clock::now() + timeout;
  while (live_connections() > 0) {
    if (std::chrono::steady_clock::now() >= end) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return true;
}

}  // namespace peerlite::tools
