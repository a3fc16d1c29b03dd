// Internal helpers of the replication message codecs: a small JSON writer for the encoders
// (the bodies are flat arrays of strings and integers, so a writer beats building a DOM), and
// simdjson-based readers for the decoders. Not part of protocol/'s public surface.
#pragma once

#include <simdjson.h>

#include <charconv>
#include <cstdint>
#include <optional>
#include <peerlite/status.hpp>
#include <string>
#include <string_view>

#include "protocol/message.hpp"
#include "protocol/rep_messages.hpp"

namespace peerlite::protocol::rep::detail {

/// Appends `s` as a JSON string literal. `s` must be UTF-8 (it is passed through as is).
void append_json_string(std::string& out, std::string_view s);

inline void append_u64(std::string& out, uint64_t v) {
  char buf[24];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, r.ptr);
}

/// Appends a sequence's JSON text, or `null` when absent.
inline void append_sequence(std::string& out, std::string_view seq) {
  if (seq.empty())
    out += "null";
  else
    out += seq;
}

bool valid_utf8(std::string_view s);

/// "<generation>-<suffix>": 1..10 decimal digits (no leading zero), '-', 1..128 printable
/// ASCII characters.
bool valid_rev_id(std::string_view rev);

/// A fresh request message with Profile `profile`, then the given extra properties.
message make_request(std::string_view profile);
/// An RPY to request `number`.
message make_reply(uint64_t number);
/// Appends `key`=`value` to m's properties.
inline void add_property(message& m, std::string_view key, std::string value) {
  m.properties.emplace_back(std::string(key), std::move(value));
}
/// Appends the collection property when present.
void add_collection(message& m, const std::optional<uint32_t>& collection);

/// Fails unless m is a request with Profile `profile`.
status check_request(const message& m, std::string_view profile);
/// Reads an optional boolean property ("true"/"1" or "false"/"0"; absent -> fallback).
expected<bool> bool_property(const message& m, std::string_view key, bool fallback,
                             std::string_view what);
/// Reads an optional non-negative integer property (absent -> fallback).
expected<uint64_t> uint_property(const message& m, std::string_view key, uint64_t fallback,
                                 uint64_t max, std::string_view what);
/// Reads the optional collection property.
expected<std::optional<uint32_t>> collection_property(const message& m, std::string_view what);
/// Reads a required property that must be non-empty UTF-8.
expected<std::string> required_property(const message& m, std::string_view key,
                                        std::string_view what);

/// Parses `text` as JSON with a per-thread parser. The element lives until the next parse_json
/// on this thread. Error: "<what>: invalid JSON body (<reason>)" (covers invalid UTF-8).
expected<simdjson::dom::element> parse_json(std::string_view text, std::string_view what);

/// The compact JSON text of a sequence element (fast path for integers).
std::string sequence_text(simdjson::dom::element e);
/// A sequence carried in a property (rev's `sequence`, subChanges' `since`): the property is
/// the JSON text, except that a string sequence may travel unquoted. Returns the JSON text
/// ("" when the property is empty). Error: not UTF-8.
expected<sequence_json> sequence_from_property(std::string_view prop, std::string_view what);
/// The property form of a sequence: a JSON string travels unquoted, anything else as its text.
std::string sequence_to_property(std::string_view seq);

/// Reads a checkpoint dict (also used inside getCollections replies).
expected<checkpoint> checkpoint_from_element(simdjson::dom::element e, std::string_view what);

/// A protocol_error "<what>: <msg>".
inline error bad(std::string_view what, std::string_view msg) {
  std::string s(what);
  s += ": ";
  s += msg;
  return error{errc::protocol_error, std::move(s)};
}

}  // namespace peerlite::protocol::rep::detail
