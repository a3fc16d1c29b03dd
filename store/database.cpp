// The write side: local saves, deletions, conflict resolution, purge, expiration, checkpoints.
#include "store/database.hpp"

#include <nlohmann/json.hpp>

#include "store/doc_row.hpp"
#include "store/rev_id.hpp"
#include "store/schema.hpp"
#include "store/sqlite.hpp"

namespace peerlite::store {

namespace {

constexpr const char* kReservedKeys[] = {"_id", "_rev", "_deleted", "_revisions"};
constexpr std::string_view kEmptyBody = "{}";

/// Parses a local body and returns its canonical text; refuses meta properties.
expected<std::string> canonical_body(std::string_view body) {
  auto parsed = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (parsed.is_discarded()) return error{errc::invalid_argument, "body is not valid JSON"};
  if (!parsed.is_object()) return error{errc::invalid_argument, "body is not a JSON object"};
  for (const char* key : kReservedKeys) {
    if (parsed.contains(key)) {
      return error{errc::invalid_argument, std::string("body has reserved property ") + key};
    }
  }
  return parsed.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

status check_id(std::string_view id) {
  if (id.empty()) return error{errc::invalid_argument, "document ID is empty"};
  return {};
}

}  // namespace

status database::check_writable() const {
  if (conn_->read_only()) return error{errc::read_only, path_ + ": the database is read-only"};
  return {};
}

/// Adds one local revision on top of the current one (or as a new root), in its own transaction
/// (or the caller's).
expected<std::string> database::save_local(const std::string& id, std::string_view canonical,
                                           bool deleted, const std::optional<std::string>& parent,
                                           concurrency mode) {
  transaction tx(*conn_, true);
  if (!tx.begun().ok()) return tx.begun().err();
  doc_row row;
  if (auto st = load_row(*conn_, id, row, true); !st.ok()) return st.err();
  if (deleted && (!row.exists || (row.flags & sql::kDeleted))) return no_such_document(*conn_, id);
  bool tombstoned = row.exists && (row.flags & sql::kDeleted);
  if (mode == concurrency::fail_on_conflict) {
    std::string expect = parent.value_or("");
    bool ok = row.exists ? (expect == row.rev || (tombstoned && expect.empty())) : expect.empty();
    if (!ok) {
      return error{errc::conflict, path_ + ": \"" + id + "\" conflict: current revision is " +
                                       (row.exists ? row.rev : std::string("none"))};
    }
  }
  std::string parent_rev = row.exists ? row.rev : std::string{};
  std::string rev = compute_rev_id(parent_rev, deleted, canonical);
  row.tree.add_child(row.exists ? row.tree.find(parent_rev) : -1, rev, std::string(canonical),
                     deleted);
  auto seq = read_last_seq(*conn_);
  if (!seq) return seq.err();
  if (auto st = write_row(*conn_, id, row, *seq + 1, opts_.max_rev_tree_depth); !st.ok())
    return st.err();
  if (auto st = write_last_seq(*conn_, *seq + 1); !st.ok()) return st.err();
  if (auto st = tx.commit(); !st.ok()) return st.err();
  return rev;
}

expected<std::string> database::put(const std::string& id, const std::string& body,
                                    const std::optional<std::string>& parent, concurrency mode) {
  if (auto st = check_writable(); !st.ok()) return st.err();
  if (auto st = check_id(id); !st.ok()) return st.err();
  auto canonical = canonical_body(body);
  if (!canonical) return canonical.err();
  return save_local(id, *canonical, false, parent, mode);
}

expected<std::string> database::remove(const std::string& id,
                                       const std::optional<std::string>& parent, concurrency mode) {
  if (auto st = check_writable(); !st.ok()) return st.err();
  return save_local(id, kEmptyBody, true, parent, mode);
}

expected<std::string> database::resolve(const std::string& id, const std::string& winning_rev,
                                        const std::string& losing_rev,
                                        const std::optional<std::string>& merged_body,
                                        bool merged_deleted) {
  if (auto st = check_writable(); !st.ok()) return st.err();
  std::string merged;
  if (merged_body) {
    auto canonical = canonical_body(*merged_body);
    if (!canonical) return canonical.err();
    merged = std::move(*canonical);
  }
  transaction tx(*conn_, true);
  if (!tx.begun().ok()) return tx.begun().err();
  doc_row row;
  if (auto st = load_row(*conn_, id, row, true); !st.ok()) return st.err();
  if (!row.exists) return no_such_document(*conn_, id);
  int32_t w = row.tree.find(winning_rev);
  int32_t l = row.tree.find(losing_rev);
  if (w < 0 || l < 0 || w == l) {
    return error{errc::invalid_argument,
                 path_ + ": \"" + id + "\": resolve needs two distinct leaf revisions"};
  }
  /// Both known, but one has grown a child since the caller read them: the conflict was
  /// resolved (or edited over) meanwhile, e.g. by a puller and a pusher of the same run.
  if (!row.tree.nodes()[w].leaf || !row.tree.nodes()[l].leaf) {
    return error{errc::conflict, path_ + ": \"" + id + "\": " +
                                     (row.tree.nodes()[w].leaf ? losing_rev : winning_rev) +
                                     " is no longer a leaf (the document changed)"};
  }
  /// The losing branch is closed with a tombstone and flagged as such: where the winner is a
  /// deletion too, the newer tombstone must not take over (a pulled deletion would otherwise
  /// lose to the tombstone that closed our own edit, and the peers would diverge).
  if (!row.tree.nodes()[l].deleted) {
    l = row.tree.add_child(l, compute_rev_id(losing_rev, true, kEmptyBody), std::string(kEmptyBody),
                           true);
  }
  row.tree.clear_conflict(w);
  row.tree.mark_losing(l);
  if (merged_body) {
    /// The revID first, in its own statement: as one call's arguments, GCC built the by-value
    /// body parameter (moving `merged` out) before compute_rev_id read it, so every merge on
    /// the same remote revision got the revID of an empty body. Two peers resolving the same
    /// conflict with different bodies then made one revID with two bodies, which no
    /// replication ever reconciles (soak test, issue 13, seed 1010: s16).
    std::string merged_rev = compute_rev_id(winning_rev, merged_deleted, merged);
    int32_t m = row.tree.add_child(w, std::move(merged_rev), std::move(merged), merged_deleted);
    row.tree.clear_conflict(m);
  }
  auto seq = read_last_seq(*conn_);
  if (!seq) return seq.err();
  if (auto st = write_row(*conn_, id, row, *seq + 1, opts_.max_rev_tree_depth); !st.ok())
    return st.err();
  if (auto st = write_last_seq(*conn_, *seq + 1); !st.ok()) return st.err();
  if (auto st = tx.commit(); !st.ok()) return st.err();
  return row.rev;
}

status database::purge(const std::string& id) {
  if (auto st = check_writable(); !st.ok()) return st;
  statement* s = conn_->prepare(sql::kDeleteRow);
  if (!s) return conn_->last_error("prepare");
  s->bind(1, std::string_view(id));
  int rc = s->step();
  s->reset();
  if (rc != SQLITE_DONE) return conn_->error_for(rc, "purge");
  if (conn_->changes() == 0) return no_such_document(*conn_, id);
  return {};
}

status database::set_expiration(const std::string& id, unix_seconds when) {
  if (auto st = check_writable(); !st.ok()) return st;
  statement* s = conn_->prepare(sql::kSetExpires);
  if (!s) return conn_->last_error("prepare");
  s->bind(1, std::string_view(id));
  if (when > 0) {
    s->bind(2, static_cast<int64_t>(when));
  } else {
    s->bind_null(2);
  }
  int rc = s->step();
  s->reset();
  if (rc != SQLITE_DONE) return conn_->error_for(rc, "set expiration");
  if (conn_->changes() == 0) return no_such_document(*conn_, id);
  return {};
}

expected<size_t> database::expire(unix_seconds now) {
  if (auto st = check_writable(); !st.ok()) return st.err();
  statement* s = conn_->prepare(sql::kExpire);
  if (!s) return conn_->last_error("prepare");
  s->bind(1, static_cast<int64_t>(now));
  int rc = s->step();
  s->reset();
  if (rc != SQLITE_DONE) return conn_->error_for(rc, "expire");
  return static_cast<size_t>(conn_->changes());
}

expected<std::string> database::set_checkpoint(checkpoint_store store, const std::string& id,
                                               const std::string& body,
                                               const std::optional<std::string>& expected_rev) {
  if (auto st = check_writable(); !st.ok()) return st.err();
  if (nlohmann::json::parse(body, nullptr, false).is_discarded()) {
    return error{errc::invalid_argument, "checkpoint body is not valid JSON"};
  }
  transaction tx(*conn_, true);
  if (!tx.begun().ok()) return tx.begun().err();
  auto current = get_checkpoint(store, id);
  if (!current && current.err().code != errc::not_found) return current.err();
  std::string have = current ? current->rev : std::string{};
  if (have != expected_rev.value_or("")) {
    return error{errc::conflict, path_ + ": checkpoint \"" + id + "\" is at revision " +
                                     (have.empty() ? std::string("none") : have)};
  }
  std::string rev = std::to_string((have.empty() ? 0 : rev_generation(have)) + 1) + "-cc";
  statement* s = conn_->prepare(store == checkpoint_store::local ? sql::kSetCheckpoint
                                                                 : sql::kSetPeerCheckpoint);
  if (!s) return conn_->last_error("prepare");
  s->bind(1, std::string_view(id));
  s->bind(2, std::string_view(rev));
  s->bind(3, std::string_view(body));
  int rc = s->step();
  s->reset();
  if (rc != SQLITE_DONE) return conn_->error_for(rc, "save checkpoint");
  if (auto st = tx.commit(); !st.ok()) return st.err();
  return rev;
}

status database::in_transaction(const std::function<status()>& fn) {
  if (auto st = check_writable(); !st.ok()) return st;
  if (conn_->tx_depth() > 0)
    return error{errc::invalid_argument, "in_transaction is not re-entrant"};
  transaction tx(*conn_, true);
  if (!tx.begun().ok()) return tx.begun();
  if (status st = fn(); !st.ok()) return st;
  return tx.commit();
}

}  // namespace peerlite::store

namespace peerlite::store {

expected<remote_id> database::remote(const std::string& name) {
  if (auto st = check_writable(); !st.ok()) return st.err();
  auto found = find_remote(name);
  if (!found || *found) return found;
  statement* s = conn_->prepare(sql::kAddRemote);
  if (!s) return conn_->last_error("prepare");
  s->bind(1, std::string_view(name));
  int rc = s->step();
  s->reset();
  if (rc != SQLITE_DONE) return conn_->error_for(rc, "add remote");
  return static_cast<remote_id>(conn_->last_insert_id());
}

status database::set_remote_revs(remote_id remote, std::span<const rev_ref> revs) {
  if (!remote || revs.empty()) return {};
  if (auto st = check_writable(); !st.ok()) return st;
  transaction tx(*conn_, true);
  if (!tx.begun().ok()) return tx.begun();
  statement* s = conn_->prepare(sql::kSetRemoteRev);
  if (!s) return conn_->last_error("prepare");
  for (const auto& r : revs) {
    s->bind(1, static_cast<int64_t>(remote));
    s->bind(2, std::string_view(r.id));
    s->bind(3, std::string_view(r.rev));
    int rc = s->step();
    s->reset();
    if (rc != SQLITE_DONE) return conn_->error_for(rc, "record remote revision");
  }
  return tx.commit();
}

}  // namespace peerlite::store
