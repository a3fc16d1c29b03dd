#include "store/doc_row.hpp"

#include "store/schema.hpp"

namespace peerlite::store {

status load_row(connection& c, std::string_view id, doc_row& out, bool with_tree) {
  statement* s = c.prepare(with_tree ? sql::kSelectRow : sql::kSelectCurrent);
  if (!s) return c.last_error("prepare");
  s->bind(1, id);
  int rc = s->step();
  out.exists = rc == SQLITE_ROW;
  if (rc != SQLITE_ROW) {
    s->reset();
    return rc == SQLITE_DONE ? status{} : status{c.error_for(rc, "read document")};
  }
  out.seq = static_cast<uint64_t>(s->integer(0));
  out.rev.assign(s->text(1));
  out.flags = static_cast<int>(s->integer(2));
  out.body.assign(s->blob(3));
  if (with_tree) {
    auto tree = rev_tree::decode(s->blob(4));
    s->reset();
    if (!tree) return tree.err();
    out.tree = std::move(*tree);
    out.tree.set_body(out.tree.find(out.rev), out.body);
  } else {
    s->reset();
  }
  return {};
}

namespace {

/// `keep_body`: copy the winner's body into row.body afterwards (callers that go on using the
/// row); a new row that is dropped right after skips that copy.
status store_row(connection& c, const char* sql, std::string_view id, doc_row& row, uint64_t seq,
                 bool keep_body) {
  int32_t w = row.tree.winner();
  const rev_node& win = row.tree.nodes()[w];
  std::string tree = row.tree.encode(w);
  row.seq = seq;
  row.rev = win.rev;
  row.flags = (win.deleted ? sql::kDeleted : 0) | (row.tree.has_conflict() ? sql::kConflicted : 0);
  statement* s = c.prepare(sql);
  if (!s) return c.last_error("prepare");
  s->bind(1, id);
  s->bind(2, static_cast<int64_t>(seq));
  s->bind(3, win.rev);
  s->bind(4, static_cast<int64_t>(row.flags));
  s->bind_blob(5, win.body);
  s->bind_blob(6, tree);
  int rc = s->step();
  s->reset();
  if (rc != SQLITE_DONE) return c.error_for(rc, "write document");
  if (keep_body) row.body = win.body;
  return {};
}

}  // namespace

status write_row(connection& c, std::string_view id, doc_row& row, uint64_t seq,
                 uint32_t max_depth) {
  row.tree.prune(max_depth);
  if (auto st = store_row(c, row.exists ? sql::kUpdateRow : sql::kInsertRow, id, row, seq, true);
      !st.ok())
    return st;
  row.exists = true;
  return {};
}

status insert_row_if_absent(connection& c, std::string_view id, doc_row& row, uint64_t seq,
                            bool& inserted) {
  if (auto st = store_row(c, sql::kInsertRowIfAbsent, id, row, seq, false); !st.ok()) return st;
  inserted = c.changes() > 0;
  row.exists = inserted;
  return {};
}

std::string last_seq_key(int64_t collection) {
  return collection ? "last_seq_" + std::to_string(collection) : "last_seq";
}

expected<uint64_t> read_last_seq(connection& c) {
  statement* s = c.prepare(sql::kGetMeta);
  if (!s) return c.last_error("prepare");
  std::string key = last_seq_key(c.collection());
  s->bind(1, std::string_view(key));
  int rc = s->step();
  uint64_t seq = rc == SQLITE_ROW ? static_cast<uint64_t>(s->integer(0)) : 0;
  s->reset();
  if (rc != SQLITE_ROW && rc != SQLITE_DONE) return c.error_for(rc, "read last sequence");
  return seq;
}

status write_last_seq(connection& c, uint64_t seq) {
  statement* s = c.prepare(sql::kSetMeta);
  if (!s) return c.last_error("prepare");
  std::string key = last_seq_key(c.collection());
  s->bind(1, std::string_view(key));
  s->bind(2, static_cast<int64_t>(seq));
  int rc = s->step();
  s->reset();
  if (rc != SQLITE_DONE) return c.error_for(rc, "write last sequence");
  return {};
}

document current_document(std::string_view id, const doc_row& row) {
  document d;
  d.id.assign(id);
  d.rev = row.rev;
  d.body = row.body;
  d.deleted = row.flags & sql::kDeleted;
  d.conflicted = row.flags & sql::kConflicted;
  d.sequence = row.seq;
  return d;
}

error no_such_document(const connection& c, std::string_view id) {
  return {errc::not_found, c.label() + ": no document \"" + std::string(id) + "\""};
}

}  // namespace peerlite::store
