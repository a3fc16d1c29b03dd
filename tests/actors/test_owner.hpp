// Test helpers for connection tests: an owner actor that echoes requests and records what its
// connection tells it, and a fixture joining two connection actors over a loopback pair.
#pragma once

#include <chrono>
#include <condition_variable>
#include <future>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "actors/connection.hpp"
#include "actors/errors.hpp"
#include "actors/runtime.hpp"
#include "adapters/loopback/loopback.hpp"

namespace peerlite::test {

/// Both protocol types, for tests that run once per type.
inline constexpr protocol_type kBoth[] = {protocol_type::message_stream,
                                          protocol_type::byte_stream};

/// A protocol type's name, for test contexts.
inline const char* name(protocol_type p) {
  return p == protocol_type::message_stream ? "message_stream" : "byte_stream";
}

using namespace std::chrono_literals;
using actors::close_info;
using actors::connection_api;
using actors::connection_owner;

/// What a test owner saw. Thread-safe; the test thread waits on it.
struct owner_log {
  std::mutex mtx;
  std::condition_variable cv;
  std::optional<connection_api> conn;
  std::vector<close_info> closes;
  uint64_t incoming = 0;
  /// "hold" requests: answered never (until the connection closes).
  std::vector<caf::typed_response_promise<protocol::message>> held;

  bool wait_connected(std::chrono::milliseconds t = 5s) {
    std::unique_lock<std::mutex> lk{mtx};
    return cv.wait_for(lk, t, [&] { return conn.has_value(); });
  }
  /// The close_info, once closed (nullopt on timeout).
  std::optional<close_info> wait_closed(std::chrono::milliseconds t = 10s) {
    std::unique_lock<std::mutex> lk{mtx};
    if (!cv.wait_for(lk, t, [&] { return !closes.empty(); })) return std::nullopt;
    return closes.front();
  }
  size_t close_count() {
    std::lock_guard<std::mutex> g{mtx};
    return closes.size();
  }
  uint64_t incoming_count() {
    std::lock_guard<std::mutex> g{mtx};
    return incoming;
  }
  connection_api handle() {
    std::lock_guard<std::mutex> g{mtx};
    return conn ? *conn : connection_api{};
  }
};

inline protocol::message make_request(std::string profile, std::string body = {}) {
  protocol::message m;
  m.properties = {{"Profile", std::move(profile)}};
  m.body = std::move(body);
  return m;
}

/// Profiles: "echo" replies with the body; "echo_close" replies with the body, then closes the
/// connection at once; "fail" fails the handler (peer sees ERR 501); "post" counts only;
/// "hold" is never answered; anything else gets ERR BLIP/404 (the owner's call).
inline connection_owner::behavior_type test_owner(connection_owner::pointer self,
                                                  std::shared_ptr<owner_log> log) {
  return {
      [self, log](actors::incoming_atom,
                  protocol::message& req) -> caf::result<protocol::message> {
        auto profile = req.profile();
        if (profile == "hold") {
          auto rp = self->make_response_promise<protocol::message>();
          std::lock_guard<std::mutex> g{log->mtx};
          ++log->incoming;
          log->held.push_back(rp);
          return rp;
        }
        {
          std::lock_guard<std::mutex> g{log->mtx};
          ++log->incoming;
        }
        if (profile == "echo" || profile == "post") {
          protocol::message reply;
          reply.type = protocol::message_type::reply;
          reply.properties = {{"Echo", std::string(profile)}};
          reply.body = std::move(req.body);
          return reply;
        }
        if (profile == "echo_close") {
          /// The reply first, then the close: the connection must still send all of it.
          protocol::message reply;
          reply.type = protocol::message_type::reply;
          reply.body = std::move(req.body);
          auto rp = self->make_response_promise<protocol::message>();
          rp.deliver(std::move(reply));
          close_info info;
          info.message = "done after the reply";
          if (auto c = log->handle()) self->send(c, actors::close_atom::value, info);
          return rp;
        }
        if (profile == "fail") return make_error(errc::io_error, "handler failed on purpose");
        return protocol::make_error_reply(req.number, "BLIP", 404, "no handler");
      },
      [log](actors::connected_atom, connection_api& c) {
        {
          std::lock_guard<std::mutex> g{log->mtx};
          log->conn = c;
        }
        log->cv.notify_all();
      },
      [self, log](actors::closed_atom, close_info& info) {
        {
          std::lock_guard<std::mutex> g{log->mtx};
          log->closes.push_back(info);
        }
        log->cv.notify_all();
        self->quit();
      },
  };
}

/// One side of a connected pair.
struct side {
  std::shared_ptr<owner_log> log = std::make_shared<owner_log>();
  std::shared_ptr<loopback::link_probe> probe;
  connection_owner owner;
  connection_api conn;
};

/// Two connection actors (a active, b passive) over a loopback pair, in the shared system.
struct pair_fixture {
  std::shared_ptr<caf::actor_system> sys = actors::shared_system();
  side a, b;

  void connect(loopback::options oa, loopback::options ob, actors::connection_options co = {}) {
    protocol_ = oa.protocol;
    auto [ea, eb] = loopback::make_pair(std::move(oa), std::move(ob));
    a.probe = ea.probe;
    b.probe = eb.probe;
    a.owner = sys->spawn(test_owner, a.log);
    b.owner = sys->spawn(test_owner, b.log);
    a.conn = actors::spawn_connection(*sys, std::move(ea.connection), protocol_,
                                      actors::role::active, a.owner, co);
    b.conn = actors::spawn_connection(*sys, std::move(eb.connection), protocol_,
                                      actors::role::passive, b.owner, co);
  }
  /// Both sides with the same protocol and the same link options.
  void connect(protocol_type p, loopback::options o = {}) {
    o.protocol = p;
    connect(o, o);
  }

  protocol_type protocol_ = protocol_type::message_stream;
};

/// Sends one request and waits for its reply or error.
struct answer {
  std::optional<protocol::message> reply;
  error err;
};
inline answer ask(caf::actor_system& sys, const connection_api& c, protocol::message req,
                  std::chrono::milliseconds t = 10s) {
  caf::scoped_actor self{sys};
  answer out;
  self->request(c, t, actors::request_atom::value, std::move(req))
      .receive([&](protocol::message& m) { out.reply = std::move(m); },
               [&](caf::error& e) { out.err = to_error(e); });
  return out;
}

/// Fires `n` requests of `profile` at once from one actor; the future yields how many got a
/// reply echoing `body`.
inline std::future<size_t> fire_profile(caf::actor_system& sys, const connection_api& c, size_t n,
                                        std::string profile, std::string body = {}) {
  auto done = std::make_shared<std::promise<size_t>>();
  auto result = done->get_future();
  /// (An argument, not a capture: CAF 0.17's spawn of an argument-less function trips UBSan.)
  sys.spawn(
      [n, body, profile, done](caf::event_based_actor* self, connection_api c) {
        auto ok = std::make_shared<size_t>(0);
        auto left = std::make_shared<size_t>(n);
        for (size_t i = 0; i < n; ++i) {
          self->request(c, std::chrono::seconds(60), actors::request_atom::value,
                        make_request(profile, body))
              .then(
                  [=](protocol::message& m) {
                    if (m.body == body && m.type == protocol::message_type::reply) ++*ok;
                    if (--*left == 0) done->set_value(*ok);
                  },
                  [=](caf::error&) {
                    if (--*left == 0) done->set_value(*ok);
                  });
        }
      },
      c);
  return result;
}

/// Fires `n` echo requests at once from one actor; the future yields how many got an echo.
inline std::future<size_t> fire(caf::actor_system& sys, const connection_api& c, size_t n,
                                std::string body) {
  return fire_profile(sys, c, n, "echo", std::move(body));
}

/// Polls `pred` every 10 ms until it holds or `timeout` passes.
template <class Pred>
bool wait_until(Pred pred, std::chrono::milliseconds timeout) {
  auto end = std::chrono::steady_clock::now() + timeout;
  while (!pred()) {
    if (std::chrono::steady_clock::now() >= end) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return true;
}

}  // namespace peerlite::test
