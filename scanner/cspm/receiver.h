// A local implementation of the AccuKnox artifact endpoint, for an embedded default and for tests:
//
//   POST /api/v1/artifact/?tenant_id=T&data_type=TR&label_id=L&save_to_s3=false
//     Authorization: Bearer TOKEN        401 {"detail": ...} when missing or wrong (constant-time check)
//     Tenant-Id: T                       400 when it differs from tenant_id; 403 when a tenant is
//                                        configured and the request names another
//     multipart field "file" (JSON)      400 when missing or not JSON; 413 over the body limit
//   -> 200 {"detail":"File received successfully"}
//   GET /healthz -> 200 ok
//
// Each file is stored as <dir>/<seq>-<report-id>.json with <seq>-<report-id>.meta.json beside it
// (query parameters, headers without Authorization, size, sha256, received_at), each written to a
// temporary file, fsynced and renamed. The report id comes from X-Scangate-Report-Id (or
// Idempotency-Key); a request whose id was stored before is answered 200 again without storing a
// second copy, so an uploader that crashed before recording its success can safely resend.
// Reports without an id get a fresh one and are never deduplicated.
//
// Slow and idle clients (issue 12: eight slowloris connections froze the receiver) cannot hold
// the server: every connection gets its own worker, up to max_connections; past that a new
// connection is answered 503 (Retry-After: 1) and closed at once, without being read. Each
// connection must deliver its request headers (and, with HTTPS, finish the TLS handshake) within
// header_timeout of being accepted, and then its body within body_timeout; no single read or
// write may wait longer than io_timeout. A connection that misses a deadline is closed. One
// request per connection (responses say Connection: close).
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "scanner/core/result.h"
#include "scanner/cspm/log.h"

namespace scangate::cspm {

struct ReceiverOptions {
  std::string dir;        // where files are stored (created when missing)
  std::string token;      // the bearer token accepted; required
  std::string tenant_id;  // optional: accept only this tenant
  size_t max_body_bytes = 64u << 20;
  std::chrono::milliseconds header_timeout{10000};  // accept -> end of the request headers
  std::chrono::milliseconds body_timeout{120000};   // end of headers -> end of the body
  std::chrono::milliseconds io_timeout{30000};      // longest wait for any one read or write
  size_t max_connections = 64;                      // served at once; more are refused with 503
  std::string tls_cert_file, tls_key_file;          // both for HTTPS, neither for HTTP
  Logger log{"receiver"};                           // the token is registered as a secret with the logger
};

class Receiver {
 public:
  // Validates the options, loads the TLS key pair, creates `dir` and indexes what it holds
  // (sequence numbers and report ids survive restarts).
  static Result<std::unique_ptr<Receiver>> create(ReceiverOptions options);
  ~Receiver();
  Receiver(const Receiver&) = delete;
  Receiver& operator=(const Receiver&) = delete;

  // Binds host:port (port 0: the kernel picks one); returns the bound port.
  Result<int> bind(const std::string& host, int port);
  // Serves on the calling thread until stop().
  Result<void> serve();
  // Serves on a background thread; returns once the server accepts connections.
  Result<void> start();
  // Graceful stop: no new connections; requests in flight finish. Safe from any thread, and
  // more than once.
  void stop();

  // True from start()/serve() until the server stopped accepting (stop() or a failure).
  bool running() const;
  int port() const;
  std::string url() const;  // "http://127.0.0.1:PORT" (https:// with TLS)
  size_t stored_count() const;

  struct Impl;

 private:
  explicit Receiver(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace scangate::cspm
