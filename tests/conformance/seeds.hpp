// Starting databases for the conformance cases: each capture's passive or active peer as it was
// when the session began.
//
// revIDs in the captures are opaque (LiteCore digests its Fleece encoding, not the JSON), so
// every revision is inserted as given, with its history, through the store's peer-insert API
// (store::database::insert_with_history), in the order that reproduces the capture's sequence
// numbers (each insert must get the next sequence, checked). Bodies come from the captured revs
// where they appear; seeds.cpp says where one (or a revID) is invented.
#pragma once

#include <filesystem>
#include <memory>
#include <peerlite/database.hpp>
#include <peerlite/replicator.hpp>
#include <string>
#include <utility>
#include <vector>

#include "tests/conformance/capture.hpp"
#include "tests/conformance/player.hpp"

namespace conformance {

struct seed_rev {
  std::string id, rev, body;
  std::vector<std::string> history;  ///< ancestors, newest first
  bool deleted = false;
};

/// A checkpoint the passive peer keeps for a client (what its getCheckpoint answers). Saved
/// `generation` times, so its rev is "<generation>-cc" as in the capture.
struct peer_checkpoint {
  std::string client, body;
  int generation = 1;
};

struct seed {
  std::vector<seed_rev> revs;  ///< inserted in this order: sequences 1, 2, 3, ...
  /// Active peer: what it knows the remote holds (LiteCore's per-remote marks, which give the
  /// parent revIDs in proposeChanges): recorded under the endpoint's uid.
  std::vector<std::pair<std::string, std::string>> remote_holds;
  /// Passive peer: the checkpoints it keeps for clients.
  std::vector<peer_checkpoint> peer_checkpoints;
  /// Active peer: its own copy of the checkpoint ("" = none), stored under OUR checkpoint ID.
  std::string local_checkpoint;
  /// Blob bodies the peer holds (each stored under its own digest).
  std::vector<std::string> blobs;
  /// Named collections ("scope.name") and their revisions, inserted in order after `revs`
  /// (each collection's sequences start at 1).
  std::vector<std::pair<std::string, std::vector<seed_rev>>> named;
};

/// A database built from a seed in a fresh temporary directory, removed at the end.
struct seeded_db {
  std::filesystem::path dir;
  peerlite::database db;
  ~seeded_db();
};

/// Builds `s` into a new database. `remote_name` is the name the active replicator keeps its
/// peer under (the endpoint's uid): remote_holds and the local checkpoint are recorded for it.
/// Throws std::runtime_error naming what failed (a setup error, not an engine difference).
std::unique_ptr<seeded_db> build_db(const seed& s, const std::string& remote_name);

/// The capture's passive peer (our engine plays it) at the start of the session.
seed passive_seed(const std::string& capture_name);
/// The capture's active peer (our engine plays it) at the start of the session.
seed active_seed(const std::string& capture_name);
/// What the active peer ran: push, pull or both.
peerlite::replicator_type active_type(const std::string& capture_name);
/// What the case knows beyond the capture (full bodies of delta revs, tolerated resolution).
case_notes notes_for(const std::string& capture_name);

}  // namespace conformance
