#include "scanner/cspm/receiver.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <httplib.h>
#include <netinet/in.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cerrno>
#include <cstdio>
#include <deque>
#include <mutex>
#include <nlohmann/json.hpp>
#include <random>
#include <set>
#include <thread>
#include <type_traits>
#include <vector>

#include "scanner/core/time_util.h"
#include "scanner/core/fs_util.h"

namespace scangate::cspm {

namespace {

constexpr const char* kReceived = "File received successfully";
constexpr const char* kPath = "/api/v1/artifact/";

using Json = nlohmann::json;

std::string dump(const Json& j) { return j.dump(2, ' ', false, Json::error_handler_t::replace) + "\n"; }

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

std::string hex(const unsigned char* d, size_t n) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (size_t i = 0; i < n; ++i) {
    out += kHex[d[i] >> 4];
    out += kHex[d[i] & 15];
  }
  return out;
}

std::string sha256_hex(const std::string& data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), md, &len, EVP_sha256(), nullptr);
  return hex(md, len);
}

// Equal-length digests compared in constant time: neither the token's length nor its prefix leaks.
bool token_matches(const std::string& presented, const std::string& expected) {
  unsigned char a[EVP_MAX_MD_SIZE], b[EVP_MAX_MD_SIZE];
  unsigned int la = 0, lb = 0;
  EVP_Digest(presented.data(), presented.size(), a, &la, EVP_sha256(), nullptr);
  EVP_Digest(expected.data(), expected.size(), b, &lb, EVP_sha256(), nullptr);
  return la == lb && CRYPTO_memcmp(a, b, la) == 0;
}

bool iequals(const std::string& a, const std::string& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

bool valid_report_id(const std::string& id) {
  if (id.empty() || id.size() > 128) return false;
  for (char c : id) {
    bool ok =
        (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.';
    if (!ok) return false;
  }
  return id.find("..") == std::string::npos && id[0] != '.';
}

void reply(httplib::Response& res, int status, const std::string& detail) {
  res.status = status;
  res.set_content(Json{{"detail", detail}}.dump(-1, ' ', false, Json::error_handler_t::replace), "application/json");
}

using SteadyClock = std::chrono::steady_clock;

struct ConnLimits {
  std::chrono::milliseconds header, body, io;
};

// One accepted connection as httplib reads it: non-blocking socket (optionally TLS) whose every
// wait is bounded by the io timeout and by the phase deadline (headers, then body).
class DeadlineStream final : public httplib::Stream {
 public:
  DeadlineStream(int fd, SSL* ssl, const ConnLimits& limits)
      : fd_(fd), ssl_(ssl), limits_(limits), deadline_(SteadyClock::now() + limits.header) {}

  // The headers are in: from now on the body deadline applies.
  void start_body() { deadline_ = SteadyClock::now() + limits_.body; }
  bool timed_out() const { return timed_out_; }

  // Waits for `events` until the io timeout or the deadline; false when neither came in time.
  bool wait(short events, bool bounded_by_deadline = true) const {
    auto now = SteadyClock::now();
    auto limit = limits_.io;
    if (bounded_by_deadline) {
      if (now >= deadline_) return expired();
      limit = std::min(
          limit, std::chrono::duration_cast<std::chrono::milliseconds>(deadline_ - now) + std::chrono::milliseconds(1));
    }
    pollfd p{fd_, events, 0};
    int r;
    do { r = ::poll(&p, 1, static_cast<int>(limit.count())); } while (r < 0 && errno == EINTR);
    if (r > 0) return true;
    return expired();
  }

  bool is_readable() const override { return (ssl_ && SSL_pending(ssl_) > 0) || wait(POLLIN); }
  bool is_writable() const override { return wait(POLLOUT, false); }

  ssize_t read(char* ptr, size_t size) override {
    if (size == 0) return 0;
    if (SteadyClock::now() >= deadline_) {  // even if bytes keep trickling in
      expired();
      return -1;
    }
    for (;;) {
      if (ssl_) {
        ERR_clear_error();
        int n = SSL_read(ssl_, ptr, static_cast<int>(std::min<size_t>(size, 1 << 30)));
        if (n > 0) return n;
        int e = SSL_get_error(ssl_, n);
        if (e == SSL_ERROR_ZERO_RETURN) return 0;
        if (e == SSL_ERROR_WANT_READ ? !wait(POLLIN) : e == SSL_ERROR_WANT_WRITE ? !wait(POLLOUT) : true) return -1;
      } else {
        ssize_t n = ::recv(fd_, ptr, size, 0);
        if (n >= 0) return n;
        if (errno == EINTR) continue;
        if ((errno != EAGAIN && errno != EWOULDBLOCK) || !wait(POLLIN)) return -1;
      }
    }
  }

  ssize_t write(const char* ptr, size_t size) override {
    if (size == 0) return 0;
    for (;;) {
      if (ssl_) {
        ERR_clear_error();
        int n = SSL_write(ssl_, ptr, static_cast<int>(std::min<size_t>(size, 1 << 30)));
        if (n > 0) return n;
        int e = SSL_get_error(ssl_, n);
        if (e == SSL_ERROR_WANT_READ ? !wait(POLLIN, false) : e == SSL_ERROR_WANT_WRITE ? !wait(POLLOUT, false) : true)
          return -1;
      } else {
        ssize_t n = ::send(fd_, ptr, size, MSG_NOSIGNAL);
        if (n >= 0) return n;
        if (errno == EINTR) continue;
        if ((errno != EAGAIN && errno != EWOULDBLOCK) || !wait(POLLOUT, false)) return -1;
      }
    }
  }

  void get_remote_ip_and_port(std::string& ip, int& port) const override { address(true, ip, port); }
  void get_local_ip_and_port(std::string& ip, int& port) const override { address(false, ip, port); }
  socket_t socket() const override { return fd_; }

  // The TLS handshake, within the header deadline.
  bool accept_tls() {
    for (;;) {
      ERR_clear_error();
      int r = SSL_accept(ssl_);
      if (r == 1) return true;
      int e = SSL_get_error(ssl_, r);
      if (e == SSL_ERROR_WANT_READ ? !wait(POLLIN) : e == SSL_ERROR_WANT_WRITE ? !wait(POLLOUT) : true) return false;
    }
  }

 private:
  bool expired() const {
    if (SteadyClock::now() >= deadline_) timed_out_ = true;
    return false;
  }
  void address(bool peer, std::string& ip, int& port) const {
    sockaddr_storage ss{};
    socklen_t len = sizeof ss;
    int r = peer ? ::getpeername(fd_, reinterpret_cast<sockaddr*>(&ss), &len)
                 : ::getsockname(fd_, reinterpret_cast<sockaddr*>(&ss), &len);
    if (r != 0) return;
    char buf[INET6_ADDRSTRLEN] = {0};
    if (ss.ss_family == AF_INET) {
      auto* a = reinterpret_cast<sockaddr_in*>(&ss);
      ::inet_ntop(AF_INET, &a->sin_addr, buf, sizeof buf);
      port = ntohs(a->sin_port);
    } else if (ss.ss_family == AF_INET6) {
      auto* a = reinterpret_cast<sockaddr_in6*>(&ss);
      ::inet_ntop(AF_INET6, &a->sin6_addr, buf, sizeof buf);
      port = ntohs(a->sin6_port);
    }
    ip = buf;
  }

  int fd_;
  SSL* ssl_;
  ConnLimits limits_;
  SteadyClock::time_point deadline_;
  mutable bool timed_out_ = false;
};

// The connection the calling worker thread is serving (the pre-routing handler, which httplib
// calls once the headers are read, switches it to the body deadline), and whether the accept
// thread is running a connection only to refuse it.
thread_local DeadlineStream* t_stream = nullptr;
thread_local bool t_refuse = false;

// max_connections workers, one per admitted connection. A connection that finds them all busy is
// not queued behind stalled clients: it is refused on the accept thread at once.
class ConnectionPool final : public httplib::TaskQueue {
 public:
  explicit ConnectionPool(size_t workers) : capacity_(workers) {
    for (size_t i = 0; i < workers; ++i) threads_.emplace_back([this] { run(); });
  }
  void enqueue(std::function<void()> fn) override {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (!stopping_ && in_flight_ < capacity_) {
        ++in_flight_;
        jobs_.push_back(std::move(fn));
        cv_.notify_one();
        return;
      }
    }
    t_refuse = true;  // runs our process_and_close_socket, which answers 503 and closes
    fn();
    t_refuse = false;
  }
  void shutdown() override {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stopping_ = true;
    }
    cv_.notify_all();
    for (auto& t : threads_) t.join();
    threads_.clear();
  }
  ~ConnectionPool() override {
    if (!threads_.empty()) shutdown();
  }

 private:
  void run() {
    for (;;) {
      std::function<void()> fn;
      {
        std::unique_lock<std::mutex> lock(mu_);
        cv_.wait(lock, [this] { return stopping_ || !jobs_.empty(); });
        if (jobs_.empty()) return;  // stopping, and every admitted connection served
        fn = std::move(jobs_.front());
        jobs_.pop_front();
      }
      fn();
      std::lock_guard<std::mutex> lock(mu_);
      --in_flight_;
    }
  }
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> jobs_;
  std::vector<std::thread> threads_;
  size_t capacity_ = 0;
  size_t in_flight_ = 0;
  bool stopping_ = false;
};

constexpr char kBusy[] =
    "HTTP/1.1 503 Service Unavailable\r\nRetry-After: 1\r\nContent-Type: application/json\r\n"
    "Content-Length: 53\r\nConnection: close\r\n\r\n{\"detail\":\"the receiver is busy; retry in a second\"}\n";

}  // namespace

namespace {

// httplib's own per-read timeouts let a client that sends a byte now and then hold a worker
// forever: connections are served here instead (Receiver::Impl::serve), with deadlines.
template <class Base>
class GuardedServer final : public Base {
 public:
  template <class... A>
  explicit GuardedServer(Receiver::Impl& impl, A&&... a) : Base(std::forward<A>(a)...), impl_(impl) {}
  // httplib listens with a backlog of 5: a burst of connections past that waits for the kernel to
  // retransmit (1 s, 3 s, ...) before it is even accepted. Listening again widens the queue.
  void widen_backlog() { ::listen(this->svr_sock_, SOMAXCONN); }

 private:
  bool process_and_close_socket(socket_t sock) override;
  Receiver::Impl& impl_;
};

}  // namespace

struct Receiver::Impl {
  ReceiverOptions options;
  std::unique_ptr<httplib::Server> server;
  bool tls = false;
  std::string host = "127.0.0.1";
  int port = 0;
  bool bound = false;

  std::mutex store_mu;  // sequence numbers, the id index and the files
  uint64_t next_seq = 1;
  std::set<std::string> seen_ids;
  size_t stored = 0;

  std::mutex run_mu;
  bool serving = false;
  bool stop_requested = false;
  std::atomic<bool> serve_done{false};
  std::thread thread;

  std::function<void()> widen_backlog;  // see GuardedServer::widen_backlog
  std::atomic<uint64_t> refused{0};
  std::atomic<uint64_t> timed_out{0};

  using RequestFn = std::function<bool(httplib::Stream&, bool& closed)>;

  // One connection, start to close: refusal when the pool is full, the TLS handshake and the
  // request under the header/body deadlines, then close.
  bool serve(int fd, SSL_CTX* tls, const RequestFn& request) {
    if (t_refuse) {
      ++refused;
      if (!tls) (void)::send(fd, kBusy, sizeof kBusy - 1, MSG_NOSIGNAL | MSG_DONTWAIT);
      ::shutdown(fd, SHUT_RDWR);
      ::close(fd);
      uint64_t n = refused.load();
      if ((n & (n - 1)) == 0)  // 1, 2, 4, 8, ...: visible, but no log flood
        options.log.warn(
            "refused a connection: all " + std::to_string(options.max_connections) + " connection slots are busy",
            {{"refused_total", n}});
      return false;
    }
    int flags = ::fcntl(fd, F_GETFL, 0);
    if (flags >= 0) ::fcntl(fd, F_SETFL, flags | O_NONBLOCK);
    ConnLimits limits{options.header_timeout, options.body_timeout, options.io_timeout};
    SSL* ssl = nullptr;
    bool ok = false;
    if (tls) ssl = SSL_new(tls);
    if (!tls || (ssl && SSL_set_fd(ssl, fd) == 1)) {
      DeadlineStream stream(fd, ssl, limits);
      if (!ssl || stream.accept_tls()) {
        bool closed = false;
        t_stream = &stream;
        ok = request(stream, closed);
        t_stream = nullptr;
      }
      if (ssl && !stream.timed_out()) SSL_shutdown(ssl);  // best effort, non-blocking
      if (stream.timed_out()) {
        ++timed_out;
        std::string ip;
        int port = 0;
        stream.get_remote_ip_and_port(ip, port);
        options.log.info("closed a connection that missed its deadline", {{"remote_addr", ip}});
      }
    }
    if (ssl) SSL_free(ssl);
    ::shutdown(fd, SHUT_RDWR);
    ::close(fd);
    return ok;
  }

  Result<void> index_dir() {
    SG_TRY(fs::make_dirs(options.dir));
    SG_TRY(fs::make_dirs(options.dir + "/.tmp"));
    auto tmp = fs::list_dir(options.dir + "/.tmp");
    if (!tmp.ok()) return tmp.error();
    for (const auto& n : *tmp) SG_TRY(fs::remove_file(options.dir + "/.tmp/" + n));
    auto names = fs::list_dir(options.dir);
    if (!names.ok()) return names.error();
    for (const auto& n : *names) {
      if (!ends_with(n, ".json") || ends_with(n, ".meta.json")) continue;
      auto dash = n.find('-');
      if (dash == std::string::npos || dash == 0) continue;
      std::string seq = n.substr(0, dash);
      if (seq.find_first_not_of("0123456789") != std::string::npos || seq.size() > 18) continue;
      next_seq = std::max<uint64_t>(next_seq, std::stoull(seq) + 1);
      seen_ids.insert(n.substr(dash + 1, n.size() - dash - 1 - 5));
      ++stored;
    }
    return Ok();
  }

  void handle_upload(const httplib::Request& req, httplib::Response& res) {
    // 1. Who is asking.
    std::string auth = req.get_header_value("Authorization");
    if (auth.empty()) return reply(res, 401, "Authentication credentials were not provided.");
    if (auth.rfind("Bearer ", 0) != 0 || !token_matches(auth.substr(7), options.token)) {
      options.log.warn("refused an upload: invalid token", {{"remote_addr", req.remote_addr}});
      return reply(res, 401, "Invalid token.");
    }
    // 2. For which tenant.
    std::string q_tenant = req.get_param_value("tenant_id");
    std::string h_tenant = req.get_header_value("Tenant-Id");
    if (!q_tenant.empty() && !h_tenant.empty() && q_tenant != h_tenant)
      return reply(res, 400, "the Tenant-Id header and the tenant_id query parameter differ");
    std::string tenant = q_tenant.empty() ? h_tenant : q_tenant;
    if (!options.tenant_id.empty() && tenant != options.tenant_id) return reply(res, 403, "unknown tenant");
    if (req.get_param_value("data_type").empty()) return reply(res, 400, "the data_type query parameter is required");
    // 3. What.
    if (!req.is_multipart_form_data() || !req.has_file("file"))
      return reply(res, 400, "the multipart form field 'file' is required");
    httplib::MultipartFormData file = req.get_file_value("file");
    if (!Json::accept(file.content)) return reply(res, 400, "the file is not a JSON document");
    std::string id = req.get_header_value("X-Scangate-Report-Id");
    if (id.empty()) id = req.get_header_value("Idempotency-Key");
    if (!id.empty() && !valid_report_id(id))
      return reply(res, 400, "X-Scangate-Report-Id must be 1-128 characters of A-Z a-z 0-9 . _ -");
    bool generated = id.empty();

    Json meta;
    meta["received_at"] = utc_now_rfc3339();
    meta["size"] = file.content.size();
    meta["sha256"] = sha256_hex(file.content);
    meta["filename"] = file.filename;
    meta["content_type"] = file.content_type;
    meta["remote_addr"] = req.remote_addr;
    Json query = Json::object();
    for (const auto& [k, v] : req.params) query[k] = v;
    meta["query"] = query;
    Json headers = Json::object();
    for (const auto& [k, v] : req.headers) {
      if (iequals(k, "Authorization") || iequals(k, "Cookie")) continue;
      headers[k] = v;
    }
    meta["headers"] = headers;

    std::lock_guard<std::mutex> lock(store_mu);
    if (generated) {
      std::random_device rd;
      char buf[32];
      std::snprintf(buf, sizeof buf, "noid-%08x%08x", static_cast<unsigned>(rd()), static_cast<unsigned>(rd()));
      id = buf;
    } else if (seen_ids.count(id)) {
      options.log.info("report " + id + " was stored before; not storing it again", {{"report", id}});
      res.set_header("X-Scangate-Duplicate", "true");
      return reply(res, 200, kReceived);
    }
    meta["report_id"] = id;
    char seqbuf[32];
    std::snprintf(seqbuf, sizeof seqbuf, "%06llu", static_cast<unsigned long long>(next_seq));
    std::string base = std::string(seqbuf) + "-" + id;
    std::string tmp = options.dir + "/.tmp/" + base;
    auto m = fs::write_file_atomic(tmp + ".meta.json", options.dir + "/" + base + ".meta.json", dump(meta));
    auto f = m.ok() ? fs::write_file_atomic(tmp + ".json", options.dir + "/" + base + ".json", file.content) : m;
    if (!f.ok()) {
      (void)fs::remove_file(options.dir + "/" + base + ".meta.json");
      options.log.error("cannot store report " + id, {{"report", id}, {"error", f.error().message}});
      return reply(res, 500, "the receiver could not store the file");
    }
    ++next_seq;
    ++stored;
    seen_ids.insert(id);
    // What the client chose (tenant, data type) goes into fields: escaped, it can never start a line.
    log::Fields fields = {
        {"file", base + ".json"}, {"bytes", file.content.size()}, {"data_type", req.get_param_value("data_type")}};
    if (!tenant.empty()) fields.emplace_back("tenant", tenant);
    options.log.info("stored " + base + ".json", fields);
    reply(res, 200, kReceived);
  }
};

namespace {

template <class Base>
bool GuardedServer<Base>::process_and_close_socket(socket_t sock) {
  SSL_CTX* ctx = nullptr;
  if constexpr (std::is_same_v<Base, httplib::SSLServer>) ctx = this->ssl_context();
  return impl_.serve(sock, ctx, [this](httplib::Stream& strm, bool& closed) {
    return this->process_request(strm, true, closed, [](httplib::Request&) {});
  });
}

}  // namespace

Receiver::Receiver(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Receiver::~Receiver() { stop(); }

Result<std::unique_ptr<Receiver>> Receiver::create(ReceiverOptions options) {
  if (options.dir.empty()) return Error(ErrorKind::kInvalidArgument, "the receiver needs a directory (--dir)");
  if (options.token.empty())
    return Error(ErrorKind::kInvalidArgument, "the receiver needs the token it accepts (--token-file or --token)");
  if (options.max_connections == 0 || options.header_timeout.count() <= 0 || options.body_timeout.count() <= 0 ||
      options.io_timeout.count() <= 0)
    return Error(ErrorKind::kInvalidArgument, "the receiver's connection limit and timeouts must be positive");
  if (options.tls_cert_file.empty() != options.tls_key_file.empty())
    return Error(ErrorKind::kInvalidArgument, "give both --tls-cert-file and --tls-private-key-file, or neither");
  log::add_secret(options.token);
  auto impl = std::make_unique<Impl>();
  impl->options = std::move(options);
  auto& o = impl->options;
  if (!o.tls_cert_file.empty()) {
    auto ssl =
        std::make_unique<GuardedServer<httplib::SSLServer>>(*impl, o.tls_cert_file.c_str(), o.tls_key_file.c_str());
    if (!ssl->is_valid())
      return Error(ErrorKind::kInvalidArgument, "cannot load the TLS certificate " + o.tls_cert_file + " and key " +
                                                    o.tls_key_file + " (PEM, and the key must match)");
    impl->widen_backlog = [s = ssl.get()] { s->widen_backlog(); };
    impl->server = std::move(ssl);
    impl->tls = true;
  } else {
    auto plain = std::make_unique<GuardedServer<httplib::Server>>(*impl);
    impl->widen_backlog = [s = plain.get()] { s->widen_backlog(); };
    impl->server = std::move(plain);
  }
  auto index = impl->index_dir();
  if (!index.ok()) return index.error().wrap("preparing the receiver directory " + o.dir);

  Impl* self = impl.get();
  auto& svr = *impl->server;
  svr.set_payload_max_length(o.max_body_bytes);
  // Deadlines and the connection bound are enforced by GuardedServer (see receiver.h).
  size_t slots = o.max_connections;
  svr.new_task_queue = [slots] { return new ConnectionPool(slots); };
  svr.set_pre_routing_handler([](const httplib::Request&, httplib::Response&) {
    if (t_stream) t_stream->start_body();  // the headers are in; httplib reads the body next
    return httplib::Server::HandlerResponse::Unhandled;
  });
  svr.Post(kPath, [self](const httplib::Request& req, httplib::Response& res) { self->handle_upload(req, res); });
  svr.Get("/healthz", [](const httplib::Request&, httplib::Response& res) { res.set_content("ok\n", "text/plain"); });
  svr.set_error_handler([](const httplib::Request&, httplib::Response& res) {
    if (!res.body.empty()) return;
    std::string detail = res.status == 413   ? "the request body is too large"
                         : res.status == 404 ? "not found"
                                             : "request failed";
    reply(res, res.status, detail);
  });
  svr.set_exception_handler([self](const httplib::Request&, httplib::Response& res, std::exception_ptr) {
    self->options.log.error("a request handler failed unexpectedly");
    reply(res, 500, "internal error");
  });
  return std::unique_ptr<Receiver>(new Receiver(std::move(impl)));
}

Result<int> Receiver::bind(const std::string& host, int port) {
  if (impl_->bound) return Error(ErrorKind::kInvalidArgument, "the receiver is bound already");
  int p = port == 0 ? impl_->server->bind_to_any_port(host) : (impl_->server->bind_to_port(host, port) ? port : -1);
  if (p <= 0)
    return Error(ErrorKind::kNetwork, "cannot listen on " + host + ":" + std::to_string(port) +
                                          " (address in use, or not an address of this machine)");
  impl_->widen_backlog();
  impl_->host = host;
  impl_->port = p;
  impl_->bound = true;
  return p;
}

Result<void> Receiver::serve() {
  if (!impl_->bound) return Error(ErrorKind::kInvalidArgument, "bind the receiver before serving");
  {
    std::lock_guard<std::mutex> lock(impl_->run_mu);
    if (impl_->stop_requested || impl_->serving) {
      impl_->serve_done = true;
      return Ok();
    }
    impl_->serving = true;
  }
  bool ok = impl_->server->listen_after_bind();
  impl_->serve_done = true;
  std::lock_guard<std::mutex> lock(impl_->run_mu);
  if (!ok && !impl_->stop_requested) return Error(ErrorKind::kNetwork, "the receiver stopped accepting connections");
  return Ok();
}

Result<void> Receiver::start() {
  if (!impl_->bound) return Error(ErrorKind::kInvalidArgument, "bind the receiver before starting it");
  if (impl_->thread.joinable()) return Ok();
  impl_->thread = std::thread([this] {
    auto r = serve();
    if (!r.ok()) impl_->options.log.error(r.error().message);
  });
  auto until = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!impl_->server->is_running()) {
    if (impl_->serve_done || std::chrono::steady_clock::now() > until)
      return Error(ErrorKind::kNetwork, "the receiver did not start listening");
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return Ok();
}

void Receiver::stop() {
  bool serving;
  {
    std::lock_guard<std::mutex> lock(impl_->run_mu);
    impl_->stop_requested = true;
    serving = impl_->serving;
  }
  if (serving) {
    // httplib ignores stop() until its accept loop runs: wait for that (or for a failed start).
    while (!impl_->server->is_running() && !impl_->serve_done)
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    impl_->server->stop();
  }
  if (impl_->thread.joinable() && impl_->thread.get_id() != std::this_thread::get_id()) impl_->thread.join();
}

bool Receiver::running() const {
  std::lock_guard<std::mutex> lock(impl_->run_mu);
  return impl_->serving && !impl_->serve_done;
}

int Receiver::port() const { return impl_->port; }

std::string Receiver::url() const {
  std::string host = impl_->host.find(':') != std::string::npos ? "[" + impl_->host + "]" : impl_->host;
  if (host == "0.0.0.0") host = "127.0.0.1";
  return std::string(impl_->tls ? "https" : "http") + "://" + host + ":" + std::to_string(impl_->port);
}

size_t Receiver::stored_count() const {
  std::lock_guard<std::mutex> lock(impl_->store_mu);
  return impl_->stored;
}

}  // namespace scangate::cspm
