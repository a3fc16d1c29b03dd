#include "adapters/tcp/tls.hpp"

#include "adapters/tcp/io_runtime.hpp"

#include <fcntl.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <unistd.h>

#include <boost/asio/ip/address.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>
#include <boost/asio/strand.hpp>
#include <cstdio>
#include <cstring>
#include <functional>
#include <filesystem>

namespace peerlite::net {
namespace ssl = boost::asio::ssl;

namespace {

/// The subject's common name of the certificates `serve --self-signed` makes.
constexpr const char* kSelfSignedName = "peerlite hub";

/// OpenSSL's last error as text, and the error queue cleared (it is per thread).
std::string openssl_reason() {
  unsigned long code = ERR_get_error();
  ERR_clear_error();
  if (code == 0) return "unknown OpenSSL error";
  const char* reason = ERR_reason_error_string(code);
  return reason ? reason : "OpenSSL error " + std::to_string(code);
}

template <class T, void (*Free)(T*)>
struct freer {
  void operator()(T* p) const { Free(p); }
};
using x509_ptr = std::unique_ptr<X509, freer<X509, X509_free>>;
using pkey_ptr = std::unique_ptr<EVP_PKEY, freer<EVP_PKEY, EVP_PKEY_free>>;

std::string hex_fingerprint(X509* cert, bool colons) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned n = 0;
  if (X509_digest(cert, EVP_sha256(), md, &n) != 1) return {};
  /// Upper case with colons is how people read fingerprints (openssl x509 -fingerprint);
  /// bare lower case is what pins are compared as.
  const char* digits = colons ? "0123456789ABCDEF" : "0123456789abcdef";
  std::string out;
  for (unsigned i = 0; i < n; ++i) {
    if (colons && i) out += ':';
    out += digits[md[i] >> 4];
    out += digits[md[i] & 15];
  }
  return out;
}

x509_ptr read_certificate(const std::string& file) {
  std::unique_ptr<FILE, int (*)(FILE*)> f(std::fopen(file.c_str(), "r"), std::fclose);
  if (!f) return nullptr;
  return x509_ptr(PEM_read_X509(f.get(), nullptr, nullptr, nullptr));
}

/// Writes `pem` (made by `write` into a memory BIO) to `file` with `mode` permissions.
status write_pem(const std::string& file, mode_t mode,
                         const std::function<int(BIO*)>& write) {
  std::unique_ptr<BIO, int (*)(BIO*)> mem(BIO_new(BIO_s_mem()), BIO_free);
  if (!mem || write(mem.get()) != 1) return error{errc::io_error, file + ": " + openssl_reason()};
  char* data = nullptr;
  long size = BIO_get_mem_data(mem.get(), &data);
  int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, mode);
  if (fd < 0) return error{errc::io_error, file + ": " + std::strerror(errno)};
  bool ok = ::write(fd, data, static_cast<size_t>(size)) == size;
  ok = ::fsync(fd) == 0 && ok;
  ::close(fd);
  if (!ok) return error{errc::io_error, file + ": write failed"};
  return status::success();
}

/// subjectAltName text for `hosts`: IP:a.b.c.d for addresses, DNS:name for the rest.
std::string alt_names(const std::vector<std::string>& hosts) {
  std::string out;
  for (auto& h : hosts) {
    boost::system::error_code ec;
    boost::asio::ip::make_address(h, ec);
    if (!out.empty()) out += ',';
    out += (ec ? "DNS:" : "IP:") + h;
  }
  return out;
}

bool still_valid(X509* cert) { return X509_cmp_current_time(X509_get0_notAfter(cert)) > 0; }

}  // namespace

expected<std::string> normalize_sha256(const std::string& text) {
  std::string out;
  for (char c : text) {
    if (c == ':' || c == ' ') continue;
    if (!std::isxdigit(static_cast<unsigned char>(c)))
      return error{errc::invalid_argument,
                   "pinned certificate '" + text + "': not a SHA-256 in hex (bad character '" +
                       std::string(1, c) + "')"};
    out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  if (out.size() != 64)
    return error{errc::invalid_argument, "pinned certificate '" + text + "': a SHA-256 has 64 " +
                                             "hex digits, this has " + std::to_string(out.size())};
  return out;
}

expected<tls_client> make_tls_client(tls_client_options options) {
  if (options.insecure && (!options.pinned_sha256.empty() || !options.ca_file.empty()))
    return error{errc::invalid_argument,
                 "--insecure checks no certificate; it cannot be combined with --ca or "
                 "--pinned-cert"};
  if (!options.pinned_sha256.empty() && !options.ca_file.empty())
    return error{errc::invalid_argument,
                 "--pinned-cert accepts exactly one certificate; --ca is not used with it"};
  if (!options.pinned_sha256.empty()) {
    auto pin = normalize_sha256(options.pinned_sha256);
    if (!pin) return pin.err();
    options.pinned_sha256 = *pin;
  }
  auto ctx = std::make_shared<ssl::context>(ssl::context::tls_client);
  ctx->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                   ssl::context::no_sslv3 | ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1);
  SSL_CTX_set_mode(ctx->native_handle(), SSL_MODE_RELEASE_BUFFERS);
  boost::system::error_code ec;
  if (!options.ca_file.empty()) {
    if (!std::filesystem::exists(options.ca_file))
      return error{errc::io_error, options.ca_file + ": no such CA file"};
    ctx->load_verify_file(options.ca_file, ec);
    if (ec) return error{errc::io_error, options.ca_file + ": not a PEM CA file (" + openssl_reason() + ")"};
  } else if (!options.insecure && options.pinned_sha256.empty()) {
    ctx->set_default_verify_paths(ec);
    if (ec) return error{errc::io_error, "cannot load the system CA store: " + ec.message()};
  }
  return tls_client{std::move(ctx), std::move(options)};
}

void prepare_tls_client(const tls_client& client, ssl::stream<boost::asio::ip::tcp::socket>& s,
                        const std::string& host, std::shared_ptr<tls_verify_result> result) {
  /// SNI: a server hosting several names picks the right certificate. Not sent for addresses.
  boost::system::error_code ec;
  boost::asio::ip::make_address(host, ec);
  if (ec) SSL_set_tlsext_host_name(s.native_handle(), host.c_str());
  if (client.options.insecure) {
    s.set_verify_mode(ssl::verify_none);
    return;
  }
  s.set_verify_mode(ssl::verify_peer);
  if (!client.options.pinned_sha256.empty()) {
    /// Pinned mode: the chain, dates and name do not matter; only the leaf's digest does.
    s.set_verify_callback(
        [pin = client.options.pinned_sha256, result](bool, ssl::verify_context& vc) {
          auto* store = vc.native_handle();
          if (X509_STORE_CTX_get_error_depth(store) > 0) return true;
          X509* leaf = X509_STORE_CTX_get_current_cert(store);
          if (leaf && hex_fingerprint(leaf, false) == pin) return true;
          result->refusal = "the server's certificate (SHA-256 " +
                            (leaf ? hex_fingerprint(leaf, true) : std::string("none")) +
                            ") is not the pinned one";
          return false;
        });
    return;
  }
  s.set_verify_callback([check = ssl::host_name_verification(host), host,
                         result](bool preverified, ssl::verify_context& vc) mutable {
    auto* store = vc.native_handle();
    if (!preverified) {
      int err = X509_STORE_CTX_get_error(store);
      if (result->refusal.empty())
        result->refusal = std::string("the server's certificate is not trusted: ") +
                          X509_verify_cert_error_string(err);
      return false;
    }
    if (X509_STORE_CTX_get_error_depth(store) > 0) return true;
    if (check(preverified, vc)) return true;
    result->refusal = "the server's certificate is not for " + host;
    return false;
  });
}

expected<std::shared_ptr<ssl::context>> make_tls_server(const std::string& cert_file,
                                                        const std::string& key_file) {
  for (auto* f : {&cert_file, &key_file})
    if (!std::filesystem::exists(*f)) return error{errc::io_error, *f + ": no such file"};
  auto ctx = std::make_shared<ssl::context>(ssl::context::tls_server);
  ctx->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                   ssl::context::no_sslv3 | ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1 |
                   ssl::context::single_dh_use);
  SSL_CTX_set_mode(ctx->native_handle(), SSL_MODE_RELEASE_BUFFERS);
  boost::system::error_code ec;
  ctx->use_certificate_chain_file(cert_file, ec);
  if (ec) return error{errc::io_error, cert_file + ": not a PEM certificate (" + openssl_reason() + ")"};
  ctx->use_private_key_file(key_file, ssl::context::pem, ec);
  if (ec) return error{errc::io_error, key_file + ": not a PEM private key (" + openssl_reason() + ")"};
  if (SSL_CTX_check_private_key(ctx->native_handle()) != 1)
    return error{errc::io_error, key_file + ": the key does not match " + cert_file};
  return ctx;
}

expected<std::string> certificate_sha256(const std::string& cert_file) {
  auto cert = read_certificate(cert_file);
  if (!cert) return error{errc::io_error, cert_file + ": no PEM certificate in it"};
  return hex_fingerprint(cert.get(), true);
}

expected<self_signed_identity> load_or_make_self_signed(const std::string& cert_file,
                                                        const std::string& key_file,
                                                        const std::vector<std::string>& hosts,
                                                        std::chrono::seconds not_before,
                                                        std::chrono::seconds not_after) {
  self_signed_identity id{cert_file, key_file, {}, false};
  if (std::filesystem::exists(cert_file) && std::filesystem::exists(key_file)) {
    if (auto cert = read_certificate(cert_file); cert && still_valid(cert.get())) {
      id.sha256 = hex_fingerprint(cert.get(), true);
      return id;
    }
  }
  pkey_ptr key(EVP_EC_gen("P-256"));
  if (!key) return error{errc::io_error, "cannot make a key: " + openssl_reason()};
  x509_ptr cert(X509_new());
  unsigned char serial[16];
  RAND_bytes(serial, sizeof serial);
  serial[0] &= 0x7f;  /// positive, as RFC 5280 asks
  std::unique_ptr<BIGNUM, void (*)(BIGNUM*)> bn(BN_bin2bn(serial, sizeof serial, nullptr),
                                                BN_free);
  X509_set_version(cert.get(), 2);
  BN_to_ASN1_INTEGER(bn.get(), X509_get_serialNumber(cert.get()));
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), static_cast<long>(not_before.count()));
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), static_cast<long>(not_after.count()));
  X509_set_pubkey(cert.get(), key.get());
  X509_NAME* name = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>(kSelfSignedName), -1, -1, 0);
  X509_set_issuer_name(cert.get(), name);
  X509V3_CTX v3;
  X509V3_set_ctx_nodb(&v3);
  X509V3_set_ctx(&v3, cert.get(), cert.get(), nullptr, nullptr, 0);
  auto san = alt_names(hosts);
  if (!san.empty()) {
    X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &v3, NID_subject_alt_name, san.c_str());
    if (!ext) return error{errc::invalid_argument, "bad host names '" + san + "'"};
    X509_add_ext(cert.get(), ext, -1);
    X509_EXTENSION_free(ext);
  }
  if (X509_sign(cert.get(), key.get(), EVP_sha256()) == 0)
    return error{errc::io_error, "cannot sign the certificate: " + openssl_reason()};
  /// The key first and owner-only: a certificate without its key is useless, not dangerous.
  if (auto w = write_pem(key_file, 0600,
                         [&](BIO* b) {
                           return PEM_write_bio_PrivateKey(b, key.get(), nullptr, nullptr, 0,
                                                           nullptr, nullptr);
                         });
      !w)
    return w.err();
  if (auto w = write_pem(cert_file, 0644, [&](BIO* b) { return PEM_write_bio_X509(b, cert.get()); });
      !w)
    return w.err();
  id.sha256 = hex_fingerprint(cert.get(), true);
  id.created = true;
  return id;
}

std::string describe_tls_error(const boost::system::error_code& ec) {
  if (ec == ssl::error::stream_truncated)
    return "the peer closed the connection in the middle of TLS (is it speaking TLS?)";
  if (ec.category() == boost::asio::error::get_ssl_category()) {
    int reason = ERR_GET_REASON(static_cast<unsigned long>(ec.value()));
    const char* text = ERR_reason_error_string(static_cast<unsigned long>(ec.value()));
    std::string what = text ? text : ec.message();
    if (reason == SSL_R_WRONG_VERSION_NUMBER || reason == SSL_R_UNKNOWN_PROTOCOL ||
        reason == SSL_R_PACKET_LENGTH_TOO_LONG)
      return what + " (the peer is not speaking TLS: a ws:// or tcp:// port?)";
    if (reason == SSL_R_HTTP_REQUEST)
      return what + " (a plain-text client on a TLS port: use wss://)";
    return what;
  }
  return ec.message();
}

net_stream client_stream(io_runtime& io, const std::optional<tls_client>& tls) {
  net_stream::socket_type sock(boost::asio::make_strand(io.context()));
  if (tls) return net_stream(std::move(sock), *tls->context);
  return net_stream(std::move(sock));
}

}  // namespace peerlite::net
