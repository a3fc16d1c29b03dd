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
  ok = 0,
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
};

/// A failure: a code and a message a person can act on.
struct error {
  errc code = errc::ok;
  std::string message;
};

const char* to_string(errc code);

/// The outcome of a call that yields nothing: ok(), or an error.
class status {
 public:
  status() = default;
  status(error e) : err_(std::move(e)) {}  // NOLINT: implicit by design
  status(errc c, std::string msg) : err_{c, std::move(msg)} {}
  static status success() { return {}; }

  bool ok() const { return err_.code == errc::ok; }
  explicit operator bool() const { return ok(); }
  errc code() const { return err_.code; }
  const std::string& message() const { return err_.message; }
  const error& err() const { return err_; }

 private:
  error err_;
};

/// A value or an error. Accessing value() of an error is a programming mistake (asserts).
template <class T>
class expected {
 public:
  expected(T v) : v_(std::in_place_index<0>, std::move(v)) {}  // NOLINT
  expected(error e) : v_(std::in_place_index<1>, std::move(e)) {}  // NOLINT
  expected(errc c, std::string msg) : v_(std::in_place_index<1>, error{c, std::move(msg)}) {}

  bool has_value() const { return v_.index() == 0; }
  explicit operator bool() const { return has_value(); }
  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  const error& err() const { return std::get<1>(v_); }
  status to_status() const { return has_value() ? status{} : status{err()}; }

 private:
  std::variant<T, error> v_;
};

}  // namespace peerlite
