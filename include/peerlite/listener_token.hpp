// peerlite: the handle an add_*_listener call returns.
#pragma once

#include <functional>
#include <utility>

namespace peerlite {

/// Keeps a registered listener registered. Call remove() to unregister it; after remove()
/// returns, the listener is not called again (a call already running on another thread may
/// still finish). Destroying a token does NOT remove its listener, so a caller that does not
/// care may drop the token. Movable, not copyable. Thread-safe: remove() may be called from
/// any thread, more than once (later calls do nothing).
class listener_token {
 public:
  /// An empty token: remove() does nothing.
  listener_token() = default;
  /// A token whose first remove() calls `remover` (peerlite's add_*_listener calls make these).
  explicit listener_token(std::function<void()> remover) : remover_(std::move(remover)) {}
  /// Takes over `other`'s listener; `other` becomes empty.
  listener_token(listener_token&& other) noexcept : remover_(std::exchange(other.remover_, {})) {}
  /// Takes over `other`'s listener; `other` becomes empty. The listener this token held
  /// before is not removed (as when a token is dropped).
  listener_token& operator=(listener_token&& other) noexcept {
    remover_ = std::exchange(other.remover_, {});
    return *this;
  }
  listener_token(const listener_token&) = delete;
  listener_token& operator=(const listener_token&) = delete;

  /// Unregisters the listener. Does nothing on an empty or already removed token.
  void remove() {
    if (auto f = std::exchange(remover_, {})) f();
  }

 private:
  std::function<void()> remover_;
};

}  // namespace peerlite
