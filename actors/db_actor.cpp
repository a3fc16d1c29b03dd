// The db actor: single writer, group commit of peer revisions, change notifications.
#include "actors/db_actor.hpp"

#include <algorithm>
#include <deque>

#include "actors/database_core.hpp"
#include "actors/errors.hpp"
#include "actors/tuning.hpp"

namespace peerlite::actors {

namespace {

using insert_results = std::vector<store::insert_result>;

struct pending_insert {
  std::vector<store::incoming_revision> revs;
  bool allow_conflicts = true;
  caf::typed_response_promise<insert_results> rp;
  size_t bytes = 0;
};

struct db_state {
  std::shared_ptr<store::database> db;
  std::weak_ptr<database_core> core;
  std::deque<pending_insert> pending;
  bool flush_scheduled = false;
  std::vector<caf::actor> subscribers;
  static inline const char* name = "peerlite.db";
};

using db_self = db_actor::stateful_pointer<db_state>;

/// Tells continuous pushers and the app's listeners about a commit.
void announce(db_self self, std::vector<change_entry> changes) {
  if (changes.empty()) return;
  uint64_t last = 0;
  for (auto& c : changes) last = std::max(last, c.sequence);
  for (auto& s : self->state.subscribers) caf::anon_send(s, db_changed_atom::value, last);
  if (auto core = self->state.core.lock(); core && core->has_listeners()) core->notify(changes);
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
      auto r = db.insert_batch(round[i].revs, round[i].allow_conflicts, /*validated=*/true);
      if (!r) return r.err();
      out[i] = std::move(*r);
    }
    return {};
  });
  if (!st) return st.err();
  return out;
}

std::vector<change_entry> changes_of(const std::vector<pending_insert>& round,
                                     const std::vector<insert_results>& results) {
  std::vector<change_entry> changes;
  for (size_t i = 0; i < round.size(); ++i) {
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
  auto results = commit_round(*st.db, round);
  if (!results) {
    for (auto& p : round) p.rp.deliver(make_error(results.err()));
  } else {
    /// Nobody to tell (a one-shot pull, no app listener): skip copying every id and rev.
    auto core = st.core.lock();
    bool tell = !st.subscribers.empty() || (core && core->has_listeners());
    auto changes = tell ? changes_of(round, *results) : std::vector<change_entry>{};
    for (size_t i = 0; i < round.size(); ++i) round[i].rp.deliver(std::move((*results)[i]));
    announce(self, std::move(changes));
  }
  /// Whatever arrived during this commit forms the next group.
  if (!st.pending.empty() && !st.flush_scheduled) {
    st.flush_scheduled = true;
    self->send(self, flush_atom::value);
  }
}

caf::result<insert_results> enqueue_insert(db_self self, std::vector<store::incoming_revision>& revs,
                                           bool allow_conflicts) {
  size_t bytes = 0;
  for (auto& r : revs) bytes += r.body.size() + r.id.size() + 64;
  auto rp = self->make_response_promise<insert_results>();
  self->state.pending.push_back({std::move(revs), allow_conflicts, rp, bytes});
  /// The flush message queues behind everything already in the mailbox: one group.
  if (!self->state.flush_scheduled) {
    self->state.flush_scheduled = true;
    self->send(self, flush_atom::value);
  }
  return rp;
}

change_entry local_change(store::database& db, const std::string& id, const std::string& rev,
                          bool deleted) {
  auto last = db.last_sequence();
  return {last ? *last : 0, id, rev, deleted};
}

template <class T>
caf::result<T> to_result(expected<T>&& r) {
  if (!r) return make_error(r.err());
  return std::move(*r);
}

caf::result<std::string> do_put(db_self self, const std::string& id, const std::string& body,
                                const std::string& parent, bool has_parent, bool fail) {
  auto& db = *self->state.db;
  std::optional<std::string> p;
  if (has_parent) p = parent;
  auto r = db.put(id, body, p,
                  fail ? store::concurrency::fail_on_conflict : store::concurrency::last_write_wins);
  if (r) announce(self, {local_change(db, id, *r, false)});
  return to_result(std::move(r));
}

caf::result<std::string> do_resolve(db_self self, const std::string& id, const std::string& win,
                                    const std::string& lose, const std::string& body,
                                    bool has_body, bool deleted) {
  auto& db = *self->state.db;
  std::optional<std::string> merged;
  if (has_body) merged = body;
  auto r = db.resolve(id, win, lose, merged, deleted);
  if (r) announce(self, {local_change(db, id, *r, has_body && deleted)});
  return to_result(std::move(r));
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
  self->set_down_handler([self](caf::down_msg& dm) {
    auto& subs = self->state.subscribers;
    subs.erase(std::remove_if(subs.begin(), subs.end(),
                              [&](const caf::actor& a) { return a.address() == dm.source; }),
               subs.end());
  });
  return {
      [=](put_atom, const std::string& id, const std::string& body, const std::string& parent,
          bool has_parent, bool fail) { return do_put(self, id, body, parent, has_parent, fail); },
      [=](remove_atom, const std::string& id) -> caf::result<std::string> {
        auto& db = *self->state.db;
        auto r = db.remove(id);
        if (r) announce(self, {local_change(db, id, *r, true)});
        return to_result(std::move(r));
      },
      [=](insert_atom, std::vector<store::incoming_revision>& revs, bool allow_conflicts) {
        return enqueue_insert(self, revs, allow_conflicts);
      },
      [=](resolve_atom, const std::string& id, const std::string& win, const std::string& lose,
          const std::string& body, bool has_body, bool deleted) {
        return do_resolve(self, id, win, lose, body, has_body, deleted);
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
          const std::string& body, const std::string& expected_rev, bool has_rev) {
        return do_checkpoint(self, which, id, body, expected_rev, has_rev);
      },
      [=](subscribe_atom, caf::actor who) {
        self->monitor(who);
        self->state.subscribers.push_back(std::move(who));
      },
      [=](unsub_atom, const caf::actor& who) {
        auto& subs = self->state.subscribers;
        subs.erase(std::remove(subs.begin(), subs.end(), who), subs.end());
      },
      [=](flush_atom) { flush(self); },
  };
}

}  // namespace

db_actor spawn_db_actor(caf::actor_system& sys, std::unique_ptr<store::database> db,
                        std::weak_ptr<database_core> core) {
  /// spawn copies its arguments, so the writer travels as a shared_ptr only this actor keeps.
  return sys.spawn(db_impl, std::shared_ptr<store::database>(std::move(db)), std::move(core));
}

}  // namespace peerlite::actors
