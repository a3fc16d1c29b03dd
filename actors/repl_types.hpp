// The public replication vocabulary (status, document events) as CAF message types: the
// inspect overloads let actors send them to each other (local messaging only).
#pragma once

#include <caf/all.hpp>

#include "peerlite/replicator.hpp"
#include "peerlite/status.hpp"

namespace peerlite {

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, error& x) {
  return f(caf::meta::type_name("peerlite_error"), x.code, x.message);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, replication_progress& x) {
  return f(caf::meta::type_name("repl_progress"), x.completed, x.total);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, replicator_status& x) {
  return f(caf::meta::type_name("repl_status"), x.activity, x.progress, x.err);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, replicated_document& x) {
  return f(caf::meta::type_name("repl_doc"), x.id, x.rev, x.direction, x.flags.deleted,
           x.flags.access_removed, x.err, x.collection);
}

}  // namespace peerlite
