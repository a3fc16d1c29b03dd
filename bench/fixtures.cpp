// Setup shared by the replication cases (see fixtures.hpp).
#include "bench/fixtures.hpp"

#include <condition_variable>
#include <mutex>
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

double run_one_shot(replicator_config cfg) {
  replicator repl(std::move(cfg));
  std::mutex mtx;
  std::condition_variable cv;
  bool done = false;
  replicator_status final_status;
  auto token = repl.add_change_listener([&](const replicator_status& s) {
    if (s.activity != activity_level::stopped) return;
    std::lock_guard<std::mutex> g{mtx};
    done = true;
    final_status = s;
    cv.notify_all();
  });
  stopwatch watch;
  repl.start();
  std::unique_lock<std::mutex> lk{mtx};
  if (!cv.wait_for(lk, kReplicationTimeout, [&] { return done; })) {
    lk.unlock();
    repl.stop();
    throw std::runtime_error("replication did not finish within kReplicationTimeout");
  }
  double secs = watch.seconds();
  if (final_status.err.code != errc::ok) throw std::runtime_error(final_status.err.message);
  return secs;
}

}  // namespace peerlite::bench
