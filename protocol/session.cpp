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

// ---- pending_set ----

void pending_set::add(uint64_t number, bool awaited) {
  if (awaited_.empty()) base_ = number;
  awaited_.push_back(awaited);
  count_ += awaited;
  trim();
}

bool pending_set::contains(uint64_t number) const {
  return number >= base_ && number - base_ < awaited_.size() && awaited_[number - base_];
}

bool pending_set::take(uint64_t number) {
  if (!contains(number)) return false;
  awaited_[number - base_] = false;
  --count_;
  trim();
  return true;
}

std::vector<uint64_t> pending_set::numbers() const {
  std::vector<uint64_t> out;
  out.reserve(count_);
  for (size_t i = 0; i < awaited_.size(); ++i)
    if (awaited_[i]) out.push_back(base_ + i);
  return out;
}

void pending_set::clear() {
  awaited_.clear();
  count_ = 0;
}

/// Answered requests at the front need no flag any more.
void pending_set::trim() {
  while (!awaited_.empty() && !awaited_.front()) {
    awaited_.pop_front();
    ++base_;
  }
}

// ---- session ----

session::impl::impl(session_options o) : options(clamped(o)) {}

session::session(session_options options) : impl_(std::make_unique<impl>(options)) {}
session::~session() = default;
session::session(session&&) noexcept = default;
session& session::operator=(session&&) noexcept = default;

status session::receive_frame(std::string_view frame) { return impl_->receive(frame); }

std::optional<message> session::next_incoming() {
  auto& ready = impl_->ready;
  if (ready.empty()) return std::nullopt;
  std::optional<message> m(std::move(ready.front()));  // returned as is: one move per message
  ready.pop_front();
  return m;
}

uint64_t session::send(message msg) { return impl_->enqueue(std::move(msg)); }

bool session::has_frames() const {
  auto& s = *impl_;
  return !s.closed && s.failure.ok() && (!s.acks.empty() || !s.outbox.empty());
}

bool session::has_unsent() const {
  auto& s = *impl_;
  return has_frames() || (!s.closed && s.failure.ok() && !s.paused.empty());
}

bool session::next_frame(std::string& out) { return impl_->frame_next(out); }

bool session::is_pending(uint64_t number) const { return impl_->pending.contains(number); }
size_t session::pending_count() const { return impl_->pending.size(); }

std::vector<uint64_t> session::close() {
  auto& s = *impl_;
  std::vector<uint64_t> numbers = s.pending.numbers();
  s.closed = true;
  s.pending.clear();
  s.requests_in.clear();
  s.replies_in.clear();
  s.outbox.clear();
  s.paused.clear();
  s.acks.clear();
  s.buffered = 0;
  return numbers;
}

const status& session::failure() const { return impl_->failure; }
const session_stats& session::stats() const { return impl_->stats; }

}  // namespace peerlite::protocol
