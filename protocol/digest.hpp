// SHA-1 and SHA-256 for the whole engine (revision IDs, blob keys, attachment proofs,
// checkpoint IDs), from libcrypto's SHA1_* and SHA256_* functions.
//
// Why not EVP: with OpenSSL 3 a process's first EVP digest loads OpenSSL's config file and its
// providers. Measured here, a C program making one digest took 7.2 ms of CPU through EVP and
// 3.4 ms through SHA1_Init/Update/Final (4.0 ms making none). `peerlite sync` paid those 3 ms
// on every run, most often on its way to the first getCheckpoint. Per digest they are also
// cheaper: 0.061 us against 0.154 us (a fetched EVP_MD) for 100 bytes, the same (~0.6 ms) for
// 1 MB. OpenSSL 3 marks them deprecated but ships them in every 3.x; they run the same
// assembly as its provider (SHA-NI where the CPU has it). digest.cpp is the one place that
// calls them.
//
// Thread safety: each object is used by one thread at a time; distinct objects are independent.
#pragma once

#include <openssl/sha.h>

#include <array>
#include <string>
#include <string_view>

namespace peerlite::protocol {

/// A SHA-1 in progress: update() any number of times, then finish() once.
class sha1_digest {
 public:
  static constexpr size_t kSize = 20;
  sha1_digest();
  sha1_digest& update(std::string_view bytes);
  std::array<unsigned char, kSize> finish();

 private:
  SHA_CTX ctx_;
};

/// A SHA-256 in progress, as sha1_digest.
class sha256_digest {
 public:
  static constexpr size_t kSize = 32;
  sha256_digest();
  sha256_digest& update(std::string_view bytes);
  std::array<unsigned char, kSize> finish();

 private:
  SHA256_CTX ctx_;
};

/// Standard base64 (with padding) of `n` bytes.
std::string base64(const unsigned char* bytes, size_t n);

template <size_t N>
std::string base64(const std::array<unsigned char, N>& bytes) {
  return base64(bytes.data(), N);
}

}  // namespace peerlite::protocol
