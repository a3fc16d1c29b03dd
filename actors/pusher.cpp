// The pusher: local changes feed -> proposeChanges / changes lists -> revs (PROTOCOL.md §3).
#include <algorithm>
#include <deque>
#include <limits>
#include <optional>

#include "actors/conflicts.hpp"
#include "actors/database_core.hpp"
#include "actors/errors.hpp"
#include "actors/pusher_state.hpp"
#include "actors/replicator_actor.hpp"
#include "actors/tuning.hpp"
#include "protocol/rep_messages.hpp"

namespace peerlite::actors {

namespace rep = protocol::rep;

namespace {

bool wanted(pusher_self self, store::reader& reader, const store::change& c) {
  auto& cfg = self->state.cfg;
  if (!cfg.doc_ids.empty() && !cfg.doc_ids.count(c.id)) return false;
  /// The peer already holds this document's current revision (it sent it to us, or took it
  /// from us): nothing to offer (capture update-push: u4 is not proposed).
  if (!c.remote_rev.empty() && c.remote_rev == c.rev) {
    /// A conflict refused earlier in this run, resolved by keeping the peer's revision.
    if (!self->state.awaiting.empty()) settle_awaiting(self, c.id);
    return false;
  }
  /// activeOnly (a first pull into an empty database) leaves out the tombstones of the initial
  /// scan only: those the feed held when this subscription first read it, so the peer never saw
  /// those documents live from us. A deletion committed later may be of a document sent live in
  /// this very subscription (the scan read its live row first), so it goes out. Skipping
  /// deletions for the life of the subscription, or until caught up, lost them for good: the
  /// peer's checkpoint moves past their sequences (soak test, issue 13).
  if (cfg.active_only && c.deleted && self->state.active_only_through &&
      c.sequence <= *self->state.active_only_through)
    return false;
  /// An active pusher leaves a document with open conflicts alone: the peer's revision just
  /// arrived on a branch, and the puller's resolution (a new feed entry) is what goes out.
  if (cfg.remote && c.conflicted) return false;
  if (cfg.pushed && cfg.pushed->take(cfg.coll, c.id, c.rev)) return false;
  auto& skip = self->state.skip;
  if (auto it = skip.find(c.id); it != skip.end()) {
    bool same = it->second == c.rev;
    skip.erase(it);
    if (same) return false;
  }
  if (!cfg.filter) return true;
  auto doc = reader.get(c.id);
  if (!doc) return false;
  document d{doc->id, doc->rev, std::move(doc->body), doc->deleted, doc->sequence};
  return cfg.filter(d, document_flags{c.deleted, false});
}

/// Reads feed batches while the window of lists in flight allows, with one borrowed reader
/// under one snapshot.
void read_feed(pusher_self self) {
  auto& st = self->state;
  auto reader = st.cfg.db.core()->acquire_reader(st.cfg.coll);
  if (!reader) return fail_or_retry(self, reader.err());
  store::reader::snapshot snap(**reader);
  // With a short document_ids list, look its documents up by id when that reads fewer rows
  // than scanning the unread part of the feed (at most last - read_seq rows).
  bool by_id = false;
  if (!st.lookup_ids.empty() && st.lookup_ids.size() <= kDocIdLookupMax) {
    auto last = (*reader)->last_sequence();
    if (!last) return fail_or_retry(self, last.err());
    by_id = st.lookup_ids.size() < (*last - std::min(*last, st.read_seq)) / 2;
  }
  if (st.cfg.active_only && !st.active_only_through) {
    auto last = (*reader)->last_sequence();
    if (!last) return fail_or_retry(self, last.err());
    st.active_only_through = *last;
  }
  while (!st.failed && !st.feed_done && st.lists_in_flight < kMaxChangeListsInFlight) {
    auto cs =
        by_id ? (*reader)->changes_of(st.lookup_ids, st.read_seq, kChangesBatchSize, st.cfg.remote)
              : (*reader)->changes(st.read_seq, kChangesBatchSize, st.cfg.remote);
    if (!cs) return fail_or_retry(self, cs.err());
    if (cs->empty()) {
      st.feed_done = true;
      break;
    }
    st.read_seq = cs->back().sequence;
    /// A short batch is the end of the feed in this snapshot: asking again would only find
    /// nothing (a hub's pusher did 3 reads per peer where 1 does). Later commits arrive as
    /// db_changed with a sequence above read_seq and reopen the feed.
    if (cs->size() < kChangesBatchSize) st.feed_done = true;
    std::vector<store::change> list;
    for (auto& c : *cs)
      if (wanted(self, **reader, c)) list.push_back(std::move(c));
    if (list.empty()) continue;
    for (auto& c : list) st.pending_seqs.insert(c.sequence);
    st.total += list.size();
    send_list(self, std::move(list));
  }
}

void fill(pusher_self self) {
  auto& st = self->state;
  if (!st.failed && !st.feed_done && st.lists_in_flight < kMaxChangeListsInFlight) read_feed(self);
  send_revs(self);
  check_idle(self);
}

/// proposeChanges said 409 with the peer's current revision `peer_rev` ("" when it gave none).
/// Never answered with a rev (the peer would refuse it). Instead, from our current revision:
///  - it is the peer's: nothing to do;
///  - the peer's revision is one of its ancestors: propose it again with that parent, once
///    (capture retry-push);
///  - else, beside a puller, wait for the puller to bring the peer's revision and resolve the
///    conflict on top of it (the resolution is pushed in this run); push-only, the document
///    fails with 409 and the checkpoint moves past it, as Couchbase Lite does (conflict-push).
void on_conflict(pusher_self self, store::reader& reader, store::change& c,
                 const std::string& peer_rev, std::vector<store::change>& retry) {
  auto& st = self->state;
  std::optional<store::revision_to_send> cur;
  if (auto doc = reader.get(c.id))
    if (auto r = reader.read_revision(c.id, doc->rev, kMaxRevHistory)) cur = std::move(*r);
  if (cur && !peer_rev.empty()) {
    if (cur->rev == peer_rev) {
      peer_holds(self, c.id, peer_rev);
      return mark_done(self, c.sequence);
    }
    bool ancestor =
        std::find(cur->history.begin(), cur->history.end(), peer_rev) != cur->history.end();
    if (ancestor && st.retried.insert(c.id).second) {
      c.rev = cur->rev;
      c.remote_rev = peer_rev;
      c.body_size = cur->body.size();
      retry.push_back(std::move(c));
      return;
    }
  }
  if (st.cfg.with_puller && !st.retried.count(c.id)) {
    /// A revision we hold already is not pulled again: resolved here instead.
    if (resolve_held(self, reader, c.sequence, c.id, c.rev, peer_rev)) return;
    st.awaiting[c.id] = awaiting_doc{c.sequence, c.rev, peer_rev};
    return;
  }
  st.events.push_back({c.id, c.rev, replication_direction::push, document_flags{c.deleted, false},
                       error{errc::conflict, c.id + ": conflicts with the peer's revision " +
                                                 (peer_rev.empty() ? "(unknown)" : peer_rev)}});
  mark_done(self, c.sequence);
}

void on_propose_reply(pusher_self self, std::vector<store::change>& list,
                      protocol::message& reply) {
  auto r = rep::propose_changes_reply::decode(reply);
  if (!r) return fail(self, r.err());
  auto& st = self->state;
  st.peer_blobs = r->blobs;
  std::vector<store::change> retry;
  std::optional<reader_lease> reader;
  for (size_t i = 0; i < list.size(); ++i) {
    auto& c = list[i];
    rep::proposal_status e = i < r->entries.size() ? r->entries[i] : rep::proposal_status{};
    if (e.status == rep::proposal_status::send) {
      std::vector<std::string> known;
      if (!c.remote_rev.empty()) known.push_back(std::move(c.remote_rev));
      st.to_send.push_back({c.sequence, std::move(c.id), std::move(c.rev), std::move(known)});
    } else if (e.status == rep::proposal_status::conflict) {
      if (!reader) {
        auto lease = st.cfg.db.core()->acquire_reader(st.cfg.coll);
        if (!lease) return fail(self, lease.err());
        reader.emplace(std::move(*lease));
      }
      on_conflict(self, **reader, c, e.current_rev, retry);
    } else {
      /// 304: the peer's current revision is this one.
      peer_holds(self, c.id, c.rev);
      mark_done(self, c.sequence);
    }
  }
  record_held(self);
  if (!retry.empty()) send_list(self, std::move(retry));
}

void on_changes_reply(pusher_self self, std::vector<store::change>& list,
                      protocol::message& reply) {
  auto r = rep::changes_reply::decode(reply);
  if (!r) return fail(self, r.err());
  self->state.peer_blobs = r->blobs;
  for (size_t i = 0; i < list.size(); ++i) {
    auto& c = list[i];
    if (!r->wants(i)) {
      mark_done(self, c.sequence);
      continue;
    }
    self->state.to_send.push_back(
        {c.sequence, std::move(c.id), std::move(c.rev), std::move(r->entries[i].known_ancestors)});
  }
}

protocol::message encode_list(bool propose, const std::vector<store::change>& list,
                              std::optional<uint32_t> index) {
  if (propose) {
    rep::propose_changes_request req;
    req.collection = index;
    req.entries.reserve(list.size());
    /// The parent is the newest revision the peer is known to hold; "" for a document it has
    /// never had (capture update-push: ["n1","1-204d…","",16]).
    for (auto& c : list) req.entries.push_back({c.id, c.rev, c.remote_rev, c.body_size});
    return req.encode();
  }
  rep::changes_request req;
  req.collection = index;
  req.entries.reserve(list.size());
  for (auto& c : list)
    req.entries.push_back(
        {rep::sequence_from_u64(c.sequence), c.id, c.rev, c.deleted, c.body_size});
  return req.encode();
}

}  // namespace

void send_list(pusher_self self, std::vector<store::change> list) {
  auto& st = self->state;
  ++st.lists_in_flight;
  auto msg = encode_list(st.cfg.propose, list, st.cfg.index);
  auto shared = std::make_shared<std::vector<store::change>>(std::move(list));
  timed_request(self, st.cfg.conn, kPeerRequestTimeout, request_atom::value, std::move(msg))
      .then(
          [=](protocol::message& reply) {
            --self->state.lists_in_flight;
            if (self->state.cfg.propose)
              on_propose_reply(self, *shared, reply);
            else
              on_changes_reply(self, *shared, reply);
            fill(self);
          },
          [=](caf::error& err) { fail(self, to_error(err)); });
}

void mark_done(pusher_self self, uint64_t seq) {
  auto& st = self->state;
  st.pending_seqs.erase(seq);
  ++st.completed;
  report(self, false);
}

void peer_holds(pusher_self self, const std::string& id, const std::string& rev) {
  auto& st = self->state;
  if (st.cfg.remote) {
    st.held.push_back(id);
    st.held.push_back(rev);
  }
  settle_awaiting(self, id);
}

void settle_awaiting(pusher_self self, const std::string& id) {
  /// A document refused with 409 earlier in this run is settled once the peer holds our
  /// current revision of it: the conflict was resolved (and the result pushed, if any).
  auto& st = self->state;
  if (auto it = st.awaiting.find(id); it != st.awaiting.end()) {
    auto seq = it->second.sequence;
    st.awaiting.erase(it);
    mark_done(self, seq);
  }
}

void record_held(pusher_self self) {
  auto& st = self->state;
  if (st.held.empty()) return;
  self->send(st.cfg.db.core()->writer, remote_atom::value, st.cfg.remote, std::move(st.held),
             st.cfg.coll);
  st.held.clear();
}

/// The run is over for documents still waiting after a 409: nothing more can come for them
/// (every worker is idle). Each fails with 409; its sequence stays pending, so the next run
/// offers it again, with the parent the pull recorded.
void give_up_awaiting(pusher_self self) {
  auto& st = self->state;
  for (auto& [id, w] : st.awaiting) {
    st.events.push_back(
        {id, w.rev, replication_direction::push, document_flags{},
         error{errc::conflict, id + ": conflicts with the peer's revision " +
                                   (w.peer_rev.empty() ? "(unknown)" : w.peer_rev)}});
    ++st.completed;
  }
  st.awaiting.clear();
  report(self, true);
}

void fail(pusher_self self, error err) {
  auto& st = self->state;
  if (st.failed) return;
  st.failed = true;
  st.err = std::move(err);
  report(self, true);
  self->quit();
}

void fail_or_retry(pusher_self self, error err) {
  auto& st = self->state;
  if (st.cfg.propose || err.code != errc::unavailable) return fail(self, std::move(err));
  if (st.retry_scheduled) return;
  st.retry_scheduled = true;
  /// Read as if the store had just committed: the feed reopens and the revs waiting in
  /// to_send go out (fill).
  self->delayed_send(self, kStoreRetryDelay, db_changed_atom::value,
                     store::collection_id{st.cfg.coll}, std::numeric_limits<uint64_t>::max());
}

bool resolve_held(pusher_self self, store::reader& reader, uint64_t seq, const std::string& id,
                  const std::string& rev, const std::string& peer_rev) {
  /// How it happens: a pulled revision landed on a branch and the process ended before the
  /// puller's resolution committed (or the branch's flags were left so that our tombstone
  /// won over the peer's: soak seed 4212825462674726375, s17 stuck for 120 s with both
  /// tombstones held). The puller will not pull a revision it holds, so waiting for it is
  /// waiting forever, and each run failed the document again.
  auto& st = self->state;
  if (!st.cfg.with_puller || peer_rev.empty() || !st.resolved.insert(id).second) return false;
  auto sides = read_conflict(reader, id, peer_rev);
  if (!sides) return false;
  st.awaiting[id] = awaiting_doc{seq, rev, peer_rev};
  ++st.resolving;
  write_resolution(self, st.cfg.db, st.cfg.coll, *sides, decide(st.cfg.resolver, *sides),
                   [=](const error& err) {
                     auto& s = self->state;
                     --s.resolving;
                     /// errc::conflict: resolved meanwhile (by the puller, whose feed entry
                     /// settles the document as this one's would have).
                     if (err.code != errc::ok && err.code != errc::conflict)
                       s.events.push_back({id, rev, replication_direction::push, {}, err});
                     /// The resolution is a new feed entry: read it (a one-shot pusher has
                     /// no subscription to wake it).
                     s.feed_done = false;
                     fill(self);
                   });
  return true;
}

void check_idle(pusher_self self) {
  auto& st = self->state;
  if (st.failed) return;
  bool idle = st.feed_done && st.lists_in_flight == 0 && st.to_send.empty() &&
              st.revs_in_flight == 0 && st.resolving == 0;
  if (idle && !st.cfg.propose && !st.sent_caught_up) {
    /// An empty `changes` tells the puller the initial scan is over (no reply expected).
    st.sent_caught_up = true;
    rep::changes_request caught_up;
    caught_up.collection = st.cfg.index;
    self->send(st.cfg.conn, post_atom::value, caught_up.encode());
  }
  auto level = idle ? activity_level::idle : activity_level::busy;
  if (level != st.activity) {
    st.activity = level;
    report(self, true);
  }
}

pusher_actor::behavior_type pusher_impl(pusher_self self, pusher_config cfg) {
  self->state.cfg = std::move(cfg);
  self->state.read_seq = self->state.cfg.since;
  self->state.lookup_ids.assign(self->state.cfg.doc_ids.begin(), self->state.cfg.doc_ids.end());
  return {
      [=](start_atom) {
        auto& st = self->state;
        st.started = true;
        if (st.cfg.continuous)
          self->send(st.cfg.db.core()->writer, subscribe_atom::value,
                     caf::actor_cast<caf::actor>(self));
        report(self, true);
        watchdog(self);
        fill(self);
        /// Active push-and-pull: the puller starts once our first feed read is done and its
        /// proposeChanges is out. Couchbase Lite sends subChanges first, but its pusher reads
        /// its feed long before the peer's revs can arrive; ours, started beside the puller,
        /// could lose that race on a busy machine: the pulled revs resolved the conflicts
        /// first and the run proposed less than Couchbase Lite (conformance active/
        /// conflict_bidi, once on a loaded machine; every time with the pusher's start
        /// delayed by 100 ms).
        if (st.cfg.with_puller)
          self->send(caf::actor_cast<replicator_actor>(st.cfg.parent), start_atom::value,
                     uint64_t{st.cfg.lane});
      },
      [=](watchdog_atom) { watchdog(self); },
      [=](skip_atom, const std::vector<std::string>& revs) {
        auto& skip = self->state.skip;
        /// An entry the feed already passed is never erased: bound the map (a forgotten
        /// entry only costs one 304 answer).
        if (skip.size() > kMaxSkippedRevs) skip.clear();
        for (size_t i = 0; i + 1 < revs.size(); i += 2) skip[revs[i]] = revs[i + 1];
      },
      [=](db_changed_atom, uint64_t last) {
        auto& st = self->state;
        if (!st.started || st.cfg.coll != 0 || last <= st.read_seq) return;
        st.feed_done = false;
        fill(self);
      },
      [=](db_changed_atom, store::collection_id coll, uint64_t last) {
        auto& st = self->state;
        if (last == std::numeric_limits<uint64_t>::max()) st.retry_scheduled = false;
        if (!st.started || coll != st.cfg.coll || last <= st.read_seq) return;
        st.feed_done = false;
        fill(self);
      },
      [=](tick_atom) {
        self->state.report_scheduled = false;
        report(self, false);
      },
      [=](caught_up_atom) -> bool {
        auto& st = self->state;
        if (!st.started || st.failed) return true;
        st.feed_done = false;
        fill(self);
        bool idle = st.activity == activity_level::idle;
        /// Asked when every worker is idle: a conflict the puller could resolve has been
        /// resolved and read from the feed by now, so what still waits cannot be pushed.
        if (idle && !st.awaiting.empty() && !st.cfg.continuous) give_up_awaiting(self);
        /// The replicator saves its checkpoint and closes on this answer: give it the final
        /// progress first (settling a conflict here finished sequences whose paced report
        /// would come too late; conformance active/conflict_bidi saved local 3 or 4 at random).
        if (idle) report(self, true);
        return idle;
      },
  };
}

pusher_actor spawn_pusher(caf::actor_system& sys, pusher_config cfg) {
  return sys.spawn(pusher_impl, std::move(cfg));
}

}  // namespace peerlite::actors
