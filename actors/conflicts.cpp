// Pull conflicts: reading both sides and deciding (see conflicts.hpp).
#include "actors/conflicts.hpp"

#include "store/rev_id.hpp"

namespace peerlite::actors {

namespace {

std::optional<document> as_public(const store::document& d) {
  if (d.deleted) return std::nullopt;
  return document{d.id, d.rev, d.body, false, d.sequence};
}

}  // namespace

std::optional<conflict_sides> read_conflict(store::reader& reader, const std::string& id,
                                            const std::string& remote_rev) {
  /// The local leaf is the current revision (a pulled branch never wins while it is flagged as
  /// a conflict). The remote leaf is looked up by revID: a pulled deletion is a leaf that
  /// conflicts() does not list (it is no open conflict), yet it must still win by the default
  /// rule, or our edit would go on top of a revision the peer has deleted.
  auto current = reader.get(id);
  auto pulled = reader.get(id, remote_rev);
  if (!current || !pulled || current->rev == remote_rev) return std::nullopt;
  conflict_sides c{std::move(*current), std::move(*pulled)};
  if (c.remote.deleted) c.remote.body = "{}";
  return c;
}

resolution decide(const conflict_resolver& fn, const conflict_sides& c) {
  auto& local = c.local;
  auto& remote = c.remote;
  if (fn) {
    auto merged = fn(conflict{local.id, as_public(local), as_public(remote)});
    if (!merged) return remote.deleted ? resolution{} : resolution{std::string("{}"), true};
    if (!remote.deleted && merged->body == remote.body && !merged->deleted) return {};
    return {merged->body, merged->deleted};
  }
  if (remote.deleted) return {};
  if (local.deleted) return {std::string("{}"), true};
  if (store::compare_revs(remote.rev, local.rev) >= 0) return {};
  return {local.body, false};
}

}  // namespace peerlite::actors
