// A sender round-robins the frames of everything it has queued, so an honest peer pushing
// thousands of revs of two frames each has them all in reassembly at once at our end
// (protocol/tuning.hpp kMaxIncompleteMessages). That failed a real `peerlite sync --pull` of
// 8 KiB documents when the cap was 1,024.
#define BOOST_TEST_MODULE blip_interleave
#include <boost/test/unit_test.hpp>

#include "tests/protocol/blip_test_util.hpp"

using namespace peerlite;
using namespace peerlite::protocol;
using blip_test::make_request;
using blip_test::pump;

BOOST_AUTO_TEST_CASE(thousands_of_interleaved_multi_frame_messages_are_reassembled) {
  constexpr int kMessages = 6000;  // actors::kMaxRevsInFlight: what our pusher keeps queued
  session peer, us;
  std::string body(8 * 1024, 'b');
  for (int i = 0; i < kMessages; ++i) {
    auto m = make_request("rev", body);
    m.no_reply = true;
    peer.send(std::move(m));
  }
  auto st = pump(peer, us);
  BOOST_TEST_REQUIRE(st.ok(), st.message());
  size_t got = 0;
  while (auto m = us.next_incoming()) got += m->body.size() == body.size();
  BOOST_TEST(got == size_t(kMessages));
}
