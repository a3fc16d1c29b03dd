// Counts every heap allocation in the benchmark's process (both sides of the in-process cases,
// CAF, SQLite's C++ callers; not SQLite's own malloc), for the allocations-per-document figure
// of push_inproc, pull_inproc, push_ws and pull_ws. Sixty-four padded counters, one picked per
// thread, keep the count from becoming a shared cache line; the cost is one uncontended atomic
// add per allocation (~1 ns, against ~100 ns for the allocation itself).
#include <atomic>
#include <cstdlib>
#include <functional>
#include <new>
#include <thread>

#include "bench/bench.hpp"

namespace {

struct alignas(64) slot {
  std::atomic<uint64_t> n{0};
};
slot g_slots[64];

inline void count_one() {
  thread_local const size_t mine = std::hash<std::thread::id>{}(std::this_thread::get_id()) % 64;
  g_slots[mine].n.fetch_add(1, std::memory_order_relaxed);
}

void* allocate(std::size_t size) {
  count_one();
  if (void* p = std::malloc(size ? size : 1)) return p;
  throw std::bad_alloc();
}

void* allocate_aligned(std::size_t size, std::align_val_t align) {
  count_one();
  auto a = static_cast<std::size_t>(align);
  if (void* p = std::aligned_alloc(a, (size + a - 1) / a * a)) return p;
  throw std::bad_alloc();
}

}  // namespace

void* operator new(std::size_t size) { return allocate(size); }
void* operator new[](std::size_t size) { return allocate(size); }
void* operator new(std::size_t size, const std::nothrow_t&) noexcept {
  count_one();
  return std::malloc(size ? size : 1);
}
void* operator new[](std::size_t size, const std::nothrow_t&) noexcept {
  count_one();
  return std::malloc(size ? size : 1);
}
void* operator new(std::size_t size, std::align_val_t a) { return allocate_aligned(size, a); }
void* operator new[](std::size_t size, std::align_val_t a) { return allocate_aligned(size, a); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }
void operator delete(void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete(void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }

namespace peerlite::bench {

uint64_t allocations() {
  uint64_t total = 0;
  for (auto& s : g_slots) total += s.n.load(std::memory_order_relaxed);
  return total;
}

}  // namespace peerlite::bench
