// The store commands: put, get, rm, ls, changes, info (issue 2's spellings are binding), and
// `collections`. Each document command works on one collection, chosen with --collection
// SCOPE.NAME (default _default._default) as `peerlite import` / `export` spell it: writes
// create the collection when missing, reads and deletions require it.
#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <regex>
#include <set>
#include <string>
#include <vector>

#include "store/database.hpp"
#include "tools/commands.hpp"
#include "tools/store_open.hpp"

namespace peerlite::tools {

namespace {

using ordered = nlohmann::ordered_json;

constexpr const char* kDefaultCollection = "_default._default";

/// The arguments every store command shares; owned by the subcommand's callback.
struct store_args {
  std::string db;
  std::string id;
  std::string json;
  std::string rev;
  uint64_t since = 0;
  std::string collection = kDefaultCollection;
  std::vector<std::string> attach;  ///< put: PROPERTY=FILE[:TYPE]
  std::string create;               ///< collections --create
  std::string remove;               ///< collections --delete
};

/// One JSON value per line; bytes that are not UTF-8 (an ID from a peer) print as U+FFFD.
void print_json(const ordered& value) {
  std::cout << value.dump(-1, ' ', false, ordered::error_handler_t::replace) << '\n';
}

// --- collections ---

/// The collection's full "scope.name" ("orders" is "_default.orders"). A malformed name fails
/// here, before any file is opened, so it never creates a database.
std::string collection_name(const std::string& cmd, const std::string& name) {
  auto parsed = store::parse_collection_name(name);
  if (!parsed) fail(cmd, parsed.err());
  return parsed->first + "." + parsed->second;
}

bool is_default(const std::string& full) { return full == kDefaultCollection; }

[[noreturn]] void no_collection(const std::string& cmd, const std::string& full,
                                const std::string& path) {
  fail(cmd, "no collection \"" + full + "\" in " + path);
}

/// Selects the existing collection `full` (reads and deletions never create one).
void use_existing(const std::string& cmd, store::reader& db, const std::string& path,
                  const std::string& full) {
  if (is_default(full)) return;
  auto id = db.find_collection(full);
  if (!id) {
    if (id.err().code == errc::not_found) no_collection(cmd, full, path);
    fail(cmd, id.err());
  }
  if (auto st = db.use_collection(*id); !st.ok()) fail(cmd, st.err());
}

/// Counts of one collection, for `info` and `collections`.
store::database_info collection_counts(const std::string& cmd, store::reader& db,
                                       const store::collection_info& c) {
  if (auto st = db.use_collection(c.id); !st.ok()) fail(cmd, st.err());
  auto info = db.info();
  if (!info) fail(cmd, info.err());
  return *info;
}

// --- put --attach ---

/// One --attach PROPERTY=FILE[:TYPE], read and digested before the database is opened.
struct attachment {
  std::string property;
  std::string file;
  std::string content_type;
  std::string data;
  std::string digest;
};

/// "type/subtype" with optional parameters: what may follow FILE's last ':' as its TYPE.
bool is_media_type(const std::string& s) {
  static const std::regex kType(
      R"([A-Za-z0-9][A-Za-z0-9!#$&^_.+-]*/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]*( *;.*)?)");
  return std::regex_match(s, kType);
}

/// The content type for a file name's extension; application/octet-stream when unknown.
std::string guess_content_type(const std::string& file) {
  static const std::pair<const char*, const char*> kTypes[] = {
      {"png", "image/png"},       {"jpg", "image/jpeg"},        {"jpeg", "image/jpeg"},
      {"gif", "image/gif"},       {"webp", "image/webp"},       {"svg", "image/svg+xml"},
      {"bmp", "image/bmp"},       {"heic", "image/heic"},       {"tif", "image/tiff"},
      {"tiff", "image/tiff"},     {"pdf", "application/pdf"},   {"txt", "text/plain"},
      {"md", "text/markdown"},    {"csv", "text/csv"},          {"html", "text/html"},
      {"htm", "text/html"},       {"css", "text/css"},          {"js", "text/javascript"},
      {"xml", "application/xml"}, {"json", "application/json"}, {"mp4", "video/mp4"},
      {"mov", "video/quicktime"}, {"webm", "video/webm"},       {"mp3", "audio/mpeg"},
      {"m4a", "audio/mp4"},       {"wav", "audio/wav"},         {"ogg", "audio/ogg"},
      {"zip", "application/zip"}, {"gz", "application/gzip"},   {"tar", "application/x-tar"},
  };
  std::string ext = std::filesystem::path(file).extension().string();
  if (!ext.empty()) ext.erase(0, 1);
  std::transform(ext.begin(), ext.end(), ext.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  for (const auto& [e, type] : kTypes)
    if (ext == e) return type;
  return "application/octet-stream";
}

/// Parses PROPERTY=FILE[:TYPE] and reads FILE whole. put_blob takes the blob's bytes in one
/// piece, so the file is read into memory (every --attach file before anything is written:
/// the peak is the sum of their sizes). Fine for attachments; not meant for multi-GB files.
attachment read_attachment(const std::string& cmd, const std::string& spec) {
  attachment a;
  size_t eq = spec.find('=');
  if (eq == std::string::npos || eq == 0 || eq + 1 == spec.size())
    fail(cmd, "--attach \"" + spec + "\": expected PROPERTY=FILE[:TYPE]");
  a.property = spec.substr(0, eq);
  a.file = spec.substr(eq + 1);
  if (size_t colon = a.file.rfind(':');
      colon != std::string::npos && colon > 0 && is_media_type(a.file.substr(colon + 1))) {
    a.content_type = a.file.substr(colon + 1);
    a.file.erase(colon);
  } else {
    a.content_type = guess_content_type(a.file);
  }
  if (a.property[0] == '_')
    fail(cmd, "--attach \"" + spec + "\": property \"" + a.property +
                  "\" starts with '_' (reserved for meta properties)");
  std::error_code ec;
  if (std::filesystem::is_directory(a.file, ec)) fail(cmd, a.file + ": is a directory");
  std::ifstream in(a.file, std::ios::binary);
  if (!in) fail(cmd, a.file + ": cannot open: " + std::strerror(errno));
  a.data.assign(std::istreambuf_iterator<char>(in), {});
  if (in.bad()) fail(cmd, a.file + ": read error");
  a.digest = store::blob_digest(a.data);
  return a;
}

/// `body` with each attachment's blob dict set as its property. Checks what the store would
/// refuse, so that no blob is stored for a revision that cannot be saved.
std::string body_with_blobs(const std::string& cmd, const std::string& body,
                            const std::vector<attachment>& atts) {
  ordered doc = ordered::parse(body, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) fail(cmd, "body is not valid JSON");
  if (!doc.is_object()) fail(cmd, "body is not a JSON object");
  for (const char* key : {"_id", "_rev", "_deleted", "_revisions"})
    if (doc.contains(key)) fail(cmd, std::string("body has reserved property ") + key);
  std::set<std::string> seen;
  for (const auto& a : atts) {
    if (!seen.insert(a.property).second)
      fail(cmd, "--attach: property \"" + a.property + "\" given twice");
    doc[a.property] = ordered{{"@type", "blob"},
                              {"content_type", a.content_type},
                              {"digest", a.digest},
                              {"length", a.data.size()}};
  }
  return doc.dump(-1, ' ', false, ordered::error_handler_t::replace);
}

// --- the commands ---

CLI::App* add_db_command(CLI::App& app, const std::string& name, const std::string& what,
                         const std::shared_ptr<store_args>& args) {
  CLI::App* cmd = app.add_subcommand(name, what);
  cmd->add_option("--db", args->db, "The database (an SQLite file or a postgresql:// URL)")
      ->required();
  return cmd;
}

void add_collection_option(CLI::App* cmd, const std::shared_ptr<store_args>& args, bool write) {
  cmd->add_option("--collection", args->collection,
                  write ? "The collection to write, as SCOPE.NAME (NAME alone means "
                          "_default.NAME); created when missing (with the database file)"
                        : "The collection to read, as SCOPE.NAME (NAME alone means "
                          "_default.NAME); it must exist")
      ->capture_default_str();
}

void run_put(const store_args& a) {
  const std::string cmd = "put";
  const std::string full = collection_name(cmd, a.collection);
  std::string body = a.json;
  if (body == "-") body.assign(std::istreambuf_iterator<char>(std::cin), {});
  // Every attachment is read, and the body checked, before the database is opened: a missing
  // file or a bad body writes nothing (not even a new database file).
  std::vector<attachment> atts;
  for (const auto& spec : a.attach) atts.push_back(read_attachment(cmd, spec));
  if (!atts.empty()) {
    if (a.id.empty()) fail(cmd, "document ID is empty");
    body = body_with_blobs(cmd, body, atts);
  }
  auto db = open_db(cmd, a.db, true);
  // Blobs first, each in its own transaction, then the revision: a crash in between leaves
  // at most an unreferenced blob (`peerlite compact` removes it), never a revision that
  // references a missing blob.
  for (const auto& att : atts) {
    auto digest = db->put_blob(att.data, att.content_type, att.digest);
    if (!digest) fail(cmd, att.file + ": " + digest.err().message);
  }
  std::string rev;
  status st = db->in_transaction([&]() -> status {
    // A new collection is created in the revision's transaction: a refused body leaves none.
    if (!is_default(full)) {
      auto id = db->create_collection(full);
      if (!id) return id.err();
      if (auto used = db->use_collection(*id); !used.ok()) return used;
    }
    auto saved = db->put(a.id, body);
    if (!saved) return saved.err();
    rev = *saved;
    return {};
  });
  if (!st.ok()) fail(cmd, st.err());
  std::cout << rev << '\n';
}

void run_get(const store_args& a) {
  const std::string full = collection_name("get", a.collection);
  auto db = open_db("get", a.db, false);
  use_existing("get", *db, a.db, full);
  auto doc = db->get(a.id, a.rev.empty() ? std::nullopt : std::optional<std::string>(a.rev));
  if (!doc) fail("get", doc.err());
  ordered out{{"_id", doc->id}, {"_rev", doc->rev}};
  if (doc->deleted) out["_deleted"] = true;
  ordered body = ordered::parse(doc->body, nullptr, /*allow_exceptions=*/false);
  if (!body.is_object())
    fail("get", a.db + ": stored body of \"" + a.id + "\" is not a JSON object");
  for (auto& [key, value] : body.items()) out[key] = value;
  print_json(out);
}

void run_rm(const store_args& a) {
  const std::string full = collection_name("rm", a.collection);
  auto db = open_db("rm", a.db, true);
  use_existing("rm", *db, a.db, full);
  auto rev = db->remove(a.id);
  if (!rev) fail("rm", rev.err());
  std::cout << *rev << '\n';
}

void run_ls(const store_args& a) {
  const std::string full = collection_name("ls", a.collection);
  auto db = open_db("ls", a.db, false);
  use_existing("ls", *db, a.db, full);
  auto docs = db->list_documents();
  if (!docs) fail("ls", docs.err());
  for (const auto& [id, rev] : *docs) std::cout << id << '\t' << rev << '\n';
}

void run_changes(const store_args& a) {
  const std::string full = collection_name("changes", a.collection);
  auto db = open_db("changes", a.db, false);
  use_existing("changes", *db, a.db, full);
  auto changes = db->changes(a.since, SIZE_MAX);
  if (!changes) fail("changes", changes.err());
  for (const auto& c : *changes) {
    ordered line{{"seq", c.sequence}, {"id", c.id}, {"rev", c.rev}, {"deleted", c.deleted}};
    print_json(line);
  }
}

void run_info(const store_args& a) {
  const std::string full = collection_name("info", a.collection);
  auto db = open_db("info", a.db, false);
  store::reader::snapshot snap(*db);  // every count from one committed state
  auto all = db->list_collections();
  if (!all) fail("info", all.err());
  use_existing("info", *db, a.db, full);
  auto info = db->info();
  if (!info) fail("info", info.err());
  ordered out{{"docs", info->docs},
              {"tombstones", info->tombstones},
              {"conflicts", info->conflicts},
              {"last_seq", info->last_sequence},
              {"uuid", info->public_uuid}};
  ordered per = ordered::array();
  for (const auto& c : *all) {
    auto counts = collection_counts("info", *db, c);
    per.push_back(ordered{{"name", c.full_name()},
                          {"docs", counts.docs},
                          {"tombstones", counts.tombstones},
                          {"conflicts", counts.conflicts},
                          {"last_seq", counts.last_sequence}});
  }
  out["collections"] = std::move(per);
  print_json(out);
}

void run_collections(const store_args& a) {
  const std::string cmd = "collections";
  if (!a.create.empty()) {
    const std::string full = collection_name(cmd, a.create);
    auto db = open_db(cmd, a.db, true);
    bool existed = db->find_collection(full).has_value();
    auto id = db->create_collection(full);
    if (!id) fail(cmd, id.err());
    std::cout << (existed ? "exists " : "created ") << full << '\n';
    return;
  }
  if (!a.remove.empty()) {
    const std::string full = collection_name(cmd, a.remove);
    auto db = open_db(cmd, a.db, true);
    if (is_default(full)) fail(cmd, "the default collection cannot be deleted");
    auto found = db->find_collection(full);
    if (!found) {
      if (found.err().code == errc::not_found) no_collection(cmd, full, a.db);
      fail(cmd, found.err());
    }
    uint64_t docs = collection_counts(cmd, *db, {*found, {}, {}}).docs;
    if (auto st = db->use_collection(0); !st.ok()) fail(cmd, st.err());
    if (auto st = db->delete_collection(full); !st.ok()) fail(cmd, st.err());
    std::cout << "deleted " << full << " (" << docs << " docs)\n";
    return;
  }
  auto db = open_db(cmd, a.db, false);
  store::reader::snapshot snap(*db);
  auto all = db->list_collections();
  if (!all) fail(cmd, all.err());
  for (const auto& c : *all) {
    auto counts = collection_counts(cmd, *db, c);
    std::cout << c.full_name() << '\t' << counts.docs << " docs\t" << counts.last_sequence
              << " seq\n";
  }
}

void add_store_commands(CLI::App& app) {
  auto put = std::make_shared<store_args>();
  auto* c = add_db_command(app, "put", "Save a document; prints its new revID", put);
  c->add_option("id", put->id, "Document ID")->required();
  c->add_option("json", put->json, "Body: a JSON object (\"-\" reads standard input)")->required();
  add_collection_option(c, put, true);
  c->add_option(
       "--attach", put->attach,
       "Attach FILE as a blob: set the body's top-level PROPERTY to "
       "{\"@type\":\"blob\",\"content_type\":TYPE,\"digest\":\"sha1-...\",\"length\":N}. "
       "TYPE defaults to a guess from FILE's extension (png, jpg, gif, pdf, txt, json, mp4, "
       "mp3, zip, ...; else application/octet-stream); a FILE whose name ends in :a/b needs "
       "an explicit :TYPE after it. PROPERTY replaces any value the body gives it and may not "
       "start with '_'. Repeatable. Each file is read whole into memory and stored before the "
       "revision (a missing file writes nothing)")
      ->type_name("PROPERTY=FILE[:TYPE]");
  c->callback([put] { run_put(*put); });

  auto get = std::make_shared<store_args>();
  c = add_db_command(app, "get", "Print a document as JSON with _id and _rev", get);
  c->add_option("id", get->id, "Document ID")->required();
  c->add_option("--rev", get->rev, "A specific revision (default: the current one)");
  add_collection_option(c, get, false);
  c->callback([get] { run_get(*get); });

  auto rm = std::make_shared<store_args>();
  c = add_db_command(app, "rm", "Delete a document (writes a tombstone); prints its revID", rm);
  c->add_option("id", rm->id, "Document ID")->required();
  add_collection_option(c, rm, false);
  c->callback([rm] { run_rm(*rm); });

  auto ls = std::make_shared<store_args>();
  c = add_db_command(app, "ls", "List live documents: ID<TAB>REV, sorted by ID", ls);
  add_collection_option(c, ls, false);
  c->callback([ls] { run_ls(*ls); });

  auto ch = std::make_shared<store_args>();
  c = add_db_command(app, "changes", "Print the changes feed, one JSON object per line", ch);
  c->add_option("--since", ch->since, "Only changes after this sequence (default 0)");
  add_collection_option(c, ch, false);
  c->callback([ch] { run_changes(*ch); });

  auto info = std::make_shared<store_args>();
  c = add_db_command(app, "info",
                     "Print counts, last sequence and UUID as one JSON object: docs, tombstones, "
                     "conflicts and last_seq of one collection (--collection), and "
                     "\"collections\": the same counts for every collection, with its name",
                     info);
  add_collection_option(c, info, false);
  c->callback([info] { run_info(*info); });

  auto colls = std::make_shared<store_args>();
  c = add_db_command(app, "collections",
                     "List the collections, one per line: SCOPE.NAME<TAB>N docs<TAB>S seq "
                     "(live documents and last sequence), the default collection first",
                     colls);
  auto* create = c->add_option("--create", colls->create,
                               "Create the collection SCOPE.NAME instead of listing (prints "
                               "\"created NAME\", or \"exists NAME\" when it already does)");
  c->add_option("--delete", colls->remove,
                "Delete the collection SCOPE.NAME with all its documents instead of listing "
                "(prints \"deleted NAME (N docs)\"); the default collection cannot be deleted")
      ->excludes(create);
  c->callback([colls] { run_collections(*colls); });
}

const bool registered = register_commands(10, {"put", "get", "rm", "ls", "changes", "info", "collections"}, add_store_commands);

}  // namespace

}  // namespace peerlite::tools
