// The webhook's HTTPS server (Boost.Beast over Asio + OpenSSL) and its plain-HTTP metrics
// listener. HTTPS only on the main port (TLS 1.2+), HTTP/1.1 keep-alive, a fixed pool of
// worker threads on one io_context, per-message limits and timeouts, certificate reload
// without dropping connections, and a graceful stop. Asio stays out of this header.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "scanner/core/log.h"
#include "scanner/core/result.h"
#include "webhook/server/http_types.h"

namespace scangate::webhook {

struct WebhookMetrics;

struct ServerOptions {
  std::string address = "0.0.0.0";  // HTTPS listener ("::" for IPv6)
  std::uint16_t port = 8443;        // 0 picks a free port (tests)
  std::string metrics_address = "0.0.0.0";
  std::optional<std::uint16_t> metrics_port = 9090;  // plain HTTP /metrics; nullopt: none
  std::string cert_file;                             // PEM certificate chain
  std::string key_file;                              // PEM private key

  std::size_t body_limit = 4u << 20;       // larger request bodies get 413
  std::uint32_t header_limit = 16u << 10;  // larger request headers (start line + fields) get 431
  unsigned max_header_fields = 100;        // more header fields get 431
  // Request-body bytes buffered at once by all connections together (a body counts from its
  // header, by its Content-Length, or as it grows when chunked, until its response is written or
  // the connection ends). A request that would pass it gets 503 with Retry-After.
  std::size_t body_budget = 64u << 20;
  std::chrono::seconds busy_retry_after{1};           // the Retry-After of that 503
  std::chrono::milliseconds header_timeout{10'000};   // TLS handshake, or first byte -> full header
  std::chrono::milliseconds idle_timeout{60'000};     // keep-alive wait for the next request
  std::chrono::milliseconds body_timeout{30'000};     // header -> full body
  std::chrono::milliseconds write_timeout{30'000};    // one response
  std::chrono::milliseconds handler_timeout{35'000};  // the handler's answer (then 500)
  std::chrono::milliseconds reload_interval{10'000};  // certificate file check; 0: never
  std::chrono::milliseconds shutdown_grace{25'000};   // in-flight requests' bound on stop
  // On SIGTERM/SIGINT: keep listening and answering this long before the graceful stop, while
  // on_draining has told /readyz to fail, so that endpoints stop routing to the pod first (a
  // second signal stops at once). 0: stop at once.
  std::chrono::milliseconds shutdown_delay{0};
  std::function<void()> on_draining;
  unsigned threads = 2;         // worker threads running the io_context
  bool handle_signals = false;  // SIGTERM/SIGINT: graceful stop; SIGHUP: reload the certificate

  log::Logger log{"webhook"};  // server events; the certificate reloader logs as component "tls"
};

class Server {
 public:
  // Loads the certificate and binds both listeners; nothing runs until start().
  static Result<std::unique_ptr<Server>> create(ServerOptions options, Handler handler, WebhookMetrics& metrics);
  ~Server();  // stops (gracefully, bounded by shutdown_grace) and joins
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  std::uint16_t port() const;          // the bound HTTPS port
  std::uint16_t metrics_port() const;  // the bound metrics port, 0 when disabled

  void start();  // spawns the worker threads
  // Graceful stop, from any thread: stop accepting, close idle keep-alive connections, let
  // in-flight requests finish (their responses carry Connection: close), then stop the
  // workers once none are left or shutdown_grace has passed. Returns at once; see wait().
  void stop();
  void wait();                 // joins the workers
  void reload_certificates();  // as on SIGHUP

 private:
  struct Impl;
  explicit Server(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace scangate::webhook
