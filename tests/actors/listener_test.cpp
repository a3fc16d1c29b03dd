// message_endpoint_listener: the passive peer of the seed. accept() leads to open() and a
// passive replicator; close(conn), close_all() (even with close completions never called),
// bad input on one connection, and the list of live connections with their status.
#define BOOST_TEST_MODULE listener
#include <boost/test/unit_test.hpp>

#include "peerlite/message_endpoint_listener.hpp"
#include "tests/actors/seed_harness.hpp"
#include "tests/actors/test_owner.hpp"

using namespace peerlite;
using namespace peerlite::test;
using loopback::completion_mode;

namespace {

/// An active peer made of a bare connection actor and a test owner, its passive side accepted
/// by `listener`.
struct raw_peer {
  side active;
  std::shared_ptr<loopback::link_probe> passive_probe;
  uint64_t id = 0;

  raw_peer(message_endpoint_listener& listener, protocol_type p, loopback::options passive = {}) {
    auto sys = actors::shared_system();
    loopback::options a;
    a.protocol = passive.protocol = p;
    auto [ea, eb] = loopback::make_pair(a, passive);
    active.probe = ea.probe;
    passive_probe = eb.probe;
    auto accepted = listener.accept(std::move(eb.connection));
    BOOST_REQUIRE(accepted.has_value());
    id = *accepted;
    active.owner = sys->spawn(test_owner, active.log);
    active.conn = actors::spawn_connection(*sys, std::move(ea.connection), p, actors::role::active,
                                           active.owner);
  }

  /// A real replication request the passive replicator must answer (any BLIP reply).
  bool answered() {
    auto req = make_request("getCheckpoint");
    req.properties.emplace_back("client", "listener-test");
    auto ans = ask(*actors::shared_system(), active.log->handle(), std::move(req), 5s);
    return ans.reply.has_value();
  }
};

/// Collects the listener's change events. Declare it before the listener: the listener calls
/// it until the listener is destroyed.
struct change_log {
  std::mutex mtx;
  std::vector<listener_connection_status> seen;
  listener_token token;
  ~change_log() { token.remove(); }
  void attach(message_endpoint_listener& l) {
    token = l.add_change_listener([this](const listener_connection_status& s) {
      std::lock_guard<std::mutex> g{mtx};
      seen.push_back(s);
    });
  }
  size_t stopped() {
    std::lock_guard<std::mutex> g{mtx};
    size_t n = 0;
    for (auto& s : seen) n += s.status.activity == activity_level::stopped;
    return n;
  }
};

}  // namespace

BOOST_AUTO_TEST_CASE(passive_peer_accept_leads_to_open_and_connects) {
  for (auto p : kBoth) {
    BOOST_TEST_CONTEXT(name(p)) {
      temp_db db;
      message_endpoint_listener listener({db.db, p});
      raw_peer peer(listener, p);
      BOOST_TEST(peer.passive_probe->wait_opened(5s));
      BOOST_TEST_REQUIRE(peer.active.log->wait_connected());
      BOOST_TEST(peer.answered());
      auto live = listener.connections();
      BOOST_TEST_REQUIRE(live.size() == 1u);
      BOOST_TEST(live[0].id == peer.id);
      BOOST_TEST(live[0].connection != nullptr);
    }
  }
}

BOOST_AUTO_TEST_CASE(accept_refuses_null_and_databaseless) {
  temp_db db;
  message_endpoint_listener listener({db.db, protocol_type::message_stream});
  auto null_conn = listener.accept(std::unique_ptr<message_endpoint_connection>{});
  BOOST_TEST(!null_conn.has_value());
  message_endpoint_listener empty(listener_config{});
  auto [ea, eb] = loopback::make_pair();
  auto r = empty.accept(std::move(eb.connection));
  BOOST_TEST_REQUIRE(!r.has_value());
  BOOST_TEST((r.err().code == errc::invalid_argument));
}

BOOST_AUTO_TEST_CASE(close_one_connection_leaves_the_others) {
  temp_db db;
  message_endpoint_listener listener({db.db, protocol_type::message_stream});
  raw_peer one(listener, protocol_type::message_stream);
  raw_peer two(listener, protocol_type::message_stream);
  BOOST_TEST_REQUIRE(one.active.log->wait_connected());
  BOOST_TEST_REQUIRE(two.active.log->wait_connected());
  listener.close(one.id);
  auto closed = one.active.log->wait_closed(5s);
  BOOST_TEST_REQUIRE(closed.has_value());
  BOOST_TEST((closed->code == errc::ok));
  BOOST_TEST(closed->by_peer);
  BOOST_TEST(one.passive_probe->wait_closed(2s));
  BOOST_TEST(wait_until([&] { return listener.connections().size() == 1u; }, 5s));
  BOOST_TEST(two.answered());
}

BOOST_AUTO_TEST_CASE(connection_teardown_initiated_by_passive_peer_close_all) {
  for (auto p : kBoth)
    for (auto mode :
         {completion_mode::synchronous, completion_mode::threaded, completion_mode::never}) {
      BOOST_TEST_CONTEXT(name(p) << " close completion " << static_cast<int>(mode)) {
        temp_db db;
        change_log changes;
        message_endpoint_listener listener({db.db, p});
        changes.attach(listener);
        loopback::options passive;
        passive.close_completion = mode;
        std::vector<std::unique_ptr<raw_peer>> peers;
        for (int i = 0; i < 3; ++i)
          peers.push_back(std::make_unique<raw_peer>(listener, p, passive));
        for (auto& peer : peers) BOOST_TEST_REQUIRE(peer->active.log->wait_connected());
        auto t0 = std::chrono::steady_clock::now();
        listener.close_all();
        BOOST_TEST(listener.wait_closed(actors::kCloseAllTimeout));
        auto took = std::chrono::steady_clock::now() - t0;
        BOOST_TEST(listener.connections().empty());
        BOOST_TEST(changes.stopped() == 3u);
        for (auto& peer : peers) {
          BOOST_TEST(peer->passive_probe->closed());
          auto c = peer->active.log->wait_closed(2s);
          BOOST_TEST_REQUIRE(c.has_value());
          BOOST_TEST(c->by_peer);
          BOOST_TEST(peer->active.probe->wait_closed(2s));
        }
        if (mode == completion_mode::never)
          BOOST_TEST((took >= actors::kCloseTimeout - 100ms));
        else
          BOOST_TEST((took < 2s));
      }
    }
}

BOOST_AUTO_TEST_CASE(bad_input_garbage_closes_only_that_connection_listener_keeps_serving) {
  for (auto p : kBoth) {
    BOOST_TEST_CONTEXT(name(p)) {
      temp_db db;
      change_log changes;
      message_endpoint_listener listener({db.db, p});
      changes.attach(listener);
      raw_peer bad(listener, p);
      raw_peer good(listener, p);
      BOOST_TEST_REQUIRE(bad.active.log->wait_connected());
      BOOST_TEST_REQUIRE(good.active.log->wait_connected());
      bad.passive_probe->inject("this is not BLIP, nor WebSocket \x81\xff\xff\xff");
      BOOST_TEST(bad.passive_probe->wait_closed(3s));
      BOOST_TEST(wait_until([&] { return listener.connections().size() == 1u; }, 5s));
      BOOST_TEST(listener.connections().at(0).id == good.id);
      BOOST_TEST(good.answered());
      raw_peer later(listener, p);
      BOOST_TEST_REQUIRE(later.active.log->wait_connected());
      BOOST_TEST(later.answered());
      std::lock_guard<std::mutex> g{changes.mtx};
      bool saw_error = false;
      for (auto& s : changes.seen)
        if (s.id == bad.id && s.status.activity == activity_level::stopped)
          saw_error = s.status.err.code == errc::protocol_error;
      BOOST_TEST(saw_error);
    }
  }
}

BOOST_AUTO_TEST_CASE(many_connections_listed_and_closed) {
  temp_db db;
  message_endpoint_listener listener({db.db, protocol_type::message_stream});
  std::vector<std::unique_ptr<raw_peer>> peers;
  for (int i = 0; i < 50; ++i)
    peers.push_back(std::make_unique<raw_peer>(listener, protocol_type::message_stream));
  for (auto& peer : peers) BOOST_TEST_REQUIRE(peer->active.log->wait_connected());
  BOOST_TEST(listener.connections().size() == 50u);
  for (auto& peer : peers) BOOST_TEST(peer->answered());
  listener.close_all();
  BOOST_TEST(listener.wait_closed(10s));
}

BOOST_AUTO_TEST_CASE(destroying_the_listener_closes_its_connections) {
  temp_db db;
  std::unique_ptr<raw_peer> peer;
  {
    message_endpoint_listener listener({db.db, protocol_type::byte_stream});
    peer = std::make_unique<raw_peer>(listener, protocol_type::byte_stream);
    BOOST_TEST_REQUIRE(peer->active.log->wait_connected());
  }
  BOOST_TEST(peer->passive_probe->closed());
  BOOST_TEST(peer->active.log->wait_closed(3s).has_value());
}

BOOST_AUTO_TEST_CASE(push_pull_through_the_listener_with_a_replicator) {
  for (auto p : kBoth) {
    BOOST_TEST_CONTEXT(name(p)) {
      temp_db active_db("active"), passive_db("passive");
      put_docs(active_db.db, "a", 50);
      put_docs(passive_db.db, "p", 50);
      change_log changes;
      std::atomic<uint64_t> passive_docs{0};
      message_endpoint_listener listener({passive_db.db, p});
      changes.attach(listener);
      auto doc_token = listener.add_document_listener(
          [&](uint64_t, const std::vector<replicated_document>& docs) {
            passive_docs += docs.size();
          });
      message_endpoint ep;
      ep.uid = "UID:123";
      ep.target = "active";
      ep.protocol = p;
      ep.delegate = [&listener, p](const message_endpoint&) {
        loopback::options o;
        o.protocol = p;
        auto [ea, eb] = loopback::make_pair(o, o);
        listener.accept(std::move(eb.connection));
        return std::move(ea.connection);
      };
      replicator_config cfg;
      cfg.db = active_db.db;
      cfg.target = ep;
      replicator repl(cfg);
      auto final_status = run_to_stop(repl);
      BOOST_TEST((final_status.err.code == errc::ok), final_status.err.message);
      BOOST_TEST((contents(active_db.db) == contents(passive_db.db)));
      BOOST_TEST(contents(passive_db.db).size() == 100u);
      BOOST_TEST(listener.wait_closed(10s));
      BOOST_TEST(changes.stopped() == 1u);
      BOOST_TEST(wait_until([&] { return passive_docs.load() == 100u; }, 2s));
    }
  }
}
