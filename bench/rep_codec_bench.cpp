// Cases for the protocol codecs owned by WS: the replication batch messages and WebSocket framing.
//
//  rep_codec : per document, the push+pull message work one peer does on the wire side:
//              changes encode+decode, changes reply encode+decode, proposeChanges encode+decode,
//              proposeChanges reply encode+decode (batches of 200) and one rev encode+decode.
//  ws_framing: 200-byte binary messages through a client ws::stream and a server ws::stream,
//              re-chunked at 1400 bytes (an MTU-sized transport); MB/s of payload in the note.
#include <string>
#include <vector>

#include "bench/bench.hpp"
#include "protocol/rep_messages.hpp"
#include "protocol/tuning.hpp"
#include "protocol/websocket.hpp"

namespace {

using namespace peerlite::protocol;
using peerlite::bench::context;
using peerlite::bench::result;
using peerlite::bench::stopwatch;

constexpr size_t kBatch = 200;  ///< entries per changes / proposeChanges, as the reference

std::string rev_id(size_t i) {
  return "1-" + std::to_string(1000000007ull * (i + 1)) + "abcdef0123456789abcdef";
}

/// Inputs made before the clock starts, so only codec work is timed.
struct docs {
  std::vector<std::string> ids, revs, bodies;
  explicit docs(size_t n) {
    for (size_t i = 0; i < n; ++i) {
      ids.push_back(peerlite::bench::sample_id(i));
      revs.push_back(rev_id(i));
      bodies.push_back(peerlite::bench::sample_body(i));
    }
  }
};

/// One batch through all four batch codecs; returns how many reply entries came out.
size_t batch_round(const docs& d, size_t first, size_t n) {
  rep::changes_request ch;
  rep::propose_changes_request pc;
  ch.entries.reserve(n);
  pc.entries.reserve(n);
  for (size_t i = first; i < first + n; ++i) {
    ch.entries.push_back({rep::sequence_from_u64(i + 1), d.ids[i], d.revs[i], false, 200});
    pc.entries.push_back({d.ids[i], d.revs[i], "", 200});
  }
  auto ch_in = rep::changes_request::decode(ch.encode());
  auto pc_in = rep::propose_changes_request::decode(pc.encode());
  rep::changes_reply cr;
  cr.entries.resize(ch_in->entries.size(), {true, {}});
  rep::propose_changes_reply pr;
  pr.entries.resize(pc_in->entries.size());
  auto cr_in = rep::changes_reply::decode(cr.encode(1));
  auto pr_in = rep::propose_changes_reply::decode(pr.encode(2));
  return cr_in->entries.size() + pr_in->entries.size();
}

size_t rev_round(const docs& d, size_t i) {
  rep::rev_message r;
  r.doc_id = d.ids[i];
  r.rev_id = d.revs[i];
  r.sequence = rep::sequence_from_u64(i + 1);
  r.body = d.bodies[i];
  auto back = rep::rev_message::decode(std::move(r).encode());
  return back->body.size();
}

result run_rep_codec(const context& ctx) {
  docs d(ctx.docs);
  stopwatch sw;
  size_t sink = 0;
  for (size_t first = 0; first < ctx.docs; first += kBatch)
    sink += batch_round(d, first, std::min(kBatch, ctx.docs - first));
  double batches = sw.seconds();
  for (size_t i = 0; i < ctx.docs; ++i) sink += rev_round(d, i);
  double total = sw.seconds();
  char note[160];
  std::snprintf(note, sizeof note, "batch codecs %.0f docs/s; rev codec %.0f docs/s (%zu)",
                ctx.docs / batches, ctx.docs / (total - batches), sink % 10);
  return {static_cast<double>(ctx.docs), total, note};
}

result run_ws_framing(const context& ctx) {
  ws::stream client(ws::role::client, kWsMaxMessage, 1), server(ws::role::server, kWsMaxMessage, 2);
  std::string payload = peerlite::bench::sample_body(0);
  payload.resize(200, ' ');
  size_t got = 0;
  stopwatch sw;
  for (size_t i = 0; i < ctx.docs; i += 64) {
    for (size_t k = i; k < std::min(ctx.docs, i + 64); ++k) client.send_message(payload);
    std::string wire = client.take_output();
    for (size_t pos = 0; pos < wire.size(); pos += 1400)
      server.feed(std::string_view(wire).substr(pos, 1400));
    while (server.next_message()) ++got;
  }
  double s = sw.seconds();
  char note[96];
  std::snprintf(note, sizeof note, "%.0f MB/s payload; %zu messages", got * 200.0 / s / 1e6, got);
  return {static_cast<double>(ctx.docs), s, note};
}

const bool registered_rep = peerlite::bench::add_case(
    {.name = "rep_codec",
     .params = "changes+reply, proposeChanges+reply (batches of 200) and rev, encode+decode",
     .run = run_rep_codec});
const bool registered_ws =
    peerlite::bench::add_case({.name = "ws_framing",
                               .params = "200 B messages, client->server ws::stream, 1400 B chunks",
                               .run = run_ws_framing});

}  // namespace
