// protocol::fifo, the session's queue that keeps its storage: order, insertion in the middle,
// compaction of a queue that is never drained, and release of popped elements.
#define BOOST_TEST_MODULE fifo
#include "protocol/fifo.hpp"

#include <boost/test/unit_test.hpp>
#include <memory>
#include <string>

using peerlite::protocol::fifo;

namespace {
std::string item(int i) { return "element number " + std::to_string(i) + " (heap sized)"; }
}  // namespace

BOOST_AUTO_TEST_CASE(first_in_first_out) {
  fifo<std::string> q;
  BOOST_CHECK(q.empty());
  for (int i = 0; i < 5; ++i) q.push_back(item(i));
  BOOST_CHECK_EQUAL(q.size(), 5u);
  for (int i = 0; i < 5; ++i) {
    BOOST_CHECK_EQUAL(q.front(), item(i));
    q.pop_front();
  }
  BOOST_CHECK(q.empty());
  q.emplace_back(item(9));  // reuses the drained storage
  BOOST_CHECK_EQUAL(q.front(), item(9));
  BOOST_CHECK_EQUAL(q.size(), 1u);
}

/// A queue that never drains (a steady stream) compacts its dead front and keeps its order.
BOOST_AUTO_TEST_CASE(steady_stream_keeps_order) {
  fifo<std::string> q;
  int next_in = 0, next_out = 0;
  for (int round = 0; round < 1000; ++round) {
    q.push_back(item(next_in++));
    q.push_back(item(next_in++));
    BOOST_REQUIRE_EQUAL(q.front(), item(next_out));
    q.pop_front();
    ++next_out;
    BOOST_REQUIRE_EQUAL(q.size(), static_cast<size_t>(next_in - next_out));
  }
  for (size_t i = 0; i < q.size(); ++i) BOOST_REQUIRE_EQUAL(q[i], item(next_out + int(i)));
  size_t seen = 0;
  for (auto& s : q) BOOST_REQUIRE_EQUAL(s, item(next_out + int(seen++)));
  BOOST_CHECK_EQUAL(seen, q.size());
}

/// Insertion before an element (urgent messages), pop_back (a message that failed to decode).
BOOST_AUTO_TEST_CASE(insert_and_pop_back) {
  fifo<std::string> q;
  for (int i = 0; i < 40; ++i) q.push_back(item(i));
  for (int i = 0; i < 35; ++i) q.pop_front();  // past the compaction threshold
  q.insert(q.begin() + 1, item(100));
  BOOST_REQUIRE_EQUAL(q.size(), 6u);
  BOOST_CHECK_EQUAL(q[0], item(35));
  BOOST_CHECK_EQUAL(q[1], item(100));
  BOOST_CHECK_EQUAL(q[2], item(36));
  q.pop_back();
  BOOST_CHECK_EQUAL(q.size(), 5u);
  BOOST_CHECK_EQUAL(q[4], item(38));
  while (!q.empty()) q.pop_front();
  q.emplace_back(item(7));
  q.pop_back();
  BOOST_CHECK(q.empty());
}

/// A popped element releases what it holds at once, not when the storage is reused.
BOOST_AUTO_TEST_CASE(pop_releases_at_once) {
  auto held = std::make_shared<int>(1);
  fifo<std::shared_ptr<int>> q;
  q.push_back(std::shared_ptr<int>(held));
  q.push_back(std::make_shared<int>(2));
  BOOST_CHECK_EQUAL(held.use_count(), 2);
  q.pop_front();
  BOOST_CHECK_EQUAL(held.use_count(), 1);
  BOOST_CHECK_EQUAL(*q.front(), 2);
}
