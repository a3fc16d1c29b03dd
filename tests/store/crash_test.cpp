// Crash safety: a writer killed with SIGKILL mid-stream leaves whole batches only.
#define BOOST_TEST_MODULE store_crash
#include <signal.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/test/unit_test.hpp>
#include <map>

#include "store/database.hpp"
#include "temp_dir.hpp"

using namespace peerlite::store;

namespace {

constexpr int kBatchSize = 400;
constexpr int kBatchesBeforeKill = 25;  ///< the parent kills after this many reported commits
constexpr int kRounds = 3;              ///< kill, reopen and check this many times on one file

/// Child: opens the database and commits numbered batches forever, reporting each commit
/// number on the pipe after it returns.
[[noreturn]] void write_batches(const std::string& path, int report_fd, int round) {
  auto db = database::open(path);
  if (!db) _exit(3);
  std::vector<incoming_revision> batch(kBatchSize);
  for (int b = 0;; ++b) {
    for (int i = 0; i < kBatchSize; ++i) {
      batch[i] = {cat("r", std::to_string(round), "b", std::to_string(b), "-", std::to_string(i)),
                  "1-abc",
                  {},
                  cat(R"({"batch":)", std::to_string(b), R"(,"pad":"xxxxxxxxxxxxxxxxxxxxxxxx"})"),
                  false};
    }
    if (!(*db)->insert_batch(batch)) _exit(4);
    if (write(report_fd, &b, sizeof b) != sizeof b) _exit(5);
  }
}

}  // namespace

/// Runs one writer child, kills it with SIGKILL after kBatchesBeforeKill reported commits.
/// Returns the last batch number the child reported as committed.
int run_and_kill(const std::string& path, int round) {
  int fds[2];
  BOOST_REQUIRE(pipe(fds) == 0);
  pid_t child = fork();
  BOOST_REQUIRE(child >= 0);
  if (child == 0) {
    close(fds[0]);
    write_batches(path, fds[1], round);
  }
  close(fds[1]);
  int committed = -1, b = 0;
  while (committed + 1 < kBatchesBeforeKill && read(fds[0], &b, sizeof b) == sizeof b)
    committed = b;
  kill(child, SIGKILL);
  int wstatus = 0;
  waitpid(child, &wstatus, 0);
  close(fds[0]);
  BOOST_REQUIRE(WIFSIGNALED(wstatus));
  return committed;
}

std::string integrity_check(const std::string& path) {
  sqlite3* raw = nullptr;
  BOOST_REQUIRE(sqlite3_open(path.c_str(), &raw) == SQLITE_OK);
  sqlite3_stmt* s = nullptr;
  sqlite3_prepare_v2(raw, "PRAGMA integrity_check", -1, &s, nullptr);
  std::string result = sqlite3_step(s) == SQLITE_ROW
                           ? reinterpret_cast<const char*>(sqlite3_column_text(s, 0))
                           : sqlite3_errmsg(raw);
  sqlite3_finalize(s);
  sqlite3_close(raw);
  return result;
}

BOOST_AUTO_TEST_CASE(sigkill_mid_stream_keeps_every_committed_batch_whole) {
  temp_dir dir;
  std::string path = dir.file("crash.db");
  std::map<int, int> reported;  // round -> last batch the child reported committed
  for (int round = 0; round < kRounds; ++round) {
    reported[round] = run_and_kill(path, round);
    BOOST_REQUIRE(reported[round] == kBatchesBeforeKill - 1);
    BOOST_TEST(integrity_check(path) == "ok");

    auto db = database::open(path);
    BOOST_REQUIRE(db);
    auto changes = (*db)->changes(0, SIZE_MAX);
    BOOST_REQUIRE(changes);
    std::map<std::pair<int, int>, int> per_batch;  // (round, batch) -> documents
    for (const auto& c : *changes) {
      int r = std::stoi(c.id.substr(1)), b = std::stoi(c.id.substr(c.id.find('b') + 1));
      per_batch[{r, b}]++;
    }
    for (int r = 0; r <= round; ++r) {
      for (int b = 0; b <= reported[r]; ++b) BOOST_TEST(per_batch[std::make_pair(r, b)] == kBatchSize);
    }
    for (auto [key, count] : per_batch) {
      BOOST_TEST(count == kBatchSize, "round " << key.first << " batch " << key.second);
    }
    BOOST_TEST(*(*db)->last_sequence() == changes->size());
  }
}
