// The engine's only calls into libcrypto's SHA1_* / SHA256_* (see digest.hpp for why).
#include "protocol/digest.hpp"

#include <openssl/evp.h>

namespace peerlite::protocol {

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"

constexpr bool is_sha1(digest_algorithm a) { return a == digest_algorithm::sha1; }

template <digest_algorithm A>
digest<A>::digest() {
  if constexpr (is_sha1(A)) SHA1_Init(&ctx_);
  else SHA256_Init(&ctx_);
}

template <digest_algorithm A>
digest<A>& digest<A>::update(std::string_view bytes) {
  if constexpr (is_sha1(A)) SHA1_Update(&ctx_, bytes.data(), bytes.size());
  else SHA256_Update(&ctx_, bytes.data(), bytes.size());
  return *this;
}

template <digest_algorithm A>
std::array<unsigned char, digest<A>::kSize> digest<A>::finish() {
  std::array<unsigned char, kSize> out;
  if constexpr (is_sha1(A)) SHA1_Final(out.data(), &ctx_);
  else SHA256_Final(out.data(), &ctx_);
  return out;
}

template class digest<digest_algorithm::sha1>;
template class digest<digest_algorithm::sha256>;

#pragma GCC diagnostic pop

std::string base64(const unsigned char* bytes, size_t n) {
  /// EVP_EncodeBlock is plain encoding: it needs no provider, so it starts nothing.
  std::string out(4 * ((n + 2) / 3) + 1, '\0');  // + its NUL
  int written = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), bytes,
                                static_cast<int>(n));
  out.resize(static_cast<size_t>(written));
  return out;
}

}  // namespace peerlite::protocol
