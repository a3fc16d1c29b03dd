// The store commands' one way of opening a database file.
#pragma once

#include <memory>
#include <string>

#include "store/database.hpp"
#include "tools/commands.hpp"

namespace peerlite::tools {

/// Opens `path` for command `cmd`, or ends the command with the reason. Writes create the file
/// when missing; reads never create one.
inline std::unique_ptr<store::database> open_db(const std::string& cmd, const std::string& path,
                                                bool write) {
  store::options opts;
  opts.create_if_missing = write;
  auto db = store::database::open(path, opts);
  if (!db) fail(cmd, db.err());
  if (write && (*db)->is_read_only()) fail(cmd, path + ": the database file is read-only");
  return std::move(*db);
}

}  // namespace peerlite::tools
