// Issue 10, item 8, as users hit it: `peerlite put` from another process on a database that a
// running `peerlite serve` or `peerlite sync --continuous` has open. The running process must
// notice that commit by itself (its db actor polls SQLite's data_version) and replicate it,
// instead of waiting for some unrelated change to wake its continuous pushers.
#define BOOST_TEST_MODULE adapters_cli_external_write
#include <boost/test/unit_test.hpp>
#include <filesystem>
#include <memory>
#include <optional>

#include "tests/adapters/process.hpp"

using namespace peerlite::test;
using namespace std::chrono_literals;

/// The bound on "another process's put reaches the other side": the db actor notices the commit
/// within ~50 ms; the rest is one replication hop over loopback plus the `peerlite get` polls.
/// Before the fix it took until some other change flowed (57 s and more observed).
constexpr auto kExternalWriteTimeout = 5s;
/// A continuous sync's first catch-up of one document, on a loaded 2-core machine.
constexpr auto kCatchUpTimeout = 30s;
/// Longest a hub may take to print its "serving" line, or a process to exit after a signal.
constexpr auto kProcessTimeout = 15s;
/// Longest one `peerlite put` / `peerlite get` may take.
constexpr auto kCommandTimeout = 15s;

namespace {

const std::string kCli = PEERLITE_CLI;

std::pair<int, std::string> cli(const scratch& s, std::vector<std::string> args) {
  return run_cli(kCli, s, std::move(args), kCommandTimeout);
}

/// `peerlite put` as a separate process: the external writer.
void put(const scratch& s, const std::string& db, const std::string& id, const std::string& json) {
  auto [code, out] = cli(s, {"put", "--db", db, id, json});
  BOOST_REQUIRE_MESSAGE(code == 0, "peerlite put: " << out);
}

bool has_doc(const scratch& s, const std::string& db, const std::string& id) {
  return cli_has_doc(kCli, s, db, id, kCommandTimeout);
}

std::optional<std::chrono::milliseconds> wait_for_doc(const scratch& s, const std::string& db,
                                                      const std::string& id,
                                                      std::chrono::milliseconds timeout) {
  return cli_wait_for_doc(kCli, s, db, id, timeout, kCommandTimeout);
}

/// A running `peerlite serve` on an ephemeral 127.0.0.1 port.
struct hub_process {
  std::unique_ptr<child> proc;
  std::string ws;
  explicit hub_process(const scratch& s) {
    proc = std::make_unique<child>(
        std::vector<std::string>{kCli, "serve", "--db", s.path("hub.sqlite"), "--listen",
                                 "ws://127.0.0.1:0"},
        s.path("hub.log"));
    BOOST_REQUIRE_MESSAGE(proc->wait_for_log("serving ", kProcessTimeout), proc->log());
    ws = served_url(proc->log(), "ws");
    BOOST_REQUIRE_MESSAGE(!ws.empty(), proc->log());
  }
  ~hub_process() {
    proc->signal(SIGTERM);
    BOOST_TEST(proc->wait_exit(kProcessTimeout) == 0, proc->log());
  }
};

/// A running `peerlite sync --continuous`; stopped with Ctrl-C (SIGINT) at the end.
struct sync_process {
  std::unique_ptr<child> proc;
  sync_process(const scratch& s, const std::string& db, const std::string& url,
               const std::string& direction, const std::string& log) {
    proc = std::make_unique<child>(std::vector<std::string>{kCli, "sync", "--db", db, "--remote",
                                                            url, direction, "--continuous"},
                                   s.path(log));
  }
  ~sync_process() {
    proc->signal(SIGINT);
    BOOST_TEST(proc->wait_exit(kProcessTimeout) == 0, proc->log());
  }
};

}  // namespace

/// The hub's passive pusher (serving a continuous pull) hears of `peerlite put` on the hub.
BOOST_AUTO_TEST_CASE(put_on_the_hub_reaches_a_continuous_puller) {
  scratch s("extw");
  put(s, s.path("hub.sqlite"), "seed", R"({"n":0})");
  /// Created before the sync starts: the `peerlite get` polls below must not open the file
  /// while the sync is creating it (switching a new file to WAL fails if another process has it
  /// open: "database is locked").
  put(s, s.path("peer.sqlite"), "local", R"({"n":0})");
  hub_process hub(s);
  sync_process peer(s, s.path("peer.sqlite"), hub.ws, "--pull", "pull.log");
  BOOST_REQUIRE_MESSAGE(wait_for_doc(s, s.path("peer.sqlite"), "seed", kCatchUpTimeout),
                        "peer log:\n"
                            << peer.proc->log() << "hub log:\n"
                            << hub.proc->log());
  /// The sync is now idle: only the hub noticing the external commit can move anything.
  put(s, s.path("hub.sqlite"), "from-outside", R"({"written_by":"another process"})");
  auto took = wait_for_doc(s, s.path("peer.sqlite"), "from-outside", kExternalWriteTimeout);
  BOOST_TEST(took.has_value(), "from-outside not in peer.sqlite within "
                                   << kExternalWriteTimeout.count() << " s\npeer log:\n"
                                   << peer.proc->log() << "hub log:\n"
                                   << hub.proc->log());
  if (took) BOOST_TEST_MESSAGE("put on the hub reached the puller in " << took->count() << " ms");
}

/// An active continuous pusher hears of `peerlite put` on its own database.
BOOST_AUTO_TEST_CASE(put_on_a_continuous_pushers_db_reaches_the_hub) {
  scratch s("extw");
  put(s, s.path("peer2.sqlite"), "seed2", R"({"n":0})");
  hub_process hub(s);
  sync_process peer(s, s.path("peer2.sqlite"), hub.ws, "--push", "push.log");
  BOOST_REQUIRE_MESSAGE(wait_for_doc(s, s.path("hub.sqlite"), "seed2", kCatchUpTimeout),
                        "peer log:\n"
                            << peer.proc->log() << "hub log:\n"
                            << hub.proc->log());
  put(s, s.path("peer2.sqlite"), "from-outside-2", R"({"written_by":"another process"})");
  auto took = wait_for_doc(s, s.path("hub.sqlite"), "from-outside-2", kExternalWriteTimeout);
  BOOST_TEST(took.has_value(), "from-outside-2 not in hub.sqlite within "
                                   << kExternalWriteTimeout.count() << " s\npeer log:\n"
                                   << peer.proc->log() << "hub log:\n"
                                   << hub.proc->log());
  if (took)
    BOOST_TEST_MESSAGE("put on the pusher's db reached the hub in " << took->count() << " ms");
}
