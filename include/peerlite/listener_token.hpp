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
  listener_token() = default;
  explicit listener_token(std::function<void()> remover) : remover_(std::move(remover)) {}
  listener_token(listener_token&& other) noexcept : remover_(std::exchange(other.remover_, {})) {}
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
