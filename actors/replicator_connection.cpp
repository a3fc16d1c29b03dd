// replicator_connection: the app's thread-safe, non-blocking handle on a connection actor.
// Both members only enqueue: receive() into the handle's inbox (ringing the actor's doorbell
// when it was empty), close() into the actor's mailbox.
#include "actors/connection.hpp"

namespace peerlite {

void replicator_connection::receive(message msg) {
  if (!handle_ || msg.empty()) return;
  if (handle_->inbox->push(msg.take()))
    caf::anon_send(handle_->actor, actors::conn_recv_atom::value);
}

void replicator_connection::close(std::optional<messaging_error> error) {
  if (!handle_) return;
  bool has_error = error.has_value();
  caf::anon_send(handle_->actor, actors::conn_appcl_atom::value, has_error,
                 has_error ? error->what : std::string{}, has_error && error->recoverable);
}

}  // namespace peerlite
