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
#include <type_traits>

namespace peerlite::protocol {

enum class digest_algorithm { sha1, sha256 };

/// A digest in progress: update() any number of times, then finish() once.
template <digest_algorithm A>
class digest {
 public:
  static constexpr size_t kSize = A == digest_algorithm::sha1 ? 20 : 32;
  digest();
  digest& update(std::string_view bytes);
  std::array<unsigned char, kSize> finish();

 private:
  std::conditional_t<A == digest_algorithm::sha1, SHA_CTX, SHA256_CTX> ctx_;
};

using sha1_digest = digest<digest_algorithm::sha1>;
using sha256_digest = digest<digest_algorithm::sha256>;

/// Standard base64 (with padding) of `n` bytes.
std::string base64(const unsigned char* bytes, size_t n);

template <size_t N>
std::string base64(const std::array<unsigned char, N>& bytes) {
  return base64(bytes.data(), N);
}

}  // namespace peerlite::protocol
