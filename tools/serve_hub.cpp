#include "tools/serve_hub.hpp"

#include <array>
#include <atomic>
#include <mutex>
#include <regex>

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

namespace {

/// What the hub knows of one live connection beyond the listener's status.
struct connection_record {
  std::string peer;
  std::optional<std::string> user;
  std::chrono::system_clock::time_point since;
  uint64_t in = 0, out = 0;
};

}  // namespace

struct hub::state {
  /// One listener per protocol type; the index is the transport (see kTransportNames).
  struct transport {
    const char* name;
    std::unique_ptr<message_endpoint_listener> listener;
    std::map<uint64_t, connection_record> records;  ///< live connections by id; under mtx
    std::atomic<uint64_t> accepted{0};
  };
  std::array<transport, 2> transports{transport{"ws", {}, {}}, transport{"tcp", {}, {}}};
  transport& messages() { return transports[0]; }  ///< ws:// peers
  transport& bytes() { return transports[1]; }     ///< tcp:// peers

  std::atomic<uint64_t> in{0}, out{0}, rejected_in{0}, rejected_out{0}, auth_failures{0};
  /// Guards every transport's records and the two maps below. Held by accept() around the
  /// listener's accept, so a callback for a new id always finds its record; never held while
  /// calling into the listener otherwise.
  mutable std::mutex mtx;
  std::map<std::string, uint64_t> replication_errors, refused;
  std::vector<listener_token> tokens;

  void count(transport& t, uint64_t id, const std::vector<replicated_document>& events) {
    uint64_t got = 0, sent = 0;
    for (auto& e : events) {
      /// Directions are the hub's: pull = a peer pushed it to us.
      bool incoming = e.direction == replication_direction::pull;
      if (e.err.code != errc::ok)
        (incoming ? rejected_in : rejected_out)++;
      else
        ++(incoming ? got : sent);
    }
    in += got;
    out += sent;
    std::lock_guard lock(mtx);
    if (auto it = t.records.find(id); it != t.records.end()) {
      it->second.in += got;
      it->second.out += sent;
    }
  }

  void changed(transport& t, const listener_connection_status& s) {
    if (s.status.activity != activity_level::stopped) return;
    std::lock_guard lock(mtx);
    t.records.erase(s.id);
    if (s.status.err.code != errc::ok) ++replication_errors[replication_error_kind(s.status.err)];
  }
};

std::string refusal_class(const std::string& reason) {
  /// ws_server's answers start with the HTTP status it sent: "401 wrong user or password".
  static const std::regex http_status("^([1-5][0-9][0-9]) ");
  std::smatch m;
  if (std::regex_search(reason, m, http_status)) return "http_" + m[1].str();
  if (reason.rfind("no complete HTTP upgrade request", 0) == 0) return "handshake_timeout";
  if (reason.rfind("not an HTTP upgrade request", 0) == 0) return "bad_request";
  if (reason.rfind("WebSocket upgrade failed", 0) == 0) return "upgrade_failed";
  return "other";
}

std::string replication_error_kind(const error& err) {
  /// A BLIP error reply in the HTTP domain reads "... HTTP 403 ..." in the message.
  static const std::regex http_status("HTTP ([1-5][0-9][0-9])\\b");
  std::smatch m;
  if (std::regex_search(err.message, m, http_status)) return "http_" + m[1].str();
  switch (err.code) {
    case errc::transport_transient:
    case errc::transport_permanent:
    case errc::disconnected:
      return "transport";
    case errc::protocol_error:
      return "protocol";
    case errc::timeout:
      return "timeout";
    case errc::unauthorized:
      return "unauthorized";
    case errc::read_only:
      return "read_only";
    case errc::conflict:
      return "conflict";
    case errc::io_error:
      return "io";
    case errc::too_large:
      return "too_large";
    case errc::not_found:
      return "not_found";
    case errc::stopped:
      return "stopped";
    default:
      return "other";
  }
}

hub::hub(database db, std::chrono::seconds heartbeat, bool read_only,
         std::vector<std::string> collections, size_t max_unreplied_requests)
    : state_(std::make_shared<state>()) {
  listener_config ws_config{db, protocol_type::message_stream};
  listener_config tcp_config{db, protocol_type::byte_stream};
  if (heartbeat.count() > 0) tcp_config.heartbeat = heartbeat;
  for (auto* c : {&ws_config, &tcp_config}) {
    c->read_only = read_only;
    c->collections = collections;
    c->max_unreplied_requests = max_unreplied_requests;
    c->deflate_window_bits = kHubDeflateWindowBits;
    c->deflate_mem_level = kHubDeflateMemLevel;
  }
  state_->messages().listener = std::make_unique<message_endpoint_listener>(ws_config);
  state_->bytes().listener = std::make_unique<message_endpoint_listener>(tcp_config);
  /// The callbacks hold the state raw: the destructor removes them before the state goes.
  for (auto& t : state_->transports) {
    state_->tokens.push_back(t.listener->add_document_listener(
        [st = state_.get(), tp = &t](uint64_t id, const auto& events) {
          st->count(*tp, id, events);
        }));
    state_->tokens.push_back(t.listener->add_change_listener(
        [st = state_.get(), tp = &t](const listener_connection_status& s) {
          st->changed(*tp, s);
        }));
  }
}

hub::~hub() {
  close_all();
  wait_all_stopped(kHubShutdownTimeout);
  for (auto& t : state_->tokens) t.remove();
}

void hub::accept(std::unique_ptr<message_endpoint_connection> connection, protocol_type protocol,
                 std::string peer, std::string user) {
  auto& t = protocol == protocol_type::message_stream ? state_->messages() : state_->bytes();
  std::lock_guard lock(state_->mtx);
  auto id = t.listener->accept(std::move(connection));
  if (!id) return;  /// the listener is shutting down
  ++t.accepted;
  auto& r = t.records[*id];
  r.peer = std::move(peer);
  if (!user.empty()) r.user = std::move(user);
  r.since = std::chrono::system_clock::now();
}

void hub::note_refused(const std::string& reason) {
  auto what = refusal_class(reason);
  if (what == "http_401") ++state_->auth_failures;
  std::lock_guard lock(state_->mtx);
  ++state_->refused[what];
}

size_t hub::live_connections() const {
  return state_->messages().listener->connections().size() +
         state_->bytes().listener->connections().size();
}

uint64_t hub::accepted_connections() const {
  uint64_t n = 0;
  for (auto& t : state_->transports) n += t.accepted.load();
  return n;
}

uint64_t hub::docs_in() const { return state_->in.load(); }
uint64_t hub::docs_out() const { return state_->out.load(); }

hub_snapshot hub::snapshot() const {
  hub_snapshot s;
  /// Read each listener's live list first, outside the hub's lock.
  std::array<std::vector<listener_connection_status>, 2> live;
  for (size_t i = 0; i < live.size(); ++i) live[i] = state_->transports[i].listener->connections();
  s.docs_in = state_->in.load();
  s.docs_out = state_->out.load();
  s.revs_rejected_in = state_->rejected_in.load();
  s.revs_rejected_out = state_->rejected_out.load();
  s.auth_failures = state_->auth_failures.load();
  std::lock_guard lock(state_->mtx);
  for (size_t i = 0; i < live.size(); ++i) {
    auto& t = state_->transports[i];
    s.accepted[t.name] = t.accepted.load();
    for (auto& c : live[i]) {
      hub_connection_info info;
      info.id = c.id;
      info.transport = t.name;
      info.activity = to_string(c.status.activity);
      if (auto r = t.records.find(c.id); r != t.records.end()) {
        info.peer = r->second.peer;
        info.user = r->second.user;
        info.docs_in = r->second.in;
        info.docs_out = r->second.out;
        info.since = r->second.since;
      }
      ++s.states[t.name][info.activity];
      s.connections.push_back(std::move(info));
    }
  }
  s.replication_errors = state_->replication_errors;
  s.refused = state_->refused;
  return s;
}

void hub::close_all() {
  /// Recoverable (4001): a continuous peer goes OFFLINE and comes back when the hub does,
  /// instead of stopping because its hub restarted.
  for (auto& t : state_->transports) t.listener->close_all("the hub is shutting down");
}

bool hub::wait_all_stopped(std::chrono::milliseconds timeout) const {
  auto end = std::chrono::steady_clock::now() + timeout;
  bool ws_done = state_->messages().listener->wait_closed(timeout);
  auto left =
      std::chrono::duration_cast<std::chrono::milliseconds>(end - std::chrono::steady_clock::now());
  return state_->bytes().listener->wait_closed(std::max(left, std::chrono::milliseconds(0))) &&
         ws_done;
}

net::connection_observer observe_connections(hub& h, net::connection_observer next) {
  return [&h, next = std::move(next)](const net::connection_event& e) {
    if (e.kind == net::connection_event::refused) h.note_refused(e.reason);
    if (next) next(e);
  };
}

}  // namespace peerlite::tools
