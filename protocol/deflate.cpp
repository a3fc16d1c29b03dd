#include "protocol/deflate.hpp"

#include <zlib.h>

#include <algorithm>
#include <cstring>

#include "protocol/tuning.hpp"

namespace peerlite::protocol {

namespace {
constexpr char kSyncFlushTrailer[4] = {0x00, 0x00, static_cast<char>(0xff),
                                       static_cast<char>(0xff)};

Bytef* bytes(const char* p) { return reinterpret_cast<Bytef*>(const_cast<char*>(p)); }

std::string zlib_message(const z_stream& z, int rc) {
  return z.msg ? z.msg : ("zlib error " + std::to_string(rc));
}

status inflated_too_large(size_t cap) {
  return {errc::too_large, "compressed frame inflates past the message size cap of " +
                               std::to_string(cap) + " bytes"};
}
}  // namespace

// ---- deflater ----

struct deflater::state {
  z_stream z{};
  bool ok = false;
  ~state() {
    if (ok) deflateEnd(&z);
  }
  /// Largest input whose worst-case deflated size plus flush headroom fits in `room`.
  size_t max_chunk(size_t room, size_t available) {
    if (room <= kDeflateFlushHeadroom) return 0;
    size_t n = std::min(available, room);
    while (n > 0) {
      size_t need = deflateBound(&z, static_cast<uLong>(n)) + kDeflateFlushHeadroom;
      if (need <= room) break;
      n = need - room >= n ? 0 : n - (need - room);
    }
    return n;
  }
};

deflater::deflater(int level, int window_bits, int mem_level) : state_(std::make_unique<state>()) {
  level = std::clamp(level, 1, 9);
  window_bits = std::clamp(window_bits, 9, 15);
  mem_level = std::clamp(mem_level, 1, 9);
  state_->ok = deflateInit2(&state_->z, level, Z_DEFLATED, -window_bits, mem_level,
                            Z_DEFAULT_STRATEGY) == Z_OK;
}
deflater::~deflater() = default;
deflater::deflater(deflater&&) noexcept = default;
deflater& deflater::operator=(deflater&&) noexcept = default;

expected<size_t> deflater::compress(std::string_view input, std::string& out, size_t max_out) {
  auto& z = state_->z;
  if (!state_->ok) return error{errc::protocol_error, "deflate: zlib failed to initialize"};
  size_t start = out.size();
  /// The trailer we drop at the end does not count against max_out.
  size_t room = max_out + sizeof kSyncFlushTrailer;
  out.resize(start + room);
  size_t produced = 0, consumed = 0;
  while (consumed < input.size() && room - produced >= kDeflateMinChunkRoom) {
    size_t chunk = state_->max_chunk(room - produced, input.size() - consumed);
    if (chunk == 0) break;
    z.next_in = bytes(input.data() + consumed);
    z.avail_in = static_cast<uInt>(chunk);
    z.next_out = bytes(out.data() + start + produced);
    z.avail_out = static_cast<uInt>(room - produced);
    int rc = deflate(&z, Z_SYNC_FLUSH);
    if (rc != Z_OK || z.avail_in != 0 || z.avail_out == 0) {
      out.resize(start);
      return error{errc::protocol_error, "deflate: " + zlib_message(z, rc)};
    }
    consumed += chunk;
    produced = room - z.avail_out;
  }
  if (produced >= sizeof kSyncFlushTrailer &&
      std::memcmp(out.data() + start + produced - 4, kSyncFlushTrailer, 4) == 0)
    produced -= sizeof kSyncFlushTrailer;
  else if (consumed > 0) {
    out.resize(start);
    return error{errc::protocol_error, "deflate: output lacks the Z_SYNC_FLUSH trailer"};
  }
  out.resize(start + produced);
  return consumed;
}

// ---- inflater ----

struct inflater::state {
  z_stream z{};
  bool ok = false;
  bool broken = false;
  char scratch[kInflateChunkSize];
  ~state() {
    if (ok) inflateEnd(&z);
  }
  status feed(std::string_view in, std::string& out, size_t max_total);
};

inflater::inflater() : state_(std::make_unique<state>()) {
  state_->ok = inflateInit2(&state_->z, -MAX_WBITS) == Z_OK;
}
inflater::~inflater() = default;
inflater::inflater(inflater&&) noexcept = default;
inflater& inflater::operator=(inflater&&) noexcept = default;

/// Runs `in` through zlib until all of it is consumed and all output is flushed.
status inflater::state::feed(std::string_view in, std::string& out, size_t max_total) {
  z.next_in = bytes(in.data());
  z.avail_in = static_cast<uInt>(in.size());
  for (;;) {
    /// Inflating into a fixed scratch buffer keeps small frames from zero-filling big strings.
    z.next_out = reinterpret_cast<Bytef*>(scratch);
    z.avail_out = static_cast<uInt>(sizeof scratch);
    int rc = ::inflate(&z, Z_SYNC_FLUSH);
    size_t got = sizeof scratch - z.avail_out;
    if (got > max_total - std::min(max_total, out.size())) return inflated_too_large(max_total);
    out.append(scratch, got);
    if (rc == Z_STREAM_END)
      return {errc::protocol_error, "corrupt deflate data: the peer ended its deflate stream"};
    bool done = z.avail_in == 0 && z.avail_out != 0;
    if (rc == Z_BUF_ERROR && z.avail_in == 0)
      done = true;  // consumed, nothing pending
    else if (rc != Z_OK)
      return {errc::protocol_error, "corrupt deflate data: " + zlib_message(z, rc)};
    if (done) return {};
  }
}

status inflater::inflate(std::string_view payload, std::string& out, size_t max_total) {
  auto& s = *state_;
  if (!s.ok || s.broken) return {errc::protocol_error, "inflate: deflate stream unusable"};
  status st = s.feed(payload, out, max_total);
  if (st.ok()) st = s.feed({kSyncFlushTrailer, sizeof kSyncFlushTrailer}, out, max_total);
  if (!st.ok()) s.broken = true;
  return st;
}

}  // namespace peerlite::protocol
