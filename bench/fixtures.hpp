// Setup shared by the replication cases (not timed).
#pragma once

#include <functional>
#include <string>

#include "bench/bench.hpp"
#include "peerlite/database.hpp"

namespace peerlite::bench {

/// Writes documents 0..n-1 (IDs from `id`, bodies from sample_body) into the database file at
/// `path` through the store, in one transaction. Throws std::runtime_error on failure.
void fill_db(const std::string& path, size_t n,
             const std::function<std::string(size_t)>& id = sample_id);

/// Opens the public database handle at `path`. Throws std::runtime_error on failure.
database open_db(const std::string& path);

}  // namespace peerlite::bench
