// The scanner's one HTTP client (cpp-httplib underneath, which stays inside http_client.cpp).
//
// - Keep-alive connections pooled per origin (scheme+host+port): a connection serves one request at
//   a time; idle ones are reused; at most max_idle_per_origin / max_idle_total are kept. Safe to
//   share between threads.
// - HTTPS verified against the system CAs plus an optional extra CA file and/or in-memory PEM;
//   verification can be skipped only for origins the `insecure` predicate names.
// - Every request takes a Deadline: each connect/read/write wait is bounded by the smaller of the
//   time left and the configured timeout, and a watchdog (one timer thread per client) interrupts
//   any exchange still running when its deadline passes, whatever the server sends meanwhile (a
//   head or body trickling in byte by byte cannot hold the call past its deadline). An
//   interrupted connection is never reused.
// - A response to HEAD, or a 204/304, that declares a body (non-zero Content-Length, or chunked)
//   closes its connection: the body httplib does not read would be taken for the next answer.
// - One redirect policy: up to max_redirects hops; Authorization, Proxy-Authorization, Cookie and
//   the headers a request marks sensitive are sent only to the request's own origin (a registry's
//   blob redirect to a storage host works, without the credentials); HTTPS -> HTTP is refused
//   unless the target is loopback; 303 becomes a GET; a 301/302 answer to a request with a body
//   is returned, not followed (it would turn the POST into a GET).
// - Retries with exponential backoff, jitter and Retry-After, on connection failures and on 408,
//   429, 500, 502, 503, 504; never sleeping past the deadline. The sleeper and the random source
//   are injectable.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "scanner/core/deadline.h"
#include "scanner/core/result.h"
#include "scanner/net/retry.h"
#include "scanner/net/url.h"

namespace scangate::net {

using Headers = std::vector<std::pair<std::string, std::string>>;

// The first value of header `name` (case-insensitive), or "".
std::string find_header(const Headers& headers, std::string_view name);

// Lets another thread abort a request in flight (the blocked read or write is interrupted).
class Cancellation {
 public:
  void cancel();
  bool cancelled() const { return cancelled_.load(); }

 private:
  friend class HttpClient;
  void set_interrupt(std::function<void()> interrupt);  // run by cancel(); nullptr clears
  std::atomic<bool> cancelled_{false};
  std::mutex mu_;
  std::function<void()> interrupt_;
};

struct Response;

struct Request {
  std::string method = "GET";
  Url url;
  Headers headers;  // User-Agent and Accept-Encoding: identity are added unless given
  // Further headers (case-insensitive names) that carry secrets, like NVD's apiKey or a CSPM token:
  // like Authorization, Proxy-Authorization and Cookie they go only to url's own origin.
  std::vector<std::string> sensitive_headers;
  std::string body;          // sent when not empty (or when the method is POST/PUT/PATCH)
  std::string content_type;  // of `body`
  // Responses read into memory (all of them without a sink; the non-2xx ones with a sink) stop at
  // this many bytes: Response::truncated is set and the body holds the first max_body bytes.
  size_t max_body = 1u << 20;
  // Streaming: the body of a 2xx final response goes here, in chunks, instead of into
  // Response::body. Returning false stops the transfer (Failure::kSink, or kCancelled).
  std::function<bool(const char*, size_t)> sink;
  // Called when a 2xx final response's head has arrived, before its body reaches `sink`. Called
  // again by each retry: the body then starts over from its first byte.
  std::function<void(int status)> on_success;
  bool follow_redirects = true;
  // false: "Connection: close", and the connection is not kept for reuse (for rare requests to
  // servers that hold a worker per idle connection).
  bool keep_alive = true;
  std::optional<RetryPolicy> retry;  // overrides HttpClientOptions::retry (max_attempts 1: no retry)
  Cancellation* cancel = nullptr;
};

struct Response {
  int status = 0;
  Headers headers;
  std::string body;        // empty when streamed to the sink
  bool truncated = false;  // the in-memory body reached max_body
  Url url;                 // the URL that answered (the last hop of the redirects)
  int redirects = 0;       // hops followed
  int attempts = 1;        // tries of the last hop (more than 1 when it was retried)

  std::string header(std::string_view name) const { return find_header(headers, name); }
  bool ok() const { return status >= 200 && status < 300; }
};

// Why send() failed, for callers that react differently (all are ErrorKind::kNetwork unless noted).
enum class Failure {
  kNone,
  kInvalid,       // the request cannot be made (kInvalidArgument)
  kCaFile,        // the extra CA file cannot be loaded (kInvalidArgument)
  kTlsUntrusted,  // the server certificate is not trusted
  kTls,           // the TLS handshake failed otherwise
  kConnect,       // nothing listening, unreachable, or the connection attempt timed out
  kTimeout,       // a read or write waited longer than the configured timeout
  kIo,            // the connection broke or the answer was incomplete
  kDeadline,      // the request's deadline passed
  kCancelled,     // Cancellation::cancel() (kInternal)
  kSink,          // the sink returned false without a cancellation (kIo)
  kRedirect,      // a redirect without Location, too many, a refused downgrade, a bad Location
};

struct HttpClientOptions {
  std::string ca_file;  // PEM, trusted in addition to the system CAs
  // PEM certificates held in memory, trusted like ca_file (with it, when both are given): a CA
  // that came inline (a kubeconfig's certificate-authority-data) is never written to disk.
  std::string ca_pem;
  std::function<bool(const Url&)> insecure;  // origins whose certificates are not verified
  std::chrono::milliseconds connect_timeout{15000};
  std::chrono::milliseconds io_timeout{60000};  // each read and each write
  int max_redirects = 5;
  size_t max_idle_per_origin = 4;
  size_t max_idle_total = 32;
  RetryPolicy retry;
  Sleeper sleeper;      // default: really sleeps
  RandomSource random;  // default: a private PRNG
  std::string user_agent = "scangate/0.1";
};

struct HttpStats {
  uint64_t requests = 0;         // exchanges on the wire (each retry and redirect hop counts)
  uint64_t connections = 0;      // TCP connections opened
  uint64_t tls_connections = 0;  // of which TLS (one full handshake each)
  uint64_t reused = 0;           // exchanges on a kept-alive connection
};

class HttpClient {
 public:
  explicit HttpClient(HttpClientOptions options = {});
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  // One request with redirects and retries. Any HTTP status is a Response (a retryable one after
  // the retries ran out); Errors are for answers that never came. `failure`, when given, says why.
  Result<Response> send(const Request& request, const Deadline& deadline = Deadline::never(),
                        Failure* failure = nullptr);

  HttpStats stats() const;
  // Closes the idle connections.
  void close_idle();
  const HttpClientOptions& options() const { return opts_; }

 private:
  struct Conn;
  struct Pool;
  struct Watchdog;
  Result<Response> exchange(const Request& req, const Url& url, const std::string& method, const Headers& headers,
                            const std::string& body, const Deadline& deadline, Failure* failure);
  Result<Response> exchange_once(const Request& req, const Url& url, const std::string& method, const Headers& headers,
                                 const std::string& body, const Deadline& deadline, Failure* failure);
  std::unique_ptr<Conn> acquire(const Url& url, Failure* failure, std::string* error);
  void release(std::unique_ptr<Conn> conn);

  HttpClientOptions opts_;
  std::unique_ptr<Pool> pool_;
  std::unique_ptr<Watchdog> watchdog_;
  struct Counters {
    std::atomic<uint64_t> requests{0}, connections{0}, tls_connections{0}, reused{0};
  };
  std::shared_ptr<Counters> counters_;
};

// A process-wide client for callers that keep none of their own (the feed downloads, the CSPM
// sinks): one per CA file, timeouts and User-Agent, so that their connections are reused from one
// call to the next. No insecure origins; retries are set per request.
std::shared_ptr<HttpClient> shared_client(const std::string& ca_file, std::chrono::milliseconds connect_timeout,
                                          std::chrono::milliseconds io_timeout,
                                          const std::string& user_agent = "scangate/0.1");

}  // namespace scangate::net
