// The shared state behind peerlite::database: reader pool and change listeners.
#include "actors/database_core.hpp"

#include <caf/actor_system.hpp>
#include <caf/event_based_actor.hpp>

#include "actors/tuning.hpp"

namespace peerlite::actors {

reader_lease& reader_lease::operator=(reader_lease&& other) {
  if (this != &other) {
    release();
    core_ = std::move(other.core_);
    reader_ = std::move(other.reader_);
  }
  return *this;
}

reader_lease::~reader_lease() { release(); }

void reader_lease::release() {
  if (core_ && reader_) core_->release_reader(std::move(reader_));
  core_.reset();
}

expected<reader_lease> database_core::acquire_reader(store::collection_id coll) {
  std::unique_ptr<store::reader> r;
  {
    std::lock_guard<std::mutex> guard{pool_mtx_};
    if (!pool_.empty()) {
      r = std::move(pool_.back());
      pool_.pop_back();
    }
  }
  if (!r) {
    if (!open_reader) return error{errc::invalid_argument, "database is closed"};
    auto opened = open_reader();
    if (!opened) return opened.err();
    r = std::move(*opened);
  }
  reader_lease lease(shared_from_this(), std::move(r));
  /// A named collection is selected again on every lease (one indexed lookup), so a lease on
  /// a collection deleted meanwhile is a not_found, never a read of dropped tables.
  if (coll != 0 || lease->current_collection() != 0)
    if (auto st = lease->use_collection(coll); !st.ok()) return st.err();
  return lease;
}

void database_core::release_reader(std::unique_ptr<store::reader> r) {
  {
    std::lock_guard<std::mutex> guard{pool_mtx_};
    if (pool_.size() < kMaxIdleReaders) {
      pool_.push_back(std::move(r));
      return;
    }
  }
  r.reset();  // closed outside the lock: closing a SQLite connection frees its cache
}

void database_core::prewarm_reader() {
  if (!sys || !open_reader || idle_readers() > 0 || prewarming_.exchange(true)) return;
  /// A function-based actor: it runs once on a scheduler thread and ends.
  sys->spawn([core = shared_from_this()](caf::event_based_actor*) {
    if (auto r = core->open_reader()) core->release_reader(std::move(*r));
    core->prewarming_ = false;
  });
}

size_t database_core::idle_readers() {
  std::lock_guard<std::mutex> guard{pool_mtx_};
  return pool_.size();
}

listener_token database_core::add_listener(
    std::function<void(const std::vector<change_entry>&)> fn) {
  /// Read before the listener counts: the writer tells it of other processes' commits from
  /// here on (it checks for them only while someone listens; see db_actor.hpp).
  uint64_t since = 0;
  if (auto r = acquire_reader())
    if (auto last = (*r)->last_sequence()) since = *last;
  uint64_t id;
  {
    std::lock_guard<std::mutex> guard{listen_mtx_};
    id = next_listener_++;
    listeners_.emplace(id, std::move(fn));
    listener_count_ = listeners_.size();
  }
  if (writer) caf::anon_send(writer, listen_atom::value, since);
  std::weak_ptr<database_core> weak = weak_from_this();
  return listener_token([weak, id] {
    if (auto core = weak.lock()) {
      std::lock_guard<std::mutex> guard{core->listen_mtx_};
      core->listeners_.erase(id);
      core->listener_count_ = core->listeners_.size();
    }
  });
}

void database_core::notify(const std::vector<change_entry>& changes) {
  std::vector<std::function<void(const std::vector<change_entry>&)>> fns;
  {
    std::lock_guard<std::mutex> guard{listen_mtx_};
    for (auto& [id, fn] : listeners_) fns.push_back(fn);
  }
  for (auto& fn : fns) fn(changes);
}

database_core::~database_core() {
  /// Readers first: they must be closed before the writer closes the file.
  pool_.clear();
  if (writer) caf::anon_send_exit(writer, caf::exit_reason::user_shutdown);
}

}  // namespace peerlite::actors
