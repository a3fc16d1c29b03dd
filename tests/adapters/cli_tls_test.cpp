// TLS end to end with the real binaries: `peerlite serve` on wss:// and tls:// with a
// self-signed certificate, `peerlite sync` pinning it, trusting it as a CA, or refusing it; an
// expired certificate; a plain-text client on the TLS port. Every refusal is fast and says
// why, and the hub keeps serving the next peer.
#define BOOST_TEST_MODULE adapters_cli_tls
#include <boost/test/unit_test.hpp>
#include <regex>

#include "adapters/tcp/tls.hpp"
#include "peerlite/database.hpp"
#include "tests/adapters/fill.hpp"
#include "tests/adapters/process.hpp"

using namespace peerlite;
using namespace peerlite::test;
using namespace std::chrono_literals;

/// Longest a one-shot sync of a few hundred documents may take on a loaded 2-core machine.
constexpr auto kSyncTimeout = 60s;
/// Longest a hub may take to print its "serving" line, or to exit after SIGTERM.
constexpr auto kHubTimeout = 15s;
/// A refused certificate or protocol must fail this fast: no retries, no timeouts.
constexpr auto kFailFast = 5s;
constexpr int kDocs = 300;

namespace {

const std::string kCli = PEERLITE_CLI;

size_t count_docs(const std::string& path) {
  auto db = database::open(path);
  if (!db) BOOST_FAIL(db.err().message);
  auto n = db->document_count();
  if (!n) BOOST_FAIL(n.err().message);
  return *n;
}

std::string served(const std::string& log, const std::string& scheme) {
  std::smatch m;
  if (!std::regex_search(log, m, std::regex("(" + scheme + "://127.0.0.1:[0-9]+/hub)"))) return {};
  return m[1];
}

std::string fingerprint_in(const std::string& log) {
  std::smatch m;
  if (!std::regex_search(log, m, std::regex("SHA-256 ([0-9A-F:]{95})"))) return {};
  return m[1];
}

/// A hub serving hub.sqlite on wss:// and tls:// with `tls_args`.
struct tls_hub {
  scratch& s;
  child proc;
  std::string wss, tls;
  tls_hub(scratch& sc, std::vector<std::string> tls_args, const std::string& log = "hub.log")
      : s(sc), proc(args(sc, std::move(tls_args)), sc.path(log)) {
    BOOST_REQUIRE_MESSAGE(proc.wait_for_log("serving ", kHubTimeout), proc.log());
    wss = served(proc.log(), "wss");
    tls = served(proc.log(), "tls");
    BOOST_REQUIRE(!wss.empty());
    BOOST_REQUIRE(!tls.empty());
  }
  static std::vector<std::string> args(scratch& sc, std::vector<std::string> extra) {
    std::vector<std::string> a{kCli,     "serve",   "--db", sc.path("hub.sqlite"), "--listen",
                               "wss://127.0.0.1:0", "--listen", "tls://127.0.0.1:0"};
    a.insert(a.end(), extra.begin(), extra.end());
    return a;
  }
  ~tls_hub() {
    proc.signal(SIGTERM);
    proc.wait_exit(kHubTimeout);
  }
};

/// Runs `peerlite sync` with `extra`; returns {exit status, output, seconds taken}.
struct outcome {
  int code;
  std::string out;
  double seconds;
};
outcome sync(scratch& s, const std::string& db, const std::string& url,
             std::vector<std::string> extra, std::chrono::seconds timeout = kSyncTimeout) {
  std::vector<std::string> a{kCli, "sync", "--db", s.path(db), "--remote", url};
  a.insert(a.end(), extra.begin(), extra.end());
  auto t0 = std::chrono::steady_clock::now();
  auto [code, out] = run(a, s.path(db + ".log"), timeout);
  return {code, out, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count()};
}

}  // namespace

/// The self-signed identity is made once, kept beside the database, reused on restart, and its
/// fingerprint is the one OpenSSL's own command prints. Peers pinning it sync both ways over
/// wss:// and tls://; trusting the certificate as a CA works too (it names 127.0.0.1).
BOOST_AUTO_TEST_CASE(self_signed_round_trip_over_wss_and_tls) {
  scratch s("tls");
  fill(s.path("a.sqlite"), kDocs, "a");
  std::string pin;
  {
    tls_hub hub(s, {"--self-signed"});
    auto log = hub.proc.log();
    BOOST_TEST(log.find("made self-signed TLS certificate") != std::string::npos, log);
    pin = fingerprint_in(log);
    BOOST_REQUIRE(!pin.empty());
    auto fp = run({"/bin/sh", "-c",
                   "openssl x509 -noout -fingerprint -sha256 -in '" +
                       s.path("hub.sqlite.cert.pem") + "'"},
                  s.path("openssl.log"), 10s);
    BOOST_TEST(fp.first == 0, fp.second);
    BOOST_TEST(fp.second.find(pin) != std::string::npos, fp.second << " vs " << pin);

    auto push = sync(s, "a.sqlite", hub.wss, {"--push", "--pinned-cert", pin});
    BOOST_TEST_REQUIRE(push.code == 0, push.out);
    BOOST_TEST(count_docs(s.path("hub.sqlite")) == size_t(kDocs));
    auto pull = sync(s, "b.sqlite", hub.tls, {"--pull", "--pinned-cert", pin});
    BOOST_TEST_REQUIRE(pull.code == 0, pull.out);
    BOOST_TEST(count_docs(s.path("b.sqlite")) == size_t(kDocs));
    /// Pins are compared without colons and case.
    std::string bare;
    for (char c : pin)
      if (c != ':') bare += static_cast<char>(std::tolower(c));
    auto pull2 = sync(s, "c.sqlite", hub.wss, {"--pull", "--pinned-cert", bare});
    BOOST_TEST(pull2.code == 0, pull2.out);
    auto ca = sync(s, "d.sqlite", hub.wss, {"--pull", "--ca", s.path("hub.sqlite.cert.pem")});
    BOOST_TEST(ca.code == 0, ca.out);
    BOOST_TEST(count_docs(s.path("d.sqlite")) == size_t(kDocs));
  }
  tls_hub again(s, {"--self-signed"}, "hub2.log");
  auto log = again.proc.log();
  BOOST_TEST(log.find("using self-signed TLS certificate") != std::string::npos, log);
  BOOST_TEST(fingerprint_in(log) == pin);
}

/// Wrong pin, an unpinned self-signed certificate, an expired one and a plain-text client on
/// the TLS port: each fails within kFailFast with a reason, and the hub still serves a good
/// peer afterwards.
BOOST_AUTO_TEST_CASE(bad_certificates_and_plain_text_fail_fast_and_clearly) {
  scratch s("tls");
  fill(s.path("a.sqlite"), kDocs, "a");
  tls_hub hub(s, {"--self-signed"});
  auto pin = fingerprint_in(hub.proc.log());
  BOOST_REQUIRE(!pin.empty());
  std::string wrong = pin;
  wrong[0] = wrong[0] == 'A' ? 'B' : 'A';

  for (auto* url : {&hub.wss, &hub.tls}) {
    auto r = sync(s, "a.sqlite", *url, {"--push", "--pinned-cert", wrong});
    BOOST_TEST(r.code != 0, r.out);
    BOOST_TEST(r.out.find("is not the pinned one") != std::string::npos, r.out);
    BOOST_TEST(r.seconds < double(kFailFast.count()), r.seconds << " s: " << r.out);

    auto unpinned = sync(s, "a.sqlite", *url, {"--push"});
    BOOST_TEST(unpinned.code != 0, unpinned.out);
    BOOST_TEST(unpinned.out.find("not trusted: self-signed certificate") != std::string::npos,
               unpinned.out);
    BOOST_TEST(unpinned.seconds < double(kFailFast.count()), unpinned.seconds << " s");
  }

  auto plain = hub.wss;
  plain.replace(0, 3, "ws");
  auto p = sync(s, "a.sqlite", plain, {"--push"});
  BOOST_TEST(p.code != 0, p.out);
  BOOST_TEST(p.out.find("HTTP 400") != std::string::npos, p.out);
  BOOST_TEST(p.out.find("this port speaks TLS: use wss://") != std::string::npos, p.out);
  BOOST_TEST(p.seconds < double(kFailFast.count()), p.seconds << " s");
  BOOST_TEST(hub.proc.wait_for_log("a plain-text client on a TLS port", kHubTimeout));

  /// A TLS client at a plain port: the client is told the peer does not speak TLS.
  child plain_hub({kCli, "serve", "--db", s.path("plain.sqlite"), "--listen", "ws://127.0.0.1:0"},
                  s.path("plain.log"));
  BOOST_REQUIRE(plain_hub.wait_for_log("serving ", kHubTimeout));
  std::smatch m;
  auto plain_log = plain_hub.log();
  BOOST_REQUIRE(std::regex_search(plain_log, m, std::regex("ws://(127.0.0.1:[0-9]+)/plain")));
  auto t = sync(s, "a.sqlite", "wss://" + m[1].str() + "/plain", {"--push", "--insecure"});
  BOOST_TEST(t.code != 0, t.out);
  BOOST_TEST(t.out.find("TLS") != std::string::npos, t.out);
  BOOST_TEST(t.seconds < double(kFailFast.count()), t.seconds << " s: " << t.out);
  BOOST_TEST(t.out.find("WARNING: --insecure") != std::string::npos, t.out);

  auto good = sync(s, "a.sqlite", hub.wss, {"--push", "--pinned-cert", pin});
  BOOST_TEST(good.code == 0, good.out);
  BOOST_TEST(count_docs(s.path("hub.sqlite")) == size_t(kDocs));
  BOOST_TEST(hub.proc.running());
}

BOOST_AUTO_TEST_CASE(expired_certificate_is_refused) {
  scratch s("tls");
  fill(s.path("a.sqlite"), 10, "a");
  auto made = net::load_or_make_self_signed(s.path("old.pem"), s.path("old.key"), {"127.0.0.1"},
                                            -std::chrono::hours(48), -std::chrono::hours(24));
  if (!made) BOOST_FAIL(made.err().message);
  tls_hub hub(s, {"--cert", s.path("old.pem"), "--key", s.path("old.key")});
  auto r = sync(s, "a.sqlite", hub.wss, {"--push", "--ca", s.path("old.pem")});
  BOOST_TEST(r.code != 0, r.out);
  BOOST_TEST(r.out.find("certificate has expired") != std::string::npos, r.out);
  BOOST_TEST(r.seconds < double(kFailFast.count()), r.seconds << " s");
  /// Pinned mode checks the digest only (as Couchbase Lite's pinned certificate does).
  auto pinned = sync(s, "a.sqlite", hub.wss, {"--push", "--pinned-cert", made->sha256});
  BOOST_TEST(pinned.code == 0, pinned.out);
}

BOOST_AUTO_TEST_CASE(tls_options_are_checked_before_anything_runs) {
  scratch s("tls");
  auto bad_pin = sync(s, "a.sqlite", "wss://127.0.0.1:1/x", {"--pinned-cert", "12:34"}, 10s);
  BOOST_TEST(bad_pin.code != 0);
  BOOST_TEST(bad_pin.out.find("a SHA-256 has 64 hex digits") != std::string::npos, bad_pin.out);
  auto plain = sync(s, "a.sqlite", "ws://127.0.0.1:1/x", {"--insecure"}, 10s);
  BOOST_TEST(plain.code != 0);
  BOOST_TEST(plain.out.find("are for wss:// and tls:// URLs") != std::string::npos, plain.out);
  auto no_cert = run({kCli, "serve", "--db", s.path("h.sqlite"), "--listen", "wss://127.0.0.1:0"},
                     s.path("serve.log"), 10s);
  BOOST_TEST(no_cert.first != 0);
  BOOST_TEST(no_cert.second.find("need --cert FILE and --key FILE, or --self-signed") !=
                 std::string::npos,
             no_cert.second);
  auto missing = run({kCli, "serve", "--db", s.path("h.sqlite"), "--listen", "wss://127.0.0.1:0",
                      "--cert", s.path("none.pem"), "--key", s.path("none.key")},
                     s.path("serve2.log"), 10s);
  BOOST_TEST(missing.first != 0);
  BOOST_TEST(missing.second.find("none.pem: no such file") != std::string::npos, missing.second);
}
