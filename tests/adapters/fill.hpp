// Databases for the multi-process tests: N small documents written before a command runs.
#pragma once

#include <boost/test/unit_test.hpp>
#include <string>

#include "peerlite/database.hpp"

namespace peerlite::test {

/// Writes documents PREFIX0 .. PREFIX(n-1), each {"n":i}, into the database at `path`.
inline void fill(const std::string& path, int n, const std::string& prefix = "doc") {
  auto db = database::open(path);
  if (!db) BOOST_FAIL(db.err().message);
  for (int i = 0; i < n; ++i)
    BOOST_REQUIRE(db->put(prefix + std::to_string(i), "{\"n\":" + std::to_string(i) + "}"));
}

}  // namespace peerlite::test
