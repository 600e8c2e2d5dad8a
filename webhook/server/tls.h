// Server TLS: contexts that speak TLS 1.2 and up only, and a reloader that swaps in a new
// certificate/key pair when their files change (cert-manager rotation) without touching
// established connections, which keep the context they were accepted with.
#pragma once

#include <boost/asio/ssl/context.hpp>

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "scanner/core/log.h"
#include "scanner/core/result.h"

namespace scangate::webhook {

struct WebhookMetrics;

// Builds a server context from PEM text: certificate chain + private key, checked to match.
Result<std::shared_ptr<boost::asio::ssl::context>> make_server_tls_context(const std::string& cert_pem,
                                                                           const std::string& key_pem);

// notAfter of the context's certificate as Unix seconds; nullopt when it has none.
std::optional<std::int64_t> certificate_not_after(boost::asio::ssl::context& ctx);

class CertReloader {
 public:
  // Loads the pair once; an unreadable or bad pair at start-up is an error.
  static Result<std::unique_ptr<CertReloader>> create(std::string cert_file, std::string key_file,
                                                      WebhookMetrics* metrics, log::Logger logger = log::Logger("tls"));

  // The context for the next connection.
  std::shared_ptr<boost::asio::ssl::context> current() const;

  // Re-reads both files; when their content differs from the last attempt (or `force`),
  // builds a new context and swaps it in. A bad new pair keeps the old context, is logged and
  // counted, and is not retried until the files change again. Returns whether it swapped.
  bool check(bool force = false);

 private:
  CertReloader(std::string cert_file, std::string key_file, WebhookMetrics* metrics, log::Logger logger);
  Result<bool> try_reload(bool force);

  std::string cert_file_, key_file_;
  WebhookMetrics* metrics_;
  log::Logger log_;
  std::mutex check_mu_;  // one check at a time
  std::array<unsigned char, 32> last_digest_{};
  mutable std::mutex mu_;
  std::shared_ptr<boost::asio::ssl::context> ctx_;
};

}  // namespace scangate::webhook
