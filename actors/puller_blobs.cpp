// The puller's blob fetches: a received rev whose body references blobs we do not hold waits
// here while getAttachment brings each one (verified, then stored through the db actor), and
// joins the group commit only when all of them are durable (PROTOCOL.md §3: the rev's reply
// is sent after the revision AND its blobs are committed). A blob several revs reference is
// fetched once; a failed fetch fails only the revs that need it. At most kMaxBlobFetches
// fetches run at once; the others wait in FIFO order (start_fetches).
#include <algorithm>
#include <cctype>

#include "actors/errors.hpp"
#include "actors/puller_state.hpp"
#include "actors/tuning.hpp"
#include "protocol/rep_messages.hpp"

namespace peerlite::actors {

namespace rep = protocol::rep;

namespace {

/// Whether deflating a blob of this type is worth asking for: not for media and archives,
/// which are compressed already (Couchbase Lite asks for text/plain, not for image/png).
bool looks_compressible(std::string type) {
  if (type.empty()) return false;  // unknown content: as Couchbase Lite, do not ask
  std::transform(type.begin(), type.end(), type.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  for (std::string_view media : {"image/", "audio/", "video/"})
    if (type.rfind(media, 0) == 0) return false;
  for (std::string_view packed : {"zip", "compress", "mpeg", "rar", "7z", "bzip", "xz"})
    if (type.find(packed) != std::string::npos) return false;
  return true;
}

/// A rev whose blobs are all in (or one failed): commit it, or answer it with the failure.
void release(puller_self self, uint64_t id) {
  auto& st = self->state;
  auto it = st.blob_waits.find(id);
  if (it == st.blob_waits.end()) return;
  blob_wait w = std::move(it->second);
  st.blob_waits.erase(it);
  if (w.err.code == errc::ok) {
    st.queue.push_back(std::move(w.rev));
    flush_inserts(self);
    return;
  }
  /// The document fails alone: its rev gets an error reply (the peer reports it), the
  /// connection and the other revs go on, and nothing of it is stored.
  deliver(self, w.rev.to, protocol::make_error_reply(0, "HTTP", 502, w.err.message));
  flush_answers(self);
  st.events.push_back({std::move(w.rev.rev.id), std::move(w.rev.rev.rev),
                       replication_direction::pull, document_flags{w.rev.rev.deleted, false},
                       std::move(w.err)});
  /// Its sequence stays unfinished: the remote checkpoint stops before it, so the next run
  /// asks for the document again (a timeout or a 503 is usually transient).
  ++st.completed;
  report(self, false);
  check_idle(self);
}

void start_fetches(puller_self self);

/// The fetch of `digest` ended (err.code == ok: the blob is stored). Called exactly once per
/// started fetch: it frees its place in the window for the next queued one.
void fetched(puller_self self, const std::string& digest, const error& err) {
  auto& st = self->state;
  if (st.fetches_running > 0) --st.fetches_running;
  auto it = st.fetching.find(digest);
  if (it != st.fetching.end()) {
    auto waiters = std::move(it->second);
    st.fetching.erase(it);
    for (uint64_t id : waiters) {
      auto w = st.blob_waits.find(id);
      if (w == st.blob_waits.end()) continue;
      if (err.code != errc::ok && w->second.err.code == errc::ok) w->second.err = err;
      if (--w->second.missing == 0) release(self, id);
    }
  }
  start_fetches(self);
}

/// Checks a getAttachment reply against the rev's blob dict and stores it.
void on_blob_reply(puller_self self, const store::blob_ref& ref, const std::string& doc_id,
                   protocol::message& reply) {
  auto what = "getAttachment " + ref.digest + " for \"" + doc_id + "\"";
  if (auto ok = rep::check_reply(reply, "getAttachment"); !ok)
    return fetched(self, ref.digest, error{ok.err().code, what + ": " + ok.err().message});
  if (reply.body.size() != ref.length)
    return fetched(
        self, ref.digest,
        error{errc::protocol_error, what + ": the peer sent " + std::to_string(reply.body.size()) +
                                        " bytes, the document says " + std::to_string(ref.length)});
  auto digest = store::blob_digest(reply.body);
  if (digest != ref.digest)
    return fetched(
        self, ref.digest,
        error{errc::protocol_error, what + ": the bytes the peer sent have digest " + digest});
  auto& st = self->state;
  timed_request(self, st.cfg.db.core()->writer, kDbRequestTimeout, blob_atom::value, ref.digest,
                std::move(reply.body), ref.content_type)
      .then([=](const std::string&) { fetched(self, ref.digest, {}); },
            [=](caf::error& err) {
              auto e = to_error(err);
              fetched(self, ref.digest, error{e.code, what + ": " + e.message});
            });
}

void fetch(puller_self self, const store::blob_ref& ref, const std::string& doc_id,
           std::optional<uint32_t> index) {
  auto& st = self->state;
  ++st.fetches_running;
  rep::get_attachment_request req{ref.digest, doc_id, looks_compressible(ref.content_type), index};
  timed_request(self, st.cfg.conn, kPeerRequestTimeout, request_atom::value, req.encode())
      .then([=](protocol::message& reply) { on_blob_reply(self, ref, doc_id, reply); },
            [=](caf::error& err) {
              auto e = to_error(err);
              fetched(self, ref.digest,
                      error{e.code, "getAttachment " + ref.digest + " for \"" + doc_id +
                                        "\": " + e.message});
            });
}

/// Starts queued fetches, oldest first, while the window has room.
void start_fetches(puller_self self) {
  auto& st = self->state;
  while (!st.failed && st.fetches_running < kMaxBlobFetches && !st.fetch_queue.empty()) {
    blob_fetch f = std::move(st.fetch_queue.front());
    st.fetch_queue.pop_front();
    fetch(self, f.ref, f.doc_id, f.index);
  }
}

}  // namespace

bool await_blobs(puller_self self, pending_rev& p) {
  if (p.rev.deleted) return false;
  auto refs = store::find_blobs(p.rev.body);
  if (refs.empty()) return false;
  auto& st = self->state;
  auto reader = st.cfg.db.core()->acquire_reader();
  uint64_t id = ++st.next_wait;
  size_t missing = 0;
  std::vector<std::string> seen;
  for (auto& ref : refs) {
    if (std::find(seen.begin(), seen.end(), ref.digest) != seen.end()) continue;
    seen.push_back(ref.digest);
    if (auto it = st.fetching.find(ref.digest); it != st.fetching.end()) {
      it->second.push_back(id);
      ++missing;
      continue;
    }
    /// Already held (blob-prove): Couchbase Lite sends nothing for it, and neither do we.
    if (reader && (*reader)->blob(ref.digest)) continue;
    st.fetching[ref.digest].push_back(id);
    ++missing;
    st.fetch_queue.push_back({ref, p.rev.id, p.index});
  }
  if (missing == 0) return false;
  st.blob_waits.emplace(id, blob_wait{std::move(p), missing, {}});
  /// Queued above, started here (as the window allows) once the wait is registered.
  start_fetches(self);
  return true;
}

}  // namespace peerlite::actors
