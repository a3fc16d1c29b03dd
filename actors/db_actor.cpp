// The db actor: single writer, group commit of peer revisions, change notifications.
#include "actors/db_actor.hpp"

#include <poll.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <condition_variable>
#include <deque>
#include <filesystem>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "actors/database_core.hpp"
#include "actors/errors.hpp"
#include "actors/metrics.hpp"
#include "actors/tuning.hpp"

namespace peerlite::actors {

namespace {

using insert_results = std::vector<store::insert_result>;

/// Looks for commits by other connections (another process's `peerlite put`) while the db
/// actor has someone listening: a plain thread checks PRAGMA data_version on a reader
/// connection of its own and sends (tick_atom) to the actor only when the value moved. Not a
/// CAF timer: each timer message wakes a scheduler worker, which then polls for more work (see
/// runtime.cpp). The reader's data_version also moves for our own writer's commits; the
/// actor tells the two apart with its writer's data_version. Owned by the actor's state:
/// destroying it stops the thread, then closes the reader.
///
/// When to check: a commit writes the database file or its -wal file, so the thread sleeps in
/// poll() on an inotify watch of the database's directory (names filtered to those two files)
/// and checks only after such a write, at most once per kExternalCommitPollInterval, plus once
/// per kExternalCommitBackstop in case a write went unseen (a file system without inotify
/// events). An idle continuous peer's watch thread used to wake every 50 ms: 21 wakeups/s and
/// 0.16% of a core, more than the rest of the process together (2026-12-06). Where inotify is
/// not available (no watches left), it checks every kExternalCommitPollInterval as before.
class external_watch {
 public:
  external_watch(std::unique_ptr<store::reader> reader, caf::weak_actor_ptr target,
                 const std::string& db_path)
      : reader_(std::move(reader)), target_(std::move(target)) {
    auto version = reader_->data_version();
    version_ = version ? *version : 0;
    watch_files(db_path);
    thread_ = std::thread([this] { run(); });
  }
  ~external_watch() {
    {
      std::lock_guard<std::mutex> guard{mtx_};
      stop_ = true;
    }
    cv_.notify_all();
    if (wake_fd_ >= 0) {
      uint64_t one = 1;
      [[maybe_unused]] auto n = write(wake_fd_, &one, sizeof one);
    }
    thread_.join();
    if (inotify_fd_ >= 0) close(inotify_fd_);
    if (wake_fd_ >= 0) close(wake_fd_);
  }
  external_watch(const external_watch&) = delete;
  external_watch& operator=(const external_watch&) = delete;

 private:
  /// Sets up the inotify watch, or on PostgreSQL the commit notifications; on any failure
  /// leaves both fds at -1 (polling).
  void watch_files(const std::string& db_path) {
    namespace fs = std::filesystem;
    std::error_code ec;
    if (store::is_pg_url(db_path)) {
      wake_fd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
      if (wake_fd_ >= 0) listen_fd_ = reader_->listen_for_commits();
      return;
    }
    auto file = fs::absolute(db_path, ec);
    if (ec) return;
    names_ = {file.filename().string(), file.filename().string() + "-wal"};
    inotify_fd_ = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    wake_fd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (inotify_fd_ < 0 || wake_fd_ < 0 ||
        inotify_add_watch(inotify_fd_, file.parent_path().c_str(),
                          IN_MODIFY | IN_CREATE | IN_MOVED_TO | IN_CLOSE_WRITE) < 0) {
      if (inotify_fd_ >= 0) close(inotify_fd_);
      inotify_fd_ = -1;
    }
  }

  /// Blocks until one of our files is written, a stop, or `timeout`. True when it is time to
  /// check: one of our files was written, the events could not be read (taken as a write), or
  /// `timeout` passed (the backstop). False on a stop, or when only other files in the
  /// directory were written (a hub's log beside its database).
  bool wait_for_write(std::chrono::milliseconds timeout) {
    /// PostgreSQL: a query of check() may have read notifications into libpq's queue, where
    /// the socket no longer shows them.
    if (listen_fd_ >= 0 && drained()) return true;
    pollfd fds[2] = {{listen_fd_ >= 0 ? listen_fd_ : inotify_fd_, POLLIN, 0},
                     {wake_fd_, POLLIN, 0}};
    int ready = poll(fds, 2, static_cast<int>(timeout.count()));
    if (ready == 0) return true;
    if (ready < 0) return errno != EINTR;
    if (fds[1].revents) return false;  // stopping
    if (listen_fd_ >= 0) return drained() || listen_fd_ < 0;
    bool ours = false;
    alignas(inotify_event) char buf[4096];
    for (;;) {
      auto n = read(inotify_fd_, buf, sizeof buf);
      if (n <= 0) return ours || (n < 0 && errno != EAGAIN);
      for (char* p = buf; p < buf + n;) {
        auto* e = reinterpret_cast<inotify_event*>(p);
        if (e->len > 0)
          for (auto& name : names_) ours = ours || name == e->name;
        if (e->mask & IN_Q_OVERFLOW) ours = true;
        p += sizeof(inotify_event) + e->len;
      }
    }
  }

  /// Reads the commit notifications that arrived: true when there was one. A lost connection
  /// turns the watch to polling (run() listens again later).
  bool drained() {
    bool broken = false;
    bool any = reader_->drain_commit_notifications(broken);
    if (broken) listen_fd_ = -1;
    return any;
  }

  void check() {
    auto version = reader_->data_version();
    if (!version || *version == version_) return;
    version_ = *version;
    /// Weak: the actor's life is its own; a tick to an actor that is going is dropped.
    if (auto target = target_.lock())
      caf::anon_send(caf::actor_cast<caf::actor>(std::move(target)), tick_atom::value);
  }

  /// Sleeps `d` unless stopping; false when stopping.
  bool pause(std::chrono::milliseconds d) {
    std::unique_lock<std::mutex> lock{mtx_};
    return !cv_.wait_for(lock, d, [this] { return stop_; });
  }

  bool stopping() {
    std::lock_guard<std::mutex> guard{mtx_};
    return stop_;
  }

  void run() {
    if (inotify_fd_ < 0 && listen_fd_ < 0 && wake_fd_ < 0) {
      while (pause(kExternalCommitPollInterval)) check();
      return;
    }
    auto next_listen = std::chrono::steady_clock::now();
    while (!stopping()) {
      if (listen_fd_ < 0 && inotify_fd_ < 0) {
        /// PostgreSQL without its notifications (the connection dropped): poll, and try to
        /// listen again every kCommitListenRetry.
        if (!pause(kExternalCommitPollInterval)) return;
        check();
        if (std::chrono::steady_clock::now() >= next_listen) {
          listen_fd_ = reader_->listen_for_commits();
          next_listen = std::chrono::steady_clock::now() + kCommitListenRetry;
        }
        continue;
      }
      if (!wait_for_write(kExternalCommitBackstop)) continue;
      check();
      /// A burst of commits (our own replication) is checked once per interval, not per commit.
      if (!pause(kExternalCommitPollInterval)) return;
    }
  }

  std::unique_ptr<store::reader> reader_;  ///< used by the thread only
  caf::weak_actor_ptr target_;
  int64_t version_ = 0;
  std::vector<std::string> names_;  ///< the database file's and its -wal file's names
  int inotify_fd_ = -1;             ///< -1: poll every kExternalCommitPollInterval instead
  int listen_fd_ = -1;  ///< PostgreSQL: the socket commit notifications arrive on, or -1
  int wake_fd_ = -1;    ///< written by the destructor to end the poll()
  std::mutex mtx_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::thread thread_;  ///< last: starts once everything above exists
};

struct pending_insert {
  std::vector<store::incoming_revision> revs;
  bool allow_conflicts = true;
  uint64_t remote = 0;
  store::collection_id coll = 0;
  caf::typed_response_promise<insert_results> rp;
  size_t bytes = 0;
};

struct db_state {
  std::shared_ptr<store::database> db;
  std::weak_ptr<database_core> core;
  std::deque<pending_insert> pending;
  bool flush_scheduled = false;
  std::vector<caf::actor> subscribers;
  /// Other connections' commits (see check_external).
  int64_t data_version = 0;  ///< the writer connection's PRAGMA data_version at the last check
  uint64_t known_seq = 0;    ///< highest sequence committed here or found by a check
  /// Every sequence up to told_seq was told to the app's listeners, or was committed while it
  /// had none. Above it, told_ranges holds our own commits already told (each one transaction,
  /// so no other connection's sequence lies inside a range; appended in increasing order).
  uint64_t told_seq = 0;
  std::vector<std::pair<uint64_t, uint64_t>> told_ranges;
  /// Set while someone listens. Declared after `db`, so its reader closes before the writer.
  std::unique_ptr<external_watch> watch;
  static inline const char* name = "peerlite.db";
};

using db_self = db_actor::stateful_pointer<db_state>;

/// Tells continuous pushers about a commit to named collection `coll` (its own sequences).
/// The app's listeners and the checks for other connections' commits follow the default
/// collection only.
void announce_named(db_self self, store::collection_id coll, uint64_t last) {
  for (auto& s : self->state.subscribers) caf::anon_send(s, db_changed_atom::value, coll, last);
}

/// Runs `fn` with the writer switched to collection `coll`, then back to the default.
template <class F>
auto in_collection(store::database& db, store::collection_id coll, F&& fn) -> decltype(fn()) {
  if (coll == 0) return fn();
  if (auto st = db.use_collection(coll); !st.ok()) return st.err();
  auto r = fn();
  (void)db.use_collection(0);
  return r;
}

/// Tells continuous pushers and the app's listeners about one of our own commits.
void announce(db_self self, std::vector<change_entry> changes) {
  if (changes.empty()) return;
  auto& st = self->state;
  uint64_t first = UINT64_MAX, last = 0;
  for (auto& c : changes) {
    first = std::min(first, c.sequence);
    last = std::max(last, c.sequence);
  }
  st.known_seq = std::max(st.known_seq, last);
  for (auto& s : st.subscribers) caf::anon_send(s, db_changed_atom::value, last);
  if (auto core = st.core.lock(); core && core->has_listeners()) {
    /// So that a check finding another connection's commit below ours does not tell it twice.
    st.told_ranges.emplace_back(first, last);
    core->notify(changes);
  }
}

/// Whether anyone wants to hear of other connections' commits.
bool wants_checks(db_state& st) {
  if (!st.subscribers.empty()) return true;
  auto core = st.core.lock();
  return core && core->has_listeners();
}

/// Joins or leaves the external_watch as subscribers and listeners come and go. A listener
/// removed by the app is noticed at the next tick (the next commit by anyone), until which
/// the watch only costs its few-microsecond checks.
void update_watch(db_self self) {
  auto& st = self->state;
  bool want = wants_checks(st);
  if (want == static_cast<bool>(st.watch)) return;
  if (!want) {
    st.watch.reset();
    return;
  }
  /// Nothing else can commit to a private in-memory database.
  if (st.db->path() == ":memory:") return;
  auto reader = st.db->open_reader();
  if (!reader) return;  // tried again at the next subscribe, listener or tick
  st.watch = std::make_unique<external_watch>(
      std::move(*reader), caf::actor_cast<caf::weak_actor_ptr>(self), st.db->path());
  /// Commits made while nobody watched: the writer's data_version tells.
  self->send(self, tick_atom::value);
}

bool told_by_us(const db_state& st, uint64_t seq) {
  auto it = std::upper_bound(st.told_ranges.begin(), st.told_ranges.end(), seq,
                             [](uint64_t s, const auto& r) { return s < r.first; });
  return it != st.told_ranges.begin() && seq <= std::prev(it)->second;
}

/// Tells the app's listeners what other connections committed above told_seq, read from the
/// changes feed (one entry per document, its latest), minus what our own commits told.
/// Returns false when the feed could not be read (told_seq is where to resume).
bool tell_listeners(db_state& st, database_core& core) {
  for (;;) {
    auto feed = st.db->changes(st.told_seq, kGroupCommitMaxRevs);
    if (!feed) return false;
    std::vector<change_entry> changes;
    for (auto& c : *feed) {
      if (told_by_us(st, c.sequence)) continue;
      changes.push_back({c.sequence, std::move(c.id), std::move(c.rev), c.deleted});
    }
    if (!changes.empty()) core.notify(changes);
    if (feed->empty()) return true;
    st.told_seq = feed->back().sequence;
    if (feed->size() < kGroupCommitMaxRevs) return true;
  }
}

/// Finds commits by other connections (another process on the same file): they never pass
/// through this actor, so nothing else would wake the continuous pushers for them. The
/// writer's data_version moves only for others' commits.
void check_external(db_self self) {
  auto& st = self->state;
  auto version = st.db->data_version();
  /// The watch told of a change it will not tell again: a failed read (a shared store that
  /// just came back, whose first call finds the old session gone) is retried here.
  if (!version) return void(self->delayed_send(self, kExternalCommitRetry, tick_atom::value));
  auto core = st.core.lock();
  bool listeners = core && core->has_listeners();
  if (*version == st.data_version) {
    /// Nobody else committed since the last check: every sequence up to known_seq is ours,
    /// told as it was committed.
    st.told_seq = std::max(st.told_seq, st.known_seq);
    st.told_ranges.clear();
    return;
  }
  auto last = st.db->last_sequence();
  if (!last) return void(self->delayed_send(self, kExternalCommitRetry, tick_atom::value));
  if (*last > st.known_seq) {
    st.known_seq = *last;
    for (auto& s : st.subscribers) caf::anon_send(s, db_changed_atom::value, *last);
  }
  /// An unread feed leaves data_version as it was, so the next tick tries again.
  if (listeners && !tell_listeners(st, *core)) return;
  st.data_version = *version;
  st.told_seq = std::max(st.told_seq, *last);
  st.told_ranges.clear();
}

/// Takes requests from the front of the queue up to the group commit caps (at least one).
std::vector<pending_insert> take_round(db_state& st) {
  std::vector<pending_insert> round;
  size_t revs = 0, bytes = 0;
  while (!st.pending.empty()) {
    auto& next = st.pending.front();
    if (!round.empty() && (revs + next.revs.size() > kGroupCommitMaxRevs ||
                           bytes + next.bytes > kGroupCommitMaxBytes))
      break;
    revs += next.revs.size();
    bytes += next.bytes;
    round.push_back(std::move(next));
    st.pending.pop_front();
  }
  return round;
}

/// Writes one round in one transaction. Returns per-request results, or the error of the
/// whole transaction.
expected<std::vector<insert_results>> commit_round(store::database& db,
                                                   std::vector<pending_insert>& round) {
  std::vector<insert_results> out(round.size());
  auto st = db.in_transaction([&]() -> status {
    for (size_t i = 0; i < round.size(); ++i) {
      if (round[i].coll != db.current_collection())
        if (auto sel = db.use_collection(round[i].coll); !sel.ok()) return sel;
      auto r = db.insert_batch(round[i].revs, round[i].allow_conflicts, /*validated=*/true,
                               round[i].remote);
      if (!r) return r.err();
      out[i] = std::move(*r);
    }
    return {};
  });
  (void)db.use_collection(0);
  if (!st) return st.err();
  return out;
}

std::vector<change_entry> changes_of(const std::vector<pending_insert>& round,
                                     const std::vector<insert_results>& results) {
  std::vector<change_entry> changes;
  for (size_t i = 0; i < round.size(); ++i) {
    if (round[i].coll != 0) continue;
    for (size_t j = 0; j < results[i].size(); ++j) {
      auto& res = results[i][j];
      if (res.sequence == 0) continue;
      auto& rev = round[i].revs[j];
      bool deleted = res.current_rev == rev.rev && rev.deleted;
      changes.push_back({res.sequence, rev.id, res.current_rev, deleted});
    }
  }
  return changes;
}

void flush(db_self self) {
  auto& st = self->state;
  st.flush_scheduled = false;
  if (st.pending.empty()) return;
  auto round = take_round(st);
  auto began = std::chrono::steady_clock::now();
  auto results = commit_round(*st.db, round);
  /// For `serve --admin`'s peerlite_commit_seconds / peerlite_group_commit_revisions.
  size_t revs = 0;
  for (auto& p : round) revs += p.revs.size();
  metrics::record_group_commit(std::chrono::steady_clock::now() - began, revs, results.has_value());
  if (!results) {
    for (auto& p : round) p.rp.deliver(make_error(results.err()));
  } else {
    /// Nobody to tell (a one-shot pull, no app listener): skip copying every id and rev.
    auto core = st.core.lock();
    bool tell = !st.subscribers.empty() || (core && core->has_listeners());
    auto changes = tell ? changes_of(round, *results) : std::vector<change_entry>{};
    /// Kept even when nobody listens: a check must not mistake our sequences for others'.
    std::map<store::collection_id, uint64_t> named;  ///< named collection -> its last sequence
    for (size_t i = 0; i < round.size(); ++i)
      for (auto& r : (*results)[i]) {
        auto& last = round[i].coll == 0 ? st.known_seq : named[round[i].coll];
        last = std::max(last, r.sequence);
      }
    for (size_t i = 0; i < round.size(); ++i) round[i].rp.deliver(std::move((*results)[i]));
    announce(self, std::move(changes));
    for (auto [coll, last] : named)
      if (last) announce_named(self, coll, last);
  }
  /// Whatever arrived during this commit forms the next group.
  if (!st.pending.empty() && !st.flush_scheduled) {
    st.flush_scheduled = true;
    self->send(self, flush_atom::value);
  }
}

caf::result<insert_results> enqueue_insert(db_self self,
                                           std::vector<store::incoming_revision>& revs,
                                           bool allow_conflicts, uint64_t remote,
                                           store::collection_id coll = 0) {
  size_t bytes = 0;
  for (auto& r : revs) bytes += r.body.size() + r.id.size() + 64;
  auto rp = self->make_response_promise<insert_results>();
  self->state.pending.push_back({std::move(revs), allow_conflicts, remote, coll, rp, bytes});
  /// The flush message queues behind everything already in the mailbox: one group.
  if (!self->state.flush_scheduled) {
    self->state.flush_scheduled = true;
    self->send(self, flush_atom::value);
  }
  return rp;
}

/// The change a local write just made, read back from the document's row: its own sequence
/// (the database's last sequence may already belong to another process's commit) and whether
/// its current revision is a deletion (a resolution that keeps a pulled deletion is one).
change_entry local_change(store::database& db, const std::string& id, const std::string& rev,
                          bool deleted) {
  if (auto d = db.get(id)) return {d->sequence, id, d->rev, d->deleted};
  auto last = db.last_sequence();
  return {last ? *last : 0, id, rev, deleted};
}

template <class T>
caf::result<T> to_result(expected<T>&& r) {
  if (!r) return make_error(r.err());
  return std::move(*r);
}

/// Announces a local write to `coll` (read back from its row while the collection is current).
void announce_local(db_self self, store::collection_id coll, const std::string& id,
                    const std::string& rev, bool deleted) {
  auto& db = *self->state.db;
  if (coll == 0) return announce(self, {local_change(db, id, rev, deleted)});
  if (auto d = db.get(id)) announce_named(self, coll, d->sequence);
}

caf::result<std::string> do_put(db_self self, const std::string& id, const std::string& body,
                                const std::string& parent, bool has_parent, bool fail,
                                store::collection_id coll = 0) {
  auto& db = *self->state.db;
  std::optional<std::string> p;
  if (has_parent) p = parent;
  auto r = in_collection(db, coll, [&]() -> expected<std::string> {
    auto put =
        db.put(id, body, p,
               fail ? store::concurrency::fail_on_conflict : store::concurrency::last_write_wins);
    if (put) announce_local(self, coll, id, *put, false);
    return put;
  });
  return to_result(std::move(r));
}

caf::result<std::string> do_resolve(db_self self, const std::string& id, const std::string& win,
                                    const std::string& lose, const std::string& body, bool has_body,
                                    bool deleted, store::collection_id coll = 0) {
  auto& db = *self->state.db;
  std::optional<std::string> merged;
  if (has_body) merged = body;
  auto r = in_collection(db, coll, [&]() -> expected<std::string> {
    auto res = db.resolve(id, win, lose, merged, deleted);
    if (res) announce_local(self, coll, id, *res, has_body && deleted);
    return res;
  });
  return to_result(std::move(r));
}

caf::result<std::string> do_remove(db_self self, const std::string& id,
                                   store::collection_id coll = 0) {
  auto& db = *self->state.db;
  auto r = in_collection(db, coll, [&]() -> expected<std::string> {
    auto res = db.remove(id);
    if (res) announce_local(self, coll, id, *res, true);
    return res;
  });
  return to_result(std::move(r));
}

void record_remote(db_self self, uint64_t remote, const std::vector<std::string>& pairs,
                   store::collection_id coll = 0) {
  /// Bookkeeping only: a failure costs a redundant proposal later, never data.
  std::vector<store::rev_ref> revs;
  revs.reserve(pairs.size() / 2);
  for (size_t i = 0; i + 1 < pairs.size(); i += 2) revs.push_back({pairs[i], pairs[i + 1]});
  auto& db = *self->state.db;
  (void)in_collection(db, coll, [&]() -> status { return db.set_remote_revs(remote, revs); });
}

caf::result<std::string> do_checkpoint(db_self self, store::checkpoint_store which,
                                       const std::string& id, const std::string& body,
                                       const std::string& expected_rev, bool has_rev) {
  std::optional<std::string> rev;
  if (has_rev) rev = expected_rev;
  return to_result(self->state.db->set_checkpoint(which, id, body, rev));
}

db_actor::behavior_type db_impl(db_self self, std::shared_ptr<store::database> db,
                                std::weak_ptr<database_core> core) {
  self->state.db = std::move(db);
  self->state.core = std::move(core);
  /// The baseline of the checks for other connections' commits (0 on failure: the first
  /// check then looks, which costs one read).
  if (auto v = self->state.db->data_version()) self->state.data_version = *v;
  if (auto last = self->state.db->last_sequence())
    self->state.known_seq = self->state.told_seq = *last;
  self->set_down_handler([self](caf::down_msg& dm) {
    auto& subs = self->state.subscribers;
    subs.erase(std::remove_if(subs.begin(), subs.end(),
                              [&](const caf::actor& a) { return a.address() == dm.source; }),
               subs.end());
    update_watch(self);
  });
  return {
      [=](put_atom, const std::string& id, const std::string& body, const std::string& parent,
          bool has_parent, bool fail) { return do_put(self, id, body, parent, has_parent, fail); },
      [=](put_atom, const std::string& id, const std::string& body, const std::string& parent,
          bool has_parent, bool fail, store::collection_id coll) {
        return do_put(self, id, body, parent, has_parent, fail, coll);
      },
      [=](remove_atom, const std::string& id) { return do_remove(self, id); },
      [=](remove_atom, const std::string& id, store::collection_id coll) {
        return do_remove(self, id, coll);
      },
      [=](insert_atom, std::vector<store::incoming_revision>& revs, bool allow_conflicts,
          uint64_t remote) { return enqueue_insert(self, revs, allow_conflicts, remote); },
      [=](insert_atom, std::vector<store::incoming_revision>& revs, bool allow_conflicts,
          uint64_t remote, store::collection_id coll) {
        return enqueue_insert(self, revs, allow_conflicts, remote, coll);
      },
      [=](remote_atom, const std::string& name) -> caf::result<uint64_t> {
        return to_result(self->state.db->remote(name));
      },
      [=](remote_atom, uint64_t remote, const std::vector<std::string>& pairs) {
        record_remote(self, remote, pairs);
      },
      [=](remote_atom, uint64_t remote, const std::vector<std::string>& pairs,
          store::collection_id coll) { record_remote(self, remote, pairs, coll); },
      [=](resolve_atom, const std::string& id, const std::string& win, const std::string& lose,
          const std::string& body, bool has_body,
          bool deleted) { return do_resolve(self, id, win, lose, body, has_body, deleted); },
      [=](resolve_atom, const std::string& id, const std::string& win, const std::string& lose,
          const std::string& body, bool has_body, bool deleted, store::collection_id coll) {
        return do_resolve(self, id, win, lose, body, has_body, deleted, coll);
      },
      [=](purge_atom, const std::string& id) -> caf::result<bool> {
        if (auto st = self->state.db->purge(id); !st) return make_error(st.err());
        return true;
      },
      [=](expire_atom, const std::string& id, int64_t when) -> caf::result<bool> {
        if (auto st = self->state.db->set_expiration(id, when); !st) return make_error(st.err());
        return true;
      },
      [=](checkpoint_atom, store::checkpoint_store which, const std::string& id,
          const std::string& body, const std::string& expected_rev,
          bool has_rev) { return do_checkpoint(self, which, id, body, expected_rev, has_rev); },
      [=](subscribe_atom, caf::actor who) {
        self->monitor(who);
        self->state.subscribers.push_back(std::move(who));
        update_watch(self);
      },
      [=](listen_atom, uint64_t since) {
        auto& st = self->state;
        /// Not watching: told_seq stopped moving when the checks did. The new listener is
        /// owed what others commit from `since` on (read before it was added), not before.
        if (!st.watch) {
          st.told_seq = std::max(st.told_seq, since);
          auto told = st.told_seq;
          st.told_ranges.erase(std::remove_if(st.told_ranges.begin(), st.told_ranges.end(),
                                              [told](const auto& r) { return r.second <= told; }),
                               st.told_ranges.end());
        }
        update_watch(self);
      },
      [=](tick_atom) {
        check_external(self);
        /// Leaves the watch here once the last subscriber and listener are gone.
        update_watch(self);
      },
      [=](unsub_atom, const caf::actor& who) {
        auto& subs = self->state.subscribers;
        subs.erase(std::remove(subs.begin(), subs.end(), who), subs.end());
        update_watch(self);
      },
      [=](flush_atom) { flush(self); },
      [=](blob_atom, const std::string& digest, const std::string& data,
          const std::string& type) -> caf::result<std::string> {
        /// A group commit waiting in `pending` may hold revisions that reference this blob:
        /// storing it first keeps "no revision without its blob" true for them too.
        return to_result(self->state.db->put_blob(data, type, digest));
      },
      [=](compact_atom) -> caf::result<uint64_t> {
        auto n = self->state.db->compact();
        if (!n) return make_error(n.err());
        return static_cast<uint64_t>(*n);
      },
      [=](purge_atom, const std::string& id, store::collection_id coll) -> caf::result<bool> {
        auto& db = *self->state.db;
        auto st = in_collection(db, coll, [&]() -> status { return db.purge(id); });
        if (!st) return make_error(st.err());
        return true;
      },
      [=](mkcoll_atom, const std::string& name) -> caf::result<store::collection_id> {
        return to_result(self->state.db->create_collection(name));
      },
      [=](rmcoll_atom, const std::string& name) -> caf::result<bool> {
        if (auto st = self->state.db->delete_collection(name); !st) return make_error(st.err());
        return true;
      },
  };
}

}  // namespace

db_actor spawn_db_actor(caf::actor_system& sys, std::unique_ptr<store::database> db,
                        std::weak_ptr<database_core> core) {
  /// spawn copies its arguments, so the writer travels as a shared_ptr only this actor keeps.
  return sys.spawn(db_impl, std::shared_ptr<store::database>(std::move(db)), std::move(core));
}

}  // namespace peerlite::actors
