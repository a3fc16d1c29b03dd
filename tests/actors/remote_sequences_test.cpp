// The puller's remote checkpoint: the last sequence of the finished prefix, in the order the
// peer sent its `changes` lists (their request numbers), whatever order they complete in.
#define BOOST_TEST_MODULE remote_sequences
#include <boost/test/unit_test.hpp>

#include "actors/puller_state.hpp"

using peerlite::actors::remote_sequences;

namespace {

/// A list of sequences `from`..`to` (all wanted) as request `number`, as the puller takes it:
/// seen, then its entries, then the prefix moves.
/// `done_first`: the list's first entry was not wanted (done at once).
void add_list(remote_sequences& s, uint64_t number, int from, int to, bool done_first = false) {
  s.seen(number);
  for (int i = from; i <= to; ++i) s.add(number, std::to_string(i), i == from && done_first);
  s.finish({});
}

void finish_all(remote_sequences& s, int from, int to) {
  for (int i = from; i <= to; ++i) s.finish(std::to_string(i));
}

}  // namespace

BOOST_AUTO_TEST_CASE(lists_in_order_advance_in_order) {
  remote_sequences s;
  add_list(s, 1, 1, 3);
  add_list(s, 2, 4, 5);
  s.finish("2");
  BOOST_TEST(s.checkpoint == "");
  s.finish("1");
  BOOST_TEST(s.checkpoint == "2");
  finish_all(s, 3, 5);
  BOOST_TEST(s.checkpoint == "5");
}

/// A big list (request 1) completes after a small later one (request 2): the checkpoint
/// follows the lists' order, not their arrival (it used to end at the first list's last).
BOOST_AUTO_TEST_CASE(a_later_list_arriving_first_does_not_reorder_the_checkpoint) {
  remote_sequences s;
  add_list(s, 2, 201, 304);
  finish_all(s, 201, 304);
  /// Request 1 has not arrived: nothing may be checkpointed past it, and there is a gap.
  BOOST_TEST(s.checkpoint == "");
  BOOST_TEST(s.gap());
  /// Its first entry is not wanted: that must not let the prefix run into request 2 before
  /// the rest of request 1 is in.
  add_list(s, 1, 1, 200, /*done_first=*/true);
  BOOST_TEST(!s.gap());
  BOOST_TEST(s.checkpoint == "1");
  finish_all(s, 2, 200);
  BOOST_TEST(s.checkpoint == "304");
}

/// Requests that are not lists (revs) fill the numbering too; entries not wanted are done at
/// once.
BOOST_AUTO_TEST_CASE(other_requests_close_gaps_and_unwanted_entries_count_as_done) {
  remote_sequences s;
  add_list(s, 1, 1, 2);
  BOOST_TEST(!s.seen(3));  // a rev; request 2 is still missing
  s.seen(4);
  s.add(4, "3", false);
  s.add(4, "4", true);
  s.finish({});
  BOOST_TEST(s.gap());  // 2 missing
  BOOST_TEST(s.seen(2));
  BOOST_TEST(!s.gap());
  finish_all(s, 1, 3);
  BOOST_TEST(s.checkpoint == "4");
}
