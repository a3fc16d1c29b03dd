// The capture player: a fake peer that plays one side of a real Couchbase Lite 3.2 session
// against our real engine, and lists every difference between what our engine does and what
// Couchbase Lite did.
//
// It talks to the engine only through the public transport API: it is a
// message_endpoint_connection (protocol_type::message_stream, so each transport message is
// exactly one BLIP frame) that the engine opens, and it feeds the engine's replicator_connection.
// Its own BLIP side is a protocol::session: the engine's frames are decoded by it, and the
// captured messages it sends are re-encoded by it (with its own CRC and deflate stream).
//
// Everything the player does happens on the test thread; the engine's threads only queue
// frames into a link_state and complete their callbacks at once.
//
// Two roles (which side OUR ENGINE plays):
//  - passive: our passive replicator (through message_endpoint_listener::accept) faces the
//    player, which replays the capture's active side (client, c2s). A captured client request
//    goes out once every server message that precedes it in the capture has arrived from our
//    engine (or was found missing), so the player follows the real client's causality; our
//    engine's requests (changes, rev, getAttachment) are answered at once with the captured
//    answer to the matching captured request.
//  - active: our active replicator connects through an endpoint whose delegate returns the
//    player, which replays the capture's passive side (server, s2c): our requests get the
//    captured reply of the matching captured request (same Profile, same occurrence; `rev` by
//    docID), and the server's own requests go out when the capture's causality allows
//    (`changes` after our subChanges, a `rev` after our reply to the `changes` that listed it,
//    and only if that reply asked for it, `getAttachment` after our `rev` of that document).
//
// Matching is per Profile, never by global order: bidi sessions interleave push and pull
// differently from run to run (conflict-bidi was recorded 7 times in 3 interleavings).
#pragma once

#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <peerlite/message_endpoint.hpp>
#include <peerlite/replicator.hpp>
#include <set>
#include <string>
#include <vector>

#include "protocol/rep_messages.hpp"
#include "protocol/session.hpp"
#include "tests/conformance/capture.hpp"

namespace conformance {

using namespace std::chrono_literals;

/// The longest the player waits for anything our engine owes it: the connection to open, a
/// reply to a request the player sent, the connection to close, the replicator to stop.
inline constexpr std::chrono::milliseconds kPlayerTimeout = 10s;
/// Our engine silent this long while the player still expects a message it sends unasked
/// (a `rev`, a `changes`, a `getAttachment`, our replicator's next request): that message is
/// reported missing and the session goes on without it.
inline constexpr std::chrono::milliseconds kStallTimeout = 3s;
/// After the capture's last message: how long the player keeps listening for extra messages
/// from our engine before it closes (passive role).
inline constexpr std::chrono::milliseconds kQuietPeriod = 300ms;

enum class our_role { passive, active };

/// What a case knows beyond the capture.
struct case_notes {
  /// Full bodies of the captured revs sent as deltas (`deltaSrc`), keyed "docID revID". We never
  /// announce `deltas`, so a peer must send us full bodies, and we always send full bodies.
  std::map<std::string, std::string> full_bodies;
  /// bidi sessions: after a 409, our active replicator pulls the peer's revision, resolves the
  /// conflict with its default resolver and pushes the merge in the same run. cblite installs no
  /// resolver, so the capture has no such push. The extra proposeChanges entry and rev are
  /// harmless: the merge is a child of the peer's current revision (its proposed parent), so
  /// the peer accepts it and both sides converge. Only that exact shape is tolerated.
  bool allow_resolution_push = false;
  /// The activeOnly our subChanges must carry, where the capture's own is not the rule (see
  /// notes_for("pull-big")); unset: as captured.
  std::optional<bool> active_only;
  /// Couchbase Lite's replicator stopped with this error although its session closed normally
  /// (collections-unshared: "Collection 'x' is not found on the remote server", then 1000).
  std::string expected_stop_error;
};

/// The transport between the engine's threads and the player (the test thread).
struct link_state {
  std::mutex mtx;
  std::condition_variable cv;
  std::deque<std::string> inbox;  ///< frames our engine sent, oldest first
  peerlite::replicator_connection conn;
  bool opened = false;
  bool closed = false;
  int opens = 0;  ///< how many times the engine opened a player connection
  std::optional<peerlite::messaging_error> close_error;
};

class player {
 public:
  player(const capture& cap, our_role role, case_notes notes = {});
  ~player();

  /// The connection our engine opens (the listener accepts it, or the endpoint's delegate
  /// returns it). Every call returns a connection onto the same link.
  std::unique_ptr<peerlite::message_endpoint_connection> connection();

  /// Passive role: plays the capture's client side until the capture is done, listens for
  /// extras for kQuietPeriod, closes the connection and waits for our side to close.
  void play_client();

  /// Active role: plays the capture's server side until `stopped()` (our replicator reached
  /// STOPPED) and our side closed the connection, or our engine stalls. Then the caller stops
  /// the replicator if needed and calls finish_active().
  void play_server(const std::function<bool()>& stopped);
  /// Active role: the checks that need the end state. `last_sequence` is our database's.
  void finish_active(const peerlite::replicator_status& final_status, uint64_t last_sequence);

  /// Every difference found, one line each; empty when our engine matched the capture.
  const std::vector<std::string>& differences() const { return diffs_; }
  /// The differences, the documented (tolerated) deviations seen, and the session transcript.
  std::string report() const;

 private:
  enum class gate { wait, send, skip };

  bool engine_dir() const { return role_ == our_role::active; }  // c2s when our engine is active
  void diff(std::string line);
  void note(std::string line);
  void log(std::string line);
  std::string describe(const proto::message& m) const;
  std::string describe_captured(size_t k) const;

  bool wait_open();
  void flush();
  bool pump(std::chrono::milliseconds wait);
  bool stalled() const;
  bool link_closed();
  size_t mark_blocking_missing();

  void send_plan();
  gate gate_for(size_t k, std::string& why);
  void send_captured_request(size_t k);

  void on_engine_message(proto::message m);
  void on_engine_reply(proto::message m);
  void on_engine_request(proto::message m);
  void reply_to(const proto::message& ours, proto::message reply);
  void reply_captured(const proto::message& ours, size_t k);

  // active role: our engine's requests
  void on_active_propose(proto::message& m, size_t k);
  void on_active_set_checkpoint(proto::message& m);
  void on_active_rev(proto::message& m);
  // passive role: our engine's changes
  void on_passive_changes(proto::message& m);

  size_t match_next(std::string_view profile);
  size_t match_rev(const proto::message& m);
  size_t match_by(std::string_view profile, std::string_view key, std::string_view value,
                  std::string_view key2 = {}, std::string_view value2 = {});

  void compare_request(size_t k, const proto::message& ours);
  void compare_reply(size_t request_k, const proto::message& theirs, const proto::message& ours);
  void compare_rev(size_t k, const proto::message& ours);
  void finish_common();
  void finish_passive();

  const capture& cap_;
  our_role role_;
  case_notes notes_;
  std::shared_ptr<link_state> link_;
  proto::session sess_;
  peerlite::replicator_connection conn_;

  std::vector<std::string> diffs_, notes_log_, log_;
  bool broken_ = false;  ///< the BLIP stream failed: nothing more can be compared
  std::chrono::steady_clock::time_point last_activity_;

  std::vector<size_t> plan_;  ///< the player's side's captured requests, capture order
  size_t next_plan_ = 0;
  size_t blocker_ = npos;            ///< what gate_for() last found the next request waiting for
  std::map<uint64_t, size_t> sent_;  ///< player's request number -> captured index
  std::set<size_t> skipped_;         ///< captured requests the player left out (see gate_for)
  std::vector<bool> matched_;        ///< captured engine-side messages seen (or found missing)
  std::set<size_t> missing_;         ///< captured engine-side messages our engine never sent
  std::vector<std::string> extras_;  ///< describe() of engine requests with no captured match

  // passive role: the changes our engine sent, flattened over its messages
  /// Our `changes` entries by their `collection` property ("" = none): each collection's feed
  /// is compared with Couchbase Lite's on its own, since two collections' pushers interleave
  /// their lists differently from run to run (collections-pull).
  std::map<std::string, std::vector<proto::rep::change>> our_changes_;
  size_t our_empty_changes_ = 0;
  std::map<std::string, proto::rep::changes_reply::entry> changes_answer_;  ///< per docID
  std::optional<proto::rep::changes_reply> changes_reply_props_;
  std::map<std::string, std::string> cp_rev_;  ///< client -> the checkpoint rev our engine gave

  // active role
  struct proposal_answer {
    std::string rev, parent;
    proto::rep::proposal_status status;
  };
  std::map<std::string, std::deque<proposal_answer>> answers_;  ///< per docID, capture order
  std::vector<std::string> our_proposal_colls_;  ///< the `collection` of each of our_proposals_
  std::vector<proto::rep::proposed_change> our_proposals_;      ///< flattened, tolerated ones out
  std::set<std::string> resolution_revs_;   ///< "docID revID" of tolerated resolution pushes
  std::set<std::string> refused_;           ///< docIDs the player answered 409
  std::map<std::string, int> last_answer_;  ///< "docID revID" -> the player's latest answer
  std::set<std::string> unjudged_;          ///< "docID revID" accepted without a captured answer
  std::map<std::string, std::string> peer_current_;      ///< docID -> the peer's current revID
  std::map<size_t, std::map<std::string, bool>> asked_;  ///< captured changes -> wanted by us
  std::string peer_cp_rev_;                   ///< the checkpoint rev the player (peer) holds for us
  std::map<std::string, std::string> peer_cp_revs_;  ///< the same per checkpoint ID, once saved
  /// (collection, body) of our setCheckpoints.
  std::vector<std::pair<std::string, std::string>> our_checkpoints_;
  std::vector<std::string> our_rev_order_, captured_rev_order_;
};

}  // namespace conformance
