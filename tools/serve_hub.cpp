#include "tools/serve_hub.hpp"

#include <atomic>

#include "peerlite/message_endpoint_listener.hpp"

namespace peerlite::tools {

/// Longest the hub waits for its connections to close when it is destroyed: the engine's
/// close timeout (5 s) plus slack.
constexpr std::chrono::seconds kHubShutdownTimeout{8};
/// The deflater of each connection's sending direction: a 2^10-byte window and memLevel 2
/// instead of zlib's (15, 9), which take ~268 KiB per connection once it sends a compressed
/// frame; a hub with thousands of peers would spend most of its memory there (issue 5: <= 64
/// KiB per idle connection). Every inflater reads a smaller window, so peers need no change;
/// replication messages are small JSON, so the ratio barely changes.
constexpr int kHubDeflateWindowBits = 10;
constexpr int kHubDeflateMemLevel = 2;

struct hub::state {
  std::unique_ptr<message_endpoint_listener> messages;  ///< ws:// peers
  std::unique_ptr<message_endpoint_listener> bytes;     ///< tcp:// peers
  std::atomic<uint64_t> in{0}, out{0};
  std::vector<listener_token> tokens;

  void count(const std::vector<replicated_document>& events) {
    for (auto& e : events) {
      if (e.err.code != errc::ok) continue;
      /// Directions are the hub's: pull = a peer pushed it to us.
      (e.direction == replication_direction::pull ? in : out)++;
    }
  }
};

hub::hub(database db, std::chrono::seconds heartbeat, bool read_only,
         std::vector<std::string> collections)
    : state_(std::make_shared<state>()) {
  listener_config ws_config{db, protocol_type::message_stream};
  listener_config tcp_config{db, protocol_type::byte_stream};
  if (heartbeat.count() > 0) tcp_config.heartbeat = heartbeat;
  for (auto* c : {&ws_config, &tcp_config}) {
    c->read_only = read_only;
    c->collections = collections;
    c->deflate_window_bits = kHubDeflateWindowBits;
    c->deflate_mem_level = kHubDeflateMemLevel;
  }
  state_->messages = std::make_unique<message_endpoint_listener>(ws_config);
  state_->bytes = std::make_unique<message_endpoint_listener>(tcp_config);
  for (auto* l : {state_->messages.get(), state_->bytes.get()})
    state_->tokens.push_back(l->add_document_listener(
        [st = state_.get()](uint64_t, const auto& events) { st->count(events); }));
}

hub::~hub() {
  close_all();
  wait_all_stopped(kHubShutdownTimeout);
  for (auto& t : state_->tokens) t.remove();
}

void hub::accept(std::unique_ptr<message_endpoint_connection> connection, protocol_type protocol) {
  auto& l = protocol == protocol_type::message_stream ? state_->messages : state_->bytes;
  l->accept(std::move(connection));  /// an error means the listener is shutting down
}

size_t hub::live_connections() const {
  return state_->messages->connections().size() + state_->bytes->connections().size();
}

uint64_t hub::docs_in() const { return state_->in.load(); }
uint64_t hub::docs_out() const { return state_->out.load(); }

void hub::close_all() {
  state_->messages->close_all();
  state_->bytes->close_all();
}

bool hub::wait_all_stopped(std::chrono::milliseconds timeout) const {
  auto end = std::chrono::steady_clock::now() + timeout;
  bool ws_done = state_->messages->wait_closed(timeout);
  auto left =
      std::chrono::duration_cast<std::chrono::milliseconds>(end - std::chrono::steady_clock::now());
  return state_->bytes->wait_closed(std::max(left, std::chrono::milliseconds(0))) && ws_done;
}

}  // namespace peerlite::tools
