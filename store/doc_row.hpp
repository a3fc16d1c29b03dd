// peerlite store (internal): reading and writing one document row (see schema.hpp).
#pragma once

#include <cstdint>
#include <peerlite/status.hpp>
#include <string>
#include <string_view>

#include "store/document.hpp"
#include "store/rev_tree.hpp"
#include "store/sqlite.hpp"

namespace peerlite::store {

/// A document row: its current revision's columns plus, when loaded, its whole tree (with the
/// current body put back on the winner).
struct doc_row {
  bool exists = false;
  uint64_t seq = 0;
  std::string rev;
  int flags = 0;
  std::string body;
  rev_tree tree;
};

/// Loads the row of `id` into `out` (out.exists = false when there is none). With
/// `with_tree` the tree is decoded too.
status load_row(connection& c, std::string_view id, doc_row& out, bool with_tree);

/// Prunes the tree to `max_depth`, picks the winner, and writes the row with sequence `seq`
/// (INSERT when !row.exists, else UPDATE). Updates row's columns to match.
status write_row(connection& c, std::string_view id, doc_row& row, uint64_t seq,
                 uint32_t max_depth);

/// Inserts a new row unless one exists for `id`; `inserted` tells which. The caller's row
/// must be !exists. Lets the group commit skip a lookup for documents it has never seen.
/// row.body is left as it was (the caller drops the row).
status insert_row_if_absent(connection& c, std::string_view id, doc_row& row, uint64_t seq,
                            bool& inserted);

/// The meta key of a collection's sequence counter: "last_seq" for the default collection,
/// "last_seq_N" for collection N.
std::string last_seq_key(int64_t collection);

/// The sequence counter of the connection's current collection, kept in meta (never reused,
/// even after purge).
expected<uint64_t> read_last_seq(connection& c);
status write_last_seq(connection& c, uint64_t seq);

/// The row's current revision as a document.
document current_document(std::string_view id, const doc_row& row);

/// "label: no document \"id\"" as a not_found error.
error no_such_document(const connection& c, std::string_view id);

}  // namespace peerlite::store
