// The store's cases: sqlite_raw (the ceiling) and store_insert (the group-commit path).
#include <sqlite3.h>

#include <cstdlib>

#include "bench/bench.hpp"
#include "store/database.hpp"
#include "store/rev_id.hpp"
#include "store/rev_tree.hpp"
#include "store/schema.hpp"

namespace peerlite::bench {

namespace {

/// Rows per transaction for both cases: the baseline figure (245k rows/s at 10,000).
constexpr size_t kRowsPerTxn = 10000;

[[noreturn]] void die(const std::string& what) {
  std::fprintf(stderr, "peerlite-bench: %s\n", what.c_str());
  std::exit(1);
}

/// The revisions a peer would send for `docs` new documents, grouped kRowsPerTxn per batch.
std::vector<std::vector<store::incoming_revision>> incoming(size_t docs,
                                                            size_t per_batch = kRowsPerTxn) {
  std::vector<std::vector<store::incoming_revision>> batches;
  for (size_t i = 0; i < docs; ++i) {
    if (i % per_batch == 0) batches.emplace_back().reserve(per_batch);
    std::string body = sample_body(i);
    std::string rev = store::compute_rev_id("", false, *store::canonical_json(body));
    batches.back().push_back({sample_id(i), std::move(rev), {}, std::move(body), false});
  }
  return batches;
}

void exec(sqlite3* db, const char* sql) {
  char* msg = nullptr;
  if (sqlite3_exec(db, sql, nullptr, nullptr, &msg) != SQLITE_OK) die(msg ? msg : sql);
}

/// Plain prepared INSERTs of the rows the store writes, into a table of the same shape.
result run_sqlite_raw(const context& ctx) {
  auto batches = incoming(ctx.docs);
  sqlite3* db = nullptr;
  if (sqlite3_open((ctx.dir + "/raw.db").c_str(), &db) != SQLITE_OK) die("cannot open raw.db");
  exec(db, "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA cache_size = -16384;");
  exec(db, store::sql::kCreateSchema);
  sqlite3_stmt* ins = nullptr;
  sqlite3_prepare_v2(db, store::sql::kInsertRow, -1, &ins, nullptr);
  std::vector<std::string> trees;  // what the store keeps per new document: one node
  for (const auto& b : batches) {
    for (const auto& r : b) {
      store::rev_tree t;
      t.add_child(-1, r.rev, r.body, false);
      trees.push_back(t.encode(0));
    }
  }
  stopwatch sw;
  int64_t seq = 0;
  for (const auto& b : batches) {
    exec(db, "BEGIN");
    for (const auto& r : b) {
      sqlite3_bind_text(ins, 1, r.id.data(), int(r.id.size()), SQLITE_STATIC);
      sqlite3_bind_int64(ins, 2, ++seq);
      sqlite3_bind_text(ins, 3, r.rev.data(), int(r.rev.size()), SQLITE_STATIC);
      sqlite3_bind_int64(ins, 4, 0);
      sqlite3_bind_blob(ins, 5, r.body.data(), int(r.body.size()), SQLITE_STATIC);
      const auto& tree = trees[size_t(seq - 1)];
      sqlite3_bind_blob(ins, 6, tree.data(), int(tree.size()), SQLITE_STATIC);
      if (sqlite3_step(ins) != SQLITE_DONE) die(sqlite3_errmsg(db));
      sqlite3_reset(ins);
    }
    exec(db, "COMMIT");
    ctx.progress("sqlite_raw " + std::to_string(seq) + " rows");
  }
  double secs = sw.seconds();
  sqlite3_finalize(ins);
  sqlite3_close(db);
  return {double(ctx.docs), secs, "10000 rows/txn"};
}

/// New documents from a peer through database::insert_batch, one transaction per batch.
result run_store_insert(const context& ctx, size_t per_batch) {
  auto batches = incoming(ctx.docs, per_batch);
  auto db = store::database::open(ctx.dir + "/store.db");
  if (!db) die(db.err().message);
  stopwatch sw;
  size_t done = 0;
  for (const auto& b : batches) {
    auto out = (*db)->insert_batch(b);
    if (!out) die(out.err().message);
    done += out->size();
    if (done % kRowsPerTxn == 0) ctx.progress("store_insert " + std::to_string(done) + " docs");
  }
  double secs = sw.seconds();
  if (*(*db)->last_sequence() != ctx.docs) die("store_insert: sequence count mismatch");
  return {double(ctx.docs), secs, std::to_string(per_batch) + " revs/insert_batch"};
}

const bool registered_raw = add_case(
    {"sqlite_raw", "prepared INSERTs, TEXT PK + unique seq index, ~200 B bodies, 10000 rows/txn",
     run_sqlite_raw});
const bool registered_insert =
    add_case({"store_insert", "new ~200 B docs via database::insert_batch, 10000 revs/batch",
              [](const context& ctx) { return run_store_insert(ctx, kRowsPerTxn); }});
/// The same with small transactions: shows what commit cost does to a fixed small batch.
const bool registered_insert_100 =
    add_case({"store_insert_100", "new ~200 B docs via database::insert_batch, 100 revs/batch",
              [](const context& ctx) { return run_store_insert(ctx, 100); }});

}  // namespace

}  // namespace peerlite::bench
