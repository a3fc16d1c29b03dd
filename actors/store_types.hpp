// Store values (store/document.hpp) as CAF message types, for messages to and from the db
// actor. Local messaging only.
#pragma once

#include <caf/all.hpp>

#include "store/database.hpp"
#include "store/document.hpp"

namespace peerlite::store {

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, incoming_revision& x) {
  return f(caf::meta::type_name("incoming_rev"), x.id, x.rev, x.history, x.body, x.deleted,
           x.no_conflicts);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, insert_result& x) {
  return f(caf::meta::type_name("insert_result"), x.outcome, x.sequence, x.current_rev);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, change& x) {
  return f(caf::meta::type_name("store_change"), x.sequence, x.id, x.rev, x.deleted,
           x.body_size, x.conflicted, x.remote_rev);
}

}  // namespace peerlite::store
