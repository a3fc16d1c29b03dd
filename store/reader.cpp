// The read side: every query a replicator or the command line asks of a database.
#include <algorithm>

#include "store/database.hpp"
#include "store/doc_row.hpp"
#include "store/schema.hpp"
#include "store/sqlite.hpp"

namespace peerlite::store {

namespace {

error no_such_revision(const connection& c, std::string_view id, std::string_view rev) {
  return {errc::not_found,
          c.label() + ": document \"" + std::string(id) + "\" has no revision " + std::string(rev)};
}

error body_dropped(const connection& c, std::string_view id, std::string_view rev) {
  return {errc::not_found, c.label() + ": body of \"" + std::string(id) + "\" revision " +
                               std::string(rev) + " is no longer kept"};
}

/// The feed entry at the current row of a kChanges / kChangeOf query.
change change_at(statement& s) {
  change c;
  c.sequence = static_cast<uint64_t>(s.integer(0));
  c.id.assign(s.text(1));
  c.rev.assign(s.text(2));
  c.deleted = s.integer(3) & sql::kDeleted;
  c.conflicted = s.integer(3) & sql::kConflicted;
  c.body_size = static_cast<uint64_t>(s.integer(4));
  if (s.column_count() > 5 && !s.is_null(5)) c.remote_rev.assign(s.text(5));
  return c;
}

}  // namespace

expected<document> reader::get(const std::string& id, const std::optional<std::string>& rev) {
  doc_row row;
  if (auto st = load_row(*conn_, id, row, rev.has_value()); !st.ok()) return st.err();
  if (!row.exists) return no_such_document(*conn_, id);
  if (!rev || *rev == row.rev) return current_document(id, row);
  int32_t i = row.tree.find(*rev);
  if (i < 0) return no_such_revision(*conn_, id, *rev);
  const rev_node& n = row.tree.nodes()[i];
  if (!n.has_body) return body_dropped(*conn_, id, *rev);
  document d = current_document(id, row);
  d.rev = n.rev;
  d.body = n.body;
  d.deleted = n.deleted;
  return d;
}

expected<std::vector<change>> reader::changes(uint64_t since, size_t limit, remote_id remote) {
  statement* s = conn_->prepare(remote ? sql::kChangesForRemote : sql::kChanges);
  if (!s) return conn_->last_error("prepare");
  s->bind(1, static_cast<int64_t>(since));
  s->bind(2, static_cast<int64_t>(std::min<size_t>(limit, INT64_MAX)));
  if (remote) s->bind(3, static_cast<int64_t>(remote));
  std::vector<change> out;
  int rc;
  while ((rc = s->step()) == SQLITE_ROW) {
    out.push_back(change_at(*s));
  }
  s->reset();
  if (rc != SQLITE_DONE) return conn_->error_for(rc, "read changes");
  return out;
}

expected<std::vector<change>> reader::changes_of(std::span<const std::string> ids, uint64_t since,
                                                 size_t limit, remote_id remote) {
  statement* s = conn_->prepare(remote ? sql::kChangeOfForRemote : sql::kChangeOf);
  if (!s) return conn_->last_error("prepare");
  std::vector<change> out;
  for (const auto& id : ids) {
    s->bind(1, id);
    s->bind(2, static_cast<int64_t>(since));
    if (remote) s->bind(3, static_cast<int64_t>(remote));
    int rc = s->step();
    if (rc == SQLITE_ROW) {
      out.push_back(change_at(*s));
      rc = s->step();
    }
    s->reset();
    if (rc != SQLITE_DONE) return conn_->error_for(rc, "read changes");
  }
  std::sort(out.begin(), out.end(),
            [](const change& a, const change& b) { return a.sequence < b.sequence; });
  out.erase(std::unique(out.begin(), out.end(),
                        [](const change& a, const change& b) { return a.sequence == b.sequence; }),
            out.end());
  if (out.size() > limit) out.resize(limit);
  return out;
}

expected<uint64_t> reader::last_sequence() { return read_last_seq(*conn_); }

expected<remote_id> reader::find_remote(const std::string& name) {
  /// A version-1 file opened read-only has no remotes table: it knows no remote.
  statement* s = conn_->prepare(sql::kFindRemote);
  if (!s) return remote_id{0};
  s->bind(1, std::string_view(name));
  int rc = s->step();
  remote_id id = rc == SQLITE_ROW ? static_cast<remote_id>(s->integer(0)) : 0;
  s->reset();
  if (rc != SQLITE_ROW && rc != SQLITE_DONE) return conn_->error_for(rc, "read remote");
  return id;
}

expected<std::string> reader::remote_rev(remote_id remote, const std::string& id) {
  if (!remote) return std::string{};
  statement* s = conn_->prepare(sql::kGetRemoteRev);
  if (!s) return conn_->last_error("prepare");
  s->bind(1, static_cast<int64_t>(remote));
  s->bind(2, std::string_view(id));
  int rc = s->step();
  std::string rev;
  if (rc == SQLITE_ROW) rev.assign(s->text(0));
  s->reset();
  if (rc != SQLITE_ROW && rc != SQLITE_DONE) return conn_->error_for(rc, "read remote revision");
  return rev;
}

expected<std::vector<rev_diff>> reader::revs_diff(std::span<const rev_ref> revs,
                                                  size_t max_ancestors) {
  transaction tx(*conn_, false);
  if (!tx.begun().ok()) return tx.begun().err();
  std::vector<rev_diff> out(revs.size());
  doc_row row;
  for (size_t i = 0; i < revs.size(); ++i) {
    if (auto st = load_row(*conn_, revs[i].id, row, true); !st.ok()) return st.err();
    if (row.exists && row.tree.find(revs[i].rev) >= 0) continue;
    out[i].missing = true;
    if (row.exists) out[i].known_ancestors = row.tree.known_ancestors(revs[i].rev, max_ancestors);
  }
  return out;
}

expected<std::vector<proposal_answer>> reader::propose(std::span<const proposed_change> changes) {
  transaction tx(*conn_, false);
  if (!tx.begun().ok()) return tx.begun().err();
  std::vector<proposal_answer> out(changes.size());
  /// Only the current revision and its flags: a proposal needs no body or tree.
  statement* s = conn_->prepare(sql::kSelectHead);
  if (!s) return conn_->last_error("prepare");
  std::string current;
  for (size_t i = 0; i < changes.size(); ++i) {
    const auto& p = changes[i];
    s->bind(1, std::string_view(p.id));
    int rc = s->step();
    bool exists = rc == SQLITE_ROW;
    current.assign(exists ? s->text(0) : std::string_view{});
    bool deleted = exists && (s->integer(1) & sql::kDeleted);
    s->reset();
    if (!exists && rc != SQLITE_DONE) return conn_->error_for(rc, "read document");
    if (current == p.rev) {
      out[i].status = 304;
    } else if (current == p.parent_rev || (p.parent_rev.empty() && deleted)) {
      out[i].status = 0;
    } else {
      out[i].status = 409;
      out[i].current_rev = current;
    }
  }
  return out;
}

reader::snapshot::snapshot(reader& r) : tx_(std::make_unique<transaction>(*r.conn_, false)) {}

/// The transaction only ever read: ending it (ROLLBACK) releases the snapshot.
reader::snapshot::~snapshot() = default;

expected<revision_to_send> reader::read_revision(const std::string& id, const std::string& rev,
                                                 size_t max_history) {
  /// Reads the row itself instead of through load_row: the current body (nearly always the
  /// one asked for) is copied once, from the column into the reply, rather than into the row,
  /// back into the decoded tree, and out again.
  statement* s = conn_->prepare(sql::kSelectRow);
  if (!s) return conn_->last_error("prepare");
  s->bind(1, std::string_view(id));
  int rc = s->step();
  if (rc != SQLITE_ROW) {
    s->reset();
    if (rc == SQLITE_DONE) return no_such_document(*conn_, id);
    return conn_->error_for(rc, "read document");
  }
  revision_to_send out;
  out.sequence = static_cast<uint64_t>(s->integer(0));
  bool current = s->text(1) == rev;
  if (current) out.body.assign(s->blob(3));
  auto tree = rev_tree::decode(s->blob(4));
  s->reset();
  if (!tree) return tree.err();
  int32_t i = tree->find(rev);
  if (i < 0) return no_such_revision(*conn_, id, rev);
  const rev_node& n = tree->nodes()[i];
  if (!current) {
    if (!n.has_body) return body_dropped(*conn_, id, rev);
    out.body = n.body;
  }
  out.id = id;
  out.rev = rev;
  out.deleted = n.deleted;
  out.history = tree->history(i, max_history);
  return out;
}

expected<std::vector<std::pair<std::string, std::string>>> reader::list_documents() {
  statement* s = conn_->prepare(sql::kListLive);
  if (!s) return conn_->last_error("prepare");
  std::vector<std::pair<std::string, std::string>> out;
  int rc;
  while ((rc = s->step()) == SQLITE_ROW) out.emplace_back(s->text(0), s->text(1));
  s->reset();
  if (rc != SQLITE_DONE) return conn_->error_for(rc, "list documents");
  return out;
}

expected<std::vector<std::string>> reader::conflicted_documents(size_t limit) {
  statement* s = conn_->prepare(sql::kListConflicted);
  if (!s) return conn_->last_error("prepare");
  s->bind(1, static_cast<int64_t>(limit));
  std::vector<std::string> out;
  int rc;
  while ((rc = s->step()) == SQLITE_ROW) out.emplace_back(s->text(0));
  s->reset();
  if (rc != SQLITE_DONE) return conn_->error_for(rc, "list conflicted documents");
  return out;
}

expected<std::vector<document>> reader::conflicts(const std::string& id) {
  doc_row row;
  if (auto st = load_row(*conn_, id, row, true); !st.ok()) return st.err();
  if (!row.exists) return no_such_document(*conn_, id);
  std::vector<document> out;
  for (int32_t i : row.tree.conflicting_leaves()) {
    const rev_node& n = row.tree.nodes()[i];
    document d{id, n.rev, n.body, n.deleted, true, row.seq};
    out.push_back(std::move(d));
  }
  return out;
}

expected<checkpoint> reader::get_checkpoint(checkpoint_store store, const std::string& id) {
  statement* s = conn_->prepare(store == checkpoint_store::local ? sql::kGetCheckpoint
                                                                 : sql::kGetPeerCheckpoint);
  if (!s) return conn_->last_error("prepare");
  s->bind(1, std::string_view(id));
  int rc = s->step();
  checkpoint cp;
  if (rc == SQLITE_ROW) {
    cp.rev.assign(s->text(0));
    cp.body.assign(s->text(1));
  }
  s->reset();
  if (rc == SQLITE_DONE) return error{errc::not_found, path_ + ": no checkpoint \"" + id + "\""};
  if (rc != SQLITE_ROW) return conn_->error_for(rc, "read checkpoint");
  return cp;
}

expected<unix_seconds> reader::get_expiration(const std::string& id) {
  statement* s = conn_->prepare(sql::kGetExpires);
  if (!s) return conn_->last_error("prepare");
  s->bind(1, std::string_view(id));
  int rc = s->step();
  unix_seconds when = rc == SQLITE_ROW && !s->is_null(0) ? s->integer(0) : 0;
  s->reset();
  if (rc == SQLITE_DONE) return no_such_document(*conn_, id);
  if (rc != SQLITE_ROW) return conn_->error_for(rc, "read expiration");
  return when;
}

expected<database_info> reader::info() {
  transaction tx(*conn_, false);
  if (!tx.begun().ok()) return tx.begun().err();
  statement* s = conn_->prepare(sql::kInfo);
  if (!s) return conn_->last_error("prepare");
  int rc = s->step();
  database_info out;
  if (rc == SQLITE_ROW) {
    out.docs = static_cast<uint64_t>(s->integer(0));
    out.tombstones = static_cast<uint64_t>(s->integer(1));
    out.conflicts = static_cast<uint64_t>(s->integer(2));
  }
  s->reset();
  if (rc != SQLITE_ROW) return conn_->error_for(rc, "read counts");
  auto seq = read_last_seq(*conn_);
  if (!seq) return seq.err();
  out.last_sequence = *seq;
  out.public_uuid = public_uuid_;
  return out;
}

}  // namespace peerlite::store
