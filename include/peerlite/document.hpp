// peerlite: a document as the application sees it.
#pragma once

#include <cstdint>
#include <string>

namespace peerlite {

/// One revision of a document. A plain value: copy it, keep it, change it; nothing in
/// peerlite holds on to it.
struct document {
  /// The document's ID, unique within its database. Any non-empty UTF-8 string.
  std::string id;
  /// The revision ID, "<generation>-<hex digest>" (PROTOCOL.md §5). Empty for a document
  /// that was never saved.
  std::string rev;
  /// The body: the text of a JSON object such as {"name":"x"}. For a deletion (tombstone)
  /// it is "{}" or whatever the deleting revision carried.
  std::string body = "{}";
  /// True for a tombstone: the document was removed, and the removal replicates.
  bool deleted = false;
  /// The local sequence at which this revision became current (0 when not known).
  uint64_t sequence = 0;
};

}  // namespace peerlite
