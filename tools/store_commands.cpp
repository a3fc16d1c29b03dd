// The store commands: put, get, rm, ls, changes, info (issue 2's spellings are binding).
#include <iostream>
#include <iterator>
#include <memory>
#include <nlohmann/json.hpp>

#include "store/database.hpp"
#include "tools/commands.hpp"

namespace peerlite::tools {

namespace {

using ordered = nlohmann::ordered_json;

/// The arguments every store command shares; owned by the subcommand's callback.
struct store_args {
  std::string db;
  std::string id;
  std::string json;
  std::string rev;
  uint64_t since = 0;
};

/// One JSON value per line; bytes that are not UTF-8 (an ID from a peer) print as U+FFFD.
void print_json(const ordered& value) {
  std::cout << value.dump(-1, ' ', false, ordered::error_handler_t::replace) << '\n';
}

/// Writes create the file when missing; reads never create one.
std::unique_ptr<store::database> open_db(const std::string& cmd, const std::string& path,
                                         bool write) {
  store::options opts;
  opts.create_if_missing = write;
  auto db = store::database::open(path, opts);
  if (!db) fail(cmd, db.err());
  if (write && (*db)->is_read_only()) fail(cmd, path + ": the database file is read-only");
  return std::move(*db);
}

CLI::App* add_db_command(CLI::App& app, const std::string& name, const std::string& what,
                         const std::shared_ptr<store_args>& args) {
  CLI::App* cmd = app.add_subcommand(name, what);
  cmd->add_option("--db", args->db, "The database file (SQLite)")->required();
  return cmd;
}

void run_put(const store_args& a) {
  std::string body = a.json;
  if (body == "-") body.assign(std::istreambuf_iterator<char>(std::cin), {});
  auto db = open_db("put", a.db, true);
  auto rev = db->put(a.id, body);
  if (!rev) fail("put", rev.err());
  std::cout << *rev << '\n';
}

void run_get(const store_args& a) {
  auto db = open_db("get", a.db, false);
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
  auto db = open_db("rm", a.db, true);
  auto rev = db->remove(a.id);
  if (!rev) fail("rm", rev.err());
  std::cout << *rev << '\n';
}

void run_ls(const store_args& a) {
  auto db = open_db("ls", a.db, false);
  auto docs = db->list_documents();
  if (!docs) fail("ls", docs.err());
  for (const auto& [id, rev] : *docs) std::cout << id << '\t' << rev << '\n';
}

void run_changes(const store_args& a) {
  auto db = open_db("changes", a.db, false);
  auto changes = db->changes(a.since, SIZE_MAX);
  if (!changes) fail("changes", changes.err());
  for (const auto& c : *changes) {
    ordered line{{"seq", c.sequence}, {"id", c.id}, {"rev", c.rev}, {"deleted", c.deleted}};
    print_json(line);
  }
}

void run_info(const store_args& a) {
  auto db = open_db("info", a.db, false);
  auto info = db->info();
  if (!info) fail("info", info.err());
  ordered out{{"docs", info->docs},
              {"tombstones", info->tombstones},
              {"conflicts", info->conflicts},
              {"last_seq", info->last_sequence},
              {"uuid", info->public_uuid}};
  print_json(out);
}

void add_store_commands(CLI::App& app) {
  auto put = std::make_shared<store_args>();
  auto* c = add_db_command(app, "put", "Save a document; prints its new revID", put);
  c->add_option("id", put->id, "Document ID")->required();
  c->add_option("json", put->json, "Body: a JSON object (\"-\" reads standard input)")->required();
  c->callback([put] { run_put(*put); });

  auto get = std::make_shared<store_args>();
  c = add_db_command(app, "get", "Print a document as JSON with _id and _rev", get);
  c->add_option("id", get->id, "Document ID")->required();
  c->add_option("--rev", get->rev, "A specific revision (default: the current one)");
  c->callback([get] { run_get(*get); });

  auto rm = std::make_shared<store_args>();
  c = add_db_command(app, "rm", "Delete a document (writes a tombstone); prints its revID", rm);
  c->add_option("id", rm->id, "Document ID")->required();
  c->callback([rm] { run_rm(*rm); });

  auto ls = std::make_shared<store_args>();
  c = add_db_command(app, "ls", "List live documents: ID<TAB>REV, sorted by ID", ls);
  c->callback([ls] { run_ls(*ls); });

  auto ch = std::make_shared<store_args>();
  c = add_db_command(app, "changes", "Print the changes feed, one JSON object per line", ch);
  c->add_option("--since", ch->since, "Only changes after this sequence (default 0)");
  c->callback([ch] { run_changes(*ch); });

  auto info = std::make_shared<store_args>();
  c = add_db_command(app, "info", "Print counts, last sequence and UUID as one JSON object", info);
  c->callback([info] { run_info(*info); });
}

const bool registered = register_commands(10, add_store_commands);

}  // namespace

}  // namespace peerlite::tools
