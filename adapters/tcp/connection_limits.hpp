// How many connections a listener admits, in all and per client address: a hub answers the
// next one with a refusal (HTTP 503 over WebSocket, a closed socket over raw TCP) instead of
// running out of file descriptors or letting one address take every slot.
//
// A connection counts from the moment it is accepted (its handshake included) until its socket
// is gone: the ticket admit() returns is held by the pipe and released by its destructor.
//
// Thread safety: every member may be called from any thread.
#pragma once

#include <cstddef>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <variant>

#include "adapters/tcp/net_tuning.hpp"

namespace peerlite::net {

class connection_limits : public std::enable_shared_from_this<connection_limits> {
 public:
  /// 0 = no limit.
  connection_limits(size_t max_total = kMaxConnections,
                    size_t max_per_address = kMaxConnectionsPerAddress)
      : max_total_(max_total), max_per_address_(max_per_address) {}

  /// A ticket to hold for the connection's life, or why it is refused.
  std::variant<std::shared_ptr<void>, std::string> admit(const std::string& address) {
    std::lock_guard lk(mx_);
    if (max_total_ && total_ >= max_total_)
      return "the hub is full (" + std::to_string(max_total_) + " connections, --max-connections)";
    auto& n = per_address_[address];
    if (max_per_address_ && n >= max_per_address_)
      return "too many connections from " + address + " (" + std::to_string(max_per_address_) +
             ", --max-connections-per-address)";
    ++n;
    ++total_;
    return std::shared_ptr<void>(nullptr, [self = shared_from_this(), address](void*) {
      self->release(address);
    });
  }

  size_t live() const {
    std::lock_guard lk(mx_);
    return total_;
  }

 private:
  void release(const std::string& address) {
    std::lock_guard lk(mx_);
    --total_;
    if (auto it = per_address_.find(address); it != per_address_.end() && --it->second == 0)
      per_address_.erase(it);
  }

  const size_t max_total_, max_per_address_;
  mutable std::mutex mx_;
  size_t total_ = 0;
  std::unordered_map<std::string, size_t> per_address_;
};

}  // namespace peerlite::net
