// The engine's only calls into libcrypto's SHA1_* / SHA256_* (see digest.hpp for why).
#include "protocol/digest.hpp"

#include <openssl/evp.h>

namespace peerlite::protocol {

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"

sha1_digest::sha1_digest() { SHA1_Init(&ctx_); }

sha1_digest& sha1_digest::update(std::string_view bytes) {
  SHA1_Update(&ctx_, bytes.data(), bytes.size());
  return *this;
}

std::array<unsigned char, sha1_digest::kSize> sha1_digest::finish() {
  std::array<unsigned char, kSize> out;
  SHA1_Final(out.data(), &ctx_);
  return out;
}

sha256_digest::sha256_digest() { SHA256_Init(&ctx_); }

sha256_digest& sha256_digest::update(std::string_view bytes) {
  SHA256_Update(&ctx_, bytes.data(), bytes.size());
  return *this;
}

std::array<unsigned char, sha256_digest::kSize> sha256_digest::finish() {
  std::array<unsigned char, kSize> out;
  SHA256_Final(out.data(), &ctx_);
  return out;
}

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
