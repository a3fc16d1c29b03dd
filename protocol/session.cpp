// protocol::session: lifetime and the public surface; the work is in session_receive.cpp and
// session_send.cpp.
#include <algorithm>

#include "protocol/session_impl.hpp"

namespace peerlite::protocol {

namespace {
session_options clamped(session_options o) {
  o.compression_level = std::clamp(o.compression_level, 0, 9);
  o.deflate_window_bits = std::clamp(o.deflate_window_bits, 9, 15);
  o.deflate_mem_level = std::clamp(o.deflate_mem_level, 1, 9);
  return o;
}
}  // namespace

session::impl::impl(session_options o) : options(clamped(o)) {}

session::session(session_options options) : impl_(std::make_unique<impl>(options)) {}
session::~session() = default;
session::session(session&&) noexcept = default;
session& session::operator=(session&&) noexcept = default;

status session::receive_frame(std::string_view frame) { return impl_->receive(frame); }

std::optional<message> session::next_incoming() {
  if (impl_->ready.empty()) return std::nullopt;
  message m = std::move(impl_->ready.front());
  impl_->ready.pop_front();
  return m;
}

uint64_t session::send(message msg) { return impl_->enqueue(std::move(msg)); }

bool session::has_frames() const {
  auto& s = *impl_;
  return !s.closed && s.failure.ok() && (!s.acks.empty() || !s.outbox.empty());
}

bool session::next_frame(std::string& out) { return impl_->frame_next(out); }

bool session::is_pending(uint64_t number) const { return impl_->pending.count(number) > 0; }
size_t session::pending_count() const { return impl_->pending.size(); }

std::vector<uint64_t> session::close() {
  auto& s = *impl_;
  std::vector<uint64_t> numbers;
  numbers.reserve(s.pending.size());
  for (auto& kv : s.pending) numbers.push_back(kv.first);
  std::sort(numbers.begin(), numbers.end());
  s.closed = true;
  s.pending.clear();
  s.requests_in.clear();
  s.outbox.clear();
  s.paused.clear();
  s.acks.clear();
  s.buffered = 0;
  return numbers;
}

const status& session::failure() const { return impl_->failure; }
const session_stats& session::stats() const { return impl_->stats; }

}  // namespace peerlite::protocol
