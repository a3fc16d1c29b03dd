// peerlite::database: the public handle, over the db actor (writes) and pooled readers.
#include "peerlite/database.hpp"

#include "actors/database_calls.hpp"
#include "actors/errors.hpp"
#include "actors/runtime.hpp"
#include "actors/tuning.hpp"
#include "protocol/rep_json.hpp"

namespace peerlite {

namespace {

using actors::database_core;

error closed_error() { return {errc::invalid_argument, "database handle is empty"}; }

template <class T, class... Ts>
expected<T> call_writer(const std::shared_ptr<database_core>& core, Ts&&... xs) {
  return actors::call_writer<T>(core, closed_error(), std::forward<Ts>(xs)...);
}

using actors::to_public;

}  // namespace

expected<database> database::open(const std::string& path, database_options options) {
  store::options opts;
  opts.max_rev_tree_depth = options.max_rev_tree_depth;
  opts.create_if_missing = options.create;
  auto db = store::database::open(path, opts);
  if (!db) return db.err();
  auto core = std::make_shared<database_core>();
  core->sys = actors::shared_system();
  core->path = path;
  core->private_uuid = (*db)->private_uuid();
  core->public_uuid = (*db)->public_uuid();
  /// open_reader only reads the writer's immutable connection string, so any thread may
  /// call it; the writer object lives as long as the db actor, which outlives the core.
  store::database* writer = db->get();
  core->open_reader = [writer] { return writer->open_reader(); };
  core->writer = actors::spawn_db_actor(*core->sys, std::move(*db), core);
  return database(std::move(core));
}

expected<std::string> database::put(std::string_view id, std::string_view body,
                                    concurrency_control mode, std::string_view parent_rev) {
  if (id.empty()) return error{errc::invalid_argument, "put: empty document ID"};
  bool fail = mode == concurrency_control::fail_on_conflict;
  return call_writer<std::string>(core_, actors::put_atom::value, std::string(id),
                                  std::string(body), std::string(parent_rev),
                                  fail && !parent_rev.empty(), fail);
}

expected<document> database::get(std::string_view id, std::string_view rev) const {
  if (!core_) return closed_error();
  auto r = core_->acquire_reader();
  if (!r) return r.err();
  std::optional<std::string> which;
  if (!rev.empty()) which = std::string(rev);
  auto d = (*r)->get(std::string(id), which);
  if (!d) return d.err();
  if (d->deleted && rev.empty())
    return error{errc::not_found, std::string(id) + ": document is deleted"};
  return to_public(std::move(*d));
}

expected<std::string> database::remove(std::string_view id) {
  return call_writer<std::string>(core_, actors::remove_atom::value, std::string(id));
}

status database::purge(std::string_view id) {
  return call_writer<bool>(core_, actors::purge_atom::value, std::string(id)).to_status();
}

status database::set_expiration(std::string_view id,
                                std::optional<std::chrono::system_clock::time_point> when) {
  int64_t secs = 0;
  if (when)
    secs = std::max<int64_t>(
        1, std::chrono::duration_cast<std::chrono::seconds>(when->time_since_epoch()).count());
  return call_writer<bool>(core_, actors::expire_atom::value, std::string(id), secs).to_status();
}

expected<std::vector<change_entry>> database::changes(uint64_t since, size_t limit) const {
  if (!core_) return closed_error();
  auto r = core_->acquire_reader();
  if (!r) return r.err();
  auto cs = (*r)->changes(since, limit);
  if (!cs) return cs.err();
  std::vector<change_entry> out;
  out.reserve(cs->size());
  for (auto& c : *cs) out.push_back({c.sequence, std::move(c.id), std::move(c.rev), c.deleted});
  return out;
}

listener_token database::add_change_listener(
    std::function<void(const std::vector<change_entry>&)> fn) {
  if (!core_) return {};
  return core_->add_listener(std::move(fn));
}

expected<std::vector<document>> database::conflicts(std::string_view id) const {
  if (!core_) return closed_error();
  auto r = core_->acquire_reader();
  if (!r) return r.err();
  auto current = (*r)->get(std::string(id));
  if (!current) return current.err();
  auto others = (*r)->conflicts(std::string(id));
  if (!others) return others.err();
  std::vector<document> out;
  out.push_back(to_public(std::move(*current)));
  for (auto& d : *others) out.push_back(to_public(std::move(d)));
  return out;
}

expected<std::string> database::resolve(std::string_view id, const document& merged) {
  auto all = conflicts(id);
  if (!all) return all.err();
  std::string current = (*all)[0].rev;
  expected<std::string> last = current;
  /// Close every losing branch; the merged body goes on top of the current revision once.
  for (size_t i = 1; i < all->size(); ++i) {
    bool first = i == 1;
    last = call_writer<std::string>(core_, actors::resolve_atom::value, std::string(id), current,
                                    (*all)[i].rev, merged.body, first, merged.deleted);
    if (!last) return last;
    if (first) current = *last;
  }
  if (all->size() == 1)
    return put(id, merged.body, concurrency_control::fail_on_conflict, current);
  return last;
}

expected<uint64_t> database::document_count() const {
  if (!core_) return closed_error();
  auto r = core_->acquire_reader();
  if (!r) return r.err();
  auto info = (*r)->info();
  if (!info) return info.err();
  return info->docs;
}

expected<uint64_t> database::last_sequence() const {
  if (!core_) return closed_error();
  auto r = core_->acquire_reader();
  if (!r) return r.err();
  return (*r)->last_sequence();
}

const std::string& database::path() const {
  static const std::string empty;
  return core_ ? core_->path : empty;
}

namespace {
std::string json_string(std::string_view s) {
  std::string out;
  protocol::rep::detail::append_json_string(out, s);
  return out;
}
}  // namespace

std::string blob::to_json() const {
  std::string out = "{\"@type\":\"blob\"";
  if (!content_type.empty()) out += ",\"content_type\":" + json_string(content_type);
  out += ",\"digest\":" + json_string(digest);
  out += ",\"length\":" + std::to_string(length) + "}";
  return out;
}

expected<blob> database::save_blob(std::string_view data, std::string_view content_type) {
  auto digest = store::blob_digest(data);
  auto stored = call_writer<std::string>(core_, actors::blob_atom::value, digest,
                                         std::string(data), std::string(content_type));
  if (!stored) return stored.err();
  return blob{std::move(*stored), data.size(), std::string(content_type)};
}

expected<blob> database::get_blob(std::string_view digest) const {
  if (!core_) return closed_error();
  auto r = core_->acquire_reader();
  if (!r) return r.err();
  auto info = (*r)->blob(std::string(digest));
  if (!info) return info.err();
  return blob{std::move(info->digest), info->length, std::move(info->content_type)};
}

expected<std::string> database::read_blob(std::string_view digest) const {
  if (!core_) return closed_error();
  auto r = core_->acquire_reader();
  if (!r) return r.err();
  return (*r)->read_blob(std::string(digest));
}

status database::read_blob(std::string_view digest,
                           const std::function<bool(std::string_view)>& sink, size_t chunk) const {
  if (!core_) return closed_error();
  auto r = core_->acquire_reader();
  if (!r) return r.err();
  return (*r)->read_blob(
      std::string(digest),
      [&](std::string_view bytes) -> status {
        if (sink(bytes)) return {};
        return error{errc::stopped, "read_blob: stopped by the caller"};
      },
      chunk);
}

expected<size_t> database::compact() {
  auto n = call_writer<uint64_t>(core_, actors::compact_atom::value);
  if (!n) return n.err();
  return static_cast<size_t>(*n);
}

}  // namespace peerlite
