// A hub SIGKILLed while `peerlite sync --push` is moving big blobs into it must leave a sound
// file: SQLite's integrity check passes, and every document the file holds references only
// blobs the file holds, with bytes that hash to their digests (the puller stores a blob before
// the revision that references it, each in a committed transaction). Three kills, each at a
// different point of the transfer (by how much the hub's file has grown).
#define BOOST_TEST_MODULE adapters_cli_blob_kill
#include <sqlite3.h>

#include <boost/test/unit_test.hpp>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <regex>

#include "store/database.hpp"
#include "tests/adapters/process.hpp"

using namespace peerlite;
using namespace peerlite::test;
using namespace std::chrono_literals;

namespace {

const std::string kCli = PEERLITE_CLI;

constexpr int kDocs = 40;
constexpr size_t kBlobSize = 2u << 20;  ///< 2 MiB of random bytes per document
/// Longest one `peerlite put` may take, a hub may take to print "serving", or a process to
/// exit after a signal.
constexpr auto kCommandTimeout = 15s;
/// Longest we wait for the hub's file to reach a kill point; past it the hub is killed anyway.
constexpr auto kKillPointTimeout = 10s;

std::pair<int, std::string> cli(const scratch& s, std::vector<std::string> args) {
  args.insert(args.begin(), kCli);
  return run(std::move(args), s.path("cmd.log"), kCommandTimeout);
}

void write_random_file(const std::string& path, size_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::string bytes(n, '\0');
  for (size_t i = 0; i + 8 <= n; i += 8) {
    uint64_t v = rng();
    std::memcpy(bytes.data() + i, &v, 8);
  }
  std::ofstream(path, std::ios::binary).write(bytes.data(), static_cast<std::streamsize>(n));
}

/// Bytes of the database file and its WAL together.
uint64_t file_bytes(const std::string& path) {
  uint64_t n = 0;
  std::error_code ec;
  for (auto p : {path, path + "-wal"}) {
    auto s = std::filesystem::file_size(p, ec);
    if (!ec) n += s;
  }
  return n;
}

/// PRAGMA integrity_check on the file, through a plain read-write SQLite connection (it also
/// recovers the WAL the killed hub left).
std::string integrity(const std::string& path) {
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE, nullptr) != SQLITE_OK) {
    std::string e = sqlite3_errmsg(db);
    sqlite3_close(db);
    return "cannot open: " + e;
  }
  sqlite3_busy_timeout(db, 5000);
  sqlite3_stmt* st = nullptr;
  std::string out;
  if (sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &st, nullptr) != SQLITE_OK) {
    out = std::string("prepare: ") + sqlite3_errmsg(db);
  } else {
    while (sqlite3_step(st) == SQLITE_ROW)
      out += (out.empty() ? "" : "; ") +
             std::string(reinterpret_cast<const char*>(sqlite3_column_text(st, 0)));
  }
  sqlite3_finalize(st);
  sqlite3_close(db);
  return out;
}

/// What the killed hub's file holds.
struct contents {
  int docs = 0;       ///< live documents
  int blob_refs = 0;  ///< blob references in their bodies
  int blobs = 0;      ///< rows in the blobs table
};

/// Checks every live document of `path` references only blobs the file holds, with bytes
/// that hash to their digests and have the stated length.
contents check_blobs_of_documents(const std::string& path) {
  contents c;
  auto db = store::database::open(path);
  BOOST_REQUIRE_MESSAGE(db, (db ? std::string() : db.err().message));
  uint64_t since = 0;
  for (;;) {
    auto cs = (*db)->changes(since, 1000);
    BOOST_REQUIRE_MESSAGE(cs, (cs ? std::string() : cs.err().message));
    if (cs->empty()) break;
    since = cs->back().sequence;
    for (auto& ch : *cs) {
      if (ch.deleted) continue;
      auto doc = (*db)->get(ch.id);
      BOOST_REQUIRE_MESSAGE(doc, ch.id + ": " + (doc ? std::string() : doc.err().message));
      ++c.docs;
      auto refs = store::find_blobs(doc->body);
      BOOST_TEST(!refs.empty(), ch.id << " has no blob: " << doc->body);
      for (auto& ref : refs) {
        ++c.blob_refs;
        BOOST_TEST_CONTEXT(ch.id << " " << ref.path << " " << ref.digest) {
          auto info = (*db)->blob(ref.digest);
          BOOST_TEST(info.has_value(), (info ? std::string() : info.err().message));
          if (!info) continue;
          auto bytes = (*db)->read_blob(ref.digest);
          BOOST_TEST(bytes.has_value(), (bytes ? std::string() : bytes.err().message));
          if (!bytes) continue;
          BOOST_TEST(bytes->size() == ref.length);
          BOOST_TEST(store::blob_digest(*bytes) == ref.digest);
        }
      }
    }
  }
  return c;
}

/// Rows of the blobs table (-1 when it cannot be read).
int count_blobs(const std::string& path) {
  sqlite3* db = nullptr;
  int n = -1;
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK) {
    sqlite3_stmt* st = nullptr;
    if (sqlite3_prepare_v2(db, "SELECT count(*) FROM blobs", -1, &st, nullptr) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW)
      n = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
  }
  sqlite3_close(db);
  return n;
}

}  // namespace

BOOST_AUTO_TEST_CASE(a_hub_killed_mid_blob_push_keeps_a_sound_file) {
  auto began = std::chrono::steady_clock::now();
  scratch s("blobkill");
  const std::string client = s.path("client.sqlite");
  for (int i = 0; i < kDocs; ++i) {
    auto file = s.path("blob" + std::to_string(i) + ".bin");
    write_random_file(file, kBlobSize, 1000 + i);
    auto [code, out] = cli(s, {"put", "--db", client, "doc" + std::to_string(i),
                               R"({"n":)" + std::to_string(i) + "}", "--attach",
                               "f=" + file + ":application/octet-stream"});
    BOOST_REQUIRE_MESSAGE(code == 0, "peerlite put: " << out);
    std::filesystem::remove(file);
  }
  BOOST_TEST_MESSAGE("client filled in " << std::chrono::duration_cast<std::chrono::milliseconds>(
                                                std::chrono::steady_clock::now() - began)
                                                .count()
                                         << " ms");

  /// Kill points: how far the hub's file (with its WAL) has grown, as a share of all blobs.
  const uint64_t total = uint64_t(kDocs) * kBlobSize;
  const double kill_at[] = {0.05, 0.3, 0.65};
  int mid_transfer = 0;
  for (int round = 0; round < 3; ++round) {
    BOOST_TEST_CONTEXT("round " << round) {
      /// A new hub file (and name) each round: the client pushes everything again.
      std::string name = "hub" + std::to_string(round);
      std::string hub_path = s.path(name + ".sqlite");
      child hub({kCli, "serve", "--db", hub_path, "--listen", "ws://127.0.0.1:0"},
                s.path(name + ".log"));
      BOOST_REQUIRE_MESSAGE(hub.wait_for_log("serving ", kCommandTimeout), hub.log());
      std::smatch m;
      auto log = hub.log();
      BOOST_REQUIRE_MESSAGE(std::regex_search(log, m, std::regex("ws://[0-9.:]+/[A-Za-z0-9_-]+")),
                            log);
      std::string url = m[0];
      auto base = file_bytes(hub_path);
      child push({kCli, "sync", "--db", client, "--remote", url, "--push"},
                 s.path("push" + std::to_string(round) + ".log"));
      auto target = base + static_cast<uint64_t>(kill_at[round] * static_cast<double>(total));
      auto end = std::chrono::steady_clock::now() + kKillPointTimeout;
      while (file_bytes(hub_path) < target && push.wait_exit(0ms) < 0 &&
             std::chrono::steady_clock::now() < end)
        std::this_thread::sleep_for(2ms);
      bool push_running = push.wait_exit(0ms) < 0;
      auto at_kill = file_bytes(hub_path);
      hub.signal(SIGKILL);
      BOOST_REQUIRE(hub.wait_exit(kCommandTimeout) == 128 + SIGKILL);
      BOOST_TEST_MESSAGE("hub killed at " << at_kill / 1024 << " KiB (target "
                                          << target / 1024 << " KiB), push "
                                          << (push_running ? "running" : "already over"));
      /// The client notices the hub is gone and retries; stop it politely.
      push.signal(SIGINT);
      if (push.wait_exit(kCommandTimeout) < 0) push.signal(SIGKILL);
      push.wait_exit(kCommandTimeout);

      auto ic = integrity(hub_path);
      BOOST_TEST(ic == "ok", hub_path << ": " << ic);
      auto c = check_blobs_of_documents(hub_path);
      c.blobs = count_blobs(hub_path);
      BOOST_TEST_MESSAGE("hub file: " << c.docs << " documents, " << c.blob_refs
                                      << " blob references, " << c.blobs << " blobs");
      BOOST_TEST(c.blobs >= 0);
      BOOST_TEST(c.docs <= kDocs);
      if (push_running && c.docs < kDocs) ++mid_transfer;
      BOOST_TEST(integrity(client) == "ok");
    }
  }
  /// The kills must have hit the transfer, or the test proved nothing.
  BOOST_TEST(mid_transfer >= 2);
  auto took = std::chrono::steady_clock::now() - began;
  BOOST_TEST_MESSAGE("took " << std::chrono::duration_cast<std::chrono::milliseconds>(took).count()
                             << " ms");
  BOOST_TEST((took < 60s));
}
