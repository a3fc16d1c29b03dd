// The public hub (peerlite/hub.hpp): the network listeners of adapters/tcp and
// adapters/websocket in front of two message_endpoint_listeners (one per protocol type:
// WebSocket is a message stream, TCP a byte stream), with the counts `peerlite serve --admin`
// reports. This is the seed's passive peer, with real sockets as the "communication
// framework"; `peerlite serve` and `peerlite demo` are thin commands over it.
#include "peerlite/hub.hpp"

#include <algorithm>
#include <array>
#include <atomic>
#include <filesystem>
#include <mutex>
#include <regex>

#include "adapters/tcp/connection_limits.hpp"
#include "adapters/tcp/io_runtime.hpp"
#include "adapters/tcp/net_tuning.hpp"
#include "adapters/tcp/tcp_listener.hpp"
#include "adapters/tcp/tls.hpp"
#include "adapters/tcp/url.hpp"
#include "adapters/websocket/ws_listener.hpp"
#include "peerlite/message_endpoint_listener.hpp"

namespace peerlite {

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

}  // namespace

struct hub_state {
  /// One listener per protocol type: index 0 serves ws:// and wss://, 1 tcp:// and tls://.
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

/// The hub: its socket threads, listeners, limits and TLS context, and the counts.
struct hub::impl {
  hub_options options;
  hub_state state;
  std::unique_ptr<net::io_runtime> io;
  std::shared_ptr<net::connection_limits> limits;
  std::shared_ptr<boost::asio::ssl::context> tls;
  std::vector<std::unique_ptr<net::ws_listener>> ws;
  std::vector<std::unique_ptr<net::tcp_listener>> tcp;
  std::vector<std::string> urls;
  std::optional<hub_certificate> certificate;

  void note_refused(const std::string& reason) {
    auto what = refusal_class(reason);
    if (what == "http_401") ++state.auth_failures;
    std::lock_guard lock(state.mtx);
    ++state.refused[what];
  }

  void accept(std::unique_ptr<message_endpoint_connection> connection, protocol_type protocol,
              std::string peer, std::string user) {
    auto& t = protocol == protocol_type::message_stream ? state.messages() : state.bytes();
    std::lock_guard lock(state.mtx);
    auto id = t.listener->accept(std::move(connection));
    if (!id) return;  /// the listener is shutting down
    ++t.accepted;
    auto& r = t.records[*id];
    r.peer = std::move(peer);
    if (!user.empty()) r.user = std::move(user);
    r.since = std::chrono::system_clock::now();
  }

  /// The adapters' connection events: refusals are counted, then the app's callback.
  net::connection_observer observer() {
    return [this](const net::connection_event& e) {
      if (e.kind == net::connection_event::refused) note_refused(e.reason);
      if (!options.on_event) return;
      hub_event out;
      out.kind = e.kind == net::connection_event::opened   ? hub_event::opened
                 : e.kind == net::connection_event::closed ? hub_event::closed
                                                           : hub_event::refused;
      out.transport = e.transport;
      out.peer = e.peer;
      out.reason = e.reason;
      options.on_event(out);
    };
  }

  status make_tls(const database& db);
  status listen(const std::string& text, const std::string& name);
  void stop_listening() {
    for (auto& l : ws) l->stop();
    for (auto& l : tcp) l->stop();
  }
};

/// The TLS server context for wss:// and tls:// listeners (none when no listener needs TLS):
/// the given certificate and key, or a self-signed pair made on first start.
status hub::impl::make_tls(const database& db) {
  bool wanted = false;
  std::vector<std::string> hosts{"localhost", "127.0.0.1"};
  for (auto& text : options.listen)
    if (auto url = net::parse_url(text); url && url->secure()) {
      wanted = true;
      if (std::find(hosts.begin(), hosts.end(), url->host) == hosts.end() &&
          url->host != "0.0.0.0" && url->host != "::")
        hosts.push_back(url->host);
    }
  if (!wanted) {
    if (!options.cert_file.empty() || options.self_signed)
      return error{errc::invalid_argument, "a TLS certificate needs a wss:// or tls:// listener"};
    return {};
  }
  std::string cert = options.cert_file, key = options.key_file;
  if (options.self_signed) {
    if (cert.empty()) cert = db.path() + ".cert.pem";
    if (key.empty()) key = db.path() + ".key.pem";
    auto id = net::load_or_make_self_signed(cert, key, hosts);
    if (!id) return id.err();
    certificate = hub_certificate{cert, id->sha256, id->created};
  } else if (cert.empty() || key.empty()) {
    return error{errc::invalid_argument,
                 "wss:// and tls:// need a certificate and key file, or a self-signed pair"};
  }
  auto ctx = net::make_tls_server(cert, key);
  if (!ctx) return ctx.err();
  tls = *ctx;
  return {};
}

status hub::impl::listen(const std::string& text, const std::string& name) {
  auto url = net::parse_url(text);
  if (!url) return url.err();
  auto served = [&](uint16_t port) {
    urls.push_back(url->scheme + "://" + url->host + ":" + std::to_string(port) + "/" + name);
  };
  if (url->websocket()) {
    net::ws_listener_options wo;
    wo.host = url->host;
    wo.port = url->port;
    wo.db_name = name;
    wo.required = {options.user, options.password};
    wo.idle_timeout = options.idle_timeout;
    wo.handshake_timeout = options.handshake_timeout;
    wo.max_message = options.max_frame_bytes;
    wo.limits = limits;
    if (url->secure()) wo.tls = tls;
    auto l = net::ws_listener::start(
        *io, wo,
        [this, user = options.user](std::unique_ptr<net::ws_connection> c) {
          auto peer = c->peer();
          accept(std::move(c), protocol_type::message_stream, std::move(peer), user);
        },
        observer());
    if (!l) return l.err();
    served((*l)->port());
    ws.push_back(std::move(*l));
    return {};
  }
  if (!options.user.empty())
    return error{errc::invalid_argument,
                 text +
                     ": a user and password need ws:// or wss:// listeners only (a raw byte "
                     "stream cannot check passwords)"};
  net::tcp_listener_options to;
  to.limits = limits;
  to.handshake_timeout = options.handshake_timeout;
  if (url->secure()) to.tls = tls;
  auto l = net::tcp_listener::start(
      *io, url->host, url->port,
      [this](std::unique_ptr<net::tcp_connection> c) {
        auto peer = c->peer();
        accept(std::move(c), protocol_type::byte_stream, std::move(peer), {});
      },
      observer(), options.idle_timeout, to);
  if (!l) return l.err();
  served((*l)->port());
  tcp.push_back(std::move(*l));
  return {};
}

bool is_hub_name_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
         std::string_view("_$()+-").find(c) != std::string_view::npos;
}

bool is_valid_hub_name(const std::string& name) {
  return !name.empty() && name.front() >= 'a' && name.front() <= 'z' &&
         std::all_of(name.begin(), name.end(), is_hub_name_char);
}

hub::hub(std::unique_ptr<impl> p) : impl_(std::move(p)) {}

expected<std::unique_ptr<hub>> hub::start(database db, hub_options options) {
  if (!db) return error{errc::invalid_argument, "hub: no database"};
  if (options.listen.empty())
    return error{errc::invalid_argument, "hub: nothing to listen on (hub_options::listen)"};
  if (options.user.empty() != options.password.empty())
    return error{errc::invalid_argument, "hub: a user needs a password, and a password a user"};
  auto name = options.name;
  if (name.empty()) name = std::filesystem::path(db.path()).stem().string();
  if (!is_valid_hub_name(name))
    return error{errc::invalid_argument,
                 "hub: cannot serve the database as '" + name +
                     "': Couchbase Lite peers only reach names that start with a lower-case "
                     "letter and hold only a-z, 0-9 and _$()+- (hub_options::name)"};
  auto p = std::make_unique<impl>();
  p->options = std::move(options);
  auto& o = p->options;
  /// PINGs at half the idle timeout keep healthy tcp:// peers talking (ws:// pings itself).
  auto heartbeat = std::chrono::seconds(std::max<int64_t>(1, o.idle_timeout.count() / 2));
  listener_config ws_config{db, protocol_type::message_stream};
  listener_config tcp_config{db, protocol_type::byte_stream};
  tcp_config.heartbeat = heartbeat;
  for (auto* c : {&ws_config, &tcp_config}) {
    c->read_only = o.read_only;
    c->collections = o.collections;
    c->deflate_window_bits = kHubDeflateWindowBits;
    c->deflate_mem_level = kHubDeflateMemLevel;
    c->max_unreplied_requests = o.max_unreplied_requests;
  }
  auto& st = p->state;
  st.messages().listener = std::make_unique<message_endpoint_listener>(ws_config);
  st.bytes().listener = std::make_unique<message_endpoint_listener>(tcp_config);
  /// The callbacks hold the state raw: the destructor removes them before the state goes.
  for (auto& t : st.transports) {
    st.tokens.push_back(t.listener->add_document_listener(
        [s = &st, tp = &t](uint64_t id, const auto& events) { s->count(*tp, id, events); }));
    st.tokens.push_back(t.listener->add_change_listener(
        [s = &st, tp = &t](const listener_connection_status& cs) { s->changed(*tp, cs); }));
  }
  if (auto s = p->make_tls(db); !s.ok()) return s.err();
  p->limits =
      std::make_shared<net::connection_limits>(o.max_connections, o.max_connections_per_address);
  p->io = std::make_unique<net::io_runtime>(1);
  p->io->prewarm(o.max_connections ? std::min(o.max_connections, net::kPrewarmSockets)
                                   : net::kPrewarmSockets);
  for (auto& text : o.listen)
    if (auto s = p->listen(text, name); !s.ok()) return s.err();
  return std::unique_ptr<hub>(new hub(std::move(p)));
}

hub::~hub() {
  impl_->stop_listening();
  close_all();
  wait_all_stopped(kHubShutdownTimeout);
  for (auto& t : impl_->state.tokens) t.remove();
  /// Listeners before the socket threads: their sockets belong to the io_runtime.
  impl_->ws.clear();
  impl_->tcp.clear();
  impl_->io.reset();
}

const std::vector<std::string>& hub::urls() const { return impl_->urls; }
const std::optional<hub_certificate>& hub::certificate() const { return impl_->certificate; }

size_t hub::live_connections() const {
  return impl_->state.messages().listener->connections().size() +
         impl_->state.bytes().listener->connections().size();
}

uint64_t hub::accepted_connections() const {
  uint64_t n = 0;
  for (auto& t : impl_->state.transports) n += t.accepted.load();
  return n;
}

uint64_t hub::docs_in() const { return impl_->state.in.load(); }
uint64_t hub::docs_out() const { return impl_->state.out.load(); }

hub_snapshot hub::snapshot() const {
  auto& st = impl_->state;
  hub_snapshot s;
  /// Read each listener's live list first, outside the hub's lock.
  std::array<std::vector<listener_connection_status>, 2> live;
  for (size_t i = 0; i < live.size(); ++i) live[i] = st.transports[i].listener->connections();
  s.docs_in = st.in.load();
  s.docs_out = st.out.load();
  s.revs_rejected_in = st.rejected_in.load();
  s.revs_rejected_out = st.rejected_out.load();
  s.auth_failures = st.auth_failures.load();
  std::lock_guard lock(st.mtx);
  for (size_t i = 0; i < live.size(); ++i) {
    auto& t = st.transports[i];
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
  s.replication_errors = st.replication_errors;
  s.refused = st.refused;
  return s;
}

void hub::stop_listening() { impl_->stop_listening(); }

void hub::close_all() {
  /// Recoverable (4001): a continuous peer goes OFFLINE and comes back when the hub does,
  /// instead of stopping because its hub restarted.
  for (auto& t : impl_->state.transports) t.listener->close_all("the hub is shutting down");
}

bool hub::wait_all_stopped(std::chrono::milliseconds timeout) const {
  auto& st = impl_->state;
  auto end = std::chrono::steady_clock::now() + timeout;
  bool ws_done = st.messages().listener->wait_closed(timeout);
  auto left =
      std::chrono::duration_cast<std::chrono::milliseconds>(end - std::chrono::steady_clock::now());
  return st.bytes().listener->wait_closed(std::max(left, std::chrono::milliseconds(0))) && ws_done;
}

}  // namespace peerlite
