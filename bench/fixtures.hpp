// Setup shared by the replication cases (not timed).
#pragma once

#include <chrono>
#include <functional>
#include <string>

#include "bench/bench.hpp"
#include "peerlite/database.hpp"
#include "peerlite/replicator.hpp"

namespace peerlite::bench {

/// Writes documents 0..n-1 (IDs from `id`, bodies from sample_body) into the database file at
/// `path` through the store, in one transaction. Throws std::runtime_error on failure.
void fill_db(const std::string& path, size_t n,
             const std::function<std::string(size_t)>& id = sample_id);

/// Opens the public database handle at `path`. Throws std::runtime_error on failure.
database open_db(const std::string& path);

/// Longest a one-shot replication in a bench case may take: 100,000 docs at a tenth of the
/// slowest rate seen (~5,000 docs/s) is 200 s, so this trips only when something is stuck.
constexpr std::chrono::seconds kReplicationTimeout{600};

/// One push_ws (or push_tcp, push_wss: `scheme`) of ctx.docs into a fresh in-process hub, the
/// baseline of the cases that compare with it in the same run; seconds. `tag` names its files.
double push_once(const context& ctx, const std::string& scheme, const std::string& tag);

/// Runs one one-shot replication with `cfg` until STOPPED; returns its seconds. Throws
/// std::runtime_error with the replicator's error, or when kReplicationTimeout passes.
double run_one_shot(replicator_config cfg);

}  // namespace peerlite::bench
