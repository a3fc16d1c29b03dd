// Crash safety: a writer killed with SIGKILL mid-stream leaves whole batches only.
#define BOOST_TEST_MODULE store_crash
#include <boost/test/unit_test.hpp>

#include <signal.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <map>

#include "store/database.hpp"
#include "temp_dir.hpp"

using namespace peerlite::store;

namespace {

constexpr int kBatchSize = 400;
constexpr int kBatchesBeforeKill = 25;  ///< the parent kills after this many reported commits

/// Child: opens the database and commits numbered batches forever, reporting each commit
/// number on the pipe after it returns.
[[noreturn]] void write_batches(const std::string& path, int report_fd) {
  auto db = database::open(path);
  if (!db) _exit(3);
  std::vector<incoming_revision> batch(kBatchSize);
  for (int b = 0;; ++b) {
    for (int i = 0; i < kBatchSize; ++i) {
      batch[i] = {cat("b", std::to_string(b), "-", std::to_string(i)), "1-abc", {},
                  cat(R"({"batch":)", std::to_string(b), R"(,"pad":"xxxxxxxxxxxxxxxxxxxxxxxx"})"),
                  false};
    }
    if (!(*db)->insert_batch(batch)) _exit(4);
    if (write(report_fd, &b, sizeof b) != sizeof b) _exit(5);
  }
}

}  // namespace

BOOST_AUTO_TEST_CASE(sigkill_mid_stream_keeps_every_committed_batch_whole) {
  temp_dir dir;
  std::string path = dir.file("crash.db");
  int fds[2];
  BOOST_REQUIRE(pipe(fds) == 0);
  pid_t child = fork();
  BOOST_REQUIRE(child >= 0);
  if (child == 0) {
    close(fds[0]);
    write_batches(path, fds[1]);
  }
  close(fds[1]);
  int committed = -1, b = 0;
  while (committed + 1 < kBatchesBeforeKill && read(fds[0], &b, sizeof b) == sizeof b) committed = b;
  kill(child, SIGKILL);
  int wstatus = 0;
  waitpid(child, &wstatus, 0);
  close(fds[0]);
  BOOST_REQUIRE(WIFSIGNALED(wstatus));
  BOOST_REQUIRE(committed == kBatchesBeforeKill - 1);

  sqlite3* raw = nullptr;
  BOOST_REQUIRE(sqlite3_open(path.c_str(), &raw) == SQLITE_OK);
  sqlite3_stmt* s = nullptr;
  sqlite3_prepare_v2(raw, "PRAGMA integrity_check", -1, &s, nullptr);
  BOOST_REQUIRE(sqlite3_step(s) == SQLITE_ROW);
  BOOST_TEST(std::string(reinterpret_cast<const char*>(sqlite3_column_text(s, 0))) == "ok");
  sqlite3_finalize(s);
  sqlite3_close(raw);

  auto db = database::open(path);
  BOOST_REQUIRE(db);
  auto changes = (*db)->changes(0, SIZE_MAX);
  BOOST_REQUIRE(changes);
  std::map<int, int> per_batch;
  for (const auto& c : *changes) per_batch[std::stoi(c.id.substr(1, c.id.find('-') - 1))]++;
  for (int i = 0; i <= committed; ++i) BOOST_TEST(per_batch[i] == kBatchSize, "batch " << i);
  for (auto [batch, count] : per_batch) BOOST_TEST(count == kBatchSize, "batch " << batch);
  BOOST_TEST(*(*db)->last_sequence() == changes->size());
  BOOST_TEST_MESSAGE("committed " << committed + 1 << " reported, " << per_batch.size()
                                  << " on disk");
}
