#include "webhook/server/tls.h"

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <ctime>
#include <fstream>
#include <sstream>

#include "webhook/server/metrics.h"

namespace scangate::webhook {

namespace ssl = boost::asio::ssl;

namespace {

Result<std::string> read_whole(const std::string& path, const char* what) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Error(ErrorKind::kIo, std::string("cannot read TLS ") + what + " file " + path);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::array<unsigned char, 32> sha256(const std::string& a, const std::string& b) {
  std::array<unsigned char, 32> out{};
  EVP_MD_CTX* md = EVP_MD_CTX_new();
  unsigned int len = 0;
  const unsigned char sep = 0;
  EVP_DigestInit_ex(md, EVP_sha256(), nullptr);
  EVP_DigestUpdate(md, a.data(), a.size());
  EVP_DigestUpdate(md, &sep, 1);
  EVP_DigestUpdate(md, b.data(), b.size());
  EVP_DigestFinal_ex(md, out.data(), &len);
  EVP_MD_CTX_free(md);
  return out;
}

}  // namespace

Result<std::shared_ptr<ssl::context>> make_server_tls_context(const std::string& cert_pem, const std::string& key_pem) {
  auto ctx = std::make_shared<ssl::context>(ssl::context::tls_server);
  boost::system::error_code ec;
  ctx->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 | ssl::context::no_sslv3 |
                       ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1 | ssl::context::single_dh_use,
                   ec);
  if (ec) return Error(ErrorKind::kInternal, "setting TLS options: " + ec.message());
  SSL_CTX_set_min_proto_version(ctx->native_handle(), TLS1_2_VERSION);
  ctx->use_certificate_chain(boost::asio::buffer(cert_pem), ec);
  if (ec) {
    ERR_clear_error();
    return Error(ErrorKind::kFormat, "TLS certificate is not a PEM certificate chain: " + ec.message());
  }
  BIO* bio = BIO_new_mem_buf(key_pem.data(), static_cast<int>(key_pem.size()));
  EVP_PKEY* key = bio != nullptr ? PEM_read_bio_PrivateKey(bio, nullptr, nullptr, nullptr) : nullptr;
  BIO_free(bio);
  if (key == nullptr) {
    ERR_clear_error();
    return Error(ErrorKind::kFormat, "TLS private key is not a PEM private key (an encrypted key is not supported)");
  }
  const bool matches =
      SSL_CTX_use_PrivateKey(ctx->native_handle(), key) == 1 && SSL_CTX_check_private_key(ctx->native_handle()) == 1;
  EVP_PKEY_free(key);
  if (!matches) {
    ERR_clear_error();
    return Error(ErrorKind::kFormat, "TLS private key does not match the certificate");
  }
  return ctx;
}

std::optional<std::int64_t> certificate_not_after(ssl::context& ctx) {
  X509* cert = SSL_CTX_get0_certificate(ctx.native_handle());
  if (cert == nullptr) return std::nullopt;
  const ASN1_TIME* t = X509_get0_notAfter(cert);
  std::tm tm{};
  if (t == nullptr || ASN1_TIME_to_tm(t, &tm) != 1) return std::nullopt;
  return static_cast<std::int64_t>(timegm(&tm));
}

CertReloader::CertReloader(std::string cert_file, std::string key_file, WebhookMetrics* metrics, log::Logger logger)
    : cert_file_(std::move(cert_file)), key_file_(std::move(key_file)), metrics_(metrics), log_(std::move(logger)) {}

Result<std::unique_ptr<CertReloader>> CertReloader::create(std::string cert_file, std::string key_file,
                                                           WebhookMetrics* metrics, log::Logger logger) {
  std::unique_ptr<CertReloader> r(
      new CertReloader(std::move(cert_file), std::move(key_file), metrics, std::move(logger)));
  auto first = r->try_reload(true);
  if (!first) return first.error();
  return r;
}

std::shared_ptr<ssl::context> CertReloader::current() const {
  std::lock_guard lock(mu_);
  return ctx_;
}

Result<bool> CertReloader::try_reload(bool force) {
  std::lock_guard check_lock(check_mu_);
  auto cert = read_whole(cert_file_, "certificate");
  if (!cert) return cert.error();
  auto key = read_whole(key_file_, "private key");
  if (!key) return key.error();
  auto digest = sha256(*cert, *key);
  if (!force && digest == last_digest_) return false;
  last_digest_ = digest;
  auto ctx = make_server_tls_context(*cert, *key);
  if (!ctx) return ctx.error().wrap("loading " + cert_file_ + " and " + key_file_);
  auto not_after = certificate_not_after(**ctx);
  {
    std::lock_guard lock(mu_);
    ctx_ = std::move(*ctx);
  }
  if (metrics_ != nullptr && not_after) metrics_->tls_certificate_expiry.Set(static_cast<double>(*not_after));
  return true;
}

bool CertReloader::check(bool force) {
  auto r = try_reload(force);
  if (!r) {
    if (metrics_ != nullptr) metrics_->tls_reloads.Add({{"result", "error"}}).Increment();
    log_.error("TLS reload failed; keeping the current certificate", {{"error", r.error().message}});
    return false;
  }
  if (*r) {
    if (metrics_ != nullptr) metrics_->tls_reloads.Add({{"result", "ok"}}).Increment();
    log_.info("TLS certificate reloaded", {{"cert", cert_file_}});
  }
  return *r;
}

}  // namespace scangate::webhook
