// peerlite store: revision IDs ("<generation>-<hex SHA-1>", PROTOCOL.md §5).
//
// A revision ID is computed from its parent, its deleted flag and the canonical JSON of its
// body, so the same edit made on two peers yields the same ID. Revision IDs order by
// generation, then by digest (as text).
//
// Thread safety: free functions on values; safe from any thread.
#pragma once

#include <cstdint>
#include <optional>
#include <peerlite/status.hpp>
#include <string>
#include <string_view>

namespace peerlite::store {

/// A revision ID split into its parts. `digest` views into the string it was parsed from.
struct rev_parts {
  uint64_t generation = 0;
  std::string_view digest;
};

/// Splits "N-digest". Returns nullopt when `rev` is not of that form (N >= 1, digest non-empty,
/// no whitespace).
std::optional<rev_parts> parse_rev(std::string_view rev);

/// The generation of a well-formed revID, or 0 when it is malformed.
uint64_t rev_generation(std::string_view rev);

/// Orders two revIDs: generation first, then digest as text. Negative, zero or positive.
/// Malformed IDs order as generation 0.
int compare_revs(std::string_view a, std::string_view b);

/// The canonical JSON of a JSON object text: keys sorted, no spaces (nlohmann-json dump()).
/// Fails with errc::invalid_argument when `json` does not parse or is not an object.
expected<std::string> canonical_json(std::string_view json);

/// The revID of a new revision: generation = parent's + 1 (1 without parent), digest =
/// SHA-1(1 byte len(parent), parent, 1 byte deleted, canonical_body) in lowercase hex.
/// `canonical_body` must already be canonical (see canonical_json). `parent` may be empty.
std::string compute_rev_id(std::string_view parent, bool deleted, std::string_view canonical_body);

}  // namespace peerlite::store
