// Seed "Peer Discovery" / "Replication Setup": the passive peer accepts a connection (open,
// completion(true) connects it); the active peer's replicator calls the endpoint's delegate,
// opens the connection, and messages flow both ways.
#define BOOST_TEST_MODULE seed_peers
#include "tests/actors/seed_harness.hpp"

using namespace peerlite;
using namespace peerlite::test;

BOOST_AUTO_TEST_CASE(replication_setup_passive_peer_accept_opens_and_connects) {
  for (auto mode : {loopback::completion_mode::synchronous, loopback::completion_mode::threaded}) {
    temp_db passive("passive");
    passive_host host(passive.db);
    loopback::options opts;
    opts.open_completion = mode;
    auto [active_side, passive_side] = loopback::make_pair(opts, opts);
    auto probe = passive_side.probe;
    host.accept(std::move(passive_side), protocol_type::message_stream);  // listener.accept
    BOOST_TEST(probe->wait_opened(2s));  // open() was called
    /// completion(true) connects: the passive replicator reports IDLE (connected, waiting).
    BOOST_TEST(wait_until([&] { return host.record->last(1).activity == activity_level::idle; },
                          2s));
    host.close_all();
    BOOST_TEST(wait_until([&] { return host.record->last(1).activity == activity_level::stopped; },
                          7s));
  }
}

BOOST_AUTO_TEST_CASE(replication_setup_active_peer_delegate_open_send_receive) {
  temp_db active("active"), passive("passive");
  put_docs(active.db, "a", 5);
  put_docs(passive.db, "p", 5);
  passive_host host(passive.db);
  loop_endpoint ep(host, protocol_type::message_stream, {}, "UID:123");
  BOOST_TEST(ep.endpoint.uid == "UID:123");
  replicator_config cfg;
  cfg.db = active.db;
  cfg.target = ep.endpoint;  // MessageEndpoint("UID:123", "active", MESSAGE_STREAM, delegate)
  replicator repl(cfg);
  BOOST_TEST(*ep.calls == 0);  // nothing happens before start()
  auto s = run_to_stop(repl);
  BOOST_TEST(s.err.code == errc::ok, s.err.message);
  BOOST_TEST(*ep.calls == 1);  // the delegate made the connection
  auto active_probe = ep.active_probes->at(0);
  BOOST_TEST(active_probe->opened());
  BOOST_TEST(active_probe->sends() > 0u);    // send() carried our frames
  BOOST_TEST(host.probe(0)->sends() > 0u);   // and receive() got the peer's
  BOOST_TEST(active_probe->closed());        // one-shot: closed once done
  BOOST_TEST((contents(active.db) == contents(passive.db)));
}

#include "peerlite/message_endpoint_listener.hpp"

/// The same workflow through the public listener: MessageEndpointListener(config{db, protocol}),
/// listener.accept(connection) on the passive peer, a replicator on the active peer.
BOOST_AUTO_TEST_CASE(peer_discovery_public_listener_accept_and_replicate) {
  for (auto protocol : {protocol_type::message_stream, protocol_type::byte_stream}) {
    temp_db active("active"), passive("passive");
    put_docs(active.db, "a", 30);
    put_docs(passive.db, "p", 30);
    message_endpoint_listener listener(listener_config{passive.db, protocol});
    auto probes = std::make_shared<std::vector<std::shared_ptr<loopback::link_probe>>>();
    message_endpoint ep;
    ep.uid = "UID:123";
    ep.target = "passive";
    ep.protocol = protocol;
    ep.delegate = [&listener, probes, protocol](const message_endpoint&) {
      loopback::options o;
      o.protocol = protocol;
      auto [a, b] = loopback::make_pair(o, o);
      probes->push_back(b.probe);
      BOOST_TEST(listener.accept(std::move(b.connection)).has_value());
      return std::move(a.connection);
    };
    replicator_config cfg;
    cfg.db = active.db;
    cfg.target = ep;
    replicator repl(cfg);
    auto s = run_to_stop(repl);
    BOOST_TEST(s.err.code == errc::ok, s.err.message);
    BOOST_TEST(probes->size() == 1u);
    BOOST_TEST(probes->at(0)->opened());
    BOOST_TEST((contents(active.db) == contents(passive.db)));
    BOOST_TEST(contents(passive.db).size() == 60u);
    BOOST_TEST(listener.wait_closed(5s));
  }
}
