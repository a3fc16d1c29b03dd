// message_endpoint_listener: the public handle on a listener actor (see the public header).
#include "peerlite/message_endpoint_listener.hpp"

#include "actors/listener.hpp"
#include "actors/runtime.hpp"
#include "actors/tuning.hpp"

namespace peerlite {

struct message_endpoint_listener::impl {
  std::shared_ptr<caf::actor_system> sys = actors::shared_system();
  std::shared_ptr<actors::listener_shared> shared = std::make_shared<actors::listener_shared>();
  actors::listener_actor actor;
  bool has_db = false;
};

message_endpoint_listener::message_endpoint_listener(listener_config config)
    : impl_(std::make_shared<impl>()) {
  impl_->has_db = static_cast<bool>(config.db);
  impl_->actor = actors::spawn_listener(*impl_->sys, std::move(config), impl_->shared);
}

message_endpoint_listener::~message_endpoint_listener() {
  {
    std::lock_guard<std::mutex> guard{impl_->shared->mtx};
    impl_->shared->stopping = true;
  }
  close_all();
  /// Waiting on a system thread could starve the very actors we wait for.
  if (!actors::on_system_thread()) wait_closed(actors::kCloseAllTimeout);
  caf::anon_send_exit(impl_->actor, caf::exit_reason::user_shutdown);
}

expected<uint64_t> message_endpoint_listener::accept(
    std::unique_ptr<message_endpoint_connection> connection) {
  return accept(std::shared_ptr<message_endpoint_connection>(std::move(connection)));
}

expected<uint64_t> message_endpoint_listener::accept(
    std::shared_ptr<message_endpoint_connection> connection) {
  if (!connection) return error{errc::invalid_argument, "accept: null connection"};
  if (!impl_->has_db) return error{errc::invalid_argument, "accept: listener has no database"};
  uint64_t id = 0;
  {
    auto& sh = *impl_->shared;
    std::lock_guard<std::mutex> guard{sh.mtx};
    if (sh.stopping) return error{errc::stopped, "accept: the listener is shutting down"};
    id = sh.next_id++;
    listener_connection_status entry;
    entry.id = id;
    entry.connection = connection.get();
    entry.status.activity = activity_level::connecting;
    sh.live.emplace(id, entry);
  }
  caf::anon_send(impl_->actor, actors::accept_atom::value, id, std::move(connection));
  return id;
}

void message_endpoint_listener::close(const message_endpoint_connection& connection) {
  uint64_t id = 0;
  {
    std::lock_guard<std::mutex> guard{impl_->shared->mtx};
    for (auto& [key, entry] : impl_->shared->live)
      if (entry.connection == &connection) id = key;
  }
  if (id != 0) close(id);
}

void message_endpoint_listener::close(uint64_t id) {
  caf::anon_send(impl_->actor, actors::close_one_atom::value, id);
}

void message_endpoint_listener::close_all() {
  caf::anon_send(impl_->actor, actors::close_all_atom::value);
}

void message_endpoint_listener::close_all(const std::string& reason) {
  caf::anon_send(impl_->actor, actors::close_all_atom::value, reason);
}

bool message_endpoint_listener::wait_closed(std::chrono::milliseconds timeout) {
  auto& sh = *impl_->shared;
  std::unique_lock<std::mutex> lock{sh.mtx};
  return sh.cv.wait_for(lock, timeout, [&] { return sh.live.empty(); });
}

std::vector<listener_connection_status> message_endpoint_listener::connections() const {
  std::lock_guard<std::mutex> guard{impl_->shared->mtx};
  std::vector<listener_connection_status> out;
  for (auto& [id, entry] : impl_->shared->live) out.push_back(entry);
  return out;
}

namespace {

/// A token that erases `token` from `(shared->*map)` when removed; harmless after the
/// listener is gone.
template <class Map>
listener_token make_token(const std::shared_ptr<actors::listener_shared>& shared, Map member,
                          uint64_t token) {
  std::weak_ptr<actors::listener_shared> weak = shared;
  return listener_token([weak, member, token] {
    if (auto sh = weak.lock()) {
      std::lock_guard<std::mutex> guard{sh->mtx};
      ((*sh).*member).erase(token);
    }
  });
}

}  // namespace

listener_token message_endpoint_listener::add_change_listener(listener_change_fn fn) {
  auto& sh = *impl_->shared;
  std::lock_guard<std::mutex> guard{sh.mtx};
  auto token = sh.next_token++;
  sh.change_fns.emplace(token, std::move(fn));
  return make_token(impl_->shared, &actors::listener_shared::change_fns, token);
}

listener_token message_endpoint_listener::add_document_listener(listener_document_fn fn) {
  auto& sh = *impl_->shared;
  std::lock_guard<std::mutex> guard{sh.mtx};
  auto token = sh.next_token++;
  sh.doc_fns.emplace(token, std::move(fn));
  return make_token(impl_->shared, &actors::listener_shared::doc_fns, token);
}

}  // namespace peerlite
