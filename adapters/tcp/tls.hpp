// TLS for the network adapters (wss:// and tls://): OpenSSL through Asio's ssl::context, with
// peerlite's choices made once here so every transport applies them the same way.
//
// Server: a certificate chain and key from PEM files (`serve --cert/--key`), or a self-signed
// pair made on first start and kept beside the database (`serve --self-signed`), as Couchbase
// Lite's URLEndpointListener does when it is given no identity.
//
// Client: the server's certificate is checked against the system's CA store (or one CA file),
// and its name against the host in the URL; or, in pinned mode (Couchbase Lite's
// pinnedServerCertificate), the leaf certificate's SHA-256 must equal the pin and nothing else is
// checked; or, with `insecure`, nothing is checked at all. Every refusal carries its reason
// ("certificate has expired", "SHA-256 ... does not match the pinned ...") rather than
// OpenSSL's generic "certificate verify failed".
//
// TLS 1.2 is the oldest version either side speaks. Idle connections release OpenSSL's record
// buffers (SSL_MODE_RELEASE_BUFFERS), which keeps a hub with thousands of idle TLS peers small.
//
// Thread safety: contexts are immutable once made and shared by every connection; the
// per-connection verifier state lives in tls_verify_result, one per connection.
#pragma once

#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include "adapters/tcp/net_stream.hpp"
#include "peerlite/status.hpp"

namespace peerlite::net {

class io_runtime;

/// How a client checks the server. Empty = the system's CA store and the URL's host name.
struct tls_client_options {
  std::string ca_file;        ///< PEM file of trusted CAs instead of the system store
  std::string pinned_sha256;  ///< 64 hex digits (colons allowed): accept only this certificate
  bool insecure = false;      ///< check nothing (encryption without authentication)
};

/// A client context shared by every connection of one endpoint.
struct tls_client {
  std::shared_ptr<boost::asio::ssl::context> context;
  tls_client_options options;
};

/// Why the last handshake of one connection refused the server's certificate (empty = it did
/// not); filled by the verify callback, read after the handshake fails.
struct tls_verify_result {
  std::string refusal;
};

/// Makes the client context: verification per `options`. Fails with invalid_argument (a pin
/// that is not 64 hex digits, --insecure together with a pin or CA) or io_error (an unreadable
/// CA file).
expected<tls_client> make_tls_client(tls_client_options options);

/// Prepares one client connection over `stream`: SNI and the verify callback for `host`.
/// `result` receives the reason of a refusal.
void prepare_tls_client(const tls_client& client,
                        boost::asio::ssl::stream<boost::asio::ip::tcp::socket>& stream,
                        const std::string& host, std::shared_ptr<tls_verify_result> result);

/// A fresh client socket on its own strand of `io`; with `tls` (wss://, tls://) wrapped in the
/// endpoint's client context. The TCP and WebSocket connections dial with it.
net_stream client_stream(io_runtime& io, const std::optional<tls_client>& tls);

/// Makes a server context from PEM files: the certificate chain (leaf first) and its private
/// key. Fails with io_error naming the file and OpenSSL's reason (missing, not PEM, the key
/// does not match the certificate).
expected<std::shared_ptr<boost::asio::ssl::context>> make_tls_server(const std::string& cert_file,
                                                                     const std::string& key_file);

/// A key pair and self-signed certificate as PEM files.
struct self_signed_identity {
  std::string cert_file, key_file;
  std::string sha256;  ///< the certificate's fingerprint, "AB:CD:..." (what clients pin)
  bool created = false;  ///< made now (false: the files already existed and were reused)
};

/// How long a self-signed certificate made by `serve --self-signed` is valid: a year, as
/// Couchbase Lite's listener makes its anonymous identity; a hub restarted after that makes a
/// new one (clients pinning the old one must re-pin).
constexpr std::chrono::hours kSelfSignedValidity{24 * 365};

/// Loads cert_file/key_file when both exist and the certificate is still valid, else makes a
/// fresh ECDSA P-256 key (written owner-only) and a certificate for `hosts` (subject alt
/// names: IP addresses and DNS names) valid from now + not_before to now + not_after.
/// Tests pass a not_after in the past to get an expired certificate.
expected<self_signed_identity> load_or_make_self_signed(
    const std::string& cert_file, const std::string& key_file,
    const std::vector<std::string>& hosts,
    std::chrono::seconds not_before = std::chrono::seconds(-60),
    std::chrono::seconds not_after = kSelfSignedValidity);

/// SHA-256 fingerprint of the first certificate in a PEM file, "AB:CD:...".
expected<std::string> certificate_sha256(const std::string& cert_file);

/// `text` as 64 lower-case hex digits without separators, or an error naming what is wrong.
expected<std::string> normalize_sha256(const std::string& text);

/// A readable account of an error from a TLS handshake or record ("TLS handshake failed:
/// wrong version number (is the server speaking TLS?)").
std::string describe_tls_error(const boost::system::error_code& ec);

}  // namespace peerlite::net
