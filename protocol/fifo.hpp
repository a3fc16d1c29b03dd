// protocol::fifo: a first-in-first-out queue that keeps its storage, for the session's outbox,
// its queue of complete incoming messages and its window of pending requests.
//
// Those queues churn one element at a time (push one, pop one). std::deque allocates and frees a
// 512-byte block every few elements there (measured in blip_roundtrip: ~120 instructions and a
// malloc/free pair per message for the outbox alone); a vector with a moving head reuses the
// same storage, and inserting in the middle (urgent messages) stays possible.
#pragma once

#include <cstddef>
#include <utility>
#include <vector>

namespace peerlite::protocol {

template <class T>
class fifo {
 public:
  using iterator = typename std::vector<T>::iterator;
  using const_iterator = typename std::vector<T>::const_iterator;

  bool empty() const { return head_ == items_.size(); }
  size_t size() const { return items_.size() - head_; }
  T& front() { return items_[head_]; }
  const T& front() const { return items_[head_]; }
  T& operator[](size_t i) { return items_[head_ + i]; }
  const T& operator[](size_t i) const { return items_[head_ + i]; }
  iterator begin() { return items_.begin() + static_cast<std::ptrdiff_t>(head_); }
  iterator end() { return items_.end(); }
  const_iterator begin() const { return items_.begin() + static_cast<std::ptrdiff_t>(head_); }
  const_iterator end() const { return items_.end(); }

  template <class... Args>
  T& emplace_back(Args&&... args) {
    return items_.emplace_back(std::forward<Args>(args)...);
  }
  void push_back(T&& value) { items_.push_back(std::move(value)); }
  /// Inserts before `at` (an iterator of this queue); other iterators become invalid.
  iterator insert(iterator at, T&& value) { return items_.insert(at, std::move(value)); }
  /// Removes the back element; the queue must not be empty.
  void pop_back() {
    items_.pop_back();
    if (empty()) clear();
  }

  /// Removes the front element, releasing what it holds now. The queue must not be empty.
  void pop_front() {
    if (++head_ == items_.size()) {
      clear();  // drained: start over at the front of the same storage
      return;
    }
    items_[head_ - 1] = T{};
    /// Never drained (a steady stream): drop the dead front once it is half the storage, so
    /// the storage stays within twice the queue's length and each element moves O(1) times.
    if (head_ >= kCompactAfter && 2 * head_ >= items_.size()) {
      items_.erase(items_.begin(), begin());
      head_ = 0;
    }
  }

  void clear() {
    items_.clear();
    head_ = 0;
  }

 private:
  /// Compaction moves the live elements; below this many dead ones it is not worth it.
  static constexpr size_t kCompactAfter = 32;
  std::vector<T> items_;
  size_t head_ = 0;  ///< index of the front element in items_
};

}  // namespace peerlite::protocol
