// Server TLS contexts and the certificate reloader, without sockets.
#include <catch2/catch.hpp>
#include <openssl/ssl.h>

#include <ctime>
#include <filesystem>

#include "support/test_support.h"
#include "test_pki.h"
#include "webhook/server/metrics.h"
#include "webhook/server/tls.h"

using namespace scangate;
using namespace scangate::webhook;

namespace {
long served_serial(CertReloader& r) {
  X509* x = SSL_CTX_get0_certificate(r.current()->native_handle());
  return ASN1_INTEGER_get(X509_get_serialNumber(x));
}
}  // namespace

TEST_CASE("server contexts speak TLS 1.2 and up only", "[tls]") {
  test::TestCa ca;
  auto [cert, key] = ca.issue(7, 10);
  auto ctx = make_server_tls_context(cert, key);
  REQUIRE(ctx.ok());
  CHECK(SSL_CTX_get_min_proto_version((*ctx)->native_handle()) == TLS1_2_VERSION);
  auto not_after = certificate_not_after(**ctx);
  REQUIRE(not_after.has_value());
  CHECK(std::abs(static_cast<double>(*not_after - (std::time(nullptr) + 10 * 86400))) < 120);
}

TEST_CASE("bad pairs are rejected with a reason", "[tls]") {
  test::TestCa ca;
  auto [cert, key] = ca.issue(7);
  auto [cert2, key2] = ca.issue(8);
  CHECK_THAT(make_server_tls_context("garbage", key).error().message,
             Catch::StartsWith("TLS certificate is not a PEM"));
  CHECK_THAT(make_server_tls_context(cert, "garbage").error().message,
             Catch::StartsWith("TLS private key is not a PEM"));
  CHECK(make_server_tls_context(cert, key2).error().message == "TLS private key does not match the certificate");
}

TEST_CASE("CertReloader swaps on change, keeps the old pair on a bad one", "[tls]") {
  test::TestCa ca;
  auto dir = test::make_temp_dir("sg-reloader");
  const std::string crt = dir + "/tls.crt", k = dir + "/tls.key";
  auto [c1, k1] = ca.issue(11);
  test::write_file_atomic(crt, c1);
  test::write_file_atomic(k, k1);
  WebhookMetrics metrics("t");
  log::Capture capture;
  auto r = CertReloader::create(crt, k, &metrics, log::Logger("tls"));
  REQUIRE(r.ok());
  CertReloader& rel = **r;
  CHECK(served_serial(rel) == 11);
  CHECK_FALSE(rel.check());  // unchanged
  auto old_ctx = rel.current();

  auto [c2, k2] = ca.issue(12);
  test::write_file_atomic(crt, c2);  // cert first: the pair does not match yet
  CHECK_FALSE(rel.check());
  CHECK(served_serial(rel) == 11);
  CHECK_FALSE(rel.check());  // the same broken pair is not retried
  test::write_file_atomic(k, k2);
  CHECK(rel.check());
  CHECK(served_serial(rel) == 12);
  CHECK(SSL_CTX_get0_certificate(old_ctx->native_handle()) != nullptr);  // still usable by old connections
  auto log = capture.lines();
  REQUIRE(log.size() == 2);
  CHECK_THAT(log[0], Catch::Contains("TLS reload failed"));
  CHECK_THAT(log[1], Catch::Contains("TLS certificate reloaded"));
  auto text = metrics.render();
  CHECK_THAT(text, Catch::Contains("scangate_tls_reloads_total{result=\"error\"} 1"));
  CHECK_THAT(text, Catch::Contains("scangate_tls_reloads_total{result=\"ok\"} 1"));

  std::filesystem::remove(crt);
  CHECK_FALSE(rel.check());
  CHECK(served_serial(rel) == 12);
  std::filesystem::remove_all(dir);
}
