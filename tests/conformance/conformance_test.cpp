// The conformance suite: the test of record for our engine against real Couchbase Lite 3.2.
//
// Every session in tests/vectors/cbl-3.2 (see its README.md) is replayed twice by the capture
// player (player.hpp), once with our engine as the passive peer (suite `passive`) and once as the
// active peer (suite `active`), each time starting from that peer's database as it was when the
// session was recorded (seeds.cpp). Each case fails with the list of differences and the
// session's transcript, so the engine can be fixed from the test output.
//
// Fields that must differ, and why (the player does not compare them):
//  - checkpoint IDs (`client`, getCollections' `checkpoint_ids`): a SHA-1 over each database's
//    private UUID and the remote's URL;
//  - `time` in the checkpoint bodies we save; how many setCheckpoint calls we make (the last
//    one's local/remote are compared; an absent value equals 0);
//  - `bodySize` in proposeChanges and changes: Couchbase Lite's internal Fleece size;
//  - message numbers and the global order of a bidi session (push and pull interleave; compared
//    per Profile); how proposeChanges/changes entries are batched into messages;
//  - `deltas`: we announce none (we send and accept full bodies only), where Couchbase Lite
//    announces `deltas: true`; so the player sends us full bodies instead of the captured deltas,
//    and our revs are compared with full bodies (update-delta-bidi);
//  - property order within a message, and which messages are compressed.
//
// Every case fails when the engine differs from Couchbase Lite: that is their point. (A case our
// engine could not pass yet for lack of a feature would be marked expected_failures(1) with the
// issue that adds it; none is now.)
//
// Run: ctest --test-dir <build> -L conformance --output-on-failure
//   or <build>/tests/conformance/conformance_cbl32_test --run_test=active/update_push
// PEERLITE_CONFORMANCE_VERBOSE=1 prints every report, passing cases included;
// PEERLITE_CONFORMANCE_FULL=1 keeps whole transcripts (long ones are cut in the middle).
#define BOOST_TEST_MODULE conformance_cbl32
#include <atomic>
#include <boost/test/unit_test.hpp>
#include <cstdlib>
#include <iostream>
#include <peerlite/message_endpoint_listener.hpp>
#include <peerlite/replicator.hpp>
#include <thread>

#include "store/database.hpp"
#include "tests/conformance/capture.hpp"
#include "tests/conformance/player.hpp"
#include "tests/conformance/seeds.hpp"

using namespace conformance;
namespace utf = boost::unit_test;

namespace {

void verdict(const player& pl) {
  if (std::getenv("PEERLITE_CONFORMANCE_VERBOSE")) std::cout << pl.report() << std::endl;
  BOOST_TEST(pl.differences().empty(), pl.report());
}

/// Every blob the capture's receiving side fetched (the getAttachment requests sent by the side
/// our engine plays) is in our database afterwards, and its bytes hash to its digest.
void check_blobs(const capture& cap, our_role role, const seeded_db& db) {
  bool ours_c2s = role == our_role::active;
  auto requests = cap.requests(ours_c2s, "getAttachment");
  if (requests.empty()) return;
  auto opened = peerlite::store::database::open((db.dir / "db.sqlite").string());
  BOOST_REQUIRE_MESSAGE(opened.has_value(), "open: " << (opened ? "" : opened.err().message));
  for (size_t i : requests) {
    std::string digest(cap.msgs[i].msg.property("digest"));
    auto bytes = (*opened)->read_blob(digest);
    BOOST_TEST(bytes.has_value(), "blob " << digest << " is missing after the session");
    if (bytes) BOOST_TEST(peerlite::store::blob_digest(*bytes) == digest);
  }
}

/// Our passive replicator, reached through the public listener, faces the capture's client.
void run_passive(const std::string& name) {
  const capture& cap = get_capture(name);
  auto db = build_db(passive_seed(name), cap.url);
  player pl(cap, our_role::passive, notes_for(name));
  {
    peerlite::listener_config cfg;
    cfg.db = db->db;
    cfg.protocol = peerlite::protocol_type::message_stream;
    peerlite::message_endpoint_listener listener(cfg);
    auto id = listener.accept(pl.connection());
    BOOST_REQUIRE_MESSAGE(id.has_value(), "accept: " << (id ? "" : id.err().message));
    pl.play_client();
    listener.close_all();
    listener.wait_closed(kPlayerTimeout);
  }
  verdict(pl);
  check_blobs(cap, our_role::passive, *db);
}

/// Our active replicator connects to the capture's server through the endpoint's delegate.
/// The endpoint's uid is the capture's remote URL: LiteCore keys its checkpoint and its
/// "revision on that remote" marks by it, and the seed records ours under the same name.
void run_active(const std::string& name) {
  const capture& cap = get_capture(name);
  auto db = build_db(active_seed(name), cap.url);
  player pl(cap, our_role::active, notes_for(name));
  peerlite::replicator_config cfg;
  cfg.db = db->db;
  cfg.target.uid = cap.url;
  cfg.target.target = cap.url;
  cfg.target.protocol = peerlite::protocol_type::message_stream;
  cfg.target.delegate = [&pl](const peerlite::message_endpoint&) { return pl.connection(); };
  cfg.type = active_type(name);
  /// A collection-aware session: the collections its getCollections named, in that order.
  for (size_t k : cap.requests(true, "getCollections")) {
    auto req = peerlite::protocol::rep::get_collections_request::decode(cap.msgs[k].msg);
    BOOST_REQUIRE(req.has_value());
    for (auto& c : req->collections) cfg.collections.push_back({c, {}, {}, {}, {}});
    break;
  }
  cfg.max_attempts = 1;  // one connection: a failure is a difference, not a retry
  {
    peerlite::replicator repl(cfg);
    auto stopped = std::make_shared<std::atomic<bool>>(false);
    auto token = repl.add_change_listener([stopped](const peerlite::replicator_status& s) {
      if (s.activity == peerlite::activity_level::stopped) *stopped = true;
    });
    repl.start();
    pl.play_server([&] { return stopped->load(); });
    if (!stopped->load()) repl.stop();
    auto deadline = std::chrono::steady_clock::now() + kPlayerTimeout;
    while (!stopped->load() && std::chrono::steady_clock::now() < deadline)
      std::this_thread::sleep_for(5ms);
    BOOST_TEST(stopped->load(), "our replicator did not stop within kPlayerTimeout");
    token.remove();
    auto last = db->db.last_sequence();
    pl.finish_active(repl.status(), last ? *last : 0);
  }
  verdict(pl);
  check_blobs(cap, our_role::active, *db);
}

}  // namespace

// ---------------------------------------------------------------------------------------------
BOOST_AUTO_TEST_SUITE(passive)

BOOST_AUTO_TEST_CASE(push) { run_passive("push"); }
BOOST_AUTO_TEST_CASE(pull) { run_passive("pull"); }
BOOST_AUTO_TEST_CASE(bidi) { run_passive("bidi"); }
BOOST_AUTO_TEST_CASE(push_big) { run_passive("push-big"); }
BOOST_AUTO_TEST_CASE(pull_big) { run_passive("pull-big"); }
BOOST_AUTO_TEST_CASE(update_push) { run_passive("update-push"); }
BOOST_AUTO_TEST_CASE(update_pull) { run_passive("update-pull"); }
BOOST_AUTO_TEST_CASE(conflict_push) { run_passive("conflict-push"); }
BOOST_AUTO_TEST_CASE(conflict_pull) { run_passive("conflict-pull"); }
BOOST_AUTO_TEST_CASE(conflict_bidi) { run_passive("conflict-bidi"); }
BOOST_AUTO_TEST_CASE(retry_push) { run_passive("retry-push"); }
BOOST_AUTO_TEST_CASE(active_only_pull) { run_passive("active-only-pull"); }
BOOST_AUTO_TEST_CASE(active_only_pull_again) { run_passive("active-only-pull-again"); }
BOOST_AUTO_TEST_CASE(update_delta_bidi) { run_passive("update-delta-bidi"); }
// Blobs: the receiver of a rev fetches each blob it lacks with getAttachment before replying;
// blob_prove's receiver already has the blob, so nothing is fetched (nor proved). Afterwards
// every fetched blob is in our database (check_blobs).
BOOST_AUTO_TEST_CASE(blob_pull) { run_passive("blob-pull"); }
BOOST_AUTO_TEST_CASE(blob_push) { run_passive("blob-push"); }
BOOST_AUTO_TEST_CASE(blob_prove) { run_passive("blob-prove"); }
BOOST_AUTO_TEST_CASE(blob_big_push) { run_passive("blob-big-push"); }
// Collections: our passive side answers getCollections (a checkpoint dict, {} or null per
// collection) and serves each collection it holds under the index the client gave it.
BOOST_AUTO_TEST_CASE(collections) { run_passive("collections"); }
BOOST_AUTO_TEST_CASE(collections_pull) { run_passive("collections-pull"); }
BOOST_AUTO_TEST_CASE(collections_unshared) { run_passive("collections-unshared"); }

BOOST_AUTO_TEST_SUITE_END()

// ---------------------------------------------------------------------------------------------
BOOST_AUTO_TEST_SUITE(active)

BOOST_AUTO_TEST_CASE(push) { run_active("push"); }
BOOST_AUTO_TEST_CASE(pull) { run_active("pull"); }
BOOST_AUTO_TEST_CASE(bidi) { run_active("bidi"); }
BOOST_AUTO_TEST_CASE(push_big) { run_active("push-big"); }
BOOST_AUTO_TEST_CASE(pull_big) { run_active("pull-big"); }
BOOST_AUTO_TEST_CASE(update_push) { run_active("update-push"); }
BOOST_AUTO_TEST_CASE(update_pull) { run_active("update-pull"); }
BOOST_AUTO_TEST_CASE(conflict_push) { run_active("conflict-push"); }
BOOST_AUTO_TEST_CASE(conflict_pull) { run_active("conflict-pull"); }
BOOST_AUTO_TEST_CASE(conflict_bidi) { run_active("conflict-bidi"); }
BOOST_AUTO_TEST_CASE(retry_push) { run_active("retry-push"); }
BOOST_AUTO_TEST_CASE(active_only_pull) { run_active("active-only-pull"); }
BOOST_AUTO_TEST_CASE(active_only_pull_again) { run_active("active-only-pull-again"); }
BOOST_AUTO_TEST_CASE(update_delta_bidi) { run_active("update-delta-bidi"); }
// Blobs: the receiver of a rev fetches each blob it lacks with getAttachment before replying;
// blob_prove's receiver already has the blob, so nothing is fetched (nor proved). Afterwards
// every fetched blob is in our database (check_blobs).
BOOST_AUTO_TEST_CASE(blob_pull) { run_active("blob-pull"); }
BOOST_AUTO_TEST_CASE(blob_push) { run_active("blob-push"); }
BOOST_AUTO_TEST_CASE(blob_prove) { run_active("blob-prove"); }
BOOST_AUTO_TEST_CASE(blob_big_push) { run_active("blob-big-push"); }
// Collections: replicator_config::collections makes the session collection-aware
// (getCollections, a `collection` index on every per-collection request, a checkpoint each).
BOOST_AUTO_TEST_CASE(collections) { run_active("collections"); }
BOOST_AUTO_TEST_CASE(collections_pull) { run_active("collections-pull"); }
BOOST_AUTO_TEST_CASE(collections_unshared) { run_active("collections-unshared"); }

BOOST_AUTO_TEST_SUITE_END()
