#include "scanner/net/http_client.h"

#include <httplib.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <condition_variable>
#include <cstdlib>
#include <map>
#include <thread>
#include <tuple>

namespace scangate::net {
namespace {

using std::chrono::milliseconds;

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i]))) return false;
  return true;
}

bool is_redirect(int status) {
  return status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
}

bool method_has_body(const std::string& m) { return m == "POST" || m == "PUT" || m == "PATCH"; }

// Headers that never leave the request's own origin.
bool always_sensitive(std::string_view name) {
  return iequals(name, "Authorization") || iequals(name, "Proxy-Authorization") || iequals(name, "Cookie");
}

// Every certificate of `pem` added to `store`; false when it holds none or one does not parse.
bool add_pem_certificates(X509_STORE* store, const std::string& pem) {
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  if (bio == nullptr) return false;
  ERR_clear_error();
  size_t added = 0;
  bool ok = true;
  while (X509* cert = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr)) {
    // The store takes its own reference; a certificate already there (from the system CAs) is fine.
    if (X509_STORE_add_cert(store, cert) != 1 &&
        ERR_GET_REASON(ERR_peek_last_error()) != X509_R_CERT_ALREADY_IN_HASH_TABLE)
      ok = false;
    X509_free(cert);
    ++added;
  }
  // The loop ends at the end of the text (no further BEGIN line) or at a block that does not parse.
  const unsigned long err = ERR_peek_last_error();
  const bool at_end = ERR_GET_LIB(err) == ERR_LIB_PEM && ERR_GET_REASON(err) == PEM_R_NO_START_LINE;
  ERR_clear_error();
  BIO_free(bio);
  return ok && at_end && added > 0;
}

std::chrono::microseconds us(milliseconds d) { return std::chrono::duration_cast<std::chrono::microseconds>(d); }

// httplib names its errors in one word ("Connection"); say what happened.
std::string describe(httplib::Error err, Failure* f) {
  switch (err) {
    case httplib::Error::Connection:
      *f = Failure::kConnect;
      return "cannot connect (nothing listening, or the host is unreachable)";
    case httplib::Error::ConnectionTimeout: *f = Failure::kConnect; return "the connection attempt timed out";
    case httplib::Error::Read:
      *f = Failure::kIo;
      return "no complete answer (the server closed the connection or was too slow)";
    case httplib::Error::Write: *f = Failure::kIo; return "the connection broke while sending the request";
    case httplib::Error::SSLConnection: *f = Failure::kTls; return "the TLS handshake failed";
    case httplib::Error::SSLServerVerification:
      *f = Failure::kTlsUntrusted;
      return "the server certificate is not trusted";
    case httplib::Error::SSLLoadingCerts: *f = Failure::kCaFile; return "cannot load the trusted certificates";
    default: *f = Failure::kIo; return httplib::to_string(err);
  }
}

// httplib reads no body after HEAD or a 204, and none after a 304 a correct server sends: one the
// server declared anyway may still be on its way, and would be read as the next answer.
bool unread_body(const std::string& method, const httplib::Response& r) {
  if (method != "HEAD" && r.status != 204 && r.status != 304) return false;
  for (const auto& [k, v] : r.headers) {
    if (iequals(k, "Transfer-Encoding") && !v.empty()) return true;
    if (iequals(k, "Content-Length") && v.find_first_not_of("0 \t") != std::string::npos) return true;
  }
  return false;
}

bool retryable_failure(Failure f) {
  return f == Failure::kConnect || f == Failure::kTimeout || f == Failure::kIo || f == Failure::kTls;
}

}  // namespace

std::string find_header(const Headers& headers, std::string_view name) {
  for (const auto& [k, v] : headers)
    if (iequals(k, name)) return v;
  return {};
}

void Cancellation::cancel() {
  cancelled_ = true;
  std::lock_guard<std::mutex> lock(mu_);  // held while interrupting: the request cannot finish meanwhile
  if (interrupt_) interrupt_();
}

void Cancellation::set_interrupt(std::function<void()> interrupt) {
  std::lock_guard<std::mutex> lock(mu_);
  interrupt_ = std::move(interrupt);
}

struct HttpClient::Conn {
  std::string origin;
  std::unique_ptr<httplib::Client> cli;
  std::shared_ptr<std::atomic<uint64_t>> sockets = std::make_shared<std::atomic<uint64_t>>(0);
  uint64_t exchanges = 0;
  std::atomic<bool> stopped{false};  // interrupted (deadline or cancellation): never reused
};

// Interrupts the exchanges whose deadline passed: one thread, started by the first bounded
// request, sleeping until the earliest deadline. httplib's timeouts bound each wait, not the
// whole exchange, so this is what holds a request to its deadline.
struct HttpClient::Watchdog {
  using Clock = Deadline::Clock;
  struct Watch {
    Clock::time_point due;  // guarded by Watchdog::mu
    std::mutex mu;          // held while stopping; the fields below are guarded by it
    Conn* conn = nullptr;   // nullptr once disarmed
    bool fired = false;
  };

  std::mutex mu;
  std::condition_variable cv;
  std::multimap<Clock::time_point, std::shared_ptr<Watch>> due;
  bool quit = false;
  std::thread th;

  ~Watchdog() {
    {
      std::lock_guard<std::mutex> l(mu);
      quit = true;
    }
    cv.notify_all();
    if (th.joinable()) th.join();
  }

  std::shared_ptr<Watch> arm(Clock::time_point when, Conn* conn) {
    auto w = std::make_shared<Watch>();
    w->conn = conn;
    std::lock_guard<std::mutex> l(mu);
    if (!th.joinable()) th = std::thread([this] { run(); });
    w->due = when;
    due.emplace(when, w);
    cv.notify_one();
    return w;
  }

  // After this returns the connection is no longer touched. True when it was interrupted.
  bool disarm(const std::shared_ptr<Watch>& w) {
    {
      std::lock_guard<std::mutex> l(mu);
      auto [b, e] = due.equal_range(w->due);
      for (auto it = b; it != e; ++it)
        if (it->second == w) {
          due.erase(it);
          break;
        }
    }
    std::lock_guard<std::mutex> l(w->mu);
    w->conn = nullptr;
    return w->fired;
  }

  void run() {
    std::unique_lock<std::mutex> l(mu);
    while (!quit) {
      if (due.empty()) {
        cv.wait(l);
        continue;
      }
      const auto now = Clock::now();
      if (due.begin()->first > now) {
        // A copy: wait_until releases the lock, and disarm() may erase the node meanwhile.
        const auto next = due.begin()->first;
        cv.wait_until(l, next);
        continue;
      }
      std::vector<std::shared_ptr<Watch>> fire;
      while (!due.empty() && due.begin()->first <= now) {
        fire.push_back(std::move(due.begin()->second));
        due.erase(due.begin());
      }
      // Stopped again every 50 ms until disarmed: a stop() that came just before the request was
      // on the wire would otherwise be lost.
      for (auto& w : fire) {
        w->due = now + milliseconds(50);
        due.emplace(w->due, w);
      }
      l.unlock();
      for (auto& w : fire) {
        std::lock_guard<std::mutex> wl(w->mu);
        if (!w->conn) continue;
        w->fired = true;
        w->conn->stopped = true;
        w->conn->cli->stop();
      }
      fire.clear();
      l.lock();
    }
  }
};

struct HttpClient::Pool {
  std::mutex mu;
  std::map<std::string, std::vector<std::unique_ptr<Conn>>> idle;  // origin -> idle connections, newest last
  size_t idle_total = 0;
  X509_STORE* store = nullptr;  // system CAs + ca_file + ca_pem, shared by the TLS connections
  std::string store_error;
  ~Pool() {
    if (store) X509_STORE_free(store);
  }
};

HttpClient::HttpClient(HttpClientOptions options)
    : opts_(std::move(options)),
      pool_(std::make_unique<Pool>()),
      watchdog_(std::make_unique<Watchdog>()),
      counters_(std::make_shared<Counters>()) {
  if (!opts_.sleeper) opts_.sleeper = real_sleeper();
  if (!opts_.random) opts_.random = real_random();
  if (!opts_.ca_file.empty() || !opts_.ca_pem.empty()) {
    pool_->store = X509_STORE_new();
    if (!pool_->store || X509_STORE_set_default_paths(pool_->store) != 1)
      pool_->store_error = "cannot set up the TLS trust store (out of memory?)";
    else if (!opts_.ca_file.empty() && X509_STORE_load_file(pool_->store, opts_.ca_file.c_str()) != 1)
      pool_->store_error =
          "cannot load CA certificates from --cacert " + opts_.ca_file + " (it must be a readable PEM file)";
    else if (!opts_.ca_pem.empty() && !add_pem_certificates(pool_->store, opts_.ca_pem))
      pool_->store_error = "cannot load the CA certificates given in memory (they must be PEM certificates)";
  }
}

HttpClient::~HttpClient() {
  if (const char* e = std::getenv("SCANGATE_HTTP_STATS"); e && *e && std::string_view(e) != "0") {
    HttpStats s = stats();
    std::fprintf(stderr, "scangate http: %llu requests, %llu connections (%llu TLS handshakes), %llu reused\n",
                 static_cast<unsigned long long>(s.requests), static_cast<unsigned long long>(s.connections),
                 static_cast<unsigned long long>(s.tls_connections), static_cast<unsigned long long>(s.reused));
  }
}

HttpStats HttpClient::stats() const {
  HttpStats s;
  s.requests = counters_->requests;
  s.connections = counters_->connections;
  s.tls_connections = counters_->tls_connections;
  s.reused = counters_->reused;
  return s;
}

void HttpClient::close_idle() {
  std::map<std::string, std::vector<std::unique_ptr<Conn>>> drop;
  {
    std::lock_guard<std::mutex> lock(pool_->mu);
    drop.swap(pool_->idle);
    pool_->idle_total = 0;
  }
}

std::unique_ptr<HttpClient::Conn> HttpClient::acquire(const Url& url, Failure* failure, std::string* error) {
  const std::string origin = url.origin();
  const bool tls = url.scheme == "https";
  const bool verify = tls && !(opts_.insecure && opts_.insecure(url));
  {
    std::lock_guard<std::mutex> lock(pool_->mu);
    auto it = pool_->idle.find(origin);
    if (it != pool_->idle.end() && !it->second.empty()) {
      auto c = std::move(it->second.back());
      it->second.pop_back();
      --pool_->idle_total;
      return c;
    }
    if (verify && !pool_->store_error.empty()) {
      *failure = Failure::kCaFile;
      *error = pool_->store_error;
      return nullptr;
    }
  }
  auto c = std::make_unique<Conn>();
  c->origin = origin;
  c->cli = std::make_unique<httplib::Client>(origin);
  if (!c->cli->is_valid()) {
    *failure = Failure::kInvalid;
    *error = "cannot make a connection to " + url.display();
    return nullptr;
  }
  c->cli->set_keep_alive(true);
  c->cli->set_follow_location(false);
  c->cli->set_decompress(false);
  c->cli->set_url_encode(false);
  c->cli->set_tcp_nodelay(true);
  c->cli->set_socket_options([sockets = c->sockets, counters = counters_, tls](socket_t) {
    ++*sockets;
    ++counters->connections;
    if (tls) ++counters->tls_connections;
  });
  if (tls) {
    if (!verify) {
      c->cli->enable_server_certificate_verification(false);
    } else if (pool_->store) {
      X509_STORE_up_ref(pool_->store);  // the client's SSL context takes a reference
      c->cli->set_ca_cert_store(pool_->store);
    }
  }
  return c;
}

void HttpClient::release(std::unique_ptr<Conn> conn) {
  if (!conn || conn->stopped || !conn->cli->is_socket_open()) return;  // closed or interrupted: destroyed here
  std::lock_guard<std::mutex> lock(pool_->mu);
  auto& v = pool_->idle[conn->origin];
  if (v.size() >= opts_.max_idle_per_origin || pool_->idle_total >= opts_.max_idle_total) return;
  v.push_back(std::move(conn));
  ++pool_->idle_total;
}

Result<Response> HttpClient::exchange_once(const Request& req, const Url& url, const std::string& method,
                                           const Headers& headers, const std::string& body, const Deadline& deadline,
                                           Failure* failure) {
  const std::string what = method + " " + url.display();
  auto deadline_error = [&](const std::string& how) {
    *failure = Failure::kDeadline;
    return Error(ErrorKind::kNetwork, what + " failed: the deadline passed " + how);
  };
  auto no_answer_in_time = [&](bool head_arrived) {
    *failure = Failure::kDeadline;
    return Error(ErrorKind::kNetwork,
                 what +
                     (head_arrived ? " failed: the server did not send the whole answer within the deadline"
                                   : " failed: the server did not answer within the deadline") +
                     " (the deadline passed " +
                     (head_arrived ? "while the answer was arriving)" : "before an answer came)"));
  };
  // A kept-alive connection the server closed meanwhile fails before any answer: the request is
  // then made once more on a new connection (not counted as a retry).
  for (int round = 0;; ++round) {
    if (req.cancel && req.cancel->cancelled()) {
      *failure = Failure::kCancelled;
      return Error(ErrorKind::kInternal, what + " cancelled");
    }
    const milliseconds connect_wait = deadline.remaining(opts_.connect_timeout);
    const milliseconds io_wait = deadline.remaining(opts_.io_timeout);
    if (connect_wait.count() <= 0 || io_wait.count() <= 0) return deadline_error("before the request was sent");

    std::string err_text;
    auto conn = acquire(url, failure, &err_text);
    if (!conn)
      return Error(*failure == Failure::kInvalid || *failure == Failure::kCaFile ? ErrorKind::kInvalidArgument
                                                                                 : ErrorKind::kNetwork,
                   err_text);
    conn->cli->set_connection_timeout(us(connect_wait));
    conn->cli->set_read_timeout(us(io_wait));
    conn->cli->set_write_timeout(us(io_wait));
    const bool reused = conn->exchanges > 0;
    const uint64_t sockets_before = *conn->sockets;

    httplib::Request hreq;
    hreq.method = method;
    hreq.path = url.target;
    for (const auto& [k, v] : headers) hreq.headers.emplace(k, v);
    if (!hreq.has_header("User-Agent")) hreq.headers.emplace("User-Agent", opts_.user_agent);
    if (!hreq.has_header("Accept-Encoding")) hreq.headers.emplace("Accept-Encoding", "identity");
    if (!req.keep_alive) hreq.headers.emplace("Connection", "close");
    if (!body.empty() || method_has_body(method)) {
      hreq.body = body;
      if (!req.content_type.empty() && !hreq.has_header("Content-Type"))
        hreq.headers.emplace("Content-Type", req.content_type);
    }

    Response out;
    out.url = url;
    bool got_head = false, success = false, sink_stopped = false, deadline_hit = false;
    hreq.response_handler = [&](const httplib::Response& r) {
      got_head = true;
      out.status = r.status;
      for (const auto& [k, v] : r.headers) out.headers.emplace_back(k, v);
      success = r.status >= 200 && r.status < 300;
      if (success && req.on_success) req.on_success(r.status);
      return !(req.cancel && req.cancel->cancelled());
    };
    hreq.content_receiver = [&](const char* d, size_t n, uint64_t, uint64_t) {
      if (req.cancel && req.cancel->cancelled()) return false;
      if (deadline.expired()) {
        deadline_hit = true;
        return false;
      }
      if (success && req.sink) {
        if (!req.sink(d, n)) {
          sink_stopped = true;
          return false;
        }
        return true;
      }
      if (out.body.size() + n > req.max_body) {
        out.body.append(d, req.max_body - std::min(req.max_body, out.body.size()));
        out.truncated = true;
        return false;
      }
      out.body.append(d, n);
      return true;
    };

    if (req.cancel) {
      req.cancel->set_interrupt([c = conn.get()] {
        c->stopped = true;
        c->cli->stop();
      });
      if (req.cancel->cancelled()) {  // cancelled before the interrupt was in place
        req.cancel->set_interrupt(nullptr);
        release(std::move(conn));
        *failure = Failure::kCancelled;
        return Error(ErrorKind::kInternal, what + " cancelled");
      }
    }
    std::shared_ptr<Watchdog::Watch> watch;
    if (deadline.bounded()) watch = watchdog_->arm(deadline.when(), conn.get());
    httplib::Response hres;
    httplib::Error herr = httplib::Error::Success;
    const bool ok = conn->cli->send(hreq, hres, herr);
    const bool interrupted = watch && watchdog_->disarm(watch);
    if (req.cancel) req.cancel->set_interrupt(nullptr);

    ++counters_->requests;
    const bool opened = *conn->sockets != sockets_before;
    if (!opened) ++counters_->reused;
    ++conn->exchanges;

    if (interrupted && !(req.cancel && req.cancel->cancelled())) {
      // Even an answer that seems complete may have been cut short by the interruption (a body
      // read until the connection closes).
      conn.reset();
      return no_answer_in_time(got_head);
    }
    if (ok && !got_head) {
      // httplib calls the response handler only for answers with a body to read (not for HEAD or
      // a 204): take the head from its Response.
      got_head = true;
      out.status = hres.status;
      for (const auto& [k, v] : hres.headers) out.headers.emplace_back(k, v);
      if (out.ok() && req.on_success) req.on_success(out.status);
    }
    if (out.truncated || ok) {
      if (req.keep_alive && !unread_body(method, hres)) release(std::move(conn));
      return out;
    }
    conn.reset();  // a failed exchange closed its socket
    if (req.cancel && req.cancel->cancelled()) {
      *failure = Failure::kCancelled;
      return Error(ErrorKind::kInternal, what + " cancelled");
    }
    if (sink_stopped) {
      *failure = Failure::kSink;
      return Error(ErrorKind::kIo, what + ": the receiver stopped the transfer");
    }
    if (deadline_hit || (deadline.bounded() && deadline.remaining() <= milliseconds(5)))
      return deadline_error(got_head ? "while the answer was arriving" : "before an answer came");
    if (round == 0 && reused && !opened && !got_head &&
        (herr == httplib::Error::Read || herr == httplib::Error::Write || herr == httplib::Error::Unknown))
      continue;
    std::string why = describe(herr, failure);
    return Error(ErrorKind::kNetwork, what + " failed: " + why);
  }
}

Result<Response> HttpClient::exchange(const Request& req, const Url& url, const std::string& method,
                                      const Headers& headers, const std::string& body, const Deadline& deadline,
                                      Failure* failure) {
  const RetryPolicy policy = req.retry.value_or(opts_.retry);
  const int max_attempts = std::max(1, policy.max_attempts);
  for (int attempt = 1;; ++attempt) {
    *failure = Failure::kNone;
    auto r = exchange_once(req, url, method, headers, body, deadline, failure);
    const bool last = attempt >= max_attempts || (req.cancel && req.cancel->cancelled());
    if (!r.ok()) {
      const bool retryable = retryable_failure(*failure);
      if (!retryable || last) {
        if (attempt > 1 && retryable)
          return Error(r.error().kind, r.error().message + " (gave up after " + std::to_string(attempt) + " attempts)");
        return r.error();
      }
      auto delay = backoff_delay(policy, attempt, std::nullopt, opts_.random());
      if (deadline.bounded() && delay >= deadline.remaining()) {
        *failure = Failure::kDeadline;
        return Error(r.error().kind, r.error().message + "; the deadline passed before attempt " +
                                         std::to_string(attempt + 1) + " could be made");
      }
      opts_.sleeper(delay);
      continue;
    }
    r->attempts = attempt;
    if (!r->truncated && is_retryable_status(r->status) && !last) {
      auto ra = parse_retry_after(r->header("Retry-After"), std::chrono::system_clock::now());
      auto delay = backoff_delay(policy, attempt, ra, opts_.random());
      if (deadline.bounded() && delay >= deadline.remaining()) return r;  // no time for another try
      opts_.sleeper(delay);
      continue;
    }
    return r;
  }
}

Result<Response> HttpClient::send(const Request& req, const Deadline& deadline, Failure* failure) {
  Failure local = Failure::kNone;
  Failure* f = failure ? failure : &local;
  *f = Failure::kNone;
  std::string method = req.method;
  std::string body = req.body;
  Url url = req.url;
  auto sensitive = [&](const std::string& name) {
    if (always_sensitive(name)) return true;
    return std::any_of(req.sensitive_headers.begin(), req.sensitive_headers.end(),
                       [&](const std::string& s) { return iequals(s, name); });
  };
  for (int hop = 0;; ++hop) {
    Headers headers;
    const bool home = url.same_origin(req.url);
    for (const auto& h : req.headers)
      if (home || !sensitive(h.first)) headers.push_back(h);
    auto r = exchange(req, url, method, headers, body, deadline, f);
    if (!r.ok()) return r;
    r->redirects = hop;
    if (!req.follow_redirects || !is_redirect(r->status)) return r;
    // A 301/302 to a POST would become a GET elsewhere: the caller decides.
    if ((r->status == 301 || r->status == 302) && method != "GET" && method != "HEAD") return r;
    const std::string location = r->header("Location");
    if (location.empty()) {
      *f = Failure::kRedirect;
      return Error(ErrorKind::kNetwork,
                   url.display() + " answered HTTP " + std::to_string(r->status) + " (a redirect) without a Location");
    }
    if (hop + 1 > opts_.max_redirects) {
      *f = Failure::kRedirect;
      return Error(ErrorKind::kNetwork, "too many redirects (more than " + std::to_string(opts_.max_redirects) +
                                            ") for " + req.method + " " + req.url.display());
    }
    auto next = resolve_location(url, location);
    if (!next.ok()) {
      *f = Failure::kRedirect;
      return Error(ErrorKind::kNetwork, "redirect from " + url.display() + ": " + next.error().message);
    }
    if (url.scheme == "https" && next->scheme == "http" && !is_loopback_host(next->host)) {
      *f = Failure::kRedirect;
      return Error(ErrorKind::kNetwork, url.display() + " redirected to plain HTTP (" + next->display() +
                                            "); refusing the downgrade from HTTPS");
    }
    if (r->status == 303 && method != "HEAD") {
      method = "GET";
      body.clear();
    }
    url = std::move(next).value();
  }
}

std::shared_ptr<HttpClient> shared_client(const std::string& ca_file, milliseconds connect_timeout,
                                          milliseconds io_timeout, const std::string& user_agent) {
  static std::mutex mu;
  static std::map<std::tuple<std::string, int64_t, int64_t, std::string>, std::shared_ptr<HttpClient>> clients;
  auto key = std::make_tuple(ca_file, static_cast<int64_t>(connect_timeout.count()),
                             static_cast<int64_t>(io_timeout.count()), user_agent);
  std::lock_guard<std::mutex> lock(mu);
  auto& c = clients[key];
  if (!c) {
    HttpClientOptions o;
    o.ca_file = ca_file;
    o.connect_timeout = connect_timeout;
    o.io_timeout = io_timeout;
    o.user_agent = user_agent;
    c = std::make_shared<HttpClient>(std::move(o));
  }
  return c;
}

}  // namespace scangate::net
