// Internal: what the public handles (peerlite::database, peerlite::collection) share to reach
// the database: a blocking call to the writer from an app thread, and the store's document
// turned into the public one.
#pragma once

#include <optional>
#include <utility>

#include "actors/database_core.hpp"
#include "actors/errors.hpp"
#include "actors/runtime.hpp"
#include "actors/tuning.hpp"

namespace peerlite::actors {

/// Asks the writer and waits for its answer, at most kDatabaseCallTimeout (app threads only
/// block here, never actors). `empty` is the error for a null core.
template <class T, class... Ts>
expected<T> call_writer(const std::shared_ptr<database_core>& core, const error& empty,
                        Ts&&... xs) {
  if (!core) return empty;
  caf::scoped_actor self{*core->sys};
  std::optional<expected<T>> out;
  self->request(core->writer, kDatabaseCallTimeout, std::forward<Ts>(xs)...)
      .receive([&](T& value) { out.emplace(std::move(value)); },
               [&](caf::error& err) { out.emplace(to_error(err)); });
  return std::move(*out);
}

inline document to_public(store::document&& d) {
  return document{std::move(d.id), std::move(d.rev), std::move(d.body), d.deleted, d.sequence};
}

}  // namespace peerlite::actors
