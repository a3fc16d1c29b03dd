// push_collections_ws: one-shot push of N ~200-byte documents spread over 10 named collections
// (bench.c0 .. bench.c9, N/10 each) over ws:// on 127.0.0.1 to an in-process hub, exactly as
// push_ws pushes its documents, with push_ws's own workload (same N, same bodies, default
// collection) run inside the case as the baseline, A B B A, fastest of two each: the note
// carries its docs/s and the ratio, so the comparison holds on a noisy machine. Fails when the
// hub does not hold every document in the right collection afterwards.
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "actors/connection.hpp"
#include "actors/passive_replicator.hpp"
#include "actors/runtime.hpp"
#include "adapters/tcp/io_runtime.hpp"
#include "adapters/websocket/net_endpoint.hpp"
#include "adapters/websocket/ws_listener.hpp"
#include "bench/bench.hpp"
#include "bench/fixtures.hpp"
#include "peerlite/database.hpp"
#include "peerlite/replicator.hpp"
#include "store/database.hpp"

namespace peerlite::bench {
namespace {

constexpr size_t kCollections = 10;

std::string collection_name(size_t k) { return "bench.c" + std::to_string(k); }

/// Collection k holds documents [first(k), first(k+1)): N/10 each, the rest spread evenly.
size_t first_of(size_t k, size_t n) { return k * n / kCollections; }

/// A ws:// hub serving `db` (all of its collections), one passive replicator per socket: the
/// hub push_ws uses, without the byte counting.
struct ws_hub {
  std::shared_ptr<caf::actor_system> sys = actors::shared_system();
  net::io_runtime io{1};
  std::unique_ptr<net::ws_listener> ws;
  std::string url;

  explicit ws_hub(database db) {
    net::ws_listener_options o;
    o.db_name = "hub";
    auto accept = [this, db](std::unique_ptr<message_endpoint_connection> c) {
      auto owner = actors::spawn_passive_replicator(*sys, db, actors::passive_observer{}, 1);
      actors::spawn_connection(*sys, std::move(c), protocol_type::message_stream,
                               actors::role::passive, owner);
    };
    auto l = net::ws_listener::start(io, o, accept);
    if (!l) throw std::runtime_error(l.err().message);
    ws = std::move(*l);
    url = "ws://127.0.0.1:" + std::to_string(ws->port()) + "/hub";
  }
};

/// Creates the 10 collections in the file at `path` and, when `fill`, writes document i into
/// collection i*10/n (IDs and bodies as fill_db writes them), in one transaction.
void make_collections(const std::string& path, size_t n, bool fill) {
  auto db = store::database::open(path);
  if (!db) throw std::runtime_error(db.err().message);
  auto st = (*db)->in_transaction([&]() -> status {
    for (size_t k = 0; k < kCollections; ++k) {
      auto id = (*db)->create_collection(collection_name(k));
      if (!id) return id.err();
      if (!fill) continue;
      if (auto s = (*db)->use_collection(*id); !s) return s;
      for (size_t i = first_of(k, n); i < first_of(k + 1, n); ++i)
        if (auto r = (*db)->put(sample_id(i), sample_body(i)); !r) return r.err();
    }
    return {};
  });
  if (!st) throw std::runtime_error("filling collections: " + st.message());
}

/// Checks that the file at `path` holds exactly the right documents in each collection (and
/// none in the default one). Throws naming every collection that is off.
void verify_collections(const std::string& path, size_t n) {
  store::options ro;
  ro.read_only = true;
  ro.create_if_missing = false;
  auto db = store::database::open(path, ro);
  if (!db) throw std::runtime_error("reopening the hub: " + db.err().message);
  std::string bad;
  size_t total = 0;
  for (size_t k = 0; k < kCollections; ++k) {
    auto name = collection_name(k);
    auto id = (*db)->find_collection(name);
    if (!id) throw std::runtime_error("hub lacks collection " + name + ": " + id.err().message);
    if (auto s = (*db)->use_collection(*id); !s) throw std::runtime_error(s.message());
    auto docs = (*db)->list_documents();
    if (!docs) throw std::runtime_error(docs.err().message);
    size_t want = first_of(k + 1, n) - first_of(k, n);
    bool right = docs->size() == want;
    for (size_t j = 0; right && j < docs->size(); ++j)  // sorted by id, like sample_id(i)
      right = (*docs)[j].first == sample_id(first_of(k, n) + j);
    if (!right)
      bad += " " + name + "=" + std::to_string(docs->size()) + "/" + std::to_string(want);
    total += docs->size();
  }
  if (auto s = (*db)->use_collection(0); !s) throw std::runtime_error(s.message());
  auto def = (*db)->info();
  if (!def) throw std::runtime_error(def.err().message);
  if (def->docs != 0) bad += " _default=" + std::to_string(def->docs) + "/0";
  if (!bad.empty() || total != n)
    throw std::runtime_error("push_collections_ws: the hub holds " + std::to_string(total) +
                             " of " + std::to_string(n) + " docs; wrong:" + bad);
}

/// One one-shot push of `source` (its named collections when `collections`, else the default
/// collection, as push_ws) into a fresh hub on `dst`; seconds.
double push_once(const context& ctx, const std::string& src, const std::string& dst,
                 bool collections) {
  double secs;
  {
    auto source = open_db(src), target = open_db(dst);
    ws_hub hub(target);
    net::io_runtime io(1);
    auto ep = net::make_endpoint(io, hub.url);
    if (!ep) throw std::runtime_error(ep.err().message);
    replicator_config cfg;
    cfg.db = source;
    cfg.target = std::move(*ep);
    cfg.type = replicator_type::push;
    if (collections)
      for (size_t k = 0; k < kCollections; ++k)
        cfg.collections.push_back(collection_config{.name = collection_name(k)});
    ctx.progress(std::string("pushing ") + (collections ? "10 collections" : "default collection") +
                 " over " + hub.url);
    secs = run_one_shot(std::move(cfg));
    if (!collections) {
      auto count = target.document_count();
      if (!count || *count != ctx.docs)
        throw std::runtime_error("push_ws baseline: target holds " +
                                 std::to_string(count ? *count : 0) + " docs");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(200));  // hub side closes
  }
  return secs;
}

/// One timed push of a freshly filled source into a fresh hub: push_ws's workload (default
/// collection) or the 10 collections; files named by `tag` so every run starts from scratch.
double run_workload(const context& ctx, bool collections, const std::string& tag) {
  size_t n = ctx.docs;
  std::string src = ctx.dir + "/" + tag + "_source.sqlite",
              dst = ctx.dir + "/" + tag + "_target.sqlite";
  if (collections) {
    ctx.progress("filling " + std::to_string(n) + " docs into " + std::to_string(kCollections) +
                 " collections");
    make_collections(src, n, true);
    make_collections(dst, n, false);  // the hub serves only the collections its file holds
  } else {
    ctx.progress("filling " + std::to_string(n) + " docs (push_ws baseline)");
    fill_db(src, n);
  }
  double secs = push_once(ctx, src, dst, collections);
  if (collections) verify_collections(dst, n);
  std::error_code ec;  // keep the scratch directory small
  for (const auto& f : {src, dst})
    for (const char* ext : {"", "-wal", "-shm"}) std::filesystem::remove(f + ext, ec);
  return secs;
}

/// Baseline and collections run A B B A (push_ws, collections, collections, push_ws) so a
/// steady drift in the machine's load hits both alike; each keeps its fastest run.
result run_push_collections(const context& ctx) {
  size_t n = ctx.docs;
  double base1 = run_workload(ctx, false, "base1");
  double coll1 = run_workload(ctx, true, "coll1");
  double coll2 = run_workload(ctx, true, "coll2");
  double base2 = run_workload(ctx, false, "base2");
  double secs = std::min(coll1, coll2), base = std::min(base1, base2);
  double rate = n / secs, base_rate = n / base;
  char note[300];
  std::snprintf(note, sizeof note,
                "%zu collections x %zu docs (runs %.3f s, %.3f s); push_ws in this run %.3f s = "
                "%.0f docs/s (runs %.3f s, %.3f s); ratio_to_push_ws %.2f",
                kCollections, n / kCollections, coll1, coll2, base, base_rate, base1, base2,
                rate / base_rate);
  return {static_cast<double>(n), secs, note};
}

const bool registered_push_collections_ws = add_case(
    {"push_collections_ws",
     "N docs x ~200 B over 10 collections (bench.c0..c9), one-shot push, ws://, 127.0.0.1; "
     "push_ws baseline in the same run (A B B A, fastest of 2 each)",
     run_push_collections});

}  // namespace
}  // namespace peerlite::bench
