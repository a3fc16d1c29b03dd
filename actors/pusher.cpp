// The pusher: local changes feed -> proposeChanges / changes lists -> revs (PROTOCOL.md §3).
#include <deque>

#include "actors/database_core.hpp"
#include "actors/errors.hpp"
#include "actors/pusher_state.hpp"
#include "actors/tuning.hpp"
#include "protocol/rep_messages.hpp"

namespace peerlite::actors {

namespace rep = protocol::rep;

namespace {

bool wanted(pusher_self self, store::reader& reader, const store::change& c) {
  auto& cfg = self->state.cfg;
  if (!cfg.doc_ids.empty() && !cfg.doc_ids.count(c.id)) return false;
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
  auto reader = st.cfg.db.core()->acquire_reader();
  if (!reader) return fail(self, reader.err());
  store::reader::snapshot snap(**reader);
  // With a short document_ids list, look its documents up by id when that reads fewer rows
  // than scanning the unread part of the feed (at most last - read_seq rows).
  bool by_id = false;
  if (!st.lookup_ids.empty() && st.lookup_ids.size() <= kDocIdLookupMax) {
    auto last = (*reader)->last_sequence();
    if (!last) return fail(self, last.err());
    by_id = st.lookup_ids.size() < (*last - std::min(*last, st.read_seq)) / 2;
  }
  while (!st.failed && !st.feed_done && st.lists_in_flight < kMaxChangeListsInFlight) {
    auto cs = by_id ? (*reader)->changes_of(st.lookup_ids, st.read_seq, kChangesBatchSize)
                    : (*reader)->changes(st.read_seq, kChangesBatchSize);
    if (!cs) return fail(self, cs.err());
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

void on_propose_reply(pusher_self self, std::vector<store::change>& list,
                      protocol::message& reply) {
  auto r = rep::propose_changes_reply::decode(reply);
  if (!r) return fail(self, r.err());
  for (size_t i = 0; i < list.size(); ++i) {
    auto& c = list[i];
    rep::proposal_status e = i < r->entries.size() ? r->entries[i] : rep::proposal_status{};
    if (e.status == rep::proposal_status::send) {
      self->state.to_send.push_back({c.sequence, std::move(c.id), std::move(c.rev), {}, false, {}});
    } else if (e.status == rep::proposal_status::conflict) {
      /// 409 also means "you named the wrong parent": send anyway when the peer's current
      /// revision is one of ours (checked once the revision is read).
      self->state.to_send.push_back(
          {c.sequence, std::move(c.id), std::move(c.rev), {}, true, e.current_rev});
    } else {
      mark_done(self, c.sequence);
    }
  }
}

void on_changes_reply(pusher_self self, std::vector<store::change>& list,
                      protocol::message& reply) {
  auto r = rep::changes_reply::decode(reply);
  if (!r) return fail(self, r.err());
  for (size_t i = 0; i < list.size(); ++i) {
    auto& c = list[i];
    if (!r->wants(i)) {
      mark_done(self, c.sequence);
      continue;
    }
    self->state.to_send.push_back({c.sequence, std::move(c.id), std::move(c.rev),
                                   std::move(r->entries[i].known_ancestors), false, {}});
  }
}

protocol::message encode_list(bool propose, const std::vector<store::change>& list) {
  if (propose) {
    rep::propose_changes_request req;
    req.entries.reserve(list.size());
    for (auto& c : list) req.entries.push_back({c.id, c.rev, {}, c.body_size});
    return req.encode();
  }
  rep::changes_request req;
  req.entries.reserve(list.size());
  for (auto& c : list)
    req.entries.push_back({rep::sequence_from_u64(c.sequence), c.id, c.rev, c.deleted, c.body_size});
  return req.encode();
}

}  // namespace

void send_list(pusher_self self, std::vector<store::change> list) {
  auto& st = self->state;
  ++st.lists_in_flight;
  auto msg = encode_list(st.cfg.propose, list);
  auto shared = std::make_shared<std::vector<store::change>>(std::move(list));
  self->request(st.cfg.conn, kPeerRequestTimeout, request_atom::value, std::move(msg))
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

void fail(pusher_self self, error err) {
  auto& st = self->state;
  if (st.failed) return;
  st.failed = true;
  st.err = std::move(err);
  report(self, true);
  self->quit();
}

void check_idle(pusher_self self) {
  auto& st = self->state;
  if (st.failed) return;
  bool idle = st.feed_done && st.lists_in_flight == 0 && st.to_send.empty() &&
              st.revs_in_flight == 0;
  if (idle && !st.cfg.propose && !st.sent_caught_up) {
    /// An empty `changes` tells the puller the initial scan is over (no reply expected).
    st.sent_caught_up = true;
    self->send(st.cfg.conn, post_atom::value, rep::changes_request{}.encode());
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
        if (!st.started || last <= st.read_seq) return;
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
        return st.activity == activity_level::idle;
      },
  };
}

pusher_actor spawn_pusher(caf::actor_system& sys, pusher_config cfg) {
  return sys.spawn(pusher_impl, std::move(cfg));
}

}  // namespace peerlite::actors
