// peerlite::collection and database's collection methods: the same pattern as database.cpp
// (writes through the db actor, the single writer; reads on a pooled reader), with the
// collection's id on every message and every lease.
#include "peerlite/collection.hpp"

#include "actors/database_calls.hpp"

namespace peerlite {

namespace {

using actors::database_core;

error empty_error() { return {errc::invalid_argument, "collection handle is empty"}; }

template <class T, class... Ts>
expected<T> ask_writer(const std::shared_ptr<database_core>& core, Ts&&... xs) {
  return actors::call_writer<T>(core, empty_error(), std::forward<Ts>(xs)...);
}

/// A reader on collection `coll` (acquire_reader selects it again on every lease, so a
/// collection deleted meanwhile is not_found here as it is for writes).
expected<actors::reader_lease> reader_on(const std::shared_ptr<database_core>& core,
                                         store::collection_id coll) {
  if (!core) return empty_error();
  return core->acquire_reader(coll);
}

using actors::to_public;

}  // namespace

// --- collection ---

expected<std::string> collection::put(std::string_view id, std::string_view body,
                                      concurrency_control mode, std::string_view parent_rev) {
  if (!db_) return empty_error();
  if (id.empty()) return error{errc::invalid_argument, "put: empty document ID"};
  bool fail = mode == concurrency_control::fail_on_conflict;
  return ask_writer<std::string>(db_.core(), actors::put_atom::value, std::string(id),
                                 std::string(body), std::string(parent_rev),
                                 fail && !parent_rev.empty(), fail, id_);
}

expected<document> collection::get(std::string_view id, std::string_view rev) const {
  auto r = reader_on(db_.core(), id_);
  if (!r) return r.err();
  std::optional<std::string> which;
  if (!rev.empty()) which = std::string(rev);
  auto d = (*r)->get(std::string(id), which);
  if (!d) return d.err();
  if (d->deleted && rev.empty())
    return error{errc::not_found, std::string(id) + ": document is deleted"};
  return to_public(std::move(*d));
}

expected<std::string> collection::remove(std::string_view id) {
  return ask_writer<std::string>(db_.core(), actors::remove_atom::value, std::string(id), id_);
}

status collection::purge(std::string_view id) {
  return ask_writer<bool>(db_.core(), actors::purge_atom::value, std::string(id), id_)
      .to_status();
}

expected<std::vector<change_entry>> collection::changes(uint64_t since, size_t limit) const {
  auto r = reader_on(db_.core(), id_);
  if (!r) return r.err();
  auto cs = (*r)->changes(since, limit);
  if (!cs) return cs.err();
  std::vector<change_entry> out;
  out.reserve(cs->size());
  for (auto& c : *cs) out.push_back({c.sequence, std::move(c.id), std::move(c.rev), c.deleted});
  return out;
}

expected<std::vector<document>> collection::conflicts(std::string_view id) const {
  auto r = reader_on(db_.core(), id_);
  if (!r) return r.err();
  /// One snapshot: the current revision and the other leaves from the same commit.
  store::reader::snapshot snap(**r);
  auto current = (*r)->get(std::string(id));
  if (!current) return current.err();
  auto others = (*r)->conflicts(std::string(id));
  if (!others) return others.err();
  std::vector<document> out;
  out.push_back(to_public(std::move(*current)));
  for (auto& d : *others) out.push_back(to_public(std::move(d)));
  return out;
}

expected<uint64_t> collection::document_count() const {
  auto r = reader_on(db_.core(), id_);
  if (!r) return r.err();
  auto info = (*r)->info();
  if (!info) return info.err();
  return info->docs;
}

expected<uint64_t> collection::last_sequence() const {
  auto r = reader_on(db_.core(), id_);
  if (!r) return r.err();
  return (*r)->last_sequence();
}

// --- database: its collections ---

expected<collection> database::create_collection(std::string_view name) {
  if (!core_) return error{errc::invalid_argument, "database handle is empty"};
  auto parsed = store::parse_collection_name(name);
  if (!parsed) return parsed.err();
  auto id =
      ask_writer<store::collection_id>(core_, actors::mkcoll_atom::value, std::string(name));
  if (!id) return id.err();
  return collection(*this, *id, std::move(parsed->first), std::move(parsed->second));
}

expected<collection> database::get_collection(std::string_view name) const {
  if (!core_) return error{errc::invalid_argument, "database handle is empty"};
  auto parsed = store::parse_collection_name(name);
  if (!parsed) return parsed.err();
  auto r = core_->acquire_reader();
  if (!r) return r.err();
  auto id = (*r)->find_collection(name);
  if (!id) return id.err();
  return collection(*this, *id, std::move(parsed->first), std::move(parsed->second));
}

expected<std::vector<collection>> database::collections() const {
  if (!core_) return error{errc::invalid_argument, "database handle is empty"};
  auto r = core_->acquire_reader();
  if (!r) return r.err();
  auto all = (*r)->list_collections();
  if (!all) return all.err();
  std::vector<collection> out;
  out.reserve(all->size());
  for (auto& c : *all) out.push_back(collection(*this, c.id, std::move(c.scope), std::move(c.name)));
  return out;
}

status database::delete_collection(std::string_view name) {
  if (!core_) return error{errc::invalid_argument, "database handle is empty"};
  return ask_writer<bool>(core_, actors::rmcoll_atom::value, std::string(name)).to_status();
}

collection database::default_collection() const {
  return collection(*this, 0, "_default", "_default");
}

}  // namespace peerlite
