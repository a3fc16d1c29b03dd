// push_inproc / pull_inproc: one-shot replication of N ~200-byte documents between two
// databases in one process, over the loopback MESSAGE_STREAM transport (issue 4's target:
// >= 100,000 docs/s and >= 0.3 x sqlite_raw).
#include <atomic>
#include <cstdio>
#include <stdexcept>

#include "actors/passive_replicator.hpp"
#include "actors/runtime.hpp"
#include "adapters/loopback/loopback.hpp"
#include "bench/bench.hpp"
#include "bench/fixtures.hpp"
#include "peerlite/database.hpp"
#include "peerlite/replicator.hpp"
#include "store/database.hpp"

namespace peerlite::bench {

namespace {

/// Runs one one-shot replication from `active` with `type` against `passive`; seconds.
double replicate(database active, database passive, replicator_type type) {
  auto sys = actors::shared_system();
  replicator_config cfg;
  cfg.db = active;
  cfg.type = type;
  cfg.target.uid = "bench-peer";
  cfg.target.target = "loopback";
  cfg.target.delegate = [sys, passive](const message_endpoint&) {
    auto [a, b] = loopback::make_pair();
    auto owner = actors::spawn_passive_replicator(*sys, passive, actors::passive_observer{}, 1);
    actors::spawn_connection(*sys, std::move(b.connection), protocol_type::message_stream,
                             actors::role::passive, owner);
    return std::move(a.connection);
  };
  return run_one_shot(std::move(cfg));
}

result run_case(const context& ctx, bool push) {
  std::string src = ctx.dir + "/source.sqlite", dst = ctx.dir + "/target.sqlite";
  ctx.progress("filling " + std::to_string(ctx.docs) + " docs");
  fill_db(src, ctx.docs);
  double secs;
  uint64_t allocs = 0;
  {
    auto source = open_db(src), target = open_db(dst);
    ctx.progress(push ? "pushing" : "pulling");
    allocs = allocations();
    secs = push ? replicate(source, target, replicator_type::push)
                : replicate(target, source, replicator_type::pull);
    allocs = allocations() - allocs;
    auto count = target.document_count();
    if (!count || *count != ctx.docs)
      throw std::runtime_error("target holds " + std::to_string(count ? *count : 0) + " docs");
  }
  char note[200];
  std::snprintf(note, sizeof note,
                "loopback message_stream, one-shot; %.1f heap allocations per doc (both sides)",
                double(allocs) / double(ctx.docs));
  result r{static_cast<double>(ctx.docs), secs, note};
  r.figures["allocs_per_doc"] = double(allocs) / double(ctx.docs);
  return r;
}

const bool registered_push = add_case({"push_inproc", "N docs x ~200 B, one-shot push, loopback",
                                       [](const context& ctx) { return run_case(ctx, true); }});
const bool registered_pull = add_case({"pull_inproc", "N docs x ~200 B, one-shot pull, loopback",
                                       [](const context& ctx) { return run_case(ctx, false); }});

}  // namespace

}  // namespace peerlite::bench
