#include "adapters/loopback/loopback.hpp"

#include <deque>
#include <functional>
#include <random>
#include <thread>
#include <vector>

namespace peerlite::loopback {

namespace {
using clock = std::chrono::steady_clock;
}

/// Something the wire thread does for one side.
struct wire_event {
  enum kind_t : uint8_t { data, disconnect } kind = data;
  std::string bytes;
  std::optional<messaging_error> err;
  clock::time_point due{};
};

/// The shared middle of a pair: two inboxes, the completions to call, one delivery thread.
struct wire : std::enable_shared_from_this<wire> {
  std::mutex mtx;
  std::condition_variable cv;
  bool sleeping = false;
  options opt[2];
  std::shared_ptr<link_probe> probes[2];
  replicator_connection rc[2];
  bool alive[2] = {true, true};
  bool closed[2] = {false, false};
  bool broken = false;
  uint64_t sends[2] = {0, 0};
  uint64_t bytes[2] = {0, 0};
  std::deque<wire_event> inbox[2];
  std::deque<std::function<void()>> runs;
  bool stop = false;
  std::thread thread;
  std::mt19937_64 rng;

  /// Caller holds mtx.
  void wake() {
    if (sleeping) cv.notify_one();
  }
  void enqueue(int side, wire_event ev) {
    inbox[side].push_back(std::move(ev));
    wake();
  }
  void complete(completion_mode mode, std::function<void()> fn) {
    if (mode == completion_mode::synchronous) return fn();
    if (mode == completion_mode::never) return;
    std::lock_guard<std::mutex> guard{mtx};
    runs.push_back(std::move(fn));
    wake();
  }

  void start() {
    thread = std::thread([self = shared_from_this()] { self->loop(); });
  }
  void loop();
  bool collect(std::unique_lock<std::mutex>& lk, std::vector<wire_event> (&batch)[2],
               std::vector<std::function<void()>>& due_calls);
  void deliver(int side, std::vector<wire_event>& batch);
  void deliver_bytes(const replicator_connection& to, std::string& bytes);
  void release(int side);
};

bool wire::collect(std::unique_lock<std::mutex>& lk, std::vector<wire_event> (&batch)[2],
                   std::vector<std::function<void()>>& due_calls) {
  for (;;) {
    if (stop) return false;
    auto now = clock::now();
    auto next_due = clock::time_point::max();
    for (int s = 0; s < 2; ++s) {
      if (!rc[s]) continue;  // not opened yet: hold its bytes until open()
      while (!inbox[s].empty() && inbox[s].front().due <= now) {
        batch[s].push_back(std::move(inbox[s].front()));
        inbox[s].pop_front();
      }
      if (!inbox[s].empty()) next_due = std::min(next_due, inbox[s].front().due);
    }
    while (!runs.empty()) {
      due_calls.push_back(std::move(runs.front()));
      runs.pop_front();
    }
    if (!batch[0].empty() || !batch[1].empty() || !due_calls.empty()) return true;
    sleeping = true;
    if (next_due == clock::time_point::max())
      cv.wait(lk);
    else
      cv.wait_until(lk, next_due);
    sleeping = false;
  }
}

void wire::loop() {
  std::vector<wire_event> batch[2];
  std::vector<std::function<void()>> due_calls;
  std::unique_lock<std::mutex> lk{mtx};
  while (collect(lk, batch, due_calls)) {
    lk.unlock();
    for (int s = 0; s < 2; ++s) deliver(s, batch[s]);
    for (auto& fn : due_calls) fn();
    for (auto& b : batch) b.clear();
    due_calls.clear();
    lk.lock();
  }
}

void wire::deliver_bytes(const replicator_connection& to, std::string& bytes) {
  auto target = const_cast<replicator_connection&>(to);
  size_t max_chunk = std::max<size_t>(1, opt[0].max_chunk);
  size_t pos = 0;
  while (pos < bytes.size()) {
    /// Mostly large pieces, sometimes tiny ones, so headers get split too.
    size_t len = (rng() % 4 == 0) ? 1 + rng() % 16 : 1 + rng() % max_chunk;
    len = std::min(len, bytes.size() - pos);
    target.receive(message{bytes.substr(pos, len)});
    pos += len;
  }
  bytes.clear();
}

void wire::deliver(int side, std::vector<wire_event>& batch) {
  if (batch.empty()) return;
  replicator_connection to;
  {
    std::lock_guard<std::mutex> guard{mtx};
    to = rc[side];
  }
  bool bytes_mode = opt[side].protocol == protocol_type::byte_stream;
  std::string merged;
  for (auto& ev : batch) {
    if (ev.kind == wire_event::data && bytes_mode) {
      merged += ev.bytes;
      continue;
    }
    if (!merged.empty()) deliver_bytes(to, merged);
    if (ev.kind == wire_event::data)
      to.receive(message{std::move(ev.bytes)});
    else
      to.close(ev.err);
  }
  if (!merged.empty()) deliver_bytes(to, merged);
}

void wire::release(int side) {
  bool last = false;
  {
    std::lock_guard<std::mutex> guard{mtx};
    alive[side] = false;
    rc[side] = {};
    inbox[side].clear();
    last = !alive[0] && !alive[1];
    if (last) {
      stop = true;
      cv.notify_one();
    }
  }
  if (!last) return;
  /// peerlite may destroy a connection from a callback we are running: never join ourselves.
  if (thread.get_id() == std::this_thread::get_id())
    thread.detach();
  else if (thread.joinable())
    thread.join();
}

class connection : public message_endpoint_connection {
 public:
  connection(std::shared_ptr<wire> w, int side) : wire_(std::move(w)), side_(side) {}
  ~connection() override { wire_->release(side_); }

  void open(replicator_connection conn, messaging_completion completion) override {
    auto& w = *wire_;
    {
      std::lock_guard<std::mutex> guard{w.mtx};
      w.rc[side_] = std::move(conn);
      w.wake();
    }
    wire_->probes[side_]->on_open();
    auto err = w.opt[side_].open_error;
    w.complete(w.opt[side_].open_completion, [completion, err] { completion(!err, err); });
  }

  void send(message msg, messaging_completion completion) override {
    auto result = transmit(std::move(msg));
    auto& w = *wire_;
    w.complete(w.opt[side_].send_completion, [completion, result] { completion(!result, result); });
  }

  void close(std::optional<messaging_error> error, close_completion completion) override {
    auto& w = *wire_;
    {
      std::lock_guard<std::mutex> guard{w.mtx};
      if (!w.closed[side_]) {
        w.closed[side_] = true;
        w.enqueue(1 - side_, wire_event{wire_event::disconnect, {}, std::nullopt, due()});
      }
    }
    wire_->probes[side_]->on_close(error);
    w.complete(w.opt[side_].close_completion, std::move(completion));
  }

 private:
  clock::time_point due() const {
    auto d = wire_->opt[side_].delay;
    return d.count() == 0 ? clock::time_point{} : clock::now() + d;
  }

  /// Puts `msg` on the wire, or returns why it could not.
  std::optional<messaging_error> transmit(message msg) {
    auto& w = *wire_;
    auto& o = w.opt[side_];
    size_t n = msg.size();
    std::optional<messaging_error> result;
    {
      std::lock_guard<std::mutex> guard{w.mtx};
      if (w.broken) return o.drop_error;
      if (w.closed[side_]) return messaging_error{"loopback: send after close", false};
      if (w.sends[side_]++ >= o.fail_send_after) return o.send_error;
      uint64_t room = o.drop_after_bytes - std::min(o.drop_after_bytes, w.bytes[side_]);
      if (n <= room) {
        w.bytes[side_] += n;
        w.enqueue(1 - side_, wire_event{wire_event::data, msg.take(), std::nullopt, due()});
      } else {
        /// The link breaks mid-message: a byte pipe delivers the prefix, a message pipe nothing.
        if (o.protocol == protocol_type::byte_stream && room > 0)
          w.enqueue(1 - side_,
                    wire_event{wire_event::data, msg.take().substr(0, room), std::nullopt, due()});
        w.bytes[side_] += room;
        w.broken = true;
        w.enqueue(1 - side_, wire_event{wire_event::disconnect, {}, o.drop_error, due()});
        w.enqueue(side_, wire_event{wire_event::disconnect, {}, o.drop_error, {}});
        result = o.drop_error;
      }
    }
    wire_->probes[side_]->on_send(n, !result);
    return result;
  }

  std::shared_ptr<wire> wire_;
  int side_;
};

void link_probe::on_open() {
  {
    std::lock_guard<std::mutex> guard{mtx_};
    opened_ = true;
  }
  cv_.notify_all();
}

void link_probe::on_send(uint64_t bytes, bool ok) {
  std::lock_guard<std::mutex> guard{mtx_};
  ++sends_;
  if (ok) bytes_sent_ += bytes;
}

void link_probe::on_close(const std::optional<messaging_error>& error) {
  {
    std::lock_guard<std::mutex> guard{mtx_};
    closed_ = true;
    close_error_ = error;
  }
  cv_.notify_all();
}

bool link_probe::wait_closed(std::chrono::milliseconds timeout) {
  std::unique_lock<std::mutex> lk{mtx_};
  return cv_.wait_for(lk, timeout, [this] { return closed_; });
}

bool link_probe::wait_opened(std::chrono::milliseconds timeout) {
  std::unique_lock<std::mutex> lk{mtx_};
  return cv_.wait_for(lk, timeout, [this] { return opened_; });
}

void link_probe::inject(std::string bytes) {
  if (auto w = wire_.lock()) {
    std::lock_guard<std::mutex> guard{w->mtx};
    w->enqueue(side_, wire_event{wire_event::data, std::move(bytes), std::nullopt, {}});
  }
}

void link_probe::disconnect(std::optional<messaging_error> error) {
  if (auto w = wire_.lock()) {
    std::lock_guard<std::mutex> guard{w->mtx};
    w->enqueue(side_, wire_event{wire_event::disconnect, {}, std::move(error), {}});
  }
}

uint64_t link_probe::sends() const {
  std::lock_guard<std::mutex> guard{mtx_};
  return sends_;
}
uint64_t link_probe::bytes_sent() const {
  std::lock_guard<std::mutex> guard{mtx_};
  return bytes_sent_;
}
bool link_probe::opened() const {
  std::lock_guard<std::mutex> guard{mtx_};
  return opened_;
}
bool link_probe::closed() const {
  std::lock_guard<std::mutex> guard{mtx_};
  return closed_;
}
std::optional<messaging_error> link_probe::close_error() const {
  std::lock_guard<std::mutex> guard{mtx_};
  return close_error_;
}

std::pair<endpoint, endpoint> make_pair(options a, options b) {
  auto w = std::make_shared<wire>();
  w->opt[0] = std::move(a);
  w->opt[1] = std::move(b);
  w->rng.seed(w->opt[0].seed);
  endpoint ends[2];
  for (int s = 0; s < 2; ++s) {
    auto p = std::make_shared<link_probe>(w, s);
    w->probes[s] = p;
    ends[s] = endpoint{std::make_unique<connection>(w, s), p};
  }
  w->start();
  return {std::move(ends[0]), std::move(ends[1])};
}

}  // namespace peerlite::loopback
