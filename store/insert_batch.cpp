// Group commit of revisions from peers: the replication fast path.
#include <simdjson.h>

#include "store/database.hpp"
#include "store/doc_row.hpp"
#include "store/rev_id.hpp"
#include "store/sqlite.hpp"

namespace peerlite::store {

namespace {

/// A body must be a JSON object. simdjson validates ~200-byte bodies far faster than a DOM
/// parse; the parser is reused per thread to keep its buffers.
bool is_json_object(std::string_view body) {
  thread_local simdjson::dom::parser parser;
  simdjson::dom::element root;
  if (parser.parse(body.data(), body.size()).get(root) != simdjson::SUCCESS) return false;
  return root.is_object();
}

insert_outcome to_outcome(tree_insert t) {
  switch (t) {
    case tree_insert::inserted:
      return insert_outcome::inserted;
    case tree_insert::already_had:
      return insert_outcome::already_had;
    case tree_insert::conflict:
      return insert_outcome::conflict;
    case tree_insert::rejected_conflict:
      return insert_outcome::rejected;
  }
  return insert_outcome::rejected;
}

}  // namespace

status database::validate(const incoming_revision& rev, bool body_checked) {
  auto where = [&rev] { return "revision \"" + rev.id + "\" " + rev.rev + ": "; };
  if (rev.id.empty()) return error{errc::invalid_argument, "revision with an empty document ID"};
  auto gen = rev_generation(rev.rev);
  if (gen == 0) return error{errc::invalid_argument, where() + "malformed revision ID"};
  for (size_t k = 0; k < rev.history.size(); ++k) {
    if (k + 1 >= gen || rev_generation(rev.history[k]) != gen - k - 1) {
      return error{errc::invalid_argument, where() + "history generations must descend by one"};
    }
  }
  if (!body_checked && !is_json_object(rev.body)) {
    return error{errc::invalid_argument, where() + "body is not a JSON object"};
  }
  return {};
}

/// A revision without history almost always creates its document: try the INSERT first and
/// look the document up only when one exists (saves a lookup per new document).
expected<bool> database::insert_new(const incoming_revision& rev, uint64_t& seq,
                                    insert_result& out) {
  doc_row row;
  row.tree.add_child(-1, rev.rev, rev.body, rev.deleted);
  bool inserted = false;
  if (auto st = insert_row_if_absent(*conn_, rev.id, row, seq + 1, inserted); !st.ok())
    return st.err();
  if (!inserted) return false;
  out.outcome = insert_outcome::inserted;
  out.sequence = ++seq;
  out.current_rev = rev.rev;
  return true;
}

status database::insert_one(const incoming_revision& rev, bool allow_conflicts, uint64_t& seq,
                            insert_result& out) {
  if (rev.history.empty()) {
    auto done = insert_new(rev, seq, out);
    if (!done) return done.err();
    if (*done) return {};
  }
  doc_row row;
  if (auto st = load_row(*conn_, rev.id, row, true); !st.ok()) return st;
  auto done = row.tree.insert_history(rev.rev, rev.history, rev.body, rev.deleted,
                                      allow_conflicts && !rev.no_conflicts);
  if (!done) return done.err();
  out.outcome = to_outcome(*done);
  if (*done == tree_insert::already_had || *done == tree_insert::rejected_conflict) {
    out.current_rev = row.rev;
    return {};
  }
  out.sequence = ++seq;
  if (auto st = write_row(*conn_, rev.id, row, seq, opts_.max_rev_tree_depth); !st.ok()) return st;
  out.current_rev = row.rev;
  return {};
}

expected<std::vector<insert_result>> database::insert_batch(std::span<const incoming_revision> revs,
                                                            bool allow_conflicts, bool validated,
                                                            remote_id remote) {
  if (auto st = check_writable(); !st.ok()) return st.err();
  for (const auto& r : revs) {
    if (validated) break;
    if (auto st = validate(r); !st.ok()) return st.err();
  }
  transaction tx(*conn_, true);
  if (!tx.begun().ok()) return tx.begun().err();
  auto last = read_last_seq(*conn_);
  if (!last) return last.err();
  uint64_t seq = *last;
  std::vector<insert_result> out(revs.size());
  for (size_t i = 0; i < revs.size(); ++i) {
    if (auto st = insert_one(revs[i], allow_conflicts, seq, out[i]); !st.ok()) return st.err();
  }
  if (remote) {
    /// The sender holds what it sent (stored, already here, or on a conflict branch): the
    /// next push names it as the parent, and does not offer it back.
    std::vector<rev_ref> held;
    held.reserve(revs.size());
    for (size_t i = 0; i < revs.size(); ++i)
      if (out[i].outcome != insert_outcome::rejected) held.push_back({revs[i].id, revs[i].rev});
    if (auto st = set_remote_revs(remote, held); !st.ok()) return st.err();
  }
  if (seq != *last) {
    if (auto st = write_last_seq(*conn_, seq); !st.ok()) return st.err();
  }
  if (auto st = tx.commit(); !st.ok()) return st.err();
  return out;
}

expected<insert_result> database::insert_with_history(const incoming_revision& rev,
                                                      bool allow_conflicts) {
  auto out = insert_batch(std::span<const incoming_revision>(&rev, 1), allow_conflicts);
  if (!out) return out.err();
  return std::move(out->front());
}

}  // namespace peerlite::store
