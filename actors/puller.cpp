// The puller: answers the peer's change lists and receives its revisions (PROTOCOL.md §3).
#include "actors/errors.hpp"
#include "actors/puller_state.hpp"
#include "actors/tuning.hpp"
#include "protocol/rep_messages.hpp"

namespace peerlite::actors {

namespace rep = protocol::rep;

void remote_sequences::add(uint64_t list, std::string seq, bool done) {
  key k{list, next_position++};
  if (!done) index.emplace(seq, k);
  entries.emplace(k, std::make_pair(std::move(seq), done));
}

void remote_sequences::finish(const std::string& seq) {
  if (!seq.empty()) {
    auto it = index.find(seq);
    if (it == index.end()) return;
    if (auto e = entries.find(it->second); e != entries.end()) e->second.second = true;
    index.erase(it);
  }
  while (!entries.empty() && entries.begin()->second.second &&
         entries.begin()->first.first <= contiguous) {
    checkpoint = std::move(entries.begin()->second.first);
    entries.erase(entries.begin());
  }
}

bool remote_sequences::seen(uint64_t number) {
  if (number <= contiguous) return false;
  ahead.insert(number);
  bool moved = false;
  while (!ahead.empty() && *ahead.begin() == contiguous + 1) {
    ahead.erase(ahead.begin());
    ++contiguous;
    moved = true;
  }
  return moved;
}

protocol::message empty_reply() {
  protocol::message m;
  m.type = protocol::message_type::reply;
  return m;
}

protocol::message http_error_reply(const error& e) {
  return protocol::make_error_reply(0, "HTTP", http_status_for(e), peer_error_text(e));
}

expected<collection_ref> collection_of(puller_self self, const std::optional<uint32_t>& index) {
  auto& st = self->state;
  if (!st.aware) {
    if (index && *index != 0)
      return error{errc::not_found,
                   "collection " + std::to_string(*index) + ": this session has no getCollections"};
    return collection_ref{st.cfg.coll, std::nullopt};
  }
  if (!index) return error{errc::invalid_argument, "missing collection property"};
  if (*index >= st.colls.size() || st.colls[*index] < 0)
    return error{errc::not_found, "collection " + std::to_string(*index) + " is not served"};
  return collection_ref{st.colls[*index], index};
}

namespace {

protocol::message collection_error(const error& e) {
  return protocol::make_error_reply(0, "BLIP", e.code == errc::not_found ? 404 : 400, e.message);
}

protocol::message bad_request(const error& e) {
  return protocol::make_error_reply(0, "BLIP", 400, e.message);
}

protocol::message handle_changes(puller_self self, const protocol::message& msg) {
  auto& st = self->state;
  auto req = rep::changes_request::decode(msg);
  if (!req) return bad_request(req.err());
  auto where = collection_of(self, req->collection);
  if (!where) return collection_error(where.err());
  if (req->entries.empty()) {
    st.caught_up = true;
    check_idle(self);
    return empty_reply();
  }
  std::vector<store::rev_ref> refs;
  refs.reserve(req->entries.size());
  for (auto& c : req->entries) refs.push_back({c.doc_id, c.rev_id});
  auto reader = st.cfg.db.core()->acquire_reader(where->coll);
  if (!reader)
    return http_error_reply(reader.err());
  auto diffs = (*reader)->revs_diff(refs, kMaxKnownAncestors);
  if (!diffs)
    return http_error_reply(diffs.err());
  rep::changes_reply reply;
  reply.max_history = kMaxRevHistory;
  reply.entries.resize(req->entries.size());
  std::vector<std::string> held;  ///< [id, rev, ...] the peer holds and so do we
  for (size_t i = 0; i < req->entries.size(); ++i) {
    auto& c = req->entries[i];
    bool want = (*diffs)[i].missing && (st.cfg.doc_ids.empty() || st.cfg.doc_ids.count(c.doc_id));
    if (st.cfg.remote && !(*diffs)[i].missing) {
      held.push_back(c.doc_id);
      held.push_back(c.rev_id);
    }
    if (want) {
      reply.entries[i] = {true, std::move((*diffs)[i].known_ancestors)};
      ++st.revs_expected;
      ++st.total;
    }
    st.seqs.add(msg.number, std::move(c.sequence), !want);
  }
  /// Once the whole list is in: entries it did not want may move the checkpoint.
  st.seqs.finish({});
  if (!held.empty())
    self->send(st.cfg.db.core()->writer, remote_atom::value, st.cfg.remote, std::move(held),
               where->coll);
  if (st.activity != activity_level::busy) check_idle(self);
  return reply.encode(0);
}

protocol::message handle_propose(puller_self self, const protocol::message& msg) {
  auto req = rep::propose_changes_request::decode(msg);
  if (!req) return bad_request(req.err());
  auto where = collection_of(self, req->collection);
  if (!where) return collection_error(where.err());
  std::vector<store::proposed_change> props;
  props.reserve(req->entries.size());
  for (auto& e : req->entries) props.push_back({e.doc_id, e.rev_id, e.server_rev_id});
  auto reader = self->state.cfg.db.core()->acquire_reader(where->coll);
  if (!reader)
    return http_error_reply(reader.err());
  auto answers = (*reader)->propose(props);
  if (!answers)
    return http_error_reply(answers.err());
  rep::propose_changes_reply reply;
  reply.max_history = kMaxRevHistory;
  for (auto& a : *answers) {
    if (a.status == rep::proposal_status::send) ++self->state.total;
    reply.entries.push_back({a.status, std::move(a.current_rev)});
  }
  return reply.encode(0);
}

bool accepted_by_filter(puller_self self, const rep::rev_message& m) {
  auto& f = self->state.cfg.filter;
  if (!f) return true;
  document d{m.doc_id, m.rev_id, m.body, m.deleted, 0};
  return f(d, document_flags{m.deleted, false});
}

/// Queues a rev for the group commit; its reply goes to `to` after the commit (or at once
/// when it is refused or filtered out).
void handle_rev(puller_self self, protocol::message& msg, reply_to to) {
  auto& st = self->state;
  auto m = rep::rev_message::decode(std::move(msg));
  if (!m) return deliver(self, to, bad_request(m.err()));
  auto where = collection_of(self, m->collection);
  if (!where) return deliver(self, to, collection_error(where.err()));
  if (st.revs_expected > 0) --st.revs_expected;
  if (!accepted_by_filter(self, *m)) {
    st.seqs.finish(m->sequence);
    ++st.completed;
    check_idle(self);
    return deliver(self, to, empty_reply());
  }
  store::incoming_revision rev{std::move(m->doc_id), std::move(m->rev_id), std::move(m->history),
                               std::move(m->body),   m->deleted,           m->no_conflicts};
  /// rev_message::decode has already found the body to be a JSON object.
  if (auto ok = store::database::validate(rev, /*body_checked=*/true); !ok)
    return deliver(self, to, bad_request(ok.err()));
  if (st.cfg.pushed) st.cfg.pushed->add(where->coll, rev.id, rev.rev);
  pending_rev p{std::move(rev), std::move(to), std::move(m->sequence), where->coll, where->index};
  if (!await_blobs(self, p)) st.queue.push_back(std::move(p));
}

protocol::message handle_norev(puller_self self, const protocol::message& msg) {
  auto& st = self->state;
  auto m = rep::norev_message::decode(msg);
  if (!m) return bad_request(m.err());
  if (st.revs_expected > 0) --st.revs_expected;
  st.seqs.finish(m->sequence);
  ++st.completed;
  st.events.push_back(
      {m->doc_id,
       m->rev_id,
       replication_direction::pull,
       {},
       error{errc::not_found, m->doc_id + ": the peer could not send it: " + m->reason}});
  check_idle(self);
  return empty_reply();
}

void send_sub_changes(puller_self self) {
  auto& cfg = self->state.cfg;
  rep::sub_changes_request req;
  req.collection = cfg.index;
  req.since = cfg.since;
  /// A first pull into a database that has never held a document asks for live documents
  /// only: it has nothing a tombstone could delete (the next pull, from the checkpoint, brings
  /// the tombstones; capture active-only-pull).
  if (cfg.since.empty()) {
    if (auto reader = cfg.db.core()->acquire_reader(cfg.coll)) {
      auto last = (*reader)->last_sequence();
      req.active_only = last && *last == 0;
    }
  }
  req.continuous = cfg.continuous;
  req.batch = kChangesBatchSize;
  req.doc_ids.assign(cfg.doc_ids.begin(), cfg.doc_ids.end());
  timed_request(self, cfg.conn, kPeerRequestTimeout, request_atom::value, req.encode())
      .then(
          [=](protocol::message& reply) {
            if (auto ok = rep::check_reply(reply, "subChanges"); !ok) fail(self, ok.err());
          },
          [=](caf::error& err) { fail(self, to_error(err)); });
}

/// Any request the puller serves; the reply goes to `to`.
void dispatch_one(puller_self self, protocol::message& msg, reply_to to) {
  if (self->state.failed)
    return deliver(self, to, protocol::make_error_reply(0, "HTTP", 503, "stopping"));
  auto p = msg.profile();
  if (p == rep::profile::rev) return handle_rev(self, msg, std::move(to));
  if (p == rep::profile::changes) return deliver(self, to, handle_changes(self, msg));
  if (p == rep::profile::propose_changes) return deliver(self, to, handle_propose(self, msg));
  if (p == rep::profile::norev) return deliver(self, to, handle_norev(self, msg));
  deliver(self, to, protocol::make_error_reply(0, "BLIP", 404, "no handler for " + std::string(p)));
}

void handle_one(puller_self self, protocol::message& msg, reply_to to) {
  /// An active puller sees every request its peer sends (the replicator hands it all of them).
  bool closed_gap = self->state.cfg.active && self->state.seqs.seen(msg.number);
  dispatch_one(self, msg, std::move(to));
  if (closed_gap) {
    self->state.seqs.finish({});
    check_idle(self);
  }
}

/// Requests the connection routed to us: answers that need no commit go back in one message;
/// the revs go to the db actor together.
void handle_routed(puller_self self, std::vector<protocol::message>& msgs) {
  for (auto& msg : msgs) handle_one(self, msg, reply_to{{}, msg.number});
  flush_answers(self);
  if (!self->state.inserting) flush_inserts(self);
}

puller_actor::behavior_type puller_impl(puller_self self, puller_config cfg) {
  self->state.cfg = std::move(cfg);
  self->state.seqs.checkpoint = self->state.cfg.since;
  /// A passive puller sees only the requests the passive replicator routes to it: no gaps.
  if (!self->state.cfg.active) self->state.seqs.contiguous = UINT64_MAX;
  if (auto i = self->state.cfg.index) {
    self->state.aware = true;
    self->state.colls.assign(*i + 1, -1);
    self->state.colls[*i] = self->state.cfg.coll;
  }
  self->state.activity = self->state.cfg.active ? activity_level::busy : activity_level::idle;
  if (self->state.cfg.direct)
    self->send(self->state.cfg.conn, route_atom::value, caf::actor_cast<routed_worker>(self),
               std::vector<std::string>{
                   std::string(rep::profile::rev), std::string(rep::profile::norev),
                   std::string(rep::profile::changes), std::string(rep::profile::propose_changes)});
  return {
      [=](incoming_atom, protocol::message& msg) -> caf::result<protocol::message> {
        auto rp = self->make_response_promise<protocol::message>();
        handle_one(self, msg, reply_to{rp, 0});
        if (!self->state.inserting) flush_inserts(self);
        return rp;
      },
      [=](incoming_atom, std::vector<protocol::message>& msgs) { handle_routed(self, msgs); },
      [=](seen_atom, uint64_t number) {
        if (self->state.cfg.active && self->state.seqs.seen(number)) {
          self->state.seqs.finish({});
          check_idle(self);
        }
      },
      [=](colls_atom, std::vector<store::collection_id>& ids, std::vector<std::string>& names) {
        self->state.aware = true;
        self->state.colls = std::move(ids);
        self->state.coll_names = std::move(names);
      },
      [=](start_atom) {
        report(self, true);
        if (self->state.cfg.active && !self->state.failed) {
          resolve_existing_conflicts(self);
          send_sub_changes(self);
        }
      },
      [=](tick_atom) {
        self->state.report_scheduled = false;
        report(self, false);
      },
  };
}

}  // namespace

puller_actor spawn_puller(caf::actor_system& sys, puller_config cfg) {
  return sys.spawn(puller_impl, std::move(cfg));
}

}  // namespace peerlite::actors
