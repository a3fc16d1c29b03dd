// The bulk commands: `peerlite import` (JSON lines in) and `peerlite export` (JSON lines out).
//
// The line format is the one `peerlite get` prints: one JSON object per line with the meta
// properties `_id`, `_rev` and (tombstones) `_deleted`, the body's keys after them. Export
// output imports back into a fresh database with the same bodies (not the same revIDs:
// an import writes new local revisions, like `peerlite put`).
#include <algorithm>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "store/database.hpp"
#include "tools/commands.hpp"
#include "tools/store_open.hpp"

namespace peerlite::tools {

namespace {

using ordered = nlohmann::ordered_json;

/// Lines written per transaction. A transaction per document pays a commit (WAL append of
/// the touched pages, BEGIN/COMMIT) per document; one transaction for the whole file would
/// hold the file's write lock for the entire import (another writer on the file, such as a
/// `peerlite serve`, waits up to the busy timeout and then fails) and keep every parsed line
/// in memory. Measured with 100,000 documents of ~95 bytes (Release, 2-core VM): 1 per
/// transaction 3.7 s for only 20,000 (~18 s for all); 100: 1.76 s; 1,000: 1.40 s; 5,000:
/// 1.27 s; 100,000 (all in one): 1.22 s. At 5,000 the commit cost no longer matters, each
/// transaction holds the write lock for ~60 ms, and a batch of parsed lines stays small.
constexpr size_t kBatchLines = 5000;

/// How often a long import reports progress on stderr.
constexpr auto kProgressEvery = std::chrono::seconds(1);

/// Changes read per query while export collects the documents.
constexpr size_t kExportPage = 10000;

constexpr const char* kDefaultCollection = "_default._default";

struct import_args {
  std::string db;
  std::string file;
  std::string collection = kDefaultCollection;
};

struct export_args {
  std::string db;
  std::string collection = kDefaultCollection;
  bool include_deleted = false;
};

/// One JSON value per line; bytes that are not UTF-8 (an ID from a peer) print as U+FFFD.
std::string dump_line(const ordered& value) {
  return value.dump(-1, ' ', false, ordered::error_handler_t::replace);
}

// --- import ---

/// One parsed input line, waiting for its batch to be written.
struct pending_doc {
  size_t line = 0;
  std::string id;
  std::string body;  ///< JSON object text without the meta properties (unused for deletions)
  bool deleted = false;
};

/// A line that is not a document: what is wrong with it.
struct bad_line {
  std::string message;
};

bool is_blank(const std::string& line) {
  return std::all_of(line.begin(), line.end(),
                     [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; });
}

/// nlohmann's parse error without its exception-class prefix and the always-1 line number:
/// "invalid JSON at column 7: syntax error while parsing ...".
std::string json_error(const nlohmann::json::parse_error& e) {
  std::string what = e.what();
  auto col = what.find("column ");
  if (col != std::string::npos) return "invalid JSON at " + what.substr(col);
  auto bracket = what.find("] ");
  return "invalid JSON: " + (bracket == std::string::npos ? what : what.substr(bracket + 2));
}

/// Parses one non-blank line into a document, or says why it is not one.
std::variant<pending_doc, bad_line> parse_line(const std::string& text, size_t line) {
  ordered value;
  try {
    value = ordered::parse(text);
  } catch (const nlohmann::json::parse_error& e) {
    return bad_line{json_error(e)};
  }
  if (!value.is_object()) return bad_line{"not a JSON object"};
  auto id = value.find("_id");
  if (id == value.end()) return bad_line{"no \"_id\""};
  if (!id->is_string()) return bad_line{"\"_id\" is not a string"};
  pending_doc doc;
  doc.line = line;
  doc.id = id->get<std::string>();
  if (auto del = value.find("_deleted"); del != value.end()) {
    if (!del->is_boolean()) return bad_line{"\"_deleted\" is not true or false"};
    doc.deleted = del->get<bool>();
  }
  if (!doc.deleted) {
    value.erase("_id");
    value.erase("_rev");
    value.erase("_deleted");
    doc.body = dump_line(value);
  }
  return doc;
}

/// Writes batches and keeps the counts of what has been committed.
class importer {
 public:
  importer(store::database& db, std::string source) : db_(db), source_(std::move(source)) {}

  size_t imported() const { return imported_; }
  size_t deleted() const { return deleted_; }

  /// Writes `batch` in one transaction. When one of its documents is refused, the documents
  /// before it are still committed (in a second transaction: the first was rolled back) and
  /// the error names that document's line. Returns the error message, or nothing.
  std::optional<std::string> write(const std::vector<pending_doc>& batch) {
    if (batch.empty()) return std::nullopt;
    size_t refused = batch.size();
    error refusal;
    status st = write_prefix(batch, batch.size(), &refused, &refusal);
    if (st.ok()) return std::nullopt;
    if (refused == batch.size()) {
      // The commit itself failed (I/O, locking): nothing of this batch was written.
      return source_ + ":" + std::to_string(batch.front().line) + "-" +
             std::to_string(batch.back().line) + ": " + st.err().message;
    }
    if (refused > 0) {
      if (status again = write_prefix(batch, refused, nullptr, nullptr); !again.ok()) {
        return source_ + ":" + std::to_string(batch.front().line) + "-" +
               std::to_string(batch[refused - 1].line) + ": " + again.err().message;
      }
    }
    return source_ + ":" + std::to_string(batch[refused].line) + ": " + refusal.message;
  }

 private:
  /// Writes batch[0, n) in one transaction; adds to the counts only once it is committed.
  /// On a refused document, records its index and error and rolls everything back.
  status write_prefix(const std::vector<pending_doc>& batch, size_t n, size_t* refused,
                      error* refusal) {
    size_t docs = 0, deletions = 0;
    status st = db_.in_transaction([&]() -> status {
      for (size_t i = 0; i < n; ++i) {
        const pending_doc& d = batch[i];
        if (d.deleted) {
          auto rev = db_.remove(d.id);
          // Deleting a document the database lacks (or has already deleted) leaves it
          // absent: nothing to write, and not an error (an export's tombstones import into a
          // database that never had those documents).
          if (!rev && rev.err().code != errc::not_found) {
            if (refused) *refused = i, *refusal = rev.err();
            return rev.err();
          }
          ++deletions;
        } else if (auto rev = db_.put(d.id, d.body); !rev) {
          if (refused) *refused = i, *refusal = rev.err();
          return rev.err();
        }
        ++docs;
      }
      return {};
    });
    if (st.ok()) imported_ += docs, deleted_ += deletions;
    return st;
  }

  store::database& db_;
  std::string source_;
  size_t imported_ = 0;
  size_t deleted_ = 0;
};

void run_import(const import_args& a) {
  const std::string cmd = "import";
  const bool from_stdin = a.file == "-";
  const std::string source = from_stdin ? "stdin" : a.file;
  // The input is opened first, so a mistyped file name does not leave an empty database.
  std::ifstream file;
  if (!from_stdin) {
    std::error_code ec;
    if (std::filesystem::is_directory(a.file, ec)) fail(cmd, a.file + ": is a directory");
    file.open(a.file, std::ios::binary);
    if (!file) fail(cmd, a.file + ": cannot open: " + std::strerror(errno));
  }
  std::istream& in = from_stdin ? std::cin : file;
  // The collection name is checked before the database is opened too, for the same reason.
  if (auto name = store::parse_collection_name(a.collection); !name) fail(cmd, name.err());

  auto db = open_db(cmd, a.db, true);
  auto collection = db->create_collection(a.collection);  // the existing one when present
  if (!collection) fail(cmd, collection.err());
  if (auto st = db->use_collection(*collection); !st.ok()) fail(cmd, st.err());
  importer writer(*db, source);
  auto last_report = std::chrono::steady_clock::now();
  auto flush = [&](std::vector<pending_doc>& batch) {
    auto problem = writer.write(batch);
    batch.clear();
    if (problem) {
      fail(cmd, *problem + " (import stopped; " + std::to_string(writer.imported()) +
                    " documents before it were imported)");
    }
    auto now = std::chrono::steady_clock::now();
    if (now - last_report >= kProgressEvery) {
      std::cerr << "imported " << writer.imported() << " documents..." << std::endl;
      last_report = now;
    }
  };

  std::vector<pending_doc> batch;
  batch.reserve(kBatchLines);
  std::string text;
  size_t line = 0;
  while (std::getline(in, text)) {
    ++line;
    if (is_blank(text)) continue;
    auto parsed = parse_line(text, line);
    if (auto* bad = std::get_if<bad_line>(&parsed)) {
      // The lines before it (this batch's included) are written, then the import stops.
      flush(batch);
      fail(cmd, source + ":" + std::to_string(line) + ": " + bad->message + " (import stopped; " +
                    std::to_string(writer.imported()) + " documents before it were imported)");
    }
    batch.push_back(std::move(std::get<pending_doc>(parsed)));
    if (batch.size() == kBatchLines) flush(batch);
  }
  if (in.bad()) {
    flush(batch);
    fail(cmd, source + ": read error after line " + std::to_string(line) + " (import stopped; " +
                  std::to_string(writer.imported()) + " documents before it were imported)");
  }
  flush(batch);
  std::cout << "imported " << writer.imported() << " documents (" << writer.deleted()
            << " deleted) into " << a.db << '\n';
}

// --- export ---

void run_export(const export_args& a) {
  const std::string cmd = "export";
  auto db = open_db(cmd, a.db, false);
  auto collection = db->find_collection(a.collection);
  if (!collection) fail(cmd, collection.err());
  if (auto st = db->use_collection(*collection); !st.ok()) fail(cmd, st.err());
  // One read transaction for the whole export, so the output is one consistent state even
  // while another process writes to the file.
  store::reader::snapshot snap(*db);
  // The changes feed has one entry per document, tombstones included (list_documents has
  // only the live ones); it is in sequence order, so the entries are sorted by ID after.
  std::vector<store::change> entries;
  for (uint64_t since = 0;;) {
    auto page = db->changes(since, kExportPage);
    if (!page) fail(cmd, page.err());
    for (auto& c : *page) {
      since = c.sequence;
      if (!c.deleted || a.include_deleted) entries.push_back(std::move(c));
    }
    if (page->size() < kExportPage) break;
  }
  // Byte order (memcmp), the order SQLite's BINARY collation and `peerlite ls` use.
  std::sort(entries.begin(), entries.end(),
            [](const store::change& x, const store::change& y) { return x.id < y.id; });

  std::string out;
  for (const auto& c : entries) {
    ordered line{{"_id", c.id}, {"_rev", c.rev}};
    if (c.deleted) {
      line["_deleted"] = true;
    } else {
      auto doc = db->get(c.id);
      if (!doc) fail(cmd, doc.err());
      ordered body = ordered::parse(doc->body, nullptr, /*allow_exceptions=*/false);
      if (!body.is_object())
        fail(cmd, a.db + ": stored body of \"" + c.id + "\" is not a JSON object");
      for (auto& [key, value] : body.items()) line[key] = std::move(value);
    }
    out += dump_line(line);
    out += '\n';
    if (out.size() >= (1u << 16)) {
      std::cout << out;
      out.clear();
    }
  }
  std::cout << out;
  std::cout.flush();
  if (!std::cout) fail(cmd, "writing standard output failed");
}

void add_import_export_commands(CLI::App& app) {
  auto imp = std::make_shared<import_args>();
  CLI::App* c = app.add_subcommand(
      "import",
      "Import documents from JSON lines: one JSON object per line with a string \"_id\"; its "
      "other keys are the body (\"_rev\" is ignored: each document gets a new local "
      "revision, on top of the current one when the ID exists). \"_deleted\": true deletes "
      "the document instead (a no-op when the database does not have it). Blank lines are "
      "skipped. Written " +
          std::to_string(kBatchLines) +
          " lines per transaction; the first bad line stops the import with its line number, "
          "every line before it being imported. Prints \"imported N documents (M deleted) "
          "into DB\"; progress goes to stderr every second.");
  c->add_option("--db", imp->db,
                "The database (an SQLite file or a postgresql:// URL); created when missing")
      ->required();
  c->add_option("--collection", imp->collection,
                "The collection to write, as SCOPE.NAME (NAME alone means _default.NAME); "
                "created when missing (with the database file)")
      ->capture_default_str();
  c->add_option("file", imp->file, "The JSON lines file to read (\"-\" reads standard input)")
      ->required();
  c->callback([imp] { run_import(*imp); });

  auto exp = std::make_shared<export_args>();
  c = app.add_subcommand(
      "export",
      "Export documents as JSON lines on stdout, sorted by ID: {\"_id\":..,\"_rev\":..,<body "
      "keys>} at each document's current revision. `peerlite import` reads it back.");
  c->add_option("--db", exp->db,
                "The database (an SQLite file or a postgresql:// URL); it must exist")
      ->required();
  c->add_option("--collection", exp->collection,
                "The collection to read, as SCOPE.NAME (NAME alone means _default.NAME); "
                "it must exist")
      ->capture_default_str();
  c->add_flag("--include-deleted", exp->include_deleted,
              "Also print deleted documents, as {\"_id\":..,\"_rev\":..,\"_deleted\":true}");
  c->callback([exp] { run_export(*exp); });
}

const bool registered = register_commands(12, {"import", "export"}, add_import_export_commands);

}  // namespace

}  // namespace peerlite::tools
