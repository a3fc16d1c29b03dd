// peerlite::replicator: the public handle on a replicator actor.
#include "peerlite/replicator.hpp"

#include "actors/database_core.hpp"
#include "actors/replicator_actor.hpp"
#include "actors/runtime.hpp"
#include "actors/tuning.hpp"
#include "protocol/rep_messages.hpp"

namespace peerlite {

namespace {

/// The "local" sequence of a saved checkpoint body (0 when absent or unreadable).
uint64_t rep_local_of(const std::string& json) {
  auto cp = protocol::rep::checkpoint::from_json(json);
  if (!cp) return 0;
  return protocol::rep::sequence_to_u64(cp->local).value_or(0);
}

}  // namespace

using actors::replicator_shared;

const char* to_string(activity_level level) {
  switch (level) {
    case activity_level::stopped: return "stopped";
    case activity_level::offline: return "offline";
    case activity_level::connecting: return "connecting";
    case activity_level::idle: return "idle";
    case activity_level::busy: return "busy";
  }
  return "unknown";
}

namespace actors {

void replicator_shared::set_status(const replicator_status& s, bool notify) {
  std::vector<std::function<void(const replicator_status&)>> fns;
  {
    std::lock_guard<std::mutex> guard{mtx_};
    status_ = s;
    if (notify)
      for (auto& [id, fn] : status_fns_) fns.push_back(fn);
  }
  cv_.notify_all();
  for (auto& fn : fns) fn(s);
}

replicator_status replicator_shared::status() const {
  std::lock_guard<std::mutex> guard{mtx_};
  return status_;
}

void replicator_shared::doc_events(const std::vector<replicated_document>& events) {
  std::vector<std::function<void(const std::vector<replicated_document>&)>> fns;
  {
    std::lock_guard<std::mutex> guard{mtx_};
    for (auto& [id, fn] : doc_fns_) fns.push_back(fn);
  }
  for (auto& fn : fns) fn(events);
}

uint64_t replicator_shared::add_status_listener(std::function<void(const replicator_status&)> fn) {
  std::lock_guard<std::mutex> guard{mtx_};
  status_fns_.emplace(next_id_, std::move(fn));
  return next_id_++;
}

uint64_t replicator_shared::add_doc_listener(
    std::function<void(const std::vector<replicated_document>&)> fn) {
  std::lock_guard<std::mutex> guard{mtx_};
  doc_fns_.emplace(next_id_, std::move(fn));
  return next_id_++;
}

void replicator_shared::remove_listener(uint64_t id) {
  std::lock_guard<std::mutex> guard{mtx_};
  status_fns_.erase(id);
  doc_fns_.erase(id);
}

bool replicator_shared::wait_stopped(std::chrono::milliseconds timeout) const {
  std::unique_lock<std::mutex> lock{mtx_};
  return cv_.wait_for(lock, timeout, [&] { return status_.activity == activity_level::stopped; });
}

}  // namespace actors

struct replicator::impl {
  std::shared_ptr<replicator_shared> shared;
  actors::replicator_actor actor;
};

replicator::replicator(replicator_config config) : impl_(std::make_shared<impl>()) {
  impl_->shared = std::make_shared<replicator_shared>();
  impl_->shared->config = std::move(config);
  impl_->shared->sys = actors::shared_system();
  impl_->actor = actors::spawn_replicator(*impl_->shared->sys, impl_->shared);
}

replicator::~replicator() {
  if (!impl_ || !impl_->actor) return;
  caf::anon_send(impl_->actor, actors::stop_atom::value);
  /// Never block a system thread: the actor may need it to finish.
  if (!actors::on_system_thread()) impl_->shared->wait_stopped(actors::kStopTimeout);
  caf::anon_send_exit(impl_->actor, caf::exit_reason::user_shutdown);
}

void replicator::start(bool reset_checkpoint) {
  if (!impl_->shared->config.db) {
    impl_->shared->set_status({activity_level::stopped, {},
                               {errc::invalid_argument, "replicator: no database configured"}},
                              true);
    return;
  }
  caf::anon_send(impl_->actor, actors::start_atom::value, reset_checkpoint);
  /// While the connection opens, a reader opens for the checkpoint and changes reads.
  if (auto& core = impl_->shared->config.db.core()) core->prewarm_reader();
}

void replicator::stop() { caf::anon_send(impl_->actor, actors::stop_atom::value); }

replicator_status replicator::status() const { return impl_->shared->status(); }

listener_token replicator::add_change_listener(std::function<void(const replicator_status&)> fn) {
  auto id = impl_->shared->add_status_listener(std::move(fn));
  std::weak_ptr<replicator_shared> weak = impl_->shared;
  return listener_token([weak, id] {
    if (auto s = weak.lock()) s->remove_listener(id);
  });
}

listener_token replicator::add_document_listener(
    std::function<void(const std::vector<replicated_document>&)> fn) {
  auto id = impl_->shared->add_doc_listener(std::move(fn));
  std::weak_ptr<replicator_shared> weak = impl_->shared;
  return listener_token([weak, id] {
    if (auto s = weak.lock()) s->remove_listener(id);
  });
}

expected<std::set<std::string>> replicator::pending_document_ids() const {
  auto& cfg = impl_->shared->config;
  if (cfg.type == replicator_type::pull)
    return error{errc::invalid_argument, "pending_document_ids: a pull-only replicator pushes nothing"};
  if (!cfg.db) return error{errc::invalid_argument, "pending_document_ids: no database"};
  auto r = cfg.db.core()->acquire_reader();
  if (!r) return r.err();
  uint64_t since = impl_->shared->local_checkpoint;
  if (since == 0) {
    auto cp = (*r)->get_checkpoint(store::checkpoint_store::local,
                                   actors::checkpoint_id(cfg.db.core()->private_uuid, cfg));
    if (cp) since = rep_local_of(cp->body);
  }
  std::set<std::string> ids;
  std::set<std::string> only(cfg.document_ids.begin(), cfg.document_ids.end());
  for (;;) {
    auto cs = (*r)->changes(since, 1000);
    if (!cs) return cs.err();
    if (cs->empty()) break;
    since = cs->back().sequence;
    for (auto& c : *cs) {
      if (!only.empty() && !only.count(c.id)) continue;
      if (cfg.push_filter) {
        auto d = (*r)->get(c.id);
        if (!d || !cfg.push_filter(document{d->id, d->rev, d->body, d->deleted, d->sequence},
                                   document_flags{c.deleted, false}))
          continue;
      }
      ids.insert(c.id);
    }
  }
  return ids;
}

expected<bool> replicator::is_document_pending(const std::string& id) const {
  auto ids = pending_document_ids();
  if (!ids) return ids.err();
  return ids->count(id) > 0;
}

}  // namespace peerlite
