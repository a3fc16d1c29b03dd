// Blob cases.
//
// push_blobs_ws: 1,000 documents each referencing its own 100 KiB random (incompressible)
//   blob, pushed one-shot over ws:// on 127.0.0.1 to a hub that lacks them (the hub fetches
//   each blob with getAttachment). Reports MB/s of blob bytes and the ratio to a raw loopback
//   TCP copy of the same number of bytes made in the same run (target >= 0.3x). The blobs are
//   typed image/jpeg (already compressed media, so the hub does not ask for deflate, as
//   Couchbase Lite would not); the note also gives the same push with the blobs typed
//   application/octet-stream, which the hub does ask to deflate.
// blob_store: writes then reads 1,000 x 100 KiB blobs plus one 20 MiB blob, into the store's
//   blobs table (store::database::put_blob / read_blob, the 20 MiB one streamed in 64 KiB
//   chunks) and into one file per blob in a directory (write to a temporary name + fsync +
//   rename; then read). Reports both MB/s and their ratio: the measurement behind the table
//   layout (store/blob_store.cpp). Both read back from a warm page cache.
#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <random>
#include <stdexcept>
#include <thread>

#include "actors/connection.hpp"
#include "actors/passive_replicator.hpp"
#include "actors/runtime.hpp"
#include "adapters/tcp/io_runtime.hpp"
#include "adapters/websocket/net_endpoint.hpp"
#include "adapters/websocket/ws_listener.hpp"
#include "bench/bench.hpp"
#include "bench/fixtures.hpp"
#include "peerlite/database.hpp"
#include "peerlite/replicator.hpp"
#include "store/database.hpp"

namespace peerlite::bench {
namespace {

constexpr size_t kBlobDocs = 1000;           ///< documents (and blobs) per case
constexpr size_t kBlobSize = 100 * 1024;     ///< bytes per small blob
constexpr size_t kBigBlobSize = 20u << 20;   ///< the one big blob of blob_store
constexpr size_t kReadChunk = 64 * 1024;     ///< streamed read chunk

std::string random_bytes(size_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::string out(n, '\0');
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    uint64_t v = rng();
    std::memcpy(out.data() + i, &v, 8);
  }
  for (; i < n; ++i) out[i] = static_cast<char>(rng());
  return out;
}

/// Counts the bytes an app connection is asked to send (both sides).
class counting_connection final : public message_endpoint_connection {
 public:
  counting_connection(std::unique_ptr<message_endpoint_connection> inner,
                      std::shared_ptr<std::atomic<uint64_t>> bytes)
      : inner_(std::move(inner)), bytes_(std::move(bytes)) {}
  void open(replicator_connection c, messaging_completion done) override {
    inner_->open(std::move(c), std::move(done));
  }
  void send(message m, messaging_completion done) override {
    *bytes_ += m.size();
    inner_->send(std::move(m), std::move(done));
  }
  void close(std::optional<messaging_error> e, close_completion done) override {
    inner_->close(std::move(e), std::move(done));
  }

 private:
  std::unique_ptr<message_endpoint_connection> inner_;
  std::shared_ptr<std::atomic<uint64_t>> bytes_;
};

/// A ws:// hub serving `db` on a free port of 127.0.0.1, one passive replicator per socket.
struct ws_hub {
  std::shared_ptr<caf::actor_system> sys = actors::shared_system();
  net::io_runtime io{1};
  std::unique_ptr<net::ws_listener> ws;
  std::string url;

  ws_hub(database db, std::shared_ptr<std::atomic<uint64_t>> bytes) {
    net::ws_listener_options o;
    o.db_name = "hub";
    auto l = net::ws_listener::start(io, o, [this, db, bytes](auto c) {
      auto owner = actors::spawn_passive_replicator(*sys, db, actors::passive_observer{}, 1);
      std::unique_ptr<message_endpoint_connection> counted =
          std::make_unique<counting_connection>(std::move(c), bytes);
      actors::spawn_connection(*sys, std::move(counted), protocol_type::message_stream,
                               actors::role::passive, owner);
    });
    if (!l) throw std::runtime_error(l.err().message);
    ws = std::move(*l);
    url = "ws://127.0.0.1:" + std::to_string(ws->port()) + "/hub";
  }
};

/// Copies `bytes` bytes over a loopback TCP socket in 16 KiB writes; seconds.
double raw_tcp_copy(uint64_t bytes) {
  namespace asio = boost::asio;
  asio::io_context io;
  asio::ip::tcp::acceptor acc(io, {asio::ip::make_address("127.0.0.1"), 0});
  asio::ip::tcp::socket out(io);
  out.connect(acc.local_endpoint());
  auto in = acc.accept();
  std::thread reader([&] {
    std::vector<char> buf(64 * 1024);
    uint64_t got = 0;
    boost::system::error_code ec;
    while (got < bytes && !ec) got += in.read_some(asio::buffer(buf), ec);
  });
  std::string chunk(16 * 1024, 'x');
  stopwatch watch;
  for (uint64_t sent = 0; sent < bytes; sent += chunk.size())
    asio::write(out, asio::buffer(chunk.data(), std::min<uint64_t>(chunk.size(), bytes - sent)));
  reader.join();
  return watch.seconds();
}

/// Writes kBlobDocs documents, each with its own random blob of type `type`, into `path`.
/// Returns the digests.
std::vector<std::string> fill_blob_db(const std::string& path, const std::string& type) {
  auto db = store::database::open(path);
  if (!db) throw std::runtime_error(db.err().message);
  std::vector<std::string> digests;
  auto st = (*db)->in_transaction([&]() -> status {
    for (size_t i = 0; i < kBlobDocs; ++i) {
      auto d = (*db)->put_blob(random_bytes(kBlobSize, i + 1), type);
      if (!d) return d.err();
      blob b{*d, kBlobSize, type};
      if (auto r = (*db)->put(sample_id(i), R"({"i":)" + std::to_string(i) + R"(,"photo":)" +
                                                 b.to_json() + "}");
          !r)
        return r.err();
      digests.push_back(*d);
    }
    return {};
  });
  if (!st) throw std::runtime_error(st.message());
  return digests;
}

/// The process's peak resident set so far, in MB (VmHWM), or 0 when unknown.
double peak_rss_mb() {
  std::FILE* f = std::fopen("/proc/self/status", "r");
  if (!f) return 0;
  char line[256];
  double kb = 0;
  while (std::fgets(line, sizeof line, f))
    if (std::strncmp(line, "VmHWM:", 6) == 0) kb = std::atof(line + 6);
  std::fclose(f);
  return kb / 1024;
}

struct push_run {
  double seconds = 0;
  uint64_t wire_bytes = 0;
};

/// One one-shot push of kBlobDocs blob documents of type `type` over ws://; checks the hub
/// ends with every document and blob.
push_run push_blobs(const context& ctx, const std::string& tag, const std::string& type) {
  std::string src = ctx.dir + "/" + tag + "-source.sqlite", dst = ctx.dir + "/" + tag + "-hub.sqlite";
  ctx.progress("filling " + std::to_string(kBlobDocs) + " docs with " + type + " blobs");
  auto digests = fill_blob_db(src, type);
  auto bytes = std::make_shared<std::atomic<uint64_t>>(0);
  push_run out;
  ctx.progress("peak RSS before the push: " + std::to_string(int(peak_rss_mb())) + " MB");
  {
    auto source = open_db(src), target = open_db(dst);
    ws_hub hub(target, bytes);
    net::io_runtime io(1);
    auto ep = net::make_endpoint(io, hub.url);
    if (!ep) throw std::runtime_error(ep.err().message);
    auto inner = ep->delegate;
    ep->delegate = [inner, bytes](const message_endpoint& e)
        -> std::unique_ptr<message_endpoint_connection> {
      return std::make_unique<counting_connection>(inner(e), bytes);
    };
    replicator_config cfg;
    cfg.db = source;
    cfg.target = std::move(*ep);
    cfg.type = replicator_type::push;
    ctx.progress("pushing over " + hub.url);
    out.seconds = run_one_shot(std::move(cfg));
    ctx.progress("peak RSS after the push: " + std::to_string(int(peak_rss_mb())) + " MB");
    auto count = target.document_count();
    if (!count || *count != kBlobDocs)
      throw std::runtime_error("hub holds " + std::to_string(count ? *count : 0) + " docs");
    for (auto& d : digests) {
      auto b = target.get_blob(d);
      if (!b || b->length != kBlobSize) throw std::runtime_error("hub lacks blob " + d);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(200));  // hub side closes
  }
  out.wire_bytes = bytes->load();
  return out;
}

/// Seconds to store the same blobs into a fresh database with put_blob, one transaction
/// each, as the receiving side does: the store's own ceiling for a push, for scale.
double store_same_blobs(const context& ctx) {
  auto db = store::database::open(ctx.dir + "/ceiling.sqlite");
  if (!db) throw std::runtime_error(db.err().message);
  std::vector<std::string> blobs;
  for (size_t i = 0; i < kBlobDocs; ++i) blobs.push_back(random_bytes(kBlobSize, i + 1));
  stopwatch w;
  for (auto& b : blobs)
    if (auto d = (*db)->put_blob(b, "image/jpeg", store::blob_digest(b)); !d)
      throw std::runtime_error(d.err().message);
  return w.seconds();
}

result run_push_blobs_ws(const context& ctx) {
  const double blob_mb = double(kBlobDocs * kBlobSize) / 1e6;
  auto jpeg = push_blobs(ctx, "jpeg", "image/jpeg");
  double rss_after_push = peak_rss_mb();
  auto octet = push_blobs(ctx, "octet", "application/octet-stream");
  double raw = raw_tcp_copy(kBlobDocs * kBlobSize);
  ctx.progress("storing the same blobs with put_blob (the receiver's ceiling)");
  double store_secs = store_same_blobs(ctx);
  double rate = blob_mb / jpeg.seconds, raw_rate = blob_mb / raw, store_rate = blob_mb / store_secs;
  char note[500];
  std::snprintf(note, sizeof note,
                "%.1f MB of blobs: %.1f MB/s; raw loopback TCP copy %.1f MB/s; "
                "ratio_to_raw_tcp %.2f (target >= 0.3); %.1f MB on the wire; "
                "put_blob alone (hub's store) %.1f MB/s, push/put_blob %.2f; peak RSS after "
                "the push %.0f MB; typed application/octet-stream (deflate asked): %.2f s = "
                "%.1f MB/s",
                blob_mb, rate, raw_rate, rate / raw_rate, jpeg.wire_bytes / 1e6, store_rate,
                rate / store_rate, rss_after_push, octet.seconds, blob_mb / octet.seconds);
  return {double(kBlobDocs), jpeg.seconds, note};
}

// --- blob_store ---

void write_file(const std::filesystem::path& dir, const std::string& name, std::string_view data,
                bool sync) {
  auto tmp = (dir / (name + ".tmp")).string(), final_path = (dir / name).string();
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd < 0) throw std::runtime_error("open " + tmp + ": " + std::strerror(errno));
  for (size_t at = 0; at < data.size();) {
    ssize_t n = ::write(fd, data.data() + at, data.size() - at);
    if (n < 0) throw std::runtime_error("write " + tmp + ": " + std::strerror(errno));
    at += size_t(n);
  }
  if (sync && ::fsync(fd) != 0) throw std::runtime_error("fsync " + tmp + ": " + std::strerror(errno));
  ::close(fd);
  if (::rename(tmp.c_str(), final_path.c_str()) != 0)
    throw std::runtime_error("rename " + tmp + ": " + std::strerror(errno));
}

/// Reads a file in kReadChunk pieces; returns the byte count (and folds the bytes into
/// `check` so the reads cannot be skipped).
size_t read_file(const std::filesystem::path& path, uint64_t& check) {
  int fd = ::open(path.c_str(), O_RDONLY);
  if (fd < 0) throw std::runtime_error("open " + path.string());
  std::string buf(kReadChunk, '\0');
  size_t total = 0;
  for (;;) {
    ssize_t n = ::read(fd, buf.data(), buf.size());
    if (n < 0) throw std::runtime_error("read " + path.string());
    if (n == 0) break;
    check += static_cast<unsigned char>(buf[size_t(n) - 1]);
    total += size_t(n);
  }
  ::close(fd);
  return total;
}

result run_blob_store(const context& ctx) {
  ctx.progress("making " + std::to_string(kBlobDocs) + " x 100 KiB + 20 MiB of random bytes");
  std::vector<std::string> blobs;
  blobs.reserve(kBlobDocs + 1);
  for (size_t i = 0; i < kBlobDocs; ++i) blobs.push_back(random_bytes(kBlobSize, i + 1));
  blobs.push_back(random_bytes(kBigBlobSize, 4242));
  std::vector<std::string> digests;
  for (auto& b : blobs) digests.push_back(store::blob_digest(b));
  double total_mb = 0;
  for (auto& b : blobs) total_mb += double(b.size()) / 1e6;
  uint64_t check = 0;

  // SQLite table, one put_blob (one transaction) per blob, as the replicator stores them.
  ctx.progress("blob_store: SQLite table");
  double sql_write, sql_read;
  {
    auto db = store::database::open(ctx.dir + "/blobs.sqlite");
    if (!db) throw std::runtime_error(db.err().message);
    stopwatch w;
    for (size_t i = 0; i < blobs.size(); ++i) {
      auto d = (*db)->put_blob(blobs[i], "application/octet-stream", digests[i]);
      if (!d) throw std::runtime_error(d.err().message);
    }
    sql_write = w.seconds();
    stopwatch r;
    size_t read_bytes = 0;
    for (size_t i = 0; i < kBlobDocs; ++i) {
      auto b = (*db)->read_blob(digests[i]);
      if (!b) throw std::runtime_error(b.err().message);
      check += static_cast<unsigned char>(b->back());
      read_bytes += b->size();
    }
    auto st = (*db)->read_blob(
        digests.back(),
        [&](std::string_view c) -> status {
          check += static_cast<unsigned char>(c.back());
          read_bytes += c.size();
          return {};
        },
        kReadChunk);
    if (!st.ok()) throw std::runtime_error(st.message());
    sql_read = r.seconds();
    if (read_bytes != kBlobDocs * kBlobSize + kBigBlobSize)
      throw std::runtime_error("SQLite read back " + std::to_string(read_bytes) + " bytes");
  }

  // One file per blob: temporary name, write, fsync, rename; then read each back.
  ctx.progress("blob_store: one file per blob");
  std::filesystem::path dir = std::filesystem::path(ctx.dir) / "blobfiles";
  std::filesystem::create_directories(dir);
  auto file_name = [&](size_t i) {
    std::string n = digests[i].substr(5);
    for (auto& c : n)
      if (c == '/') c = '_';
    return n + ".blob";
  };
  stopwatch fw;
  for (size_t i = 0; i < blobs.size(); ++i) write_file(dir, file_name(i), blobs[i], true);
  double file_write = fw.seconds();
  /// For scale: the same without fsync (SQLite's WAL with synchronous=NORMAL does not sync
  /// each commit either; it syncs at checkpoints).
  std::filesystem::path nosync = std::filesystem::path(ctx.dir) / "blobfiles-nosync";
  std::filesystem::create_directories(nosync);
  stopwatch nw;
  for (size_t i = 0; i < blobs.size(); ++i) write_file(nosync, file_name(i), blobs[i], false);
  double nosync_write = nw.seconds();
  stopwatch fr;
  size_t read_bytes = 0;
  for (size_t i = 0; i < blobs.size(); ++i) read_bytes += read_file(dir / file_name(i), check);
  double file_read = fr.seconds();
  if (read_bytes != kBlobDocs * kBlobSize + kBigBlobSize)
    throw std::runtime_error("files read back " + std::to_string(read_bytes) + " bytes");

  double sql_total = sql_write + sql_read, file_total = file_write + file_read;
  char note[500];
  std::snprintf(note, sizeof note,
                "%.1f MB; SQLite table write %.0f MB/s read %.0f MB/s; files (write+fsync+rename) "
                "write %.0f MB/s read %.0f MB/s; ratio_table_to_files write %.2f read %.2f "
                "total %.2f; files without fsync write %.0f MB/s (check %llu)",
                total_mb, total_mb / sql_write, total_mb / sql_read, total_mb / file_write,
                total_mb / file_read, file_write / sql_write, file_read / sql_read,
                file_total / sql_total, total_mb / nosync_write,
                static_cast<unsigned long long>(check % 1000));
  return {double(blobs.size()), sql_total, note};
}

const bool registered_push_blobs_ws = add_case(
    {"push_blobs_ws",
     "1000 docs x 100 KiB random blob, one-shot push, ws:// message stream, 127.0.0.1",
     run_push_blobs_ws});
const bool registered_blob_store = add_case(
    {"blob_store", "1000 x 100 KiB + 1 x 20 MiB blobs, write then read: SQLite table vs files",
     run_blob_store});

}  // namespace
}  // namespace peerlite::bench
