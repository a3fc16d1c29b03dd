// peerlite store: the revision tree of one document (PROTOCOL.md §5).
//
// A rev_tree is a plain in-memory value: the store decodes it from the document row, changes
// it and encodes it back in the same transaction. Each node is a revision: its revID, its
// parent, its flags and (for leaves only) its body. Bodies of non-leaf revisions are dropped
// as soon as they gain a child.
//
// The winner (current revision) is chosen among all nodes by: leaves first, then revisions
// not on a conflict branch, then non-deleted, then the highest revID (generation, then digest).
//
// Thread safety: a value type; one tree must not be used by two threads at once.
#pragma once

#include <cstdint>
#include <optional>
#include <peerlite/status.hpp>
#include <string>
#include <string_view>
#include <vector>

namespace peerlite::store {

/// One revision of a document.
struct rev_node {
  std::string rev;        ///< "N-digest"
  int32_t parent = -1;    ///< index into rev_tree::nodes(), -1 for a root
  bool deleted = false;   ///< a tombstone revision
  bool leaf = true;       ///< no children
  bool conflict = false;  ///< on a branch that lost to a local one, until resolved
  bool has_body = false;  ///< body kept (only leaves keep theirs)
  std::string body;       ///< JSON object text when has_body
};

/// What insert_history did.
enum class tree_insert { inserted, already_had, conflict, rejected_conflict };

class rev_tree {
 public:
  rev_tree() = default;

  /// The nodes, in no particular order. Indexes are stable until prune() or the next insert.
  const std::vector<rev_node>& nodes() const { return nodes_; }
  bool empty() const { return nodes_.empty(); }

  /// Index of the node with this revID, or -1.
  int32_t find(std::string_view rev) const;

  /// Index of the winning revision, or -1 for an empty tree.
  int32_t winner() const;

  /// Adds a revision from a peer: `rev` with its `history` (ancestors, newest first, not
  /// including `rev`). Ancestors already in the tree are reused; missing ones are added
  /// without bodies. Result:
  ///  - already_had: `rev` was in the tree (nothing changed);
  ///  - inserted: added, extending a leaf of a non-conflicting branch or a fully deleted tree;
  ///  - conflict: added on a new branch (or extending a conflict branch) while a live leaf
  ///    exists elsewhere; the new node is flagged `conflict` (only when allow_conflicts);
  ///  - rejected_conflict: it would have been a conflict and !allow_conflicts (nothing changed).
  /// Fails with invalid_argument when a revID is malformed or generations do not descend by 1.
  expected<tree_insert> insert_history(std::string_view rev,
                                       const std::vector<std::string>& history, std::string body,
                                       bool deleted, bool allow_conflicts);

  /// Adds a local revision as a child of `parent` (-1 = new root). Drops the parent's body.
  /// The new node inherits the parent's conflict flag. Returns its index.
  int32_t add_child(int32_t parent, std::string rev, std::string body, bool deleted);

  /// Removes revisions further than `max_depth` from every leaf (a leaf has depth 1, so each
  /// branch keeps `max_depth` revisions). Returns how many were removed.
  size_t prune(uint32_t max_depth);

  /// Clears the conflict flag on `index` and its ancestors (after a resolution).
  void clear_conflict(int32_t index);

  /// Flags the leaf `index` as a losing branch (closed by a resolution), so that it never wins
  /// over the resolution's revision, even where both are deleted.
  void mark_losing(int32_t index) { nodes_[index].conflict = true; }

  /// The ancestors of `index`, newest first, excluding itself, at most `max` of them.
  std::vector<std::string> history(int32_t index, size_t max) const;

  /// Revisions a peer offering `rev` might build on: leaves first (winner first), then the
  /// rest by descending revID, all with a lower generation than `rev`; at most `max`.
  std::vector<std::string> known_ancestors(std::string_view rev, size_t max) const;

  /// Indexes of the leaves that are not the winner and not deleted (the open conflicts).
  std::vector<int32_t> conflicting_leaves() const;

  /// True when some live leaf other than the winner exists.
  bool has_conflict() const { return !conflicting_leaves().empty(); }

  /// Serializes the tree, leaving out the body of node `skip_body` (the current revision,
  /// whose body the store keeps in its own column). Compact binary; see decode().
  std::string encode(int32_t skip_body) const;

  /// Parses encode()'s output. Fails with io_error on corrupt input.
  static expected<rev_tree> decode(std::string_view bytes);

  /// Gives the winner its body back after decode() (the store keeps it apart).
  void set_body(int32_t index, std::string body);

 private:
  bool is_better(const rev_node& a, const rev_node& b) const;
  bool has_live_leaf() const;

  std::vector<rev_node> nodes_;
};

}  // namespace peerlite::store
