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
  auto h = self->request(core->writer, kDatabaseCallTimeout, std::forward<Ts>(xs)...);
  h.receive([&](T& value) { out.emplace(std::move(value)); },
            [&](caf::error& err) { out.emplace(to_error(err)); });
  /// CAF would keep the timeout, and with it this scoped actor, in its clock until the deadline
  /// passed, answered or not (see request_deadlines.hpp): an app saving in a loop piled them up.
  core->sys->clock().cancel_request_timeout(self.ptr(), h.id());
  return std::move(*out);
}

inline document to_public(store::document&& d) {
  return document{std::move(d.id), std::move(d.rev), std::move(d.body), d.deleted, d.sequence};
}

}  // namespace peerlite::actors
