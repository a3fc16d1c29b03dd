// peerlite loopback: two message_endpoint_connection objects joined by an in-process wire, the
// way an app would join two peers over its own transport. Used by tests and benchmarks, and a
// worked example of the MessageEndpoint contract (it uses nothing but <peerlite/...>).
//
//   auto [active, passive] = peerlite::loopback::make_pair({.protocol = ...}, {...});
//   listener.accept(std::move(passive.connection));   // passive peer
//   return std::move(active.connection);              // from the active peer's delegate
//
// Delivery: one thread per pair delivers each direction in order, in batches (one wake-up
// carries everything queued). MESSAGE_STREAM keeps message boundaries; BYTE_STREAM merges
// everything queued and re-splits it at random points, so peerlite's reassembly is exercised.
// Closing one side tells the other side's peerlite (replicator_connection::close(nullopt))
// after every byte sent before the close was delivered, as the seed's teardown describes.
//
// Faults (per side, applied to what that side does): delivery delay, a link that drops after N
// bytes, send() failing after N sends (recoverable or not), open() failing, and completions
// called synchronously, from the wire thread, or (close only) never.
//
// Thread safety: peerlite calls the connection from its threads; probes are thread-safe.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <limits>
#include <memory>
#include <mutex>
#include <optional>
#include <peerlite/message_endpoint.hpp>
#include <string>
#include <utility>

namespace peerlite::loopback {

/// When a completion is called.
enum class completion_mode : uint8_t {
  synchronous,  ///< inside the call (open/send/close) itself
  threaded,     ///< later, from the wire's delivery thread
  never,        ///< never (close only: peerlite must give up after its close timeout)
};

/// What one side of the pair does. Defaults: a perfect, fast pipe.
struct options {
  protocol_type protocol = protocol_type::message_stream;
  completion_mode open_completion = completion_mode::threaded;
  completion_mode send_completion = completion_mode::synchronous;
  completion_mode close_completion = completion_mode::synchronous;
  /// Every delivery of what this side sends waits this long.
  std::chrono::microseconds delay{0};
  /// open() completes with this error instead of success.
  std::optional<messaging_error> open_error;
  /// This many sends succeed; every later send() fails with send_error (nothing delivered).
  uint64_t fail_send_after = std::numeric_limits<uint64_t>::max();
  messaging_error send_error{"loopback: injected send failure", true};
  /// The link breaks once this side has sent this many bytes: the bytes up to that point are
  /// delivered, the send that crossed it fails with drop_error, and both sides' apps report
  /// the break (replicator_connection::close(drop_error)).
  uint64_t drop_after_bytes = std::numeric_limits<uint64_t>::max();
  messaging_error drop_error{"loopback: link dropped", true};
  /// BYTE_STREAM: the largest chunk handed to receive() (chunks are random in 1..max_chunk).
  size_t max_chunk = 32 * 1024;
  uint64_t seed = 0x5eed;
};

struct wire;
class connection;
struct endpoint;

/// A side's observable facts, valid after peerlite has destroyed the connection.
class link_probe {
 public:
  /// Made by make_pair for side `side` (0 or 1) of `w`.
  link_probe(std::weak_ptr<wire> w, int side) : wire_(std::move(w)), side_(side) {}

  /// Blocks until the app's close() was called (or timeout); true if it was.
  bool wait_closed(std::chrono::milliseconds timeout);
  /// Blocks until the app's open() was called (or timeout); true if it was.
  bool wait_opened(std::chrono::milliseconds timeout);
  /// Delivers `bytes` to THIS side's peerlite as if the peer had sent them.
  void inject(std::string bytes);
  /// This side's app reports its transport gone: replicator_connection::close(error) on the
  /// wire thread, and the peer learns it as a normal disconnect.
  void disconnect(std::optional<messaging_error> error = std::nullopt);

  uint64_t sends() const;
  uint64_t bytes_sent() const;
  bool opened() const;
  bool closed() const;
  /// The error peerlite passed to close(), if any.
  std::optional<messaging_error> close_error() const;

 private:
  friend struct wire;
  friend class connection;
  void on_open();
  void on_send(uint64_t bytes, bool ok);
  void on_close(const std::optional<messaging_error>& error);
  mutable std::mutex mtx_;
  std::condition_variable cv_;
  uint64_t sends_ = 0;
  uint64_t bytes_sent_ = 0;
  bool opened_ = false;
  bool closed_ = false;
  std::optional<messaging_error> close_error_;
  std::weak_ptr<wire> wire_;
  int side_ = 0;
};

/// One side: the connection to hand to peerlite, and its probe.
struct endpoint {
  std::unique_ptr<message_endpoint_connection> connection;
  std::shared_ptr<link_probe> probe;
};

/// Two connected sides. `a` and `b` must use the same protocol type.
std::pair<endpoint, endpoint> make_pair(options a = {}, options b = {});

}  // namespace peerlite::loopback
