// Helpers for the seed tests: temporary databases, a passive host that accepts loopback
// connections, endpoints whose delegate makes a fresh loopback pair per connect, and waits.
#pragma once

#include <boost/test/unit_test.hpp>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "actors/passive_replicator.hpp"
#include "actors/runtime.hpp"
#include "adapters/loopback/loopback.hpp"
#include "peerlite/database.hpp"
#include "peerlite/replicator.hpp"
#include "store/database.hpp"
#include "tests/store/backend.hpp"

namespace peerlite {
inline std::ostream& operator<<(std::ostream& os, errc c) { return os << static_cast<int>(c); }
inline std::ostream& operator<<(std::ostream& os, activity_level a) { return os << to_string(a); }
}  // namespace peerlite

namespace peerlite::test {

using namespace std::chrono_literals;

/// Polls `pred` until it holds or `timeout` passes.
inline bool wait_until(const std::function<bool()>& pred, std::chrono::milliseconds timeout) {
  auto end = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < end) {
    if (pred()) return true;
    std::this_thread::sleep_for(2ms);
  }
  return pred();
}

/// Where a temp_db lives: on this run's backend, or always in a local file (a device's own
/// database: peers are phones and tills, with SQLite, whichever store their hubs share).
enum class placement { run_backend, device_file };

/// A fresh database, on this run's backend (tests/store/backend.hpp): a file in a fresh
/// temporary directory, removed at the end, or a new database in the test's PostgreSQL cluster.
struct temp_db {
  std::filesystem::path dir;  // scratch space of the test, on either backend
  std::string location;       // the file's path or the PostgreSQL URL
  database db;
  explicit temp_db(const std::string& name = "db", placement where = placement::run_backend) {
    static std::atomic<int> counter{0};
    dir = std::filesystem::temp_directory_path() /
          ("peerlite-seed-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
    std::filesystem::create_directories(dir);
    location = where == placement::device_file ? (dir / (name + ".sqlite")).string()
                                                : fresh_location(dir, name, ".sqlite");
    auto d = database::open(location);
    BOOST_REQUIRE_MESSAGE(d.has_value(), (d ? std::string() : d.err().message));
    db = *d;
  }
  ~temp_db() {
    db = database{};
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }
};

/// Every live document as id -> (rev, body), through a store reader.
inline std::map<std::string, std::pair<std::string, std::string>> contents(const database& db) {
  std::map<std::string, std::pair<std::string, std::string>> out;
  uint64_t since = 0;
  for (;;) {
    auto cs = db.changes(since, 5000);
    BOOST_REQUIRE(cs.has_value());
    if (cs->empty()) break;
    since = cs->back().sequence;
    for (auto& c : *cs) {
      if (c.deleted) continue;
      auto d = db.get(c.id);
      BOOST_REQUIRE_MESSAGE(d.has_value(), c.id);
      out[c.id] = {d->rev, d->body};
    }
  }
  return out;
}

/// Each live document's current revision (id -> rev), from the change feed alone: cheap
/// enough to poll many databases (contents() reads every body, one query per document).
inline std::map<std::string, std::string> revisions(const database& db) {
  std::map<std::string, std::string> out;
  uint64_t since = 0;
  for (;;) {
    auto cs = db.changes(since, 5000);
    if (!cs || cs->empty()) break;
    since = cs->back().sequence;
    for (auto& c : *cs) {
      if (c.deleted)
        out.erase(c.id);
      else
        out[c.id] = c.rev;
    }
  }
  return out;
}

/// Polls `pred` every `period` until it holds or `timeout` passes: for predicates that read
/// whole databases, which wait_until's 2 ms would run back to back.
inline bool wait_slowly(const std::function<bool()>& pred, std::chrono::milliseconds timeout,
                        std::chrono::milliseconds period = 100ms) {
  auto end = std::chrono::steady_clock::now() + timeout;
  while (!pred()) {
    if (std::chrono::steady_clock::now() >= end) return false;
    std::this_thread::sleep_for(period);
  }
  return true;
}

inline void put_docs(database& db, const std::string& prefix, int n, size_t body_size = 20) {
  std::string pad(body_size > 20 ? body_size - 20 : 0, 'x');
  for (int i = 0; i < n; ++i) {
    auto r = db.put(prefix + std::to_string(i),
                    "{\"n\":" + std::to_string(i) + ",\"pad\":\"" + pad + "\"}");
    BOOST_REQUIRE_MESSAGE(r.has_value(), (r ? std::string() : r.err().message));
  }
}

/// What the passive side reported: statuses and document events, per connection.
struct passive_record {
  std::mutex mtx;
  std::map<uint64_t, std::vector<replicator_status>> statuses;
  std::vector<replicated_document> events;

  replicator_status last(uint64_t id) {
    std::lock_guard<std::mutex> g{mtx};
    auto it = statuses.find(id);
    return it == statuses.end() || it->second.empty() ? replicator_status{} : it->second.back();
  }
  size_t event_count(replication_direction dir) {
    std::lock_guard<std::mutex> g{mtx};
    size_t n = 0;
    for (auto& e : events) n += e.direction == dir && e.err.code == errc::ok;
    return n;
  }
};

inline actors::passive_observer::behavior_type observer_impl(
    actors::passive_observer::pointer, std::shared_ptr<passive_record> rec) {
  return {
      [rec](actors::repl_status_atom, uint64_t id, const replicator_status& s) {
        std::lock_guard<std::mutex> g{rec->mtx};
        rec->statuses[id].push_back(s);
      },
      [rec](actors::doc_events_atom, uint64_t, const std::vector<replicated_document>& ev) {
        std::lock_guard<std::mutex> g{rec->mtx};
        rec->events.insert(rec->events.end(), ev.begin(), ev.end());
      },
  };
}

/// The passive peer: accepts connections onto a database (one passive replicator each).
struct passive_host {
  database db;
  std::shared_ptr<caf::actor_system> sys = actors::shared_system();
  std::shared_ptr<passive_record> record = std::make_shared<passive_record>();
  actors::passive_observer observer;
  std::mutex mtx;
  std::vector<std::shared_ptr<loopback::link_probe>> probes;
  std::vector<actors::connection_api> connections;
  std::atomic<uint64_t> accepted{0};

  explicit passive_host(database d) : db(std::move(d)) {
    observer = sys->spawn(observer_impl, record);
  }
  ~passive_host() { caf::anon_send_exit(observer, caf::exit_reason::user_shutdown); }

  /// Like listener.accept: the passive replicator serves this connection.
  void accept(loopback::endpoint ep, protocol_type protocol) {
    std::lock_guard<std::mutex> g{mtx};
    auto id = ++accepted;
    auto owner = actors::spawn_passive_replicator(*sys, db, observer, id);
    auto conn = actors::spawn_connection(*sys, std::move(ep.connection), protocol,
                                         actors::role::passive, owner);
    probes.push_back(ep.probe);
    connections.push_back(conn);
  }
  /// Like listener.close_all: politely closes every connection.
  void close_all() {
    std::lock_guard<std::mutex> g{mtx};
    for (auto& c : connections) caf::anon_send(c, actors::close_atom::value, actors::close_info{});
  }
  std::shared_ptr<loopback::link_probe> probe(size_t i) {
    std::lock_guard<std::mutex> g{mtx};
    return i < probes.size() ? probes[i] : nullptr;
  }
};

/// Link options for every connection an endpoint makes: index = attempt number (0-based);
/// attempts beyond the list use the last entry.
struct link_plan {
  std::vector<loopback::options> active{loopback::options{}};
  std::vector<loopback::options> passive{loopback::options{}};
};

/// An endpoint whose delegate makes a new loopback pair on every call and hands the passive
/// side to `host`. `calls` counts delegate calls.
struct loop_endpoint {
  std::shared_ptr<std::atomic<int>> calls = std::make_shared<std::atomic<int>>(0);
  std::shared_ptr<std::vector<std::shared_ptr<loopback::link_probe>>> active_probes =
      std::make_shared<std::vector<std::shared_ptr<loopback::link_probe>>>();
  message_endpoint endpoint;

  loop_endpoint(passive_host& host, protocol_type protocol, link_plan plan = {},
                std::string uid = "UID:123") {
    endpoint.uid = std::move(uid);
    endpoint.target = "loopback";
    endpoint.protocol = protocol;
    auto calls_ = calls;
    auto probes_ = active_probes;
    auto mtx = std::make_shared<std::mutex>();
    endpoint.delegate = [&host, protocol, plan, calls_, probes_,
                         mtx](const message_endpoint&) -> std::unique_ptr<message_endpoint_connection> {
      size_t n = static_cast<size_t>((*calls_)++);
      auto a = plan.active[std::min(n, plan.active.size() - 1)];
      auto b = plan.passive[std::min(n, plan.passive.size() - 1)];
      a.protocol = b.protocol = protocol;
      auto [ea, eb] = loopback::make_pair(a, b);
      {
        std::lock_guard<std::mutex> g{*mtx};
        probes_->push_back(ea.probe);
      }
      host.accept(std::move(eb), protocol);
      return std::move(ea.connection);
    };
  }
};

/// `n` active peers of `host`, each with its own database holding `docs` documents
/// ("peerI-0", ...) and a replicator (push-and-pull) to the host; none started. With several
/// hosts, peer I connects to hosts[I % hosts.size()]. The peers are devices: their databases
/// are local files on every run; the host's is on the run's backend.
struct peer_set {
  std::vector<std::unique_ptr<temp_db>> dbs;
  std::vector<std::unique_ptr<loop_endpoint>> eps;
  std::vector<std::unique_ptr<replicator>> repls;

  peer_set(passive_host& host, int n, int docs, bool continuous)
      : peer_set(std::vector<passive_host*>{&host}, n, docs, continuous) {}
  peer_set(const std::vector<passive_host*>& hosts, int n, int docs, bool continuous) {
    for (int i = 0; i < n; ++i) {
      dbs.push_back(std::make_unique<temp_db>("peer" + std::to_string(i), placement::device_file));
      put_docs(dbs.back()->db, "peer" + std::to_string(i) + "-", docs);
      eps.push_back(std::make_unique<loop_endpoint>(*hosts[static_cast<size_t>(i) % hosts.size()],
                                                    protocol_type::message_stream, link_plan{},
                                                    "peer-" + std::to_string(i)));
      replicator_config cfg;
      cfg.db = dbs.back()->db;
      cfg.target = eps.back()->endpoint;
      cfg.continuous = continuous;
      repls.push_back(std::make_unique<replicator>(cfg));
    }
  }
};

/// Records every status a replicator reports.
struct status_log {
  std::mutex mtx;
  std::vector<replicator_status> seen;
  listener_token token;
  void attach(replicator& r) {
    token = r.add_change_listener([this](const replicator_status& s) {
      std::lock_guard<std::mutex> g{mtx};
      seen.push_back(s);
    });
  }
  std::vector<replicator_status> all() {
    std::lock_guard<std::mutex> g{mtx};
    return seen;
  }
};

inline bool is_stopped(const replicator& r) {
  return r.status().activity == activity_level::stopped;
}

/// Starts `r` and waits for its next STOPPED report (the caller asserts on the error).
inline replicator_status run_to_stop(replicator& r, std::chrono::milliseconds t = 30s,
                                     bool reset = false) {
  auto stops = std::make_shared<std::atomic<int>>(0);
  auto token = r.add_change_listener([stops](const replicator_status& s) {
    if (s.activity == activity_level::stopped) ++*stops;
  });
  r.start(reset);
  bool ok = wait_until([&] { return stops->load() > 0; }, t);
  token.remove();
  BOOST_REQUIRE_MESSAGE(ok, "replicator did not stop");
  return r.status();
}

}  // namespace peerlite::test
