// Request timeouts kept by the requesting actor instead of CAF's clock.
//
// CAF 0.17 files every `request(dest, timeout, ...)` in its actor clock (an entry of about
// 190 bytes in a mutex-guarded multimap, and a wake-up of the clock thread) and leaves it there
// until its deadline passes, whether or not the // response came. A hub serving 20 continuous peers made about 1,000 requests per second, so it
// held two minutes of them (kDbRequestTimeout, kPeerRequestTimeout): a steady climb of its RSS,
// 15 MiB in 80 s, that the soak test caught (seed 70156353781587569). A standalone measurement
// of 300,000 requests with a 120 s timeout: 54.7 MiB of heap still held after every response
// arrived, and 0.9 us more CPU per request than with caf::infinite.
//
// So the replication actors send their requests with caf::infinite and keep the deadlines
// themselves: a small vector in the actor's state (entries leave it when their response or
// error arrives) and one wake-up in the clock per actor, armed for the earliest deadline (an actor
// with requests always in flight wakes once per timeout, not once per request). A request whose
// deadline passes gets sec::request_timeout, delivered to its own error handler exactly as CAF's
// timeout would; a response arriving after that is dropped, as CAF drops it.
//
// Use: the actor's state has a `request_deadlines deadlines;` member, and
//   timed_request(self, dest, kPeerRequestTimeout, xs...).then(on_reply, on_error);
#pragma once

#include <algorithm>
#include <caf/all.hpp>
#include <chrono>
#include <utility>
#include <vector>

namespace peerlite::actors {

class request_deadlines {
 public:
  using time_point = caf::actor_clock::time_point;

  /// Watches the request whose response carries `id`: past `due` it fails with
  /// sec::request_timeout.
  template <class Self>
  void watch(Self* self, caf::message_id id, time_point due) {
    pending_.push_back({id, due});
    if (due < armed_) arm(self, due);
  }

  /// The response (or error) for `id` arrived.
  void settle(caf::message_id id) {
    for (size_t i = pending_.size(); i-- > 0;) {
      if (pending_[i].id == id) {
        pending_[i] = pending_.back();
        pending_.pop_back();
        return;
      }
    }
  }

  size_t size() const { return pending_.size(); }

 private:
  struct entry {
    caf::message_id id;
    time_point due;
  };

  /// One clock wake-up at `due`, through a response handler of its own: CAF's request timeout
  /// for a request never sent. Its handler runs only while the actor (and so this state) lives.
  template <class Self>
  void arm(Self* self, time_point due) {
    armed_ = due;
    auto req = self->new_request_id(caf::message_priority::normal);
    auto* me = this;
    self->add_multiplexed_response_handler(
        req.response_id(), caf::behavior{[self, me, due](caf::error&) { me->sweep(self, due); }});
    auto wait = std::max(due - self->clock().now(), time_point::duration::zero());
    self->request_response_timeout(
        caf::duration{std::chrono::duration_cast<std::chrono::nanoseconds>(wait) + kSlack}, req);
  }

  template <class Self>
  void sweep(Self* self, time_point fired) {
    if (fired == armed_) armed_ = time_point::max();
    auto now = self->clock().now();
    auto next = time_point::max();
    for (size_t i = 0; i < pending_.size();) {
      if (pending_[i].due <= now) {
        auto id = pending_[i].id;
        pending_[i] = pending_.back();
        pending_.pop_back();
        self->enqueue(
            caf::make_mailbox_element(nullptr, id, {}, caf::make_error(caf::sec::request_timeout)),
            self->context());
      } else {
        next = std::min(next, pending_[i].due);
        ++i;
      }
    }
    if (next < armed_) arm(self, next);
  }

  /// Fire a little late rather than early (the deadline is compared with a later now()).
  static constexpr std::chrono::milliseconds kSlack{1};

  std::vector<entry> pending_;
  /// The earliest wake-up in flight (a later one may also be, and finds nothing to do).
  time_point armed_ = time_point::max();
};

namespace detail {

/// A response handler that first tells the deadlines its request is settled. It keeps the
/// wrapped handler's exact parameter list, from which CAF matches the response.
template <class F, class... Args>
struct settling {
  request_deadlines* deadlines;
  caf::message_id id;
  F f;
  void operator()(Args... xs) {
    deadlines->settle(id);
    f(std::forward<Args>(xs)...);
  }
};

template <class F, class... Args>
settling<F, Args...> make_settling(request_deadlines* d, caf::message_id id, F f,
                                   caf::detail::type_list<Args...>) {
  return {d, id, std::move(f)};
}

template <class F>
auto settle_first(request_deadlines* d, caf::message_id id, F f) {
  return make_settling(d, id, std::move(f),
                       typename caf::detail::get_callable_trait<F>::arg_types{});
}

template <class Self, class Handle>
class timed_handle {
 public:
  timed_handle(Self* self, Handle h, request_deadlines::time_point due)
      : self_(self), h_(std::move(h)), due_(due) {}

  template <class F, class G>
  void then(F f, G g) {
    auto* d = &self_->state.deadlines;
    d->watch(self_, h_.id(), due_);
    h_.then(settle_first(d, h_.id(), std::move(f)), settle_first(d, h_.id(), std::move(g)));
  }

 private:
  Self* self_;
  Handle h_;
  request_deadlines::time_point due_;
};

}  // namespace detail

/// `self->request(dest, timeout, xs...)`, with the timeout kept in `self->state.deadlines`
/// (see the top of this file). Call `.then(on_reply, on_error)` on the result.
template <class Self, class Dest, class Rep, class Period, class... Ts>
auto timed_request(Self* self, const Dest& dest, std::chrono::duration<Rep, Period> timeout,
                   Ts&&... xs) {
  auto due = self->clock().now() + timeout;
  auto h = self->request(dest, caf::infinite, std::forward<Ts>(xs)...);
  return detail::timed_handle<Self, decltype(h)>(self, std::move(h), due);
}

}  // namespace peerlite::actors
