// conn_inproc / conn_inproc_bytes: the transport half of the actor layer on its own. N
// request/reply round trips with ~200-byte bodies (the size of a small `rev`) between two
// connection actors over the loopback transport, 1,000 requests in flight; each reply is
// produced by an echo owner. This is the ceiling the replication above it can reach.
#include <future>
#include <stdexcept>

#include "actors/connection.hpp"
#include "actors/runtime.hpp"
#include "adapters/loopback/loopback.hpp"
#include "bench/bench.hpp"

namespace peerlite::bench {

namespace {

using namespace peerlite::actors;

connection_owner::behavior_type echo_owner(connection_owner::pointer self,
                                           std::shared_ptr<std::promise<connection_api>> ready) {
  return {
      [](incoming_atom, protocol::message& req) {
        protocol::message reply;
        reply.type = protocol::message_type::reply;
        reply.body = std::move(req.body);
        return reply;
      },
      [ready](connected_atom, connection_api& c) {
        if (ready) ready->set_value(c);
      },
      [self](closed_atom, close_info&) { self->quit(); },
  };
}

/// Keeps `window` requests in flight until `total` replies came back.
void drive(caf::event_based_actor* self, connection_api conn, size_t total, size_t window,
           std::shared_ptr<std::promise<size_t>> done) {
  struct counters {
    size_t sent = 0, answered = 0, ok = 0;
  };
  auto c = std::make_shared<counters>();
  auto next = std::make_shared<std::function<void()>>();
  *next = [self, conn, total, done, c, next] {
    protocol::message m;
    m.properties = {{"Profile", "rev"}};
    m.body = sample_body(c->sent++);
    self->request(conn, std::chrono::seconds(60), request_atom::value, std::move(m))
        .then(
            [=](protocol::message&) {
              ++c->ok;
              if (++c->answered == total) return done->set_value(c->ok);
              if (c->sent < total) (*next)();
            },
            [=](caf::error&) {
              if (++c->answered == total) return done->set_value(c->ok);
              if (c->sent < total) (*next)();
            });
  };
  for (size_t i = 0; i < std::min(window, total); ++i) (*next)();
}

result run(const context& ctx, protocol_type type) {
  auto sys = shared_system();
  loopback::options o;
  o.protocol = type;
  auto [a, b] = loopback::make_pair(o, o);
  auto ready = std::make_shared<std::promise<connection_api>>();
  auto conn_future = ready->get_future();
  auto owner_a = sys->spawn(echo_owner, ready);
  auto owner_b = sys->spawn(echo_owner, std::shared_ptr<std::promise<connection_api>>{});
  spawn_connection(*sys, std::move(a.connection), type, role::active, owner_a);
  spawn_connection(*sys, std::move(b.connection), type, role::passive, owner_b);
  if (conn_future.wait_for(std::chrono::seconds(10)) != std::future_status::ready)
    throw std::runtime_error("loopback connection did not open");
  auto conn = conn_future.get();
  auto done = std::make_shared<std::promise<size_t>>();
  auto finished = done->get_future();
  stopwatch watch;
  sys->spawn(drive, conn, ctx.docs, size_t{1000}, done);
  /// Bounded like every bench wait: the round trips stop within this or the case fails.
  constexpr std::chrono::seconds kRoundTripsTimeout{300};
  if (finished.wait_for(kRoundTripsTimeout) != std::future_status::ready)
    throw std::runtime_error("round trips did not finish within kRoundTripsTimeout");
  size_t ok = finished.get();
  double seconds = watch.seconds();
  caf::anon_send(conn, close_atom::value, close_info{});
  if (ok != ctx.docs) throw std::runtime_error("some requests failed");
  return {static_cast<double>(ctx.docs), seconds, "round trips, 1000 in flight"};
}

const bool registered_msg = add_case({
    .name = "conn_inproc",
    .params = "N request/reply round trips x ~200 B, loopback message stream",
    .run = [](const context& ctx) { return run(ctx, protocol_type::message_stream); },
});
const bool registered_bytes = add_case({
    .name = "conn_inproc_bytes",
    .params = "N request/reply round trips x ~200 B, loopback byte stream (WebSocket framing)",
    .run = [](const context& ctx) { return run(ctx, protocol_type::byte_stream); },
});

}  // namespace

}  // namespace peerlite::bench
