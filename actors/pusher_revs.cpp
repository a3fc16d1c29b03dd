// The pusher's rev window and its reports upward.
#include <algorithm>

#include "actors/errors.hpp"
#include "actors/pusher_state.hpp"
#include "actors/tuning.hpp"
#include "actors/worker_report.hpp"
#include "protocol/rep_messages.hpp"

namespace peerlite::actors {

namespace rep = protocol::rep;

namespace {

void add_event(pusher_self self, const queued_rev& q, bool deleted, error err) {
  self->state.events.push_back(
      {q.id, q.rev, replication_direction::push, document_flags{deleted, false}, std::move(err)});
}

/// History newest first, cut after the first revision the peer said it has.
std::vector<std::string> trimmed_history(std::vector<std::string> history,
                                         const std::vector<std::string>& known) {
  if (known.empty()) return history;
  for (size_t i = 0; i < history.size(); ++i) {
    if (std::find(known.begin(), known.end(), history[i]) != known.end()) {
      history.resize(i + 1);
      break;
    }
  }
  return history;
}

void on_rev_reply(pusher_self self, const queued_rev& q, size_t bytes, bool deleted,
                  const protocol::message& reply) {
  auto& st = self->state;
  st.last_reply = std::chrono::steady_clock::now();
  --st.revs_in_flight;
  st.bytes_in_flight -= bytes;
  auto ok = rep::check_reply(reply, "rev");
  if (ok) {
    add_event(self, q, deleted, {});
    mark_done(self, q.sequence);
  } else {
    /// The sequence stays pending: the checkpoint must not pass a revision the peer lacks.
    add_event(self, q, deleted, ok.err());
    ++st.completed;
  }
  send_revs(self);
  check_idle(self);
}

/// Sends one queued revision; false when it was settled without sending.
bool send_one(pusher_self self, queued_rev& q) {
  auto& st = self->state;
  auto r = st.reader->read_revision(q.id, q.rev, kMaxRevHistory);
  if (!r) {
    /// Changed or purged since the feed was read: a later feed entry carries it.
    if (!st.cfg.propose)
      self->send(st.cfg.conn, post_atom::value,
                 rep::norev_message{q.id, q.rev, rep::sequence_from_u64(q.sequence), 404,
                                    "revision is gone", {}}
                     .encode());
    mark_done(self, q.sequence);
    return false;
  }
  if (q.check_conflict && !q.peer_rev.empty() &&
      std::find(r->history.begin(), r->history.end(), q.peer_rev) == r->history.end()) {
    add_event(self, q, r->deleted, {errc::conflict, q.id + ": the peer has a conflicting revision " + q.peer_rev});
    ++st.completed;
    return false;
  }
  rep::rev_message m;
  m.doc_id = q.id;
  m.rev_id = q.rev;
  m.sequence = rep::sequence_from_u64(q.sequence);
  m.deleted = r->deleted;
  m.history = trimmed_history(std::move(r->history), q.known_ancestors);
  m.no_conflicts = true;
  m.body = std::move(r->body);
  size_t bytes = m.body.size() + 128;
  bool deleted = r->deleted;
  if (st.revs_in_flight++ == 0) st.last_reply = std::chrono::steady_clock::now();
  st.bytes_in_flight += bytes;
  /// No per-request timer: at thousands of revs per second, one timer each would cost more
  /// than the rev (CAF's clock thread wakes per request). The pusher's watchdog bounds the
  /// wait instead (kPeerRequestTimeout without any reply fails the pusher).
  self->request(st.cfg.conn, caf::infinite, request_atom::value, std::move(m).encode())
      .then([=](protocol::message& reply) { on_rev_reply(self, q, bytes, deleted, reply); },
            [=](caf::error& err) { fail(self, to_error(err)); });
  return true;
}

}  // namespace

void send_revs(pusher_self self) {
  auto& st = self->state;
  while (!st.failed && !st.to_send.empty() && st.revs_in_flight < kMaxRevsInFlight &&
         st.bytes_in_flight < kMaxRevBytesInFlight) {
    auto q = std::move(st.to_send.front());
    st.to_send.pop_front();
    send_one(self, q);
  }
}

void watchdog(pusher_self self) {
  auto& st = self->state;
  auto now = std::chrono::steady_clock::now();
  if (st.revs_in_flight > 0 && now - st.last_reply > kPeerRequestTimeout)
    return fail(self, {errc::timeout, "the peer answered no rev for " +
                                          std::to_string(kPeerRequestTimeout.count()) + " s"});
  if (st.revs_in_flight == 0) st.last_reply = now;
  self->delayed_send(self, kPeerRequestTimeout / 4, watchdog_atom::value);
}

void report(pusher_self self, bool now) {
  auto w = begin_report(self, now, true);
  if (!w) return;
  auto& st = self->state;
  w->local_checkpoint = st.pending_seqs.empty() ? st.read_seq : *st.pending_seqs.begin() - 1;
  caf::anon_send(st.cfg.parent, worker_status_atom::value, std::move(*w));
}

}  // namespace peerlite::actors
