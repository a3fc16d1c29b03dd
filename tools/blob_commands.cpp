// The blob commands: `peerlite blob` (a blob's bytes out, or --list) and `peerlite compact`.
//
// Blobs are the attachment bodies `peerlite put --attach` stores: content-addressed by digest
// ("sha1-<base64>"), shared by every collection of the file, and referenced from document
// bodies by {"@type":"blob","digest":...} dicts.
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <string>

#include "store/database.hpp"
#include "tools/commands.hpp"
#include "tools/store_open.hpp"

namespace peerlite::tools {

namespace {

/// Bytes per read_blob chunk: only this much of a blob is in memory at a time.
constexpr size_t kChunk = 64 * 1024;

struct blob_args {
  std::string db;
  std::string digest;
  std::string out;
  bool list = false;
};

struct compact_args {
  std::string db;
};

/// What the documents say about one referenced blob.
struct referenced {
  uint64_t length = 0;
  std::string content_type;
};

/// --list. The store has no query over its blob table (and tools/ may not add one), so this
/// lists the blobs that documents reference: every collection's live documents at their
/// current revision and their open conflicts, scanned with find_blobs. A stored blob that
/// nothing references (one `peerlite compact` would remove) is not listed; a referenced blob
/// the file does not hold (not yet pulled) is listed with "missing".
void run_list(store::database& db) {
  const std::string cmd = "blob";
  store::reader::snapshot snap(db);  // one committed state across every collection
  auto all = db.list_collections();
  if (!all) fail(cmd, all.err());
  std::map<std::string, referenced> refs;  // sorted by digest
  auto note = [&](const std::string& body) {
    for (auto& r : store::find_blobs(body))
      refs.try_emplace(r.digest, referenced{r.length, r.content_type});
  };
  for (const auto& c : *all) {
    if (auto st = db.use_collection(c.id); !st.ok()) fail(cmd, st.err());
    auto docs = db.list_documents();
    if (!docs) fail(cmd, docs.err());
    for (const auto& [id, rev] : *docs) {
      auto doc = db.get(id);
      if (!doc) fail(cmd, doc.err());
      note(doc->body);
      if (doc->conflicted) {
        auto others = db.conflicts(id);
        if (!others) fail(cmd, others.err());
        for (const auto& o : *others) note(o.body);
      }
    }
  }
  for (const auto& [digest, ref] : refs) {
    auto info = db.blob(digest);
    if (info) {
      std::cout << digest << '\t' << info->length << '\t'
                << (info->content_type.empty() ? "-" : info->content_type) << '\n';
    } else if (info.err().code == errc::not_found) {
      std::cout << digest << '\t' << ref.length << '\t'
                << (ref.content_type.empty() ? "-" : ref.content_type) << "\tmissing\n";
    } else {
      fail(cmd, info.err());
    }
  }
}

/// Streams one blob to stdout or --out, kChunk bytes at a time.
void run_blob(const blob_args& a) {
  const std::string cmd = "blob";
  if (a.list && !a.digest.empty()) fail(cmd, "give either DIGEST or --list, not both");
  if (!a.list && a.digest.empty()) fail(cmd, "give a DIGEST, or --list (see --help)");
  auto db = open_db(cmd, a.db, false);
  if (a.list) return run_list(*db);

  store::reader::snapshot snap(*db);  // the blob cannot be compacted away between the calls
  auto info = db->blob(a.digest);
  if (!info) {
    if (info.err().code == errc::not_found) fail(cmd, "no blob " + a.digest + " in " + a.db);
    fail(cmd, info.err());
  }
  // The output file is created only once the blob is known to exist, and removed again when
  // the copy fails part way.
  std::ofstream file;
  if (!a.out.empty()) {
    std::error_code ec;
    if (std::filesystem::is_directory(a.out, ec)) fail(cmd, a.out + ": is a directory");
    file.open(a.out, std::ios::binary | std::ios::trunc);
    if (!file) fail(cmd, a.out + ": cannot create: " + std::strerror(errno));
  }
  std::ostream& out = a.out.empty() ? std::cout : file;
  const std::string target = a.out.empty() ? std::string("standard output") : a.out;
  uint64_t written = 0;
  status st = db->read_blob(
      a.digest,
      [&](std::string_view chunk) -> status {
        out.write(chunk.data(), static_cast<std::streamsize>(chunk.size()));
        if (!out) return error{errc::io_error, "writing " + target + " failed"};
        written += chunk.size();
        return {};
      },
      kChunk);
  out.flush();
  if (st.ok() && !out) st = error{errc::io_error, "writing " + target + " failed"};
  if (st.ok() && written != info->length)
    st = error{errc::io_error, "blob " + a.digest + " has " + std::to_string(written) +
                                   " bytes, not the recorded " + std::to_string(info->length)};
  if (!a.out.empty()) {
    file.close();
    if (st.ok() && !file) st = error{errc::io_error, "writing " + a.out + " failed"};
    if (!st.ok()) {
      std::error_code ec;
      std::filesystem::remove(a.out, ec);
    }
  }
  if (!st.ok()) fail(cmd, st.err());
  if (!a.out.empty()) std::cout << "wrote " << written << " bytes to " << a.out << '\n';
}

void run_compact(const compact_args& a) {
  // Never creates a file: there is nothing to compact in a database that does not exist.
  store::options opts;
  opts.create_if_missing = false;
  auto db = store::database::open(a.db, opts);
  if (!db) fail("compact", db.err());
  if ((*db)->is_read_only()) fail("compact", a.db + ": the database file is read-only");
  auto removed = (*db)->compact();
  if (!removed) fail("compact", removed.err());
  std::cout << "removed " << *removed << " unreferenced blobs\n";
}

void add_blob_commands(CLI::App& app) {
  auto blob = std::make_shared<blob_args>();
  CLI::App* c = app.add_subcommand(
      "blob",
      "Write a blob's bytes (an attachment stored by `put --attach`) to standard output, "
      "binary-safe, in 64 KiB chunks; or list the blobs the documents reference");
  c->add_option("--db", blob->db,
                "The database (an SQLite file or a postgresql:// URL); it must exist")
      ->required();
  c->add_option("digest", blob->digest,
                "The blob's digest, \"sha1-<base64>\" (the \"digest\" of its blob dict)");
  c->add_option("--out", blob->out,
                "Write the bytes to this file instead of standard output (created, or "
                "replaced; removed again if the copy fails); prints \"wrote N bytes to FILE\"");
  c->add_flag("--list", blob->list,
              "Instead: list the blobs that documents reference (current revisions and open "
              "conflicts of every collection), one per line, sorted by digest: "
              "DIGEST<TAB>LENGTH<TAB>TYPE (\"-\" when the type is unknown), with a fourth "
              "column \"missing\" when the file does not hold that blob. Unreferenced blobs "
              "are not listed");
  c->callback([blob] { run_blob(*blob); });

  auto compact = std::make_shared<compact_args>();
  c = app.add_subcommand(
      "compact",
      "Remove the blobs no kept revision of any collection references (e.g. after the "
      "document that referenced one was overwritten without it); prints \"removed N "
      "unreferenced blobs\"");
  c->add_option("--db", compact->db,
                "The database (an SQLite file or a postgresql:// URL); it must exist")
      ->required();
  c->callback([compact] { run_compact(*compact); });
}

const bool registered = register_commands(11, {"blob", "compact"}, add_blob_commands);

}  // namespace

}  // namespace peerlite::tools
