// The puller's group commits through the db actor, conflict resolution and reports upward.
#include <algorithm>

#include "actors/conflicts.hpp"
#include "actors/errors.hpp"
#include "actors/puller_state.hpp"
#include "actors/tuning.hpp"
#include "actors/worker_report.hpp"
#include "store/rev_id.hpp"

namespace peerlite::actors {

namespace {

void resolve_conflict(puller_self self, const std::string& id, const std::string& remote_rev,
                      store::collection_id coll, int attempts = kResolveAttempts);

/// Writes the resolution of `sides` decided by the app's resolver or the default rule
/// (conflicts.hpp). When the document changed between the read and the write (errc::conflict:
/// the pusher resolved it, or the app edited it), it is read and decided again, up to
/// `attempts` times: nothing is left to do once the peer's revision is current or gone from
/// the leaves.
void write_decided(puller_self self, const conflict_sides& sides, store::collection_id coll,
                   int attempts) {
  auto& st = self->state;
  ++st.resolving;
  write_resolution(self, st.cfg.db, coll, sides, decide(st.cfg.resolver, sides),
                   [=, id = sides.local.id, remote_rev = sides.remote.rev](const error& err) {
                     --self->state.resolving;
                     if (err.code == errc::conflict && attempts > 1)
                       resolve_conflict(self, id, remote_rev, coll, attempts - 1);
                     else if (err.code != errc::ok)
                       self->state.events.push_back(
                           {id, remote_rev, replication_direction::pull, {}, err});
                     check_idle(self);
                   });
}

/// Resolves `id`'s conflict with `remote_rev` (a pulled leaf) on a reader of its own.
void resolve_conflict(puller_self self, const std::string& id, const std::string& remote_rev,
                      store::collection_id coll, int attempts) {
  auto reader = self->state.cfg.db.core()->acquire_reader(coll);
  if (!reader) return;
  if (auto sides = read_conflict(**reader, id, remote_rev))
    write_decided(self, *sides, coll, attempts);
}

void settle(puller_self self, pending_rev& p, const store::insert_result& res) {
  auto& st = self->state;
  error err;
  if (res.outcome == store::insert_outcome::rejected) {
    err = {errc::conflict, p.rev.id + ": conflicts with current revision " + res.current_rev};
    deliver(self, p.to, protocol::make_error_reply(0, "HTTP", 409, err.message));
  } else {
    deliver(self, p.to, empty_reply());
  }
  if (res.outcome == store::insert_outcome::conflict && st.cfg.active)
    resolve_conflict(self, p.rev.id, p.rev.rev, p.coll);
  std::string coll = "_default._default";
  if (p.index && *p.index < st.coll_names.size()) coll = st.coll_names[*p.index];
  st.events.push_back({std::move(p.rev.id), std::move(p.rev.rev), replication_direction::pull,
                       document_flags{p.rev.deleted, false}, std::move(err), std::move(coll)});
  st.seqs.finish(p.sequence);
  ++st.completed;
}

void on_committed(puller_self self, std::vector<pending_rev>& batch,
                  std::vector<store::insert_result>& results) {
  for (size_t i = 0; i < batch.size(); ++i)
    settle(self, batch[i], i < results.size() ? results[i] : store::insert_result{});
  flush_answers(self);
  self->state.inserting = false;
  if (!self->state.queue.empty()) flush_inserts(self);
  /// Once per group commit, not paced: the document events of a commit reach the parent
  /// before the peer sees the replies, so a connection closing right after cannot lose them.
  report(self, true);
  check_idle(self);
}

}  // namespace

void resolve_existing_conflicts(puller_self self) {
  auto& st = self->state;
  auto reader = st.cfg.db.core()->acquire_reader(st.cfg.coll);
  if (!reader) return;  // the pull itself reports a store that cannot be read
  auto ids = (*reader)->conflicted_documents(kMaxConflictsResolvedAtStart);
  if (!ids) return;
  for (auto& id : *ids) {
    auto leaves = (*reader)->conflicts(id);
    if (!leaves || leaves->empty()) continue;
    if (auto sides = read_conflict(**reader, id, leaves->front().rev))
      write_decided(self, *sides, st.cfg.coll, kResolveAttempts);
  }
}

void flush_inserts(puller_self self) {
  auto& st = self->state;
  if (st.queue.empty() || st.inserting) return;
  st.inserting = true;
  /// One collection per commit request: the revs of the first one's collection go now, the
  /// others stay queued for the next round (revs of one session rarely mix collections).
  auto coll = st.queue.front().coll;
  auto batch = std::make_shared<std::vector<pending_rev>>();
  std::vector<pending_rev> rest;
  for (auto& p : st.queue) (p.coll == coll ? *batch : rest).push_back(std::move(p));
  st.queue = std::move(rest);
  std::vector<store::incoming_revision> revs;
  revs.reserve(batch->size());
  /// The bodies move to the db actor; the batch keeps ids for events and replies.
  for (auto& p : *batch) {
    store::incoming_revision r{
        p.rev.id,      p.rev.rev,         std::move(p.rev.history), std::move(p.rev.body),
        p.rev.deleted, p.rev.no_conflicts};
    revs.push_back(std::move(r));
  }
  timed_request(self, st.cfg.db.core()->writer, kDbRequestTimeout, insert_atom::value,
                std::move(revs),
                /*allow_conflicts=*/st.cfg.active, st.cfg.remote, coll)
      .then([=](std::vector<store::insert_result>& res) { on_committed(self, *batch, res); },
            [=](caf::error& err) {
              auto e = to_error(err);
              for (auto& p : *batch) deliver(self, p.to, http_error_reply(e));
              flush_answers(self);
              /// A hub whose shared store is down keeps serving the connection: the peer got
              /// 503 for these revs and sends them again; the next batch may find the store
              /// back. Any other failure of our own store ends the replication.
              if (e.code == errc::unavailable && !self->state.cfg.active) {
                self->state.inserting = false;
                if (!self->state.queue.empty()) flush_inserts(self);
                check_idle(self);
                return;
              }
              fail(self, e);
            });
}

void deliver(puller_self self, reply_to& to, protocol::message reply) {
  if (to.number == 0) {
    to.rp.deliver(std::move(reply));
    return;
  }
  reply.number = to.number;
  self->state.answers.push_back(std::move(reply));
}

void flush_answers(puller_self self) {
  auto& st = self->state;
  if (st.answers.empty()) return;
  self->send(st.cfg.conn, answer_atom::value, std::move(st.answers));
  st.answers.clear();
}

void check_idle(puller_self self) {
  auto& st = self->state;
  if (st.failed) return;
  bool idle = st.queue.empty() && !st.inserting && st.resolving == 0 && st.blob_waits.empty();
  if (st.cfg.active) idle = idle && st.caught_up && st.revs_expected == 0 && !st.seqs.gap();
  auto level = idle ? activity_level::idle : activity_level::busy;
  if (level != st.activity) {
    st.activity = level;
    report(self, true);
  }
}

void fail(puller_self self, error err) {
  auto& st = self->state;
  if (st.failed) return;
  st.failed = true;
  st.err = std::move(err);
  report(self, true);
  self->quit();
}

void report(puller_self self, bool now) {
  auto w = begin_report(self, now, false);
  if (!w) return;
  auto& st = self->state;
  w->remote_checkpoint = st.seqs.checkpoint;
  caf::anon_send(st.cfg.parent, worker_status_atom::value, std::move(*w));
}

}  // namespace peerlite::actors
