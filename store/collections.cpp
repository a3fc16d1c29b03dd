// Named collections (Couchbase Lite 3.x scopes and collections). Collection N > 0 keeps its
// documents in its own tables docs_N / remote_revs_N (schema.hpp); the connection's current
// collection decides which tables every cached statement names (connection::prepare), so each
// store call works on one collection without knowing about the others.
#include <algorithm>

#include "store/database.hpp"
#include "store/doc_row.hpp"
#include "store/schema.hpp"
#include "store/sqlite.hpp"

namespace peerlite::store {

namespace {

constexpr std::string_view kDefault = "_default";
constexpr size_t kMaxNameLength = 251;
/// Ids are never reused (meta keeps the highest ever given): a reader still on a deleted
/// collection then fails instead of silently reading a newer collection's documents.
constexpr std::string_view kLastCollectionId = "last_collection_id";

bool valid_name_part(std::string_view s) {
  if (s == kDefault) return true;
  if (s.empty() || s.size() > kMaxNameLength || s[0] == '_' || s[0] == '%') return false;
  return std::all_of(s.begin(), s.end(), [](char ch) {
    return (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
           ch == '_' || ch == '%' || ch == '-';
  });
}

/// Prepares a statement on the collections table. nullptr (not an error) when the file has no
/// such table: a version-2 file opened read-only, which holds the default collection only.
expected<statement*> prepare_collections(connection& c, const char* sql) {
  if (statement* s = c.prepare(sql)) return s;
  error failed = c.last_error("prepare");
  auto tables = c.query_int(sql::kHasCollectionsTable);
  if (!tables) return tables.err();
  if (*tables > 0) return failed;
  return static_cast<statement*>(nullptr);
}

/// Runs a write statement with `args` bound to ?1, ?2, ...
template <class... Ts>
status run(connection& c, const char* sql, std::string_view what, const Ts&... args) {
  statement* s = c.prepare(sql);
  if (!s) return c.last_error("prepare");
  int i = 0;
  (s->bind(++i, args), ...);
  int rc = s->step();
  s->reset();
  if (rc != SQLITE_DONE) return c.error_for(rc, what);
  return {};
}

error no_such_collection(const connection& c, std::string_view what) {
  return {errc::not_found, c.label() + ": no collection " + std::string(what)};
}

/// The id of scope.name; not_found when absent.
expected<collection_id> lookup(connection& c, const std::string& scope, const std::string& name) {
  if (scope == kDefault && name == kDefault) return collection_id{0};
  auto s = prepare_collections(c, sql::kFindCollection);
  if (!s) return s.err();
  if (!*s) return no_such_collection(c, "\"" + scope + "." + name + "\"");
  (*s)->bind(1, std::string_view(scope));
  (*s)->bind(2, std::string_view(name));
  int rc = (*s)->step();
  collection_id id = rc == SQLITE_ROW ? (*s)->integer(0) : 0;
  (*s)->reset();
  if (rc == SQLITE_DONE) return no_such_collection(c, "\"" + scope + "." + name + "\"");
  if (rc != SQLITE_ROW) return c.error_for(rc, "read collections");
  return id;
}

}  // namespace

std::string collection_info::full_name() const { return scope + "." + name; }

expected<std::pair<std::string, std::string>> parse_collection_name(std::string_view full) {
  size_t dot = full.find('.');
  std::string_view scope = dot == std::string_view::npos ? kDefault : full.substr(0, dot);
  std::string_view name = dot == std::string_view::npos ? full : full.substr(dot + 1);
  if (!valid_name_part(scope) || !valid_name_part(name) ||
      (name == kDefault && scope != kDefault)) {
    return error{errc::invalid_argument,
                 "invalid collection name \"" + std::string(full) +
                     "\" (scope and name: 1-251 of A-Z a-z 0-9 _ % -, not starting with _ or %, "
                     "except _default)"};
  }
  return std::pair{std::string(scope), std::string(name)};
}

status reader::use_collection(collection_id c) {
  if (c != 0) {
    auto s = prepare_collections(*conn_, sql::kHasCollection);
    if (!s) return s.err();
    int rc = SQLITE_DONE;
    if (*s) {
      (*s)->bind(1, c);
      rc = (*s)->step();
      (*s)->reset();
    }
    if (rc == SQLITE_DONE) return no_such_collection(*conn_, "with id " + std::to_string(c));
    if (rc != SQLITE_ROW) return conn_->error_for(rc, "read collections");
  }
  conn_->set_collection(c);
  return {};
}

collection_id reader::current_collection() const { return conn_->collection(); }

expected<collection_id> reader::find_collection(std::string_view name) {
  auto parsed = parse_collection_name(name);
  if (!parsed) return parsed.err();
  return lookup(*conn_, parsed->first, parsed->second);
}

expected<std::vector<collection_info>> reader::list_collections() {
  auto s = prepare_collections(*conn_, sql::kListCollections);
  if (!s) return s.err();
  std::vector<collection_info> out;
  if (!*s) {
    out.push_back({0, std::string(kDefault), std::string(kDefault)});
    return out;
  }
  int rc;
  while ((rc = (*s)->step()) == SQLITE_ROW) {
    out.push_back({(*s)->integer(0), std::string((*s)->text(1)), std::string((*s)->text(2))});
  }
  (*s)->reset();
  if (rc != SQLITE_DONE) return conn_->error_for(rc, "list collections");
  return out;
}

expected<collection_id> database::create_collection(std::string_view full) {
  if (auto st = check_writable(); !st.ok()) return st.err();
  auto parsed = parse_collection_name(full);
  if (!parsed) return parsed.err();
  transaction tx(*conn_, true);
  if (!tx.begun().ok()) return tx.begun().err();
  auto found = lookup(*conn_, parsed->first, parsed->second);
  if (found || found.err().code != errc::not_found) return found;
  statement* s = conn_->prepare(sql::kNextCollectionId);
  if (!s) return conn_->last_error("prepare");
  s->bind(1, kLastCollectionId);
  int rc = s->step();
  collection_id id = rc == SQLITE_ROW ? s->integer(0) : 0;
  s->reset();
  if (rc != SQLITE_ROW) return conn_->error_for(rc, "add collection");

  /// The default collection's CREATE statements, renamed: tables by collection_sql(), and each
  /// index after its table (docs_seq on docs becomes docs_N_seq on docs_N).
  s = conn_->prepare(sql::kDefaultTables);
  if (!s) return conn_->last_error("prepare");
  std::string ddl;
  while ((rc = s->step()) == SQLITE_ROW) {
    std::string_view name = s->text(0), table = s->text(1);
    std::string text = collection_sql(s->text(2), id);
    if (name != table) {
      std::string renamed = name.starts_with(std::string(table) + "_")
                                ? collection_sql(table, id) + std::string(name.substr(table.size()))
                                : std::string(name) + "_" + std::to_string(id);
      const std::pair<std::string_view, std::string_view> words[] = {{name, renamed}};
      text = replace_words(text, words);
    }
    ddl += text + ";\n";
  }
  s->reset();
  if (rc != SQLITE_DONE) return conn_->error_for(rc, "read the schema");
  if (auto st = conn_->exec(ddl.c_str()); !st.ok()) return st.err();

  if (auto st = run(*conn_, sql::kAddCollection, "add collection", id,
                    std::string_view(parsed->first), std::string_view(parsed->second));
      !st.ok())
    return st.err();
  if (auto st = run(*conn_, sql::kSetMeta, "add collection", kLastCollectionId, id); !st.ok())
    return st.err();
  if (auto st = tx.commit(); !st.ok()) return st.err();
  return id;
}

status database::delete_collection(std::string_view full) {
  if (auto st = check_writable(); !st.ok()) return st;
  auto parsed = parse_collection_name(full);
  if (!parsed) return parsed.err();
  if (parsed->first == kDefault && parsed->second == kDefault) {
    return error{errc::invalid_argument, path_ + ": the default collection cannot be deleted"};
  }
  transaction tx(*conn_, true);
  if (!tx.begun().ok()) return tx.begun();
  auto id = lookup(*conn_, parsed->first, parsed->second);
  if (!id) return id.err();
  /// Its cached statements go first: they name the tables about to be dropped.
  conn_->evict_collection(*id);
  std::string drop = collection_sql("DROP TABLE docs; DROP TABLE remote_revs;", *id);
  if (auto st = conn_->exec(drop.c_str()); !st.ok()) return st;
  if (auto st = run(*conn_, sql::kDeleteCollection, "delete collection", *id); !st.ok()) return st;
  std::string seq_key = last_seq_key(*id);
  if (auto st = run(*conn_, sql::kDeleteMeta, "delete collection", std::string_view(seq_key));
      !st.ok())
    return st;
  if (auto st = tx.commit(); !st.ok()) return st;
  if (conn_->collection() == *id) conn_->set_collection(0);
  return {};
}

}  // namespace peerlite::store
