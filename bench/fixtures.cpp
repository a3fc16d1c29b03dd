// Setup shared by the replication cases (see fixtures.hpp).
#include "bench/fixtures.hpp"

#include <stdexcept>

#include "store/database.hpp"

namespace peerlite::bench {

void fill_db(const std::string& path, size_t n, const std::function<std::string(size_t)>& id) {
  auto db = store::database::open(path);
  if (!db) throw std::runtime_error(db.err().message);
  auto st = (*db)->in_transaction([&]() -> status {
    for (size_t i = 0; i < n; ++i)
      if (auto r = (*db)->put(id(i), sample_body(i)); !r) return r.err();
    return {};
  });
  if (!st) throw std::runtime_error(st.message());
}

database open_db(const std::string& path) {
  auto db = database::open(path);
  if (!db) throw std::runtime_error(db.err().message);
  return *db;
}

}  // namespace peerlite::bench
