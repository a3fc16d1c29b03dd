// Serving blobs to the peer: its getAttachment and proveAttachment requests (PROTOCOL.md §3),
// answered by whichever replicator owns the connection (the side that sent the revisions).
#include "actors/database_core.hpp"
#include "actors/workers.hpp"
#include "protocol/rep_messages.hpp"

namespace peerlite::actors {

namespace rep = protocol::rep;

namespace {

/// The store's messages name the database file: the peer gets no path, only what failed.
protocol::message blob_error(const error& e, const std::string& digest) {
  if (e.code == errc::not_found)
    return protocol::make_error_reply(0, "HTTP", 404, "no blob " + digest);
  return protocol::make_error_reply(0, "HTTP", 500, "cannot read blob " + digest);
}

}  // namespace

std::optional<protocol::message> serve_blob_request(const database& db,
                                                    const protocol::message& msg) {
  auto p = msg.profile();
  bool get = p == rep::profile::get_attachment;
  if (!get && p != rep::profile::prove_attachment) return std::nullopt;
  std::string digest;
  std::string nonce;
  bool compress = false;
  if (get) {
    auto req = rep::get_attachment_request::decode(msg);
    if (!req) return protocol::make_error_reply(0, "BLIP", 400, req.err().message);
    digest = std::move(req->digest);
    compress = req->compress;
  } else {
    auto req = rep::prove_attachment_request::decode(msg);
    if (!req) return protocol::make_error_reply(0, "BLIP", 400, req.err().message);
    digest = std::move(req->digest);
    nonce = std::move(req->nonce);
  }
  auto reader = db.core()->acquire_reader();
  if (!reader) return blob_error(reader.err(), digest);
  auto bytes = (*reader)->read_blob(digest);
  if (!bytes) return blob_error(bytes.err(), digest);
  protocol::message reply;
  reply.type = protocol::message_type::reply;
  if (get) {
    reply.body = std::move(*bytes);
    /// Deflated only when asked, as Couchbase Lite does (blob-pull: flags 0x09 for text/plain).
    reply.compressed = compress;
  } else {
    reply.body = rep::attachment_proof(nonce, *bytes);
  }
  return reply;
}

}  // namespace peerlite::actors
