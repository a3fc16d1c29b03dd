// The engine-neutral part of the store's SQL layer (see store/sql.hpp).
#include "store/sql.hpp"

#include <openssl/rand.h>

namespace peerlite::store {

namespace {

/// SQLite identifiers: ASCII letters, digits, '_' and '$', and any non-ASCII byte.
bool identifier_char(char ch) {
  auto u = static_cast<unsigned char>(ch);
  return u >= 0x80 || (u >= '0' && u <= '9') || (u >= 'A' && u <= 'Z') || (u >= 'a' && u <= 'z') ||
         u == '_' || u == '$';
}

}  // namespace

std::string random_hex_uuid() {
  unsigned char bytes[16];
  RAND_bytes(bytes, sizeof bytes);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned char b : bytes) {
    out.push_back(kHex[b >> 4]);
    out.push_back(kHex[b & 0xF]);
  }
  return out;
}

std::string replace_words(std::string_view sql,
                          std::span<const std::pair<std::string_view, std::string_view>> words) {
  std::string out;
  out.reserve(sql.size() + 16);
  for (size_t i = 0; i < sql.size();) {
    if (sql[i] == '\'') {
      /// A string literal, copied as it is ('' inside one reads as two literals back to back,
      /// which copies the same text).
      size_t end = sql.find('\'', i + 1);
      end = end == std::string_view::npos ? sql.size() : end + 1;
      out.append(sql.substr(i, end - i));
      i = end;
      continue;
    }
    if (!identifier_char(sql[i])) {
      out.push_back(sql[i++]);
      continue;
    }
    size_t end = i;
    while (end < sql.size() && identifier_char(sql[end])) ++end;
    std::string_view word = sql.substr(i, end - i);
    for (const auto& [from, to] : words) {
      if (word == from) {
        word = to;
        break;
      }
    }
    out.append(word);
    i = end;
  }
  return out;
}

std::string collection_sql(std::string_view sql, int64_t c) {
  if (c == 0) return std::string(sql);
  std::string n = std::to_string(c);
  std::string docs = "docs_" + n, remote_revs = "remote_revs_" + n;
  const std::pair<std::string_view, std::string_view> words[] = {{"docs", docs},
                                                                 {"remote_revs", remote_revs}};
  return replace_words(sql, words);
}

expected<int64_t> connection::query_int(const char* sql) {
  statement* s = prepare(sql);
  if (!s) return last_error("prepare");
  int rc = s->step();
  if (rc != SQLITE_ROW) return error_for(rc, sql);
  int64_t v = s->integer(0);
  s->reset();
  return v;
}

transaction::transaction(connection& c, bool write) : conn_(c) {
  if (c.tx_depth() > 0) return;
  begun_ = c.begin(write);
  if (!begun_.ok()) return;
  owner_ = true;
  ++c.tx_depth();
}

transaction::~transaction() {
  if (owner_ && !done_) {
    conn_.exec("ROLLBACK");
    --conn_.tx_depth();
  }
}

status transaction::commit() {
  if (!owner_ || done_) return {};
  done_ = true;
  --conn_.tx_depth();
  status st = conn_.exec("COMMIT");
  if (!st.ok()) conn_.exec("ROLLBACK");
  return st;
}

}  // namespace peerlite::store
