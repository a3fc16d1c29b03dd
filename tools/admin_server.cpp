#include "tools/admin_server.hpp"

#include <sys/resource.h>
#include <unistd.h>

#include <atomic>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
#include <charconv>
#include <ctime>
#include <fstream>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>

#include "adapters/tcp/io_runtime.hpp"
#include "adapters/tcp/net_tuning.hpp"
#include "adapters/tcp/process_resources.hpp"
#include "adapters/tcp/traffic.hpp"
#include "tools/admin_page.hpp"
#include "tools/commands.hpp"
#include "tools/serve_support.hpp"

namespace peerlite::tools {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using boost::system::error_code;
using tcp = asio::ip::tcp;

namespace {

/// Bytes per KiB, for VmRSS (reported in KiB).
constexpr uint64_t kBytesPerKiB = 1024;
/// The activity levels a connection can be in, as peerlite names them (activity_level):
/// every one is exported, at 0 when no connection is in it, so a dashboard sees each series.
constexpr const char* kActivityNames[] = {"connecting", "idle", "busy", "offline", "stopped"};
constexpr const char* kTransportNames[] = {"ws", "tcp"};
/// Content types of the three answers; 0.0.4 is the Prometheus text format's version.
constexpr const char* kMetricsType = "text/plain; version=0.0.4; charset=utf-8";
constexpr const char* kJsonType = "application/json";
constexpr const char* kHtmlType = "text/html; charset=utf-8";
constexpr const char* kTextType = "text/plain; charset=utf-8";

/// The Unix time this process started: /proc/self/stat's starttime (field 22, clock ticks
/// after boot) plus the boot time (/proc/stat btime). 0 if unknown.
double read_start_time() {
  std::ifstream stat_file("/proc/self/stat");
  std::string stat((std::istreambuf_iterator<char>(stat_file)), std::istreambuf_iterator<char>());
  auto close = stat.rfind(')');  // the command name may contain spaces and parentheses
  if (close == std::string::npos) return 0;
  std::istringstream rest(stat.substr(close + 2));
  std::string field;
  unsigned long long start_ticks = 0;
  for (int i = 3; i <= 22 && rest >> field; ++i)  // fields are 1-based; state is field 3
    if (i == 22) start_ticks = std::stoull(field);
  std::ifstream boot("/proc/stat");
  std::string key;
  unsigned long long btime = 0;
  while (boot >> key)
    if (key == "btime" && boot >> btime) break;
  if (btime == 0) return 0;
  return static_cast<double>(btime) +
         static_cast<double>(start_ticks) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

/// A number as Prometheus and JSON read it: integers plainly, others in the shortest form that
/// reads back exactly.
std::string number(double v) {
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::fixed);
  return ec == std::errc{} ? std::string(buf, end) : std::string("NaN");
}
std::string number(uint64_t v) { return std::to_string(v); }

std::string escape_label(const std::string& v) {
  std::string out;
  for (char c : v) {
    if (c == '\\' || c == '"') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out;
}

/// Builds a text exposition: each family's # HELP and # TYPE, then its samples.
class exposition {
 public:
  void family(const std::string& name, const char* type, const std::string& help) {
    out_ += "# HELP " + name + " " + help + "\n# TYPE " + name + " " + type + "\n";
  }
  template <class T>
  void sample(const std::string& name,
              const std::vector<std::pair<std::string, std::string>>& labels, T value) {
    out_ += name;
    if (!labels.empty()) {
      out_ += '{';
      for (size_t i = 0; i < labels.size(); ++i)
        out_ += (i ? "," : "") + labels[i].first + "=\"" + escape_label(labels[i].second) + "\"";
      out_ += '}';
    }
    out_ += ' ' + number(value) + '\n';
  }
  template <class T>
  void single(const std::string& name, const char* type, const std::string& help, T value) {
    family(name, type, help);
    sample(name, {}, value);
  }
  void histogram(const std::string& name, const std::string& help,
                 const metrics::histogram_snapshot& h) {
    family(name, "histogram", help);
    for (size_t i = 0; i < h.bounds.size(); ++i)
      sample(name + "_bucket", {{"le", number(h.bounds[i])}}, h.cumulative[i]);
    sample(name + "_bucket", {{"le", "+Inf"}}, h.count);
    sample(name + "_sum", {}, h.sum);
    sample(name + "_count", {}, h.count);
  }
  std::string take() { return std::move(out_); }

 private:
  std::string out_;
};

/// "2024-05-01T12:52:45.217Z".
std::string iso_time(std::chrono::system_clock::time_point t) {
  auto secs = std::chrono::system_clock::to_time_t(t);
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()) % 1000;
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char text[80];  // room for any int in each field, so the compiler sees no truncation
  std::snprintf(text, sizeof text, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<int>(ms.count()));
  return text;
}

/// An OS error message as the rest of peerlite words them: "permission denied".
std::string os_message(const error_code& ec) {
  auto m = ec.message();
  if (!m.empty() && m.front() >= 'A' && m.front() <= 'Z')
    m.front() = static_cast<char>(m.front() - 'A' + 'a');
  return m;
}

nlohmann::json histogram_json(const metrics::histogram_snapshot& h) {
  return {{"count", h.count}, {"sum", h.sum}};
}

}  // namespace

expected<admin_address> parse_admin_address(const std::string& text) {
  auto bad = [&](const std::string& why) {
    return error{errc::invalid_argument,
                 "--admin " + text + ": " + why + " (want PORT, HOST:PORT or [V6HOST]:PORT)"};
  };
  admin_address a;
  std::string port_text = text;
  if (!text.empty() && text.front() == '[') {
    auto close = text.find(']');
    if (close == std::string::npos || close + 1 >= text.size() || text[close + 1] != ':')
      return bad("unclosed '[' or no port");
    a.host = text.substr(1, close - 1);
    port_text = text.substr(close + 2);
  } else if (auto colon = text.rfind(':'); colon != std::string::npos) {
    a.host = text.substr(0, colon);
    port_text = text.substr(colon + 1);
  }
  if (a.host.empty()) return bad("missing host");
  unsigned value = 0;
  auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), value);
  if (port_text.empty() || ec != std::errc{} || end != port_text.data() + port_text.size() ||
      value > 65535)
    return bad("bad port '" + port_text + "'");
  a.port = static_cast<uint16_t>(value);
  return a;
}

process_figures read_process_figures() {
  static const double start_time = read_start_time();
  process_figures p;
  auto self = getpid();
  p.resident_bytes = static_cast<uint64_t>(net::rss_kib(self)) * kBytesPerKiB;
  p.cpu_seconds = net::cpu_seconds(self);
  p.open_fds = net::open_fds(self);
  rlimit lim{};
  if (getrlimit(RLIMIT_NOFILE, &lim) == 0) p.max_fds = static_cast<uint64_t>(lim.rlim_cur);
  p.start_time_seconds = start_time;
  return p;
}

admin_figures read_admin_figures(const hub& h) {
  admin_figures f;
  f.hub = h.snapshot();
  f.engine = metrics::snapshot();
  f.process = read_process_figures();
  f.bytes_in = net::process_traffic().received.load(std::memory_order_relaxed);
  f.bytes_out = net::process_traffic().sent.load(std::memory_order_relaxed);
  f.now = std::chrono::system_clock::now();
  return f;
}

std::string render_metrics(const admin_figures& f) {
  exposition e;
  e.family("peerlite_connections", "gauge",
           "Live peer connections by transport and replicator activity.");
  for (auto* t : kTransportNames)
    for (auto* a : kActivityNames) {
      uint64_t n = 0;
      if (auto tr = f.hub.states.find(t); tr != f.hub.states.end())
        if (auto s = tr->second.find(a); s != tr->second.end()) n = s->second;
      e.sample("peerlite_connections", {{"transport", t}, {"state", a}}, n);
    }
  e.family("peerlite_connections_accepted_total", "counter",
           "Peer connections accepted since start, by transport.");
  for (auto* t : kTransportNames) {
    auto it = f.hub.accepted.find(t);
    e.sample("peerlite_connections_accepted_total", {{"transport", t}},
             it == f.hub.accepted.end() ? uint64_t{0} : it->second);
  }
  e.family("peerlite_connections_refused_total", "counter",
           "Sockets refused before they became connections, by reason class (http_NNN for the "
           "HTTP status answered, handshake_timeout, bad_request, upgrade_failed, other).");
  for (auto& [reason, n] : f.hub.refused)
    e.sample("peerlite_connections_refused_total", {{"reason", reason}}, n);
  e.single("peerlite_auth_failures_total", "counter",
           "WebSocket upgrades refused with 401 (missing or wrong Basic-auth credentials).",
           f.hub.auth_failures);
  e.single("peerlite_docs_received_total", "counter",
           "Documents peers pushed that the hub committed.", f.hub.docs_in);
  e.single("peerlite_docs_sent_total", "counter", "Documents the hub sent to peers.",
           f.hub.docs_out);
  e.family("peerlite_revs_rejected_total", "counter",
           "Revisions that failed, by direction: in = a peer's push the hub refused, out = a "
           "revision the hub failed to send.");
  e.sample("peerlite_revs_rejected_total", {{"direction", "in"}}, f.hub.revs_rejected_in);
  e.sample("peerlite_revs_rejected_total", {{"direction", "out"}}, f.hub.revs_rejected_out);
  e.family("peerlite_replication_errors_total", "counter",
           "Peer connections that ended with an error, by kind (http_NNN, transport, protocol, "
           "timeout, ...).");
  for (auto& [kind, n] : f.hub.replication_errors)
    e.sample("peerlite_replication_errors_total", {{"kind", kind}}, n);
  e.single("peerlite_network_received_bytes_total", "counter",
           "Bytes received from peers (tcp:// reads; ws:// message payloads).", f.bytes_in);
  e.single("peerlite_network_sent_bytes_total", "counter",
           "Bytes sent to peers (tcp:// writes; ws:// message payloads).", f.bytes_out);
  e.histogram("peerlite_commit_seconds",
              "Wall time of each group commit transaction of peer revisions.",
              f.engine.commit_seconds);
  e.histogram("peerlite_group_commit_revisions",
              "Revisions written by each successful group commit.",
              f.engine.group_commit_revisions);
  e.single("peerlite_commit_failures_total", "counter",
           "Group commits whose transaction failed (nothing of them was written).",
           f.engine.failed_commits);
  e.single("process_resident_memory_bytes", "gauge", "Resident memory size in bytes.",
           f.process.resident_bytes);
  e.single("process_cpu_seconds_total", "counter", "Total user and system CPU time in seconds.",
           f.process.cpu_seconds);
  e.single("process_open_fds", "gauge", "Number of open file descriptors.", f.process.open_fds);
  e.single("process_max_fds", "gauge", "Maximum number of open file descriptors.",
           f.process.max_fds);
  e.single("process_start_time_seconds", "gauge",
           "Start time of the process since unix epoch in seconds.", f.process.start_time_seconds);
  return e.take();
}

std::string render_status(const admin_figures& f) {
  nlohmann::json conns = nlohmann::json::array();
  for (auto& c : f.hub.connections) {
    bool known = c.since.time_since_epoch().count() != 0;
    conns.push_back({
        {"id", c.id},
        {"transport", c.transport},
        {"peer", c.peer.empty() ? nlohmann::json() : nlohmann::json(c.peer)},
        {"user", c.user ? nlohmann::json(*c.user) : nlohmann::json()},
        {"activity", c.activity},
        {"docs_in", c.docs_in},
        {"docs_out", c.docs_out},
        {"since", known ? nlohmann::json(iso_time(c.since)) : nlohmann::json()},
        {"connected_seconds",
         known ? nlohmann::json(std::chrono::duration<double>(f.now - c.since).count())
               : nlohmann::json()},
    });
  }
  nlohmann::json states = nlohmann::json::object();
  for (auto* t : kTransportNames)
    for (auto* a : kActivityNames) {
      uint64_t n = 0;
      if (auto tr = f.hub.states.find(t); tr != f.hub.states.end())
        if (auto s = tr->second.find(a); s != tr->second.end()) n = s->second;
      states[t][a] = n;
    }
  nlohmann::json j = {
      {"time", iso_time(f.now)},
      {"live_connections", f.hub.connections.size()},
      {"states", states},
      {"accepted", f.hub.accepted},
      {"refused", f.hub.refused},
      {"auth_failures", f.hub.auth_failures},
      {"docs_in", f.hub.docs_in},
      {"docs_out", f.hub.docs_out},
      {"bytes_in", f.bytes_in},
      {"bytes_out", f.bytes_out},
      {"revs_rejected", {{"in", f.hub.revs_rejected_in}, {"out", f.hub.revs_rejected_out}}},
      {"replication_errors", f.hub.replication_errors},
      {"commit_seconds", histogram_json(f.engine.commit_seconds)},
      {"group_commit_revisions", histogram_json(f.engine.group_commit_revisions)},
      {"commit_failures", f.engine.failed_commits},
      {"process",
       {{"resident_memory_bytes", f.process.resident_bytes},
        {"cpu_seconds", f.process.cpu_seconds},
        {"open_fds", f.process.open_fds},
        {"max_fds", f.process.max_fds},
        {"start_time_seconds", f.process.start_time_seconds}}},
      {"connections", conns},
  };
  return j.dump();
}

struct admin_server::impl : std::enable_shared_from_this<impl> {
  impl(net::io_runtime& rt, const hub& h)
      : lifeline(rt.lifeline()),
        io(rt.context()),
        acceptor(asio::make_strand(io)),
        retry_timer(acceptor.get_executor()),
        source(&h) {}

  void accept_next();
  void on_accepted(const error_code& ec, tcp::socket sock);
  /// The answer to GET `target`.
  http::response<http::string_body> answer(beast::string_view target);

  std::shared_ptr<void> lifeline;  ///< first member: the io_context outlives the acceptor
  asio::io_context& io;
  tcp::acceptor acceptor;
  asio::steady_timer retry_timer;
  uint16_t port = 0;
  std::atomic<size_t> open{0};  ///< admin connections open now
  std::mutex mtx;               ///< guards `source`; held while an answer is rendered
  const hub* source;            ///< null once stopped
};

namespace {

http::response<http::string_body> make_answer(http::status status, const char* type,
                                              std::string body) {
  http::response<http::string_body> res{status, 11};
  res.set(http::field::content_type, type);
  /// Every answer is a live reading; a cached one would mislead.
  res.set(http::field::cache_control, "no-store");
  res.body() = std::move(body);
  return res;
}

/// One admin client: reads request headers one after another, answers each.
class admin_session : public std::enable_shared_from_this<admin_session> {
 public:
  admin_session(std::shared_ptr<admin_server::impl> owner, tcp::socket sock)
      : owner_(std::move(owner)), stream_(std::move(sock)) {
    ++owner_->open;
  }
  ~admin_session() { --owner_->open; }

  void read_next() {
    parser_.emplace();
    parser_->header_limit(kAdminMaxRequestHeader);
    stream_.expires_after(kAdminRequestTimeout);
    http::async_read_header(
        stream_, buffer_, *parser_,
        [self = shared_from_this()](const error_code& ec, size_t) { self->on_header(ec); });
  }

 private:
  void on_header(const error_code& ec) {
    if (ec == http::error::header_limit || ec == http::error::buffer_overflow)
      return reply(make_answer(http::status::request_header_fields_too_large, kTextType,
                               "request header larger than " +
                                   std::to_string(kAdminMaxRequestHeader) + " bytes\n"),
                   false);
    if (ec) return close();  /// the client left, timed out, or sent something else than HTTP
    auto& req = parser_->get();
    if (req.method() != http::verb::get) {
      auto res =
          make_answer(http::status::method_not_allowed, kTextType, "only GET is served here\n");
      res.set(http::field::allow, "GET");
      return reply(std::move(res), false);
    }
    if (!parser_->is_done())
      return reply(make_answer(http::status::bad_request, kTextType, "a GET has no body\n"), false);
    reply(owner_->answer(req.target()), req.keep_alive());
  }

  void reply(http::response<http::string_body> res, bool keep_alive) {
    auto r = std::make_shared<http::response<http::string_body>>(std::move(res));
    r->set(http::field::server, "peerlite");
    r->keep_alive(keep_alive);
    r->prepare_payload();
    stream_.expires_after(kAdminRequestTimeout);
    http::async_write(stream_, *r,
                      [self = shared_from_this(), r, keep_alive](const error_code& ec, size_t) {
                        if (ec || !keep_alive) return self->close();
                        self->read_next();
                      });
  }

  void close() {
    error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
    stream_.socket().close(ignored);
  }

  std::shared_ptr<admin_server::impl> owner_;
  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::empty_body>> parser_;
};

}  // namespace

http::response<http::string_body> admin_server::impl::answer(beast::string_view target) {
  auto path = target.substr(0, target.find('?'));
  bool page = path == "/", metrics = path == "/metrics", status = path == "/_status";
  if (!page && !metrics && !status)
    return make_answer(http::status::not_found, kTextType,
                       "nothing at " + std::string(path) + " (try /, /metrics or /_status)\n");
  if (page) return make_answer(http::status::ok, kHtmlType, std::string(kAdminPage));
  std::lock_guard lock(mtx);
  if (!source)
    return make_answer(http::status::service_unavailable, kTextType, "the hub is stopping\n");
  auto figures = read_admin_figures(*source);
  return metrics ? make_answer(http::status::ok, kMetricsType, render_metrics(figures))
                 : make_answer(http::status::ok, kJsonType, render_status(figures));
}

void admin_server::impl::accept_next() {
  acceptor.async_accept(asio::make_strand(io),
                        [self = shared_from_this()](const error_code& ec, tcp::socket sock) {
                          self->on_accepted(ec, std::move(sock));
                        });
}

void admin_server::impl::on_accepted(const error_code& ec, tcp::socket sock) {
  if (!acceptor.is_open() || ec == asio::error::operation_aborted) return;
  if (ec) {
    /// Out of file descriptors or similar: pause instead of spinning on accept.
    retry_timer.expires_after(net::kAcceptRetryDelay);
    retry_timer.async_wait([self = shared_from_this()](const error_code& e) {
      if (!e && self->acceptor.is_open()) self->accept_next();
    });
    return;
  }
  if (open.load() >= kAdminMaxConnections) {
    error_code ignored;
    sock.close(ignored);
  } else {
    std::make_shared<admin_session>(shared_from_this(), std::move(sock))->read_next();
  }
  accept_next();
}

expected<std::unique_ptr<admin_server>> admin_server::start(net::io_runtime& io,
                                                            const admin_address& where,
                                                            const hub& h) {
  bool v6 = where.host.find(':') != std::string::npos;
  auto text = (v6 ? "[" + where.host + "]" : where.host) + ":" + std::to_string(where.port);
  error_code ec;
  auto address = asio::ip::make_address(where.host, ec);
  if (ec)
    return error{errc::invalid_argument, "--admin: cannot listen on " + text +
                                             ": not an IP address (" + ec.message() + ")"};
  auto p = std::make_shared<impl>(io, h);
  tcp::endpoint ep(address, where.port);
  p->acceptor.open(ep.protocol(), ec);
  if (!ec) p->acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) p->acceptor.bind(ep, ec);
  if (!ec) p->acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return error{errc::io_error, "--admin: cannot listen on " + text + ": " + os_message(ec)};
  p->port = p->acceptor.local_endpoint().port();
  asio::post(p->acceptor.get_executor(), [p] { p->accept_next(); });
  return std::unique_ptr<admin_server>(new admin_server(std::move(p)));
}

admin_server::~admin_server() { stop(); }

void admin_server::stop() {
  {
    std::lock_guard lock(impl_->mtx);
    impl_->source = nullptr;
  }
  asio::post(impl_->acceptor.get_executor(), [p = impl_] {
    error_code ignored;
    p->retry_timer.cancel();
    p->acceptor.close(ignored);
  });
}

uint16_t admin_server::port() const { return impl_->port; }

std::unique_ptr<admin_server> start_admin_or_fail(const std::string& text, net::io_runtime& io,
                                                  const hub& h) {
  auto where = parse_admin_address(text);
  if (!where) fail("serve", where.err());
  auto server = admin_server::start(io, *where, h);
  if (!server) fail("serve", server.err());
  bool v6 = where->host.find(':') != std::string::npos;
  log_line("admin at http://" + (v6 ? "[" + where->host + "]" : where->host) + ":" +
           std::to_string((*server)->port()) + "/");
  return std::move(*server);
}

}  // namespace peerlite::tools
