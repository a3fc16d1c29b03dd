// SHA-1 and SHA-256 for the whole engine (revision IDs, blob keys, attachment proofs,
// checkpoint IDs), fetched from OpenSSL once.
//
// Why not EVP_sha1() at each call: with OpenSSL 3 every digest started from it looks the
// algorithm up in the provider tables again (0.31 us of a 0.43 us SHA-1 of a small body here;
// 0.12 us with a fetched one). And the first digest of a process initializes OpenSSL (its
// config file, its providers): 2-3 ms. warm_digests() lets a caller pay that off the critical
// path (a starting replicator does it in the background while its connection opens).
//
// Thread safety: any thread; the fetched objects live until the process exits.
#pragma once

#include <openssl/evp.h>

namespace peerlite::protocol {

/// The fetched algorithm (never null: a libcrypto without SHA-1/SHA-256 would have failed
/// every digest before; then the legacy EVP_sha1()/EVP_sha256() object is returned).
inline const EVP_MD* sha1_md() {
  static const EVP_MD* md = [] {
    const EVP_MD* m = EVP_MD_fetch(nullptr, "SHA1", nullptr);
    return m ? m : EVP_sha1();
  }();
  return md;
}

inline const EVP_MD* sha256_md() {
  static const EVP_MD* md = [] {
    const EVP_MD* m = EVP_MD_fetch(nullptr, "SHA256", nullptr);
    return m ? m : EVP_sha256();
  }();
  return md;
}

/// Initializes OpenSSL and fetches both algorithms now (see above).
inline void warm_digests() {
  sha1_md();
  sha256_md();
}

}  // namespace peerlite::protocol
