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

/// A blob (attachment): binary content kept apart from the document bodies that reference it,
/// content-addressed by its digest. A body references it with the dict to_json() returns,
/// anywhere in the body, e.g. {"photo": {"@type":"blob","content_type":"image/png",
/// "digest":"sha1-...","length":4908}}; replication moves the bytes with the document.
struct blob {
  std::string digest;        ///< "sha1-" + base64 of the SHA-1 of the bytes
  uint64_t length = 0;       ///< the size of the content, in bytes
  std::string content_type;  ///< e.g. "image/png"; "" = unknown
  /// The dict to put in a document body: {"@type":"blob","content_type":...,"digest":...,
  /// "length":...} (content_type left out when empty).
  std::string to_json() const;
};

}  // namespace peerlite
