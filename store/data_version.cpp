// reader::data_version: how the db actor notices commits made by other connections.
#include "store/database.hpp"
#include "store/sqlite.hpp"

namespace peerlite::store {

/// SQLite documents the value as changing only for commits by other connections (another
/// process's included), never for this connection's own: on the writer's connection a change
/// means exactly "somebody else wrote". Reading it takes only a brief read transaction (in WAL
/// mode: mostly a look at the shared-memory WAL index), so polling it is cheap.
expected<int64_t> reader::data_version() { return conn_->query_int("PRAGMA data_version"); }

int reader::listen_for_commits() { return conn_->listen_for_commits(); }

bool reader::drain_commit_notifications(bool& broken) {
  return conn_->drain_commit_notifications(broken);
}

}  // namespace peerlite::store
