// The pusher's rev window and its reports upward.
#include <simdjson.h>

#include <algorithm>
#include <charconv>
#include <set>

#include "actors/database_core.hpp"
#include "actors/errors.hpp"
#include "actors/pusher_state.hpp"
#include "actors/tuning.hpp"
#include "actors/worker_report.hpp"
#include "protocol/rep_json.hpp"
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

/// The generation of a revision ID "<gen>-<suffix>" (1 when it has none).
uint64_t generation_of(std::string_view rev) {
  uint64_t gen = 0;
  auto r = std::from_chars(rev.data(), rev.data() + rev.size(), gen);
  return r.ec == std::errc() && gen > 0 ? gen : 1;
}

/// A rev on its way: what its reply settles.
struct sent_rev {
  queued_rev q;
  size_t bytes = 0;
  bool deleted = false;
};

void on_rev_reply(pusher_self self, const sent_rev& s, const protocol::message& reply) {
  auto& st = self->state;
  --st.revs_in_flight;
  st.bytes_in_flight -= s.bytes;
  auto ok = rep::check_reply(reply, "rev");
  if (ok) {
    add_event(self, s.q, s.deleted, {});
    peer_holds(self, s.q.id, s.q.rev);
    mark_done(self, s.q.sequence);
  } else if (ok.err().code == errc::unavailable) {
    /// A peer that cannot store it for now (503: its shared store is down) gets it again: the
    /// replication goes offline and retries from the checkpoint, which stopped before it. Not
    /// a failed document: it is sent again.
    if (!st.failed) fail(self, ok.err());
  } else {
    /// The sequence stays pending: the checkpoint must not pass a revision the peer lacks.
    add_event(self, s.q, s.deleted, ok.err());
    ++st.completed;
  }
}

/// Reads one queued revision and appends its `rev` to `out`; settles it instead when it
/// cannot or need not be sent.
void prepare_one(pusher_self self, store::reader& reader, queued_rev& q,
                 std::vector<protocol::message>& out, std::vector<sent_rev>& sent) {
  auto& st = self->state;
  auto r = reader.read_revision(q.id, q.rev, kMaxRevHistory);
  if (!r && r.err().code != errc::not_found) {
    /// Our own store failed (a hub's PostgreSQL down or its session lost), and the revision is
    /// not gone: a norev would let the peer's checkpoint pass a document it never got. It
    /// waits at the front of the queue for the retry, or the run ends with its sequence still
    /// pending, so the next run sends it.
    st.to_send.push_front(std::move(q));
    return fail_or_retry(self, r.err());
  }
  if (!r) {
    /// Changed or purged since the feed was read: a later feed entry carries it.
    if (!st.cfg.propose)
      self->send(st.cfg.conn, post_atom::value,
                 rep::norev_message{q.id, q.rev, rep::sequence_from_u64(q.sequence), 404,
                                    "revision is gone", st.cfg.index}
                     .encode());
    mark_done(self, q.sequence);
    return;
  }
  /// Proposed with a parent the peer holds: that parent must be an ancestor, or the peer
  /// refuses the rev (it carries noconflicts). Seen only when the peer's revision sits on a
  /// branch of ours; the puller's resolution brings a revision on top of it.
  if (st.cfg.propose && !q.known_ancestors.empty() &&
      std::find(r->history.begin(), r->history.end(), q.known_ancestors.front()) ==
          r->history.end()) {
    /// A branch we hold: resolved, and the resolution goes out instead.
    if (resolve_held(self, reader, q.sequence, q.id, q.rev, q.known_ancestors.front())) return;
    add_event(self, q, r->deleted,
              {errc::conflict, q.id + ": the peer's revision " + q.known_ancestors.front() +
                                   " is not an ancestor of " + q.rev});
    ++st.completed;
    return;
  }
  rep::rev_message m;
  m.collection = st.cfg.index;
  m.doc_id = q.id;
  m.rev_id = q.rev;
  m.sequence = rep::sequence_from_u64(q.sequence);
  m.deleted = r->deleted;
  m.history = trimmed_history(std::move(r->history), q.known_ancestors);
  /// Only a rev the peer accepted through proposeChanges may insist on extending its current
  /// revision; one answering `changes` may become a conflict branch there (PROTOCOL.md §3).
  m.no_conflicts = st.cfg.propose;
  m.body = st.peer_blobs ? std::move(r->body) : with_legacy_attachments(std::move(r->body), q.rev);
  size_t bytes = m.body.size() + 128;
  if (st.revs_in_flight++ == 0) st.last_reply = std::chrono::steady_clock::now();
  st.bytes_in_flight += bytes;
  out.push_back(std::move(m).encode());
  sent.push_back({std::move(q), bytes, r->deleted});
}

}  // namespace

std::string with_legacy_attachments(std::string body, std::string_view rev) {
  namespace detail = protocol::rep::detail;
  auto refs = store::find_blobs(body);
  /// find_blobs also lists the entries of an existing `_attachments`: those are legacy already.
  refs.erase(std::remove_if(
                 refs.begin(), refs.end(),
                 [](const store::blob_ref& r) { return r.path.rfind("_attachments/", 0) == 0; }),
             refs.end());
  if (refs.empty()) return body;
  thread_local simdjson::dom::parser parser;
  simdjson::dom::object root;
  if (parser.parse(body.data(), body.size()).get(root) != simdjson::SUCCESS) return body;
  simdjson::dom::element existing;
  bool has_atts = root["_attachments"].get(existing) == simdjson::SUCCESS;
  simdjson::dom::object atts;
  if (has_atts && existing.get(atts) != simdjson::SUCCESS) return body;
  std::set<std::string, std::less<>> taken;
  if (has_atts)
    for (auto field : atts) taken.emplace(field.key);
  auto revpos = generation_of(rev);
  std::string entries;
  for (auto& r : refs) {
    std::string key = "blob_" + r.path;
    if (!taken.insert(key).second) continue;
    if (!entries.empty()) entries.push_back(',');
    detail::append_json_string(entries, key);
    entries += ":{";
    if (!r.content_type.empty()) {
      entries += "\"content_type\":";
      detail::append_json_string(entries, r.content_type);
      entries.push_back(',');
    }
    entries += "\"digest\":";
    detail::append_json_string(entries, r.digest);
    entries += ",\"length\":";
    detail::append_u64(entries, r.length);
    entries += ",\"revpos\":";
    detail::append_u64(entries, revpos);
    entries += ",\"stub\":true}";
  }
  if (!has_atts) {
    /// The common case: splice `_attachments` in before the closing brace, leaving every other
    /// byte of the body as stored.
    auto end = body.rfind('}');
    if (end == std::string::npos) return body;
    body.resize(end);
    if (root.size() > 0) body.push_back(',');
    body += "\"_attachments\":{";
    body += entries;
    body += "}}";
    return body;
  }
  if (entries.empty()) return body;
  /// An `_attachments` object already there: the body is written again, its entries first.
  std::string out = "{";
  for (auto field : root) {
    if (field.key == "_attachments") continue;
    if (out.size() > 1) out.push_back(',');
    detail::append_json_string(out, field.key);
    out.push_back(':');
    out += simdjson::minify(field.value);
  }
  if (out.size() > 1) out.push_back(',');
  out += "\"_attachments\":{";
  bool first = true;
  for (auto field : atts) {
    if (!first) out.push_back(',');
    first = false;
    detail::append_json_string(out, field.key);
    out.push_back(':');
    out += simdjson::minify(field.value);
  }
  if (!first) out.push_back(',');
  out += entries;
  out += "}}";
  return out;
}

/// Revs go to the connection in batches of up to kRevBatchSize per actor message; each is
/// still its own BLIP request with its own reply, and the batch's replies come back together.
/// No per-request timer: at thousands of revs per second, one timer each would cost more than
/// the rev (CAF's clock thread wakes per request). The pusher's watchdog bounds the wait
/// instead (kPeerRequestTimeout without any reply fails the pusher).
/// The window is the connection's, split between its pushers (pusher_config::lanes): ten
/// collections of 6,000 unanswered revs each overran a hub's 16,384 (bench
/// push_collections_ws, 100,000 docs over 10 collections: the hub closed the connection).
bool window_open(const pusher_state& st) {
  size_t lanes = std::max<uint32_t>(1, st.cfg.lanes);
  size_t revs = std::max(kMinRevsInFlight, kMaxRevsInFlight / lanes);
  size_t bytes = kMaxRevBytesInFlight / lanes;
  return !st.failed && !st.to_send.empty() && st.revs_in_flight < revs &&
         st.bytes_in_flight < bytes;
}

void send_revs(pusher_self self) {
  auto& st = self->state;
  if (!window_open(st)) return;
  /// One borrowed reader and one snapshot for the whole batch.
  auto reader = st.cfg.db.core()->acquire_reader(st.cfg.coll);
  if (!reader) return fail_or_retry(self, reader.err());
  store::reader::snapshot snap(**reader);
  std::vector<protocol::message> msgs;
  auto sent = std::make_shared<std::vector<sent_rev>>();
  while (!st.failed && !st.retry_scheduled && window_open(st) && msgs.size() < kRevBatchSize) {
    auto q = std::move(st.to_send.front());
    st.to_send.pop_front();
    prepare_one(self, **reader, q, msgs, *sent);
  }
  if (msgs.empty() || st.failed) return;
  self->request(st.cfg.conn, caf::infinite, request_atom::value, std::move(msgs))
      .then(
          [=](std::vector<protocol::message>& replies) {
            self->state.last_reply = std::chrono::steady_clock::now();
            static const protocol::message missing =
                protocol::make_error_reply(0, "BLIP", 502, "no reply");
            for (size_t i = 0; i < sent->size(); ++i)
              on_rev_reply(self, (*sent)[i], i < replies.size() ? replies[i] : missing);
            record_held(self);
            send_revs(self);
            check_idle(self);
          },
          [=](caf::error& err) { fail(self, to_error(err)); });
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
