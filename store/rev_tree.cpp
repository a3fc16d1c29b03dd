#include "store/rev_tree.hpp"

#include <algorithm>

#include "store/rev_id.hpp"

namespace peerlite::store {

namespace {

enum : uint8_t {
  kFlagDeleted = 1,
  kFlagLeaf = 2,
  kFlagConflict = 4,
  kFlagBodyHere = 8,        ///< body bytes follow in the blob
  kFlagBodyElsewhere = 16,  ///< has a body kept outside the blob (the current revision)
};

void put_varint(std::string& out, uint64_t v) {
  while (v >= 0x80) {
    out.push_back(static_cast<char>((v & 0x7F) | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<char>(v));
}

bool get_varint(std::string_view& in, uint64_t& v) {
  v = 0;
  for (int shift = 0; shift < 64; shift += 7) {
    if (in.empty()) return false;
    auto byte = static_cast<uint8_t>(in.front());
    in.remove_prefix(1);
    v |= static_cast<uint64_t>(byte & 0x7F) << shift;
    if (!(byte & 0x80)) return true;
  }
  return false;
}

bool get_bytes(std::string_view& in, std::string& out) {
  uint64_t len = 0;
  if (!get_varint(in, len) || len > in.size()) return false;
  out.assign(in.substr(0, len));
  in.remove_prefix(len);
  return true;
}

expected<tree_insert> bad_history(std::string_view rev) {
  return error{errc::invalid_argument,
               "revision " + std::string(rev) + ": history generations must descend by one"};
}

}  // namespace

int32_t rev_tree::find(std::string_view rev) const {
  for (size_t i = 0; i < nodes_.size(); ++i) {
    if (nodes_[i].rev == rev) return static_cast<int32_t>(i);
  }
  return -1;
}

bool rev_tree::is_better(const rev_node& a, const rev_node& b) const {
  if (a.leaf != b.leaf) return a.leaf;
  if (a.conflict != b.conflict) return !a.conflict;
  if (a.deleted != b.deleted) return !a.deleted;
  return compare_revs(a.rev, b.rev) > 0;
}

int32_t rev_tree::winner() const {
  int32_t best = -1;
  for (size_t i = 0; i < nodes_.size(); ++i) {
    if (best < 0 || is_better(nodes_[i], nodes_[best])) best = static_cast<int32_t>(i);
  }
  return best;
}

bool rev_tree::has_live_leaf() const {
  return std::any_of(nodes_.begin(), nodes_.end(),
                     [](const rev_node& n) { return n.leaf && !n.deleted; });
}

expected<tree_insert> rev_tree::insert_history(std::string_view rev,
                                               const std::vector<std::string>& history,
                                               std::string body, bool deleted,
                                               bool allow_conflicts) {
  auto gen = rev_generation(rev);
  if (gen == 0) return error{errc::invalid_argument, "malformed revision ID: " + std::string(rev)};
  for (size_t k = 0; k < history.size(); ++k) {
    if (k + 1 >= gen || rev_generation(history[k]) != gen - k - 1) return bad_history(rev);
  }
  if (find(rev) >= 0) return tree_insert::already_had;
  size_t common = history.size();  // index in history of the newest revision we have
  int32_t attach = -1;
  for (size_t k = 0; k < history.size(); ++k) {
    if ((attach = find(history[k])) >= 0) {
      common = k;
      break;
    }
  }
  /// Extending the current leaf is a plain update; anything else branches, which is a
  /// conflict while a live leaf exists (a fully deleted document is resurrected cleanly).
  bool extends_current = attach >= 0 && attach == winner();
  bool conflict = !extends_current && has_live_leaf();
  if (conflict && !allow_conflicts) return tree_insert::rejected_conflict;
  /// Without conflicts (a rev the sender had accepted through proposeChanges, `noconflicts`)
  /// a fully deleted document may be re-created by a new root (no ancestor we know), but not
  /// by a live revision branching off one of its older revisions: that is an edit that raced
  /// the deletion (both proposals answered before either rev arrived). Accepting it revived
  /// the document here, while the editing peer, pulling the deletion, resolved deletion-wins
  /// and closed its edit: the two never converged (soak test, issue 13, seed 303). Refused,
  /// the sender's puller resolves it like every other peer does. A tombstone on such a branch
  /// is still taken (it changes nothing live); see below for which tombstone wins (seed 505).
  if (!allow_conflicts && attach >= 0 && !extends_current && !deleted)
    return tree_insert::rejected_conflict;
  bool fully_deleted = !extends_current && !has_live_leaf();
  int32_t parent = attach;
  for (size_t k = common; k-- > 0;) parent = add_child(parent, history[k], {}, false);
  int32_t added = add_child(parent, std::string(rev), std::move(body), deleted);
  if (conflict) {
    for (int32_t i = added; i >= 0 && i != attach; i = nodes_[i].parent) nodes_[i].conflict = true;
  } else if (fully_deleted && !deleted) {
    /// A live revision re-creates a deleted document: it wins, even when it grows from a
    /// tombstone that lost (add_child passed it that tombstone's losing flag).
    clear_conflict(added);
  } else if (fully_deleted) {
    /// Two peers deleted the document concurrently: two tombstone branches. The passive
    /// side's tombstone wins on both sides, so that every peer ends on the same revision:
    ///  - pulled (allow_conflicts: the active side, from its passive peer): the pulled one
    ///    wins and our own tombstones are closed;
    ///  - pushed to us (no conflicts: we are the passive side): ours stays current and the
    ///    pushed one is closed.
    /// Picking the higher revID converged only when both sides held both leaves, but a passive
    /// side answers 409 to a proposal on a document it deleted since (as Couchbase Lite does),
    /// so the proposer kept its own tombstone as current and the passive side never saw it
    /// (soak test, issue 13).
    if (allow_conflicts) {
      clear_conflict(added);
      for (size_t i = 0; i < nodes_.size(); ++i)
        if (nodes_[i].leaf && static_cast<int32_t>(i) != added) nodes_[i].conflict = true;
    } else {
      for (int32_t i = added; i >= 0 && i != attach; i = nodes_[i].parent)
        nodes_[i].conflict = true;
    }
  }
  return conflict ? tree_insert::conflict : tree_insert::inserted;
}

int32_t rev_tree::add_child(int32_t parent, std::string rev, std::string body, bool deleted) {
  rev_node node;
  node.rev = std::move(rev);
  node.parent = parent;
  node.deleted = deleted;
  node.has_body = true;
  node.body = std::move(body);
  if (parent >= 0) {
    auto& p = nodes_[parent];
    p.leaf = false;
    p.has_body = false;
    p.body.clear();
    p.body.shrink_to_fit();
    node.conflict = p.conflict;
  }
  nodes_.push_back(std::move(node));
  return static_cast<int32_t>(nodes_.size() - 1);
}

size_t rev_tree::prune(uint32_t max_depth) {
  if (max_depth == 0) return 0;
  std::vector<uint32_t> depth(nodes_.size(), UINT32_MAX);
  for (size_t i = 0; i < nodes_.size(); ++i) {
    if (!nodes_[i].leaf) continue;
    uint32_t d = 1;
    for (int32_t j = static_cast<int32_t>(i); j >= 0 && depth[j] > d; j = nodes_[j].parent, ++d) {
      depth[j] = d;
    }
  }
  std::vector<int32_t> remap(nodes_.size(), -1);
  std::vector<rev_node> kept;
  for (size_t i = 0; i < nodes_.size(); ++i) {
    if (depth[i] > max_depth) continue;
    remap[i] = static_cast<int32_t>(kept.size());
    kept.push_back(std::move(nodes_[i]));
  }
  size_t removed = nodes_.size() - kept.size();
  for (auto& n : kept) n.parent = n.parent >= 0 ? remap[n.parent] : -1;
  nodes_ = std::move(kept);
  return removed;
}

void rev_tree::clear_conflict(int32_t index) {
  for (int32_t i = index; i >= 0; i = nodes_[i].parent) nodes_[i].conflict = false;
}

std::vector<std::string> rev_tree::history(int32_t index, size_t max) const {
  std::vector<std::string> out;
  if (index < 0) return out;
  for (int32_t i = nodes_[index].parent; i >= 0 && out.size() < max; i = nodes_[i].parent) {
    out.push_back(nodes_[i].rev);
  }
  return out;
}

std::vector<std::string> rev_tree::known_ancestors(std::string_view rev, size_t max) const {
  auto gen = rev_generation(rev);
  std::vector<int32_t> order;
  for (size_t i = 0; i < nodes_.size(); ++i) {
    if (rev_generation(nodes_[i].rev) < gen) order.push_back(static_cast<int32_t>(i));
  }
  std::sort(order.begin(), order.end(),
            [this](int32_t a, int32_t b) { return is_better(nodes_[a], nodes_[b]); });
  std::vector<std::string> out;
  for (size_t i = 0; i < order.size() && out.size() < max; ++i) out.push_back(nodes_[order[i]].rev);
  return out;
}

std::vector<int32_t> rev_tree::conflicting_leaves() const {
  std::vector<int32_t> out;
  int32_t w = winner();
  for (size_t i = 0; i < nodes_.size(); ++i) {
    if (nodes_[i].leaf && !nodes_[i].deleted && static_cast<int32_t>(i) != w) {
      out.push_back(static_cast<int32_t>(i));
    }
  }
  return out;
}

std::string rev_tree::encode(int32_t skip_body) const {
  std::string out;
  out.reserve(16 + nodes_.size() * 48);
  put_varint(out, nodes_.size());
  for (size_t i = 0; i < nodes_.size(); ++i) {
    const auto& n = nodes_[i];
    bool elsewhere = n.has_body && static_cast<int32_t>(i) == skip_body;
    uint8_t flags = (n.deleted ? kFlagDeleted : 0) | (n.leaf ? kFlagLeaf : 0) |
                    (n.conflict ? kFlagConflict : 0) |
                    (n.has_body ? (elsewhere ? kFlagBodyElsewhere : kFlagBodyHere) : 0);
    put_varint(out, n.rev.size());
    out.append(n.rev);
    put_varint(out, static_cast<uint64_t>(n.parent + 1));
    out.push_back(static_cast<char>(flags));
    if (flags & kFlagBodyHere) {
      put_varint(out, n.body.size());
      out.append(n.body);
    }
  }
  return out;
}

expected<rev_tree> rev_tree::decode(std::string_view in) {
  error corrupt{errc::io_error, "corrupt revision tree in the database"};
  uint64_t count = 0;
  if (!get_varint(in, count) || count > in.size()) return corrupt;
  rev_tree tree;
  tree.nodes_.resize(count);
  for (auto& n : tree.nodes_) {
    uint64_t parent = 0;
    if (!get_bytes(in, n.rev) || !get_varint(in, parent) || parent > count || in.empty())
      return corrupt;
    n.parent = static_cast<int32_t>(parent) - 1;
    auto flags = static_cast<uint8_t>(in.front());
    in.remove_prefix(1);
    n.deleted = flags & kFlagDeleted;
    n.leaf = flags & kFlagLeaf;
    n.conflict = flags & kFlagConflict;
    n.has_body = flags & (kFlagBodyHere | kFlagBodyElsewhere);
    if ((flags & kFlagBodyHere) && !get_bytes(in, n.body)) return corrupt;
  }
  if (!in.empty()) return corrupt;
  return tree;
}

void rev_tree::set_body(int32_t index, std::string body) {
  if (index < 0) return;
  nodes_[index].has_body = true;
  nodes_[index].body = std::move(body);
}

}  // namespace peerlite::store
