// peerlite: the one error vocabulary shared by every layer.
//
// Every fallible call in peerlite reports failure as a `peerlite::error`: a code a program
// can branch on plus a message a person can act on ("db.sqlite: not a peerlite database
// (schema user_version 7 is newer than 1)"). Functions that produce a value return
// `peerlite::expected<T>`; functions that produce nothing return `peerlite::status`.
//
// Thread safety: these are plain values; distinct objects may be used from distinct threads.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <variant>

namespace peerlite {

/// What went wrong, for programs. The message says it for people.
enum class errc : uint8_t {
  ok = 0,             ///< no error: the call succeeded
  not_found,          ///< unknown document, revision, checkpoint or connection
  conflict,           ///< the given parent revision is not current (HTTP 409 on the wire)
  invalid_argument,   ///< bad JSON, a body that is not an object, a malformed revID
  not_a_database,     ///< a file that is not a peerlite database, or a newer schema
  io_error,           ///< SQLite or the file system failed
  read_only,          ///< write to a read-only file or a read-only listener
  protocol_error,     ///< the peer broke BLIP or the replication protocol
  too_large,          ///< a cap was exceeded (properties, message, inflated size)
  disconnected,       ///< the connection closed while the request was pending
  timeout,            ///< a named timeout expired
  transport_transient,///< the app's transport failed recoverably (retry)
  transport_permanent,///< the app's transport failed for good (stop)
  unauthorized,       ///< HTTP 401 / 403 from a listener
  stopped,            ///< the replicator or listener was stopped
  unavailable,        ///< a shared store (PostgreSQL) is unreachable for now: retry (HTTP 503)
};

/// A failure: a code and a message a person can act on.
struct error {
  errc code = errc::ok;  ///< what went wrong; errc::ok when nothing did
  std::string message;   ///< says what failed and why, for people; empty when code is ok
};

/// The code's name as spelled in the enum ("ok", "not_found", "io_error", ...): a static
/// string, never null.
const char* to_string(errc code);

/// The outcome of a call that yields nothing: ok(), or an error.
class status {
 public:
  /// A success.
  status() = default;
  /// The failure `e` (a success when e.code is errc::ok). Implicit, so a function returning
  /// status may `return error{...};`.
  status(error e) : err_(std::move(e)) {}  // NOLINT: implicit by design
  /// The failure with code `c` and message `msg`.
  status(errc c, std::string msg) : err_{c, std::move(msg)} {}
  /// A success; the same as status{}.
  static status success() { return {}; }

  /// True when the call succeeded (code() is errc::ok).
  bool ok() const { return err_.code == errc::ok; }
  /// The same as ok(), so `if (!s)` tests for a failure.
  explicit operator bool() const { return ok(); }
  /// What went wrong; errc::ok on success.
  errc code() const { return err_.code; }
  /// The message for people; empty on success.
  const std::string& message() const { return err_.message; }
  /// The code and message together, e.g. to return them from another call.
  const error& err() const { return err_; }

 private:
  error err_;
};

/// A value or an error. Accessing value() of an error (or err() of a value) is a programming
/// mistake: it throws std::bad_variant_access.
template <class T>
class expected {
 public:
  /// Holds the value `v`. Implicit, so a function may `return v;`.
  expected(T v) : v_(std::in_place_index<0>, std::move(v)) {}  // NOLINT
  /// Holds the error `e`. Implicit, so a function may `return error{...};` or pass on
  /// another call's err(). `e.code` should not be errc::ok.
  expected(error e) : v_(std::in_place_index<1>, std::move(e)) {}  // NOLINT
  /// Holds the error with code `c` and message `msg`.
  expected(errc c, std::string msg) : v_(std::in_place_index<1>, error{c, std::move(msg)}) {}

  /// True when this holds a value, false when it holds an error.
  bool has_value() const { return v_.index() == 0; }
  /// The same as has_value(), so `if (!result)` tests for a failure.
  explicit operator bool() const { return has_value(); }
  /// The value. Only when has_value().
  T& value() & { return std::get<0>(v_); }
  /// The value. Only when has_value().
  const T& value() const& { return std::get<0>(v_); }
  /// Moves the value out of a temporary. Only when has_value().
  T&& value() && { return std::get<0>(std::move(v_)); }
  /// The value, as value(). Only when has_value().
  T& operator*() & { return value(); }
  /// The value, as value(). Only when has_value().
  const T& operator*() const& { return value(); }
  /// A member of the value, as value(). Only when has_value().
  T* operator->() { return &value(); }
  /// A member of the value, as value(). Only when has_value().
  const T* operator->() const { return &value(); }
  /// The error (code and message). Only when !has_value().
  const error& err() const { return std::get<1>(v_); }
  /// The outcome without the value: a success, or this error.
  status to_status() const { return has_value() ? status{} : status{err()}; }

 private:
  std::variant<T, error> v_;
};

}  // namespace peerlite
