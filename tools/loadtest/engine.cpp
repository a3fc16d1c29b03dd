// peerlite loadtest: the run itself (peers, workloads, the watch loop). See loadtest.hpp.
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <condition_variable>
#include <ctime>
#include <fstream>
#include <filesystem>
#include <mutex>
#include <queue>
#include <random>
#include <regex>
#include <stdexcept>
#include <thread>

#include "adapters/tcp/io_runtime.hpp"
#include "adapters/tcp/process_resources.hpp"
#include "adapters/tcp/traffic.hpp"
#include "adapters/websocket/net_endpoint.hpp"
#include "peerlite/database.hpp"
#include "peerlite/replicator.hpp"
#include "tools/loadtest/hub_process.hpp"
#include "tools/loadtest/loadtest.hpp"

namespace peerlite::loadtest {
namespace {

using clock_type = std::chrono::steady_clock;

/// How often the watch loop looks at the peers (and the live line may redraw).
constexpr std::chrono::milliseconds kTick{200};
/// How often a point joins the timeline (the report's docs/s chart).
constexpr std::chrono::seconds kSampleInterval{1};
/// Longest the shared pull set may take to reach the target before the run starts.
constexpr std::chrono::seconds kSeedTimeout{120};
/// Longest the peers may take to reach STOPPED once asked to stop.
constexpr std::chrono::seconds kStopTimeout{20};
/// One-shot runs without --timeout: this long plus the ramp-up.
constexpr double kDefaultOneShotTimeoutS = 600;
/// Continuous runs without --timeout: ramp-up + duration + drain + this much for connecting.
constexpr double kContinuousSlackS = 120;
/// Retries are fast so a loadtest sees a restarted hub soon (the replicator's default first
/// wait is 1 s, doubling to 5 min).
constexpr std::chrono::milliseconds kMaxRetryWait{2000};
/// Threads issuing the continuous writes (each put waits for its commit).
constexpr size_t kWriterThreads = 8;

int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(clock_type::now().time_since_epoch())
      .count();
}

/// A figure for a progress line: "2.5", "10".
std::string number(double v) {
  char text[32];
  std::snprintf(text, sizeof text, "%g", v);
  return text;
}

std::string utc_now() {
  std::time_t t = std::time(nullptr);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&t));
  return text;
}

/// The error kinds of the report: http_<status> when the message carries one, else transport,
/// protocol, timeout or the error code's name.
std::string error_kind(const error& e) {
  static const std::regex http("HTTP ([0-9]{3})");
  std::smatch m;
  if (std::regex_search(e.message, m, http)) return "http_" + m[1].str();
  switch (e.code) {
    case errc::transport_transient:
    case errc::transport_permanent:
    case errc::disconnected:
      return "transport";
    case errc::protocol_error:
    case errc::too_large:
      return "protocol";
    case errc::unauthorized:
      return "http_401";
    default:
      return to_string(e.code);
  }
}

/// One continuous write: its arrivals at the other peers.
struct write_record {
  std::atomic<uint32_t> arrivals{0};
};

/// What one simulated peer's listeners record (from peerlite's threads).
struct peer_state {
  size_t index = 0;
  database db;
  std::unique_ptr<replicator> repl;
  std::atomic<int64_t> started_ns{-1}, connected_ns{-1}, first_change_ns{-1}, finished_ns{-1};
  /// began: a status other than STOPPED was seen, so the next STOPPED is this run's end.
  std::atomic<bool> began{false}, caught_up{false}, stopped{false}, connected_now{false};
  std::atomic<uint64_t> pushed{0}, pulled{0};
  std::mutex mx;
  error final_err;  ///< guarded by mx
  /// Continuous: this peer's writes, indexed by sequence (fixed capacity, never reallocated).
  std::unique_ptr<write_record[]> writes;
  size_t write_capacity = 0;
  std::atomic<size_t> written{0};
};

/// Counters shared by every peer.
struct shared_state {
  const options* opts = nullptr;
  std::string tag;  ///< the run's document ID prefix, from the seed
  size_t peers = 0;
  std::atomic<uint64_t> pushed{0}, pulled{0}, written{0}, writes_due{0}, doc_failures{0}, retries{0},
      disconnects{0}, arrivals{0}, fully_delivered{0};
  std::atomic<size_t> connected{0}, finished{0}, failed{0};
  histogram connect, first_change, converge, propagation, propagation_all;
  std::mutex err_mx;
  std::map<std::string, uint64_t> errors_by_kind;  ///< guarded by err_mx
  int64_t t0_ns = 0;

  void count_error(const std::string& kind) {
    std::lock_guard lk(err_mx);
    ++errors_by_kind[kind];
  }
  uint64_t error_total() {
    std::lock_guard lk(err_mx);
    uint64_t n = 0;
    for (auto& [k, v] : errors_by_kind) n += v;
    return n;
  }
};

// ---- documents ---------------------------------------------------------------------------------

/// A seeded random stream per (seed, peer, purpose), so one peer's documents and schedule do
/// not depend on how many peers run.
std::mt19937_64 stream(uint64_t seed, uint64_t peer, uint64_t purpose) {
  std::seed_seq seq{uint32_t(seed), uint32_t(seed >> 32), uint32_t(peer), uint32_t(peer >> 32),
                    uint32_t(purpose)};
  return std::mt19937_64(seq);
}

class body_maker {
 public:
  explicit body_maker(const options& o) : size_(o.doc_size) {
    if (!o.doc_template.empty()) {
      std::ifstream in(o.doc_template);
      if (!in) throw std::runtime_error("--doc-template " + o.doc_template + ": cannot read it");
      try {
        template_ = nlohmann::json::parse(in);
      } catch (const std::exception& e) {
        throw std::runtime_error("--doc-template " + o.doc_template + ": not JSON (" +
                                 e.what() + ")");
      }
      if (!template_.is_object())
        throw std::runtime_error("--doc-template " + o.doc_template + ": not a JSON object");
    }
  }

  /// A body for document `seq` of `peer` (peer -1: the shared set), stamped `written_ns`.
  std::string make(std::mt19937_64& rng, long peer, size_t seq, int64_t written_ns) const {
    nlohmann::json body = template_.is_object() ? template_ : nlohmann::json::object();
    body["loadtest"] = {{"peer", peer}, {"seq", seq}, {"written_ns", written_ns}};
    if (template_.is_object()) return body.dump();
    std::uniform_int_distribution<size_t> size(size_ / 2, size_ + size_ / 2);
    size_t want = size(rng);
    std::string text = body.dump();
    constexpr size_t kPadOverhead = sizeof(R"(,"pad":"")") - 1;
    if (want > text.size() + kPadOverhead) {
      static constexpr char kLetters[] = "abcdefghijklmnopqrstuvwxyz0123456789";
      std::string pad(want - text.size() - kPadOverhead, 'a');
      for (auto& c : pad) c = kLetters[rng() % (sizeof kLetters - 1)];
      body["pad"] = std::move(pad);
    }
    return body.dump();
  }

 private:
  size_t size_;
  nlohmann::json template_;
};

/// The stamp a body carries, found without parsing the whole body.
std::optional<int64_t> written_stamp(const std::string& body) {
  static constexpr std::string_view kKey = "\"written_ns\":";
  auto at = body.find(kKey);
  if (at == std::string::npos) return std::nullopt;
  return std::strtoll(body.c_str() + at + kKey.size(), nullptr, 10);
}

std::string own_id(const std::string& tag, size_t peer, size_t k) {
  return tag + "-p" + std::to_string(peer) + "-" + std::to_string(k);
}
std::string shared_id(const std::string& tag, size_t k) {
  return tag + "-s-" + std::to_string(k);
}
std::string write_id(const std::string& tag, size_t peer, size_t k) {
  return tag + "-w" + std::to_string(peer) + "-" + std::to_string(k);
}

/// (peer, k) of a continuous write's ID of this run.
std::optional<std::pair<size_t, size_t>> parse_write_id(const std::string& tag,
                                                        const std::string& id) {
  if (id.size() <= tag.size() + 2 || id.compare(0, tag.size(), tag) != 0 ||
      id.compare(tag.size(), 2, "-w") != 0)
    return std::nullopt;
  char* end = nullptr;
  const char* p = id.c_str() + tag.size() + 2;
  unsigned long peer = std::strtoul(p, &end, 10);
  if (end == p || *end != '-') return std::nullopt;
  unsigned long k = std::strtoul(end + 1, nullptr, 10);
  return std::make_pair(size_t(peer), size_t(k));
}

// ---- the run -----------------------------------------------------------------------------------

class runner {
 public:
  runner(const options& o, const progress_sink& sink) : o_(o), sink_(sink), bodies_(o) {}

  figures run();

 private:
  void event(const std::string& what) {
    if (sink_.event) sink_.event(what);
  }
  bool stop_asked() const { return sink_.stop_requested && sink_.stop_requested(); }

  void start_hub();
  void seed_shared_set();
  void make_peers();
  std::unique_ptr<peer_state> make_peer(size_t i);
  void attach_listeners(peer_state& p);
  void on_pulled(peer_state& p, const replicated_document& d);
  replicator_config config_for(peer_state& p);
  /// The watch loop: starts peers on the ramp, ticks, and returns when `done` holds or the run
  /// must end (failure recorded in f_.failures).
  void watch(const std::function<bool()>& done, double deadline_s,
             const std::function<std::string()>& timeout_text = {});
  /// Whether some peer still has work the target must take part in (the stall check applies
  /// only then: idle continuous peers between writes are not stalled).
  bool work_outstanding() const;
  void write_phase(size_t part, size_t parts, int64_t start_ns);
  void stop_all();
  sample take_sample();
  void finish_figures();

  const options& o_;
  const progress_sink& sink_;
  body_maker bodies_;
  figures f_;
  shared_state s_;
  std::unique_ptr<hub_process> hub_;
  std::unique_ptr<net::io_runtime> io_;
  net::credentials creds_;
  std::vector<std::unique_ptr<peer_state>> peers_;
  size_t started_ = 0;
  int64_t ramp_t0_ns_ = 0;
  uint64_t bytes_sent0_ = 0, bytes_received0_ = 0;
  double cpu0_ = 0, hub_cpu0_ = 0;
  clock_type::time_point last_sample_{};
  /// Progress as the stall check sees it, and when it last moved.
  uint64_t last_progress_ = 0;
  clock_type::time_point last_progress_at_{};
  std::atomic<bool> writing_{false};
};

void runner::start_hub() {
  auto dir = std::filesystem::path(o_.dir);
  auto cli = o_.hub_command.empty() ? std::filesystem::read_symlink("/proc/self/exe").string()
                                    : o_.hub_command;
  event("starting a hub: " + cli + " serve --db " + (dir / "hub.sqlite").string());
  hub_ = std::make_unique<hub_process>(cli, (dir / "hub.sqlite").string(),
                                       (dir / "hub.log").string());
  f_.target = hub_->url();
  hub_cpu0_ = net::cpu_seconds(hub_->pid());
}

/// Puts the shared pull set on the target with one push replicator (setup, not timed).
void runner::seed_shared_set() {
  auto db = database::open(":memory:");
  if (!db) throw std::runtime_error("seeding: " + db.err().message);
  auto rng = stream(f_.seed, ~uint64_t(0), 0);
  for (size_t k = 0; k < o_.docs; ++k)
    if (auto r = db->put(shared_id(s_.tag, k), bodies_.make(rng, -1, k, 0)); !r)
      throw std::runtime_error("seeding: " + r.err().message);
  auto ep = net::make_endpoint(*io_, f_.target, creds_);
  if (!ep) throw std::runtime_error(ep.err().message);
  replicator_config cfg;
  cfg.db = *db;
  cfg.target = std::move(*ep);
  cfg.type = replicator_type::push;
  cfg.max_attempts = 1;
  replicator seeder(cfg);
  std::mutex mx;
  std::condition_variable cv;
  std::optional<replicator_status> final;
  auto token = seeder.add_change_listener([&](const replicator_status& st) {
    if (st.activity != activity_level::stopped) return;
    std::lock_guard lk(mx);
    final = st;
    cv.notify_all();
  });
  event("putting " + std::to_string(o_.docs) + " shared documents on " + f_.target +
        " for the peers to pull");
  seeder.start();
  std::unique_lock lk(mx);
  if (!cv.wait_for(lk, kSeedTimeout, [&] { return final.has_value(); }))
    throw std::runtime_error("seeding " + f_.target + ": no answer within " +
                             std::to_string(kSeedTimeout.count()) + " s");
  if (final->err.code != errc::ok)
    throw std::runtime_error(f_.target + ": " + final->err.message);
}

replicator_config runner::config_for(peer_state& p) {
  replicator_config cfg;
  cfg.db = p.db;
  auto ep = net::make_endpoint(*io_, f_.target, creds_);
  if (!ep) throw std::runtime_error(ep.err().message);
  cfg.target = std::move(*ep);
  cfg.max_attempt_wait_time = kMaxRetryWait;
  cfg.min_attempt_wait_time = std::chrono::milliseconds(250);
  if (o_.continuous) {
    cfg.type = replicator_type::push_and_pull;
    cfg.continuous = true;
    return cfg;
  }
  switch (o_.mode) {
    case mode_type::push:
      cfg.type = replicator_type::push;
      break;
    case mode_type::pull:
      cfg.type = replicator_type::pull;
      break;
    case mode_type::push_and_pull:
      cfg.type = replicator_type::push_and_pull;
      break;
  }
  if (o_.mode != mode_type::pull)
    for (size_t k = 0; k < o_.docs; ++k) cfg.document_ids.push_back(own_id(s_.tag, p.index, k));
  if (o_.mode != mode_type::push)
    for (size_t k = 0; k < o_.docs; ++k) cfg.document_ids.push_back(shared_id(s_.tag, k));
  return cfg;
}

void runner::on_pulled(peer_state& p, const replicated_document& d) {
  if (!o_.continuous) return;
  auto who = parse_write_id(s_.tag, d.id);
  if (!who || who->first >= peers_.size() || who->first == p.index) return;
  /// The stamp is read back from this peer's own database: the write time travelled with the
  /// document, and arrival means stored here.
  auto doc = p.db.get(d.id);
  int64_t arrived = now_ns();
  if (!doc) return;
  auto stamp = written_stamp(doc->body);
  if (!stamp) return;
  s_.propagation.record_ns(arrived - *stamp);
  s_.arrivals++;
  auto& writer = *peers_[who->first];
  if (who->second >= writer.write_capacity) return;
  if (writer.writes[who->second].arrivals.fetch_add(1) + 1 == s_.peers - 1) {
    s_.propagation_all.record_ns(arrived - *stamp);
    s_.fully_delivered++;
  }
}

void runner::attach_listeners(peer_state& p) {
  /// The tokens are dropped: the listeners live as long as the replicator, which the runner
  /// outlives.
  p.repl->add_document_listener([this, &p](const std::vector<replicated_document>& docs) {
    for (auto& d : docs) {
      if (d.err.code != errc::ok) {
        s_.doc_failures++;
        s_.count_error("document_" + std::string(to_string(d.err.code)));
        continue;
      }
      if (p.first_change_ns.load() < 0) {
        int64_t t = now_ns();
        int64_t none = -1;
        if (p.first_change_ns.compare_exchange_strong(none, t))
          s_.first_change.record_ns(t - p.started_ns.load());
      }
      if (d.direction == replication_direction::push) {
        p.pushed++;
        s_.pushed++;
      } else {
        p.pulled++;
        s_.pulled++;
        on_pulled(p, d);
      }
    }
  });
  p.repl->add_change_listener([this, &p](const replicator_status& st) {
    int64_t t = now_ns();
    if (st.activity != activity_level::stopped) p.began = true;
    bool up = st.activity == activity_level::busy || st.activity == activity_level::idle;
    if (up && !p.connected_now.exchange(true)) {
      s_.connected++;
      int64_t none = -1;
      if (p.connected_ns.compare_exchange_strong(none, t))
        s_.connect.record_ns(t - p.started_ns.load());
    }
    if (!up && st.activity != activity_level::connecting && p.connected_now.exchange(false)) {
      s_.connected--;
      if (!p.stopped.load() && st.activity == activity_level::offline) s_.disconnects++;
    }
    if (st.activity == activity_level::offline) {
      s_.retries++;
      if (st.err.code != errc::ok) s_.count_error(error_kind(st.err));
    }
    if (st.activity == activity_level::idle && o_.continuous && !p.caught_up.exchange(true)) {
      /// Continuous peers "converge" when first caught up with the hub.
      s_.converge.record_ns(t - p.started_ns.load());
    }
    if (st.activity == activity_level::stopped && p.began && !p.stopped.exchange(true)) {
      p.finished_ns = t;
      s_.finished++;
      std::lock_guard lk(p.mx);
      p.final_err = st.err;
      if (st.err.code != errc::ok) {
        s_.failed++;
        s_.count_error(error_kind(st.err));
      } else if (!o_.continuous) {
        s_.converge.record_ns(t - p.started_ns.load());
      }
    }
  });
}

std::unique_ptr<peer_state> runner::make_peer(size_t i) {
  auto p = std::make_unique<peer_state>();
  p->index = i;
  std::string path = ":memory:";
  if (o_.on_disk) path = (std::filesystem::path(o_.dir) / ("peer" + std::to_string(i) + ".sqlite"));
  auto db = database::open(path);
  if (!db) throw std::runtime_error("peer " + std::to_string(i) + ": " + db.err().message);
  p->db = *db;
  if (!o_.continuous && o_.mode != mode_type::pull) {
    auto rng = stream(f_.seed, i, 0);
    for (size_t k = 0; k < o_.docs; ++k)
      if (auto r = p->db.put(own_id(s_.tag, i, k), bodies_.make(rng, long(i), k, now_ns())); !r)
        throw std::runtime_error("peer " + std::to_string(i) + ": " + r.err().message);
  }
  if (o_.continuous) {
    /// Capacity: three times the expected writes plus room for a Poisson burst; a peer that
    /// fills it stops writing (counted by the written total).
    p->write_capacity = size_t(std::ceil(o_.duration_s * o_.write_rate * 3)) + 64;
    p->writes = std::make_unique<write_record[]>(p->write_capacity);
  }
  p->repl = std::make_unique<replicator>(config_for(*p));
  attach_listeners(*p);
  return p;
}

void runner::make_peers() {
  event("preparing " + std::to_string(o_.peers) + " peers (" +
        (o_.on_disk ? "databases on disk" : "in-memory databases") + ")");
  peers_.reserve(o_.peers);
  auto last_line = clock_type::now();
  for (size_t i = 0; i < o_.peers; ++i) {
    peers_.push_back(make_peer(i));
    if (clock_type::now() - last_line > std::chrono::seconds(2)) {
      last_line = clock_type::now();
      event("prepared " + std::to_string(i + 1) + "/" + std::to_string(o_.peers) + " peers");
    }
    if (stop_asked()) throw std::runtime_error("interrupted while preparing peers");
  }
}

sample runner::take_sample() {
  sample x;
  x.t_s = double(now_ns() - s_.t0_ns) / 1e9;
  x.pushed = s_.pushed;
  x.pulled = s_.pulled;
  x.written = s_.written;
  x.connected = s_.connected;
  x.finished = s_.finished;
  x.errors = s_.error_total();
  x.bytes_sent = net::process_traffic().sent - bytes_sent0_;
  x.bytes_received = net::process_traffic().received - bytes_received0_;
  x.rss_kib = net::rss_kib(getpid());
  if (hub_ && !hub_->exited()) x.hub_rss_kib = net::rss_kib(hub_->pid());
  return x;
}

bool runner::work_outstanding() const {
  if (!o_.continuous) return s_.finished < peers_.size();
  for (auto& p : peers_)
    if (!p->caught_up && !p->stopped) return true;
  return s_.pushed < s_.written || s_.arrivals < s_.written * (peers_.size() - 1);
}

void runner::watch(const std::function<bool()>& done, double deadline_s,
                   const std::function<std::string()>& timeout_text) {
  auto stall = std::chrono::duration<double>(o_.stall_timeout_s);
  while (true) {
    /// Start the peers due on the ramp.
    int64_t t = now_ns();
    while (started_ < peers_.size()) {
      double due_s = o_.peers > 1 ? o_.ramp_up_s * double(started_) / double(o_.peers - 1) : 0;
      if (double(t - ramp_t0_ns_) / 1e9 < due_s) break;
      auto& p = *peers_[started_++];
      p.started_ns = now_ns();
      p.repl->start();
    }
    if (done()) return;
    auto now = clock_type::now();
    auto x = take_sample();
    if (now - last_sample_ >= kSampleInterval) {
      last_sample_ = now;
      f_.timeline.push_back(x);
      f_.rss_peak_kib = std::max(f_.rss_peak_kib, x.rss_kib);
      if (x.hub_rss_kib) f_.hub_rss_peak_kib = std::max(f_.hub_rss_peak_kib.value_or(0),
                                                        x.hub_rss_kib);
    }
    if (sink_.tick) sink_.tick(x, o_.continuous ? s_.propagation.stats() : s_.converge.stats());
    if (stop_asked()) {
      f_.interrupted = true;
      f_.failures.push_back("interrupted (Ctrl-C)");
      return;
    }
    if (hub_) {
      if (auto how = hub_->exited()) {
        f_.failures.push_back("the hub exited (" + *how + ")");
        event("the hub exited (" + *how + ")");
        return;
      }
    }
    uint64_t progress = s_.pushed + s_.pulled + s_.finished + s_.connected;
    if (progress != last_progress_ || !work_outstanding()) {
      last_progress_ = progress;
      last_progress_at_ = now;
    } else if (now - last_progress_at_ > stall) {
      size_t offline = 0;
      for (auto& p : peers_) offline += p->started_ns >= 0 && !p->connected_now && !p->stopped;
      f_.failures.push_back("the target stalled: nothing moved for " +
                            std::to_string(int(o_.stall_timeout_s)) + " s (" +
                            std::to_string(offline) + " peers not connected)");
      event(f_.failures.back());
      return;
    }
    if (x.t_s > deadline_s) {
      f_.failures.push_back(timeout_text ? timeout_text()
                                         : "timed out after " + std::to_string(int(deadline_s)) +
                                               " s (--timeout)");
      event(f_.failures.back());
      return;
    }
    std::this_thread::sleep_for(kTick);
  }
}

/// Each peer writes at o_.write_rate docs/s with seeded exponential gaps, for o_.duration_s.
/// Writer `part` of `parts` serves peers part, part + parts, ...: a put waits for its commit,
/// so one thread alone falls behind a busy schedule (a write due while the thread is in
/// another put starts late, and the delay counts in its propagation only from its stamp).
void runner::write_phase(size_t part, size_t parts, int64_t start_ns) {
  struct due {
    int64_t at_ns;
    size_t peer;
    bool operator>(const due& o) const { return at_ns > o.at_ns; }
  };
  std::priority_queue<due, std::vector<due>, std::greater<>> queue;
  std::map<size_t, std::pair<std::mt19937_64, std::mt19937_64>> rng;  // schedule, content
  std::exponential_distribution<double> gap(o_.write_rate);
  int64_t end = start_ns + int64_t(o_.duration_s * 1e9);
  for (size_t i = part; i < peers_.size(); i += parts) {
    auto& r = rng.emplace(i, std::make_pair(stream(f_.seed, i, 1), stream(f_.seed, i, 2)))
                  .first->second;
    queue.push({start_ns + int64_t(gap(r.first) * 1e9), i});
  }
  while (writing_ && !queue.empty()) {
    auto next = queue.top();
    if (next.at_ns >= end) break;
    int64_t wait = next.at_ns - now_ns();
    if (wait > 0) std::this_thread::sleep_for(std::chrono::nanoseconds(wait));
    queue.pop();
    s_.writes_due++;
    auto& p = *peers_[next.peer];
    auto& r = rng.at(next.peer);
    size_t k = p.written;
    if (k < p.write_capacity && !p.stopped) {
      auto body = bodies_.make(r.second, long(next.peer), k, now_ns());
      if (auto w = p.db.put(write_id(s_.tag, next.peer, k), body); w) {
        p.written++;
        s_.written++;
      } else {
        s_.count_error("local_write");
      }
    }
    queue.push({next.at_ns + int64_t(gap(r.first) * 1e9), next.peer});
  }
  /// Writes the schedule asked for but the phase ended before (the writers fell behind):
  /// counted as due, so "written X of Y" shows the shortfall.
  while (!queue.empty() && queue.top().at_ns < end) {
    auto next = queue.top();
    queue.pop();
    s_.writes_due++;
    queue.push({next.at_ns + int64_t(gap(rng.at(next.peer).first) * 1e9), next.peer});
  }
}

void runner::stop_all() {
  writing_ = false;
  for (auto& p : peers_)
    if (p->started_ns >= 0) p->repl->stop();
  auto end = clock_type::now() + kStopTimeout;
  for (auto& p : peers_) {
    while (p->started_ns >= 0 && !p->stopped && clock_type::now() < end)
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

void runner::finish_figures() {
  f_.elapsed_s = double(now_ns() - s_.t0_ns) / 1e9;
  if (!o_.continuous) {
    int64_t last = 0;
    for (auto& p : peers_) last = std::max<int64_t>(last, p->finished_ns);
    if (last > 0 && f_.failures.empty()) f_.elapsed_s = double(last - s_.t0_ns) / 1e9;
  }
  f_.pushed = s_.pushed;
  f_.pulled = s_.pulled;
  f_.written = s_.written;
  f_.writes_due = s_.writes_due;
  f_.doc_failures = s_.doc_failures;
  f_.retries = s_.retries;
  f_.disconnects = s_.disconnects;
  f_.bytes_sent = net::process_traffic().sent - bytes_sent0_;
  f_.bytes_received = net::process_traffic().received - bytes_received0_;
  for (auto& p : peers_) {
    f_.peers_connected += p->connected_ns >= 0;
    std::lock_guard lk(p->mx);
    if (p->stopped && p->final_err.code == errc::ok) f_.peers_converged += !o_.continuous;
    if (p->stopped && p->final_err.code != errc::ok) f_.peers_failed++;
    if (o_.continuous && p->caught_up) f_.peers_converged++;
  }
  f_.connect = s_.connect.stats();
  f_.first_change = s_.first_change.stats();
  f_.converge = s_.converge.stats();
  f_.propagation = s_.propagation.stats();
  f_.propagation_all = s_.propagation_all.stats();
  f_.histogram_buckets = o_.continuous ? s_.propagation.buckets() : s_.converge.buckets();
  f_.histogram_of = o_.continuous ? "propagation_ms" : "converge_ms";
  if (o_.continuous) {
    f_.arrivals_seen = s_.arrivals;
    f_.arrivals_expected = s_.written * (o_.peers > 0 ? o_.peers - 1 : 0);
  }
  {
    std::lock_guard lk(s_.err_mx);
    f_.errors_by_kind = s_.errors_by_kind;
  }
  f_.cpu_s = net::cpu_seconds(getpid()) - cpu0_;
  f_.rss_peak_kib = std::max(f_.rss_peak_kib, net::rss_kib(getpid()));
  if (hub_ && !hub_->exited()) {
    f_.hub_cpu_s = net::cpu_seconds(hub_->pid()) - hub_cpu0_;
    f_.hub_open_files = net::open_fds(hub_->pid());
    f_.hub_rss_peak_kib = std::max(f_.hub_rss_peak_kib.value_or(0), net::rss_kib(hub_->pid()));
  }
}

figures runner::run() {
  f_.opts = o_;
  f_.seed = o_.seed_given ? o_.seed : std::random_device{}();
  f_.started_at = utc_now();
  s_.opts = &o_;
  s_.peers = o_.peers;
  char tag[32];
  std::snprintf(tag, sizeof tag, "lt%llx", (unsigned long long)f_.seed);
  s_.tag = tag;
  if (!o_.user.empty()) {
    auto c = net::parse_user_option(o_.user);
    if (!c) throw std::runtime_error("--user wants NAME:PASSWORD, got '" + o_.user + "'");
    creds_ = *c;
  }
  net::raise_open_files_limit();
  io_ = std::make_unique<net::io_runtime>(unsigned(std::max<size_t>(1, o_.io_threads)));
  f_.target = o_.target;
  if (o_.spawn_hub) start_hub();
  if (!o_.continuous && o_.mode != mode_type::push) seed_shared_set();
  make_peers();

  cpu0_ = net::cpu_seconds(getpid());
  bytes_sent0_ = net::process_traffic().sent;
  bytes_received0_ = net::process_traffic().received;
  s_.t0_ns = ramp_t0_ns_ = now_ns();
  last_progress_at_ = clock_type::now();
  event("connecting " + std::to_string(o_.peers) + " peers to " + f_.target +
        (o_.ramp_up_s > 0 ? " over " + number(o_.ramp_up_s) + " s" : " at once"));
  double deadline = o_.timeout_s > 0 ? o_.timeout_s
                    : o_.continuous
                        ? o_.ramp_up_s + o_.duration_s + o_.drain_timeout_s + kContinuousSlackS
                        : o_.ramp_up_s + kDefaultOneShotTimeoutS;
  if (!o_.continuous) {
    watch([&] { return started_ == peers_.size() && s_.finished == peers_.size(); }, deadline);
  } else {
    size_t n = peers_.size();
    watch([&] {
      if (started_ < n) return false;
      for (auto& p : peers_) if (!p->caught_up) return false;
      return true;
    }, deadline);
    if (f_.failures.empty()) {
      event("all " + std::to_string(n) + " peers caught up; writing " + number(o_.write_rate) +
            " docs/s each for " + number(o_.duration_s) + " s");
      writing_ = true;
      int64_t w0 = now_ns();
      std::vector<std::thread> writers;
      size_t parts = std::min(kWriterThreads, n);
      for (size_t i = 0; i < parts; ++i)
        writers.emplace_back([this, i, parts, w0] { write_phase(i, parts, w0); });
      watch([&] { return !writing_ || double(now_ns() - w0) / 1e9 >= o_.duration_s; }, deadline);
      writing_ = false;
      for (auto& w : writers) w.join();
      f_.write_phase_s = double(now_ns() - w0) / 1e9;
      if (f_.failures.empty()) {
        event("writes done (" + std::to_string(s_.written.load()) +
              "); waiting for them to reach every peer");
        uint64_t expected = s_.written * (n - 1);
        double drain_end = double(now_ns() - s_.t0_ns) / 1e9 + o_.drain_timeout_s;
        watch([&] { return s_.arrivals >= expected; }, std::min(deadline, drain_end), [&] {
          return std::to_string(expected - s_.arrivals) + " of " + std::to_string(expected) +
                 " arrivals missing after the " + number(o_.drain_timeout_s) +
                 " s drain (--drain-timeout)";
        });
      }
    }
  }
  finish_figures();
  if (!o_.continuous && f_.failures.empty() && f_.peers_converged < peers_.size())
    f_.failures.push_back(std::to_string(peers_.size() - f_.peers_converged) + " of " +
                          std::to_string(peers_.size()) + " peers did not converge");
  event("stopping " + std::to_string(peers_.size()) + " peers");
  stop_all();
  /// Every replicator goes before any peer's state: a listener still running on one peer
  /// reads the writer's records of another (on_pulled), which must outlive all replicators.
  for (auto& p : peers_) p->repl.reset();
  peers_.clear();  // databases close here, before the sockets' runtime
  io_.reset();
  if (hub_ && !hub_->exited()) {
    /// Count what the hub holds once its peers are gone: the figures say what moved, this
    /// says what arrived.
    hub_->stop();
    auto hub_db = database::open((std::filesystem::path(o_.dir) / "hub.sqlite").string());
    if (hub_db)
      if (auto n = hub_db->document_count()) f_.hub_docs = *n;
  }
  return std::move(f_);
}

}  // namespace

const char* to_string(mode_type m) {
  switch (m) {
    case mode_type::push:
      return "push";
    case mode_type::pull:
      return "pull";
    case mode_type::push_and_pull:
      return "push-and-pull";
  }
  return "?";
}

figures run(const options& o, const progress_sink& sink) {
  if (o.target.empty() == !o.spawn_hub)
    throw std::invalid_argument("give either --target or --spawn-hub");
  if (o.peers == 0) throw std::invalid_argument("--peers must be at least 1");
  if (o.continuous && o.peers < 2)
    throw std::invalid_argument("--continuous needs at least 2 peers (writes travel between them)");
  runner r(o, sink);
  return r.run();
}

uint64_t figures::errors() const {
  uint64_t n = 0;
  for (auto& [k, v] : errors_by_kind) n += v;
  return n;
}

}  // namespace peerlite::loadtest
