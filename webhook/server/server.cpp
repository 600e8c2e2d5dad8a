#include "webhook/server/server.h"

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/core/detect_ssl.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include <atomic>
#include <cstdio>
#include <mutex>
#include <thread>
#include <unordered_map>
#include <vector>

#include "webhook/server/metrics.h"
#include "webhook/server/tls.h"

namespace scangate::webhook {

namespace net = boost::asio;
namespace ssl = boost::asio::ssl;
namespace beast = boost::beast;
namespace http = boost::beast::http;
using tcp = boost::asio::ip::tcp;

namespace {

class Session;

// What every session of one server shares.
struct Shared {
  ServerOptions opts;
  Handler handler;          // HTTPS routes
  Handler metrics_handler;  // plain-HTTP /metrics
  WebhookMetrics* metrics = nullptr;
  std::unique_ptr<CertReloader> reloader;

  // Responses may arrive from other threads (the verdict engine's); they are posted only while
  // the io_context exists.
  std::mutex gate_mu;
  bool gate_open = true;

  std::atomic<bool> stopping{false};
  std::atomic<int> active{0};
  std::mutex mu;
  std::unordered_map<Session*, std::weak_ptr<Session>> sessions;

  void log(const std::string& line) const {
    if (opts.log) opts.log(line);
    else std::fprintf(stderr, "%s\n", line.c_str());
  }
  void count_status(unsigned code) const {
    if (metrics != nullptr) metrics->http_requests.Add({{"code", std::to_string(code)}}).Increment();
  }
};

bool is_disconnect(const beast::error_code& ec) {
  return ec == net::error::eof || ec == http::error::end_of_stream || ec == ssl::error::stream_truncated ||
         ec == net::error::connection_reset || ec == net::error::operation_aborted ||
         ec == net::error::broken_pipe || ec == beast::error::timeout || ec == net::error::bad_descriptor;
}

// One connection. Owns itself through shared_from_this; every handler runs on the socket's
// strand, and every socket operation is preceded by expires_after (or expires_never while the
// handler decides, which has its own timer).
class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket&& socket, std::shared_ptr<Shared> shared, bool tls)
      : tcp_(std::move(socket)),
        ex_(tcp_.get_executor()),
        sh_(std::move(shared)),
        tls_mode_(tls),
        handler_(tls ? &sh_->handler : &sh_->metrics_handler),
        body_limit_(tls ? sh_->opts.body_limit : std::size_t{64} << 10),
        handler_timer_(ex_) {
    sh_->active.fetch_add(1);
  }

  ~Session() {
    {
      std::lock_guard lock(sh_->mu);
      sh_->sessions.erase(this);
    }
    sh_->active.fetch_sub(1);
  }

  void start() {
    {
      std::lock_guard lock(sh_->mu);
      sh_->sessions.emplace(this, weak_from_this());
    }
    net::dispatch(tcp_.get_executor(), [self = shared_from_this()] { self->begin(); });
  }

  // Posted to the strand by a graceful stop: idle connections close now, busy ones after
  // their response (written with Connection: close).
  void on_server_stop() {
    if (state_ == State::kIdle || state_ == State::kHandshake) close();
  }

  const net::any_io_executor& executor() const { return ex_; }

 private:
  enum class State { kHandshake, kIdle, kReading, kHandling, kWriting, kClosing };

  beast::tcp_stream& lowest() { return tls_ ? beast::get_lowest_layer(*tls_) : tcp_; }

  template <class F>
  void with_stream(F&& f) {
    if (tls_) f(*tls_);
    else f(tcp_);
  }

  // Every read/write completion is a member function of one signature bound with
  // bind_front_handler, so each Beast/Asio composed operation is instantiated once per stream
  // type instead of once per lambda (this TU's compile time is dominated by those).
  using IoHandler = void (Session::*)(beast::error_code, std::size_t);
  auto bound(IoHandler h) { return beast::bind_front_handler(h, shared_from_this()); }

  void begin() {
    if (!tls_mode_) return read_next();
    state_ = State::kHandshake;
    tcp_.expires_after(sh_->opts.header_timeout);
    beast::async_detect_ssl(tcp_, buffer_, beast::bind_front_handler(&Session::on_detect, shared_from_this()));
  }

  void on_detect(beast::error_code ec, bool is_tls) {
    if (ec) return close();
    if (!is_tls) return refuse_plain_http();
    ctx_ = sh_->reloader->current();  // this connection keeps this context, even across reloads
    tls_.emplace(std::move(tcp_), *ctx_);
    lowest().expires_after(sh_->opts.header_timeout);
    tls_->async_handshake(ssl::stream_base::server, buffer_.data(), bound(&Session::on_handshake));
  }

  // The first byte was not a TLS handshake record: most likely http:// to the HTTPS port.
  void refuse_plain_http() {
    if (sh_->metrics != nullptr) sh_->metrics->plain_http_on_tls.Increment();
    keep_alive_ = false;
    Response r = text_response(400, "this port speaks HTTPS: use https:// (TLS 1.2 or later)");
    r.close = true;
    write_response(std::move(r));
  }

  void on_handshake(beast::error_code ec, std::size_t used) {
    if (ec) {
      if (sh_->metrics != nullptr) sh_->metrics->tls_handshake_errors.Increment();
      return close();
    }
    buffer_.consume(used);
    read_next();
  }

  // Keep-alive wait: the idle timeout runs until the first byte of the next request; from
  // there the header timeout bounds the header, so a slow client cannot pin the connection.
  void read_next() {
    if (sh_->stopping.load()) return shutdown();
    state_ = State::kIdle;
    if (buffer_.size() > 0) return read_header();
    lowest().expires_after(sh_->opts.idle_timeout);
    with_stream([&](auto& s) { s.async_read_some(buffer_.prepare(kReadChunk), bound(&Session::on_first_bytes)); });
  }

  void on_first_bytes(beast::error_code ec, std::size_t n) {
    if (ec) return close();
    buffer_.commit(n);
    read_header();
  }

  void read_header() {
    state_ = State::kReading;
    parser_.emplace();
    parser_->header_limit(sh_->opts.header_limit);
    parser_->body_limit(body_limit_);
    lowest().expires_after(sh_->opts.header_timeout);
    with_stream([&](auto& s) { http::async_read_header(s, buffer_, *parser_, bound(&Session::on_header)); });
  }

  void on_header(beast::error_code ec, std::size_t) {
    if (ec) return on_read_error(ec);
    auto expect = parser_->get()[http::field::expect];
    if (!parser_->is_done() && beast::iequals(expect, "100-continue")) {
      // Reuses the response message, so this write shares the response's instantiation.
      res_ = {};
      res_.version(parser_->get().version());
      res_.result(http::status::continue_);
      lowest().expires_after(sh_->opts.write_timeout);
      with_stream([&](auto& s) { http::async_write(s, res_, bound(&Session::on_continue_written)); });
      return;
    }
    read_body();
  }

  void on_continue_written(beast::error_code ec, std::size_t) {
    if (ec) return close();
    read_body();
  }

  void read_body() {
    if (parser_->is_done()) return on_body({}, 0);
    lowest().expires_after(sh_->opts.body_timeout);
    with_stream([&](auto& s) { http::async_read(s, buffer_, *parser_, bound(&Session::on_body)); });
  }

  void on_read_error(beast::error_code ec) {
    if (ec == http::error::body_limit) {
      return send_error(413, "request body too large: the limit is " + std::to_string(body_limit_) + " bytes");
    }
    if (ec == http::error::header_limit) {
      return send_error(431, "request header too large: the limit is " + std::to_string(sh_->opts.header_limit) +
                                 " bytes");
    }
    if (is_disconnect(ec)) return close();
    if (ec.category() == http::make_error_code(http::error::bad_method).category()) {
      return send_error(400, "malformed HTTP request: " + ec.message());
    }
    close();
  }

  void on_body(beast::error_code ec, std::size_t) {
    if (ec) return on_read_error(ec);
    state_ = State::kHandling;
    auto msg = parser_->release();
    parser_.reset();
    keep_alive_ = msg.keep_alive();
    version_ = msg.version();
    head_ = msg.method() == http::verb::head;

    Request req;
    req.method = std::string(msg.method_string());
    req.target = std::string(msg.target());
    req.headers.reserve(8);
    for (const auto& f : msg) req.headers.emplace_back(std::string(f.name_string()), std::string(f.value()));
    req.body = std::move(msg.body());
    req.received = std::chrono::steady_clock::now();

    lowest().expires_never();
    const std::uint64_t seq = ++seq_;
    responded_ = false;
    handler_timer_.expires_after(sh_->opts.handler_timeout);
    handler_timer_.async_wait([self = shared_from_this(), seq](beast::error_code e) {
      if (!e) self->on_response(seq, text_response(500, "internal error: no answer within the handler timeout"));
    });

    // The pending handler timer keeps the session alive until the answer; the callback holds
    // only a weak reference so that a late answer after a stop touches nothing.
    Respond respond = [weak = weak_from_this(), sh = sh_, ex = ex_, seq](Response r) {
      std::lock_guard lock(sh->gate_mu);
      if (!sh->gate_open) return;
      net::post(ex, [weak, seq, r = std::move(r)]() mutable {
        if (auto self = weak.lock()) self->on_response(seq, std::move(r));
      });
    };
    try {
      (*handler_)(std::move(req), std::move(respond));
    } catch (const std::exception& e) {
      sh_->log(std::string("level=error msg=\"request handler failed\" error=\"") + e.what() + "\"");
      on_response(seq, text_response(500, "internal error while handling the request"));
    }
  }

  void on_response(std::uint64_t seq, Response r) {
    if (seq != seq_ || responded_) return;
    responded_ = true;
    handler_timer_.cancel();
    write_response(std::move(r));
  }

  void write_response(Response r) {
    state_ = State::kWriting;
    res_ = {};
    res_.version(version_);
    res_.result(static_cast<unsigned>(r.status));
    res_.set(http::field::content_type, r.content_type);
    for (auto& [k, v] : r.headers) res_.set(k, v);
    const bool keep = keep_alive_ && !r.close && !sh_->stopping.load();
    res_.keep_alive(keep);
    if (head_) {
      res_.content_length(r.body.size());
    } else {
      res_.body() = std::move(r.body);
      res_.prepare_payload();
    }
    sh_->count_status(static_cast<unsigned>(r.status));
    lowest().expires_after(sh_->opts.write_timeout);
    with_stream([&](auto& s) { http::async_write(s, res_, bound(&Session::on_write)); });
  }

  void on_write(beast::error_code ec, std::size_t) {
    if (ec) return close();
    head_ = false;
    if (linger_) return drain_then_close();
    if (!res_.keep_alive()) return shutdown();
    res_ = {};
    read_next();
  }

  // After an error answered before the body was read (413), read and discard what the
  // client is still sending for a bounded while, so it can read the answer instead of
  // getting a reset (as Go's net/http does).
  void drain_then_close() {
    state_ = State::kClosing;
    lowest().expires_after(std::min<std::chrono::milliseconds>(sh_->opts.write_timeout, std::chrono::seconds(1)));
    drained_ = 0;
    drain_some();
  }

  void drain_some() {
    with_stream([&](auto& s) { s.async_read_some(buffer_.prepare(kReadChunk), bound(&Session::on_drained)); });
  }

  void on_drained(beast::error_code ec, std::size_t n) {
    buffer_.consume(buffer_.size());
    drained_ += n;
    if (ec || drained_ > kMaxDrain) return close();
    drain_some();
  }

  void send_error(int status, std::string message) {
    keep_alive_ = false;
    linger_ = status == 413;
    ++seq_;
    responded_ = true;
    Response r = text_response(status, std::move(message));
    r.close = true;
    write_response(std::move(r));
  }

  // Orderly end: TLS close_notify (bounded), then close the socket.
  void shutdown() {
    state_ = State::kClosing;
    if (!tls_) {
      beast::error_code ec;
      tcp_.socket().shutdown(tcp::socket::shutdown_send, ec);
      return close();
    }
    lowest().expires_after(std::min<std::chrono::milliseconds>(sh_->opts.header_timeout, std::chrono::seconds(2)));
    tls_->async_shutdown(beast::bind_front_handler(&Session::on_shutdown, shared_from_this()));
  }

  void on_shutdown(beast::error_code) { close();
  }

  void close() {
    state_ = State::kClosing;
    handler_timer_.cancel();
    beast::error_code ec;
    auto& sock = lowest().socket();
    if (sock.is_open()) {
      sock.shutdown(tcp::socket::shutdown_both, ec);
      sock.close(ec);
    }
  }

  static constexpr std::size_t kReadChunk = 16 * 1024;
  static constexpr std::size_t kMaxDrain = 8u << 20;

  beast::tcp_stream tcp_;
  net::any_io_executor ex_;  // the connection's strand
  std::shared_ptr<ssl::context> ctx_;  // outlives tls_
  std::optional<beast::ssl_stream<beast::tcp_stream>> tls_;
  std::shared_ptr<Shared> sh_;
  const bool tls_mode_;
  const Handler* handler_;
  const std::size_t body_limit_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  std::optional<http::response<http::empty_body>> continue_;
  http::response<http::string_body> res_;
  net::steady_timer handler_timer_;
  std::uint64_t seq_ = 0;
  bool responded_ = true;
  bool keep_alive_ = false;
  bool head_ = false;
  bool linger_ = false;
  std::size_t drained_ = 0;
  unsigned version_ = 11;
  State state_ = State::kIdle;
};

Result<void> listen_on(tcp::acceptor& acceptor, const std::string& address, std::uint16_t port, const char* what) {
  beast::error_code ec;
  auto where = std::string(what) + " " + (address.find(':') != std::string::npos ? "[" + address + "]" : address) +
               ":" + std::to_string(port);
  auto addr = net::ip::make_address(address.empty() ? "0.0.0.0" : address, ec);
  if (ec) return Error(ErrorKind::kInvalidArgument, "cannot listen on " + where + ": bad address: " + ec.message());
  tcp::endpoint ep(addr, port);
  if (acceptor.open(ep.protocol(), ec); ec) return Error(ErrorKind::kNetwork, "cannot open " + where + ": " + ec.message());
  acceptor.set_option(net::socket_base::reuse_address(true), ec);
  if (acceptor.bind(ep, ec); ec) return Error(ErrorKind::kNetwork, "cannot bind " + where + ": " + ec.message());
  if (acceptor.listen(net::socket_base::max_listen_connections, ec); ec)
    return Error(ErrorKind::kNetwork, "cannot listen on " + where + ": " + ec.message());
  return Ok();
}

}  // namespace

// Owned by Server alone; handlers capture `this`: the workers are joined and the io_context
// (declared first, destroyed last) is gone before the Impl is.
struct Server::Impl {
  std::unique_ptr<net::io_context> ioc;
  net::strand<net::io_context::executor_type> ctl;  // acceptors, timers, signals
  std::shared_ptr<Shared> sh;
  tcp::acceptor acceptor;
  tcp::acceptor metrics_acceptor;
  net::steady_timer reload_timer;
  net::steady_timer drain_timer;
  net::steady_timer accept_retry_timer;
  net::signal_set signals;
  std::vector<std::thread> threads;
  std::chrono::steady_clock::time_point drain_deadline{};
  std::uint16_t bound_port = 0, bound_metrics_port = 0;

  explicit Impl(unsigned threads)
      : ioc(std::make_unique<net::io_context>(static_cast<int>(threads))),
        ctl(net::make_strand(*ioc)),
        acceptor(ctl),
        metrics_acceptor(ctl),
        reload_timer(ctl),
        drain_timer(ctl),
        accept_retry_timer(ctl),
        signals(ctl) {}

  void accept(tcp::acceptor& a, bool tls) {
    a.async_accept(net::make_strand(*ioc), [self = this, &a, tls](beast::error_code ec, tcp::socket s) {
      if (ec == net::error::operation_aborted || !a.is_open() || self->sh->stopping.load()) return;
      if (ec) {
        // Out of descriptors or similar: log and retry shortly instead of spinning.
        self->sh->log("level=warn msg=\"accept failed\" error=\"" + ec.message() + "\"");
        self->accept_retry_timer.expires_after(std::chrono::milliseconds(100));
        self->accept_retry_timer.async_wait([self, &a, tls](beast::error_code e) {
          if (!e) self->accept(a, tls);
        });
        return;
      }
      beast::error_code ignore;
      s.set_option(tcp::no_delay(true), ignore);
      std::make_shared<Session>(std::move(s), self->sh, tls)->start();
      self->accept(a, tls);
    });
  }

  void schedule_reload() {
    if (sh->opts.reload_interval.count() <= 0) return;
    reload_timer.expires_after(sh->opts.reload_interval);
    reload_timer.async_wait([this](beast::error_code ec) {
      if (ec || sh->stopping.load()) return;
      sh->reloader->check();
      schedule_reload();
    });
  }

  void wait_signal() {
    signals.async_wait([self = this](beast::error_code ec, int sig) {
      if (ec) return;
      if (sig == SIGHUP) {
        self->sh->reloader->check(true);
        return self->wait_signal();
      }
      self->sh->log(std::string("level=info msg=\"received ") + (sig == SIGTERM ? "SIGTERM" : "SIGINT") +
                    "; stopping gracefully\"");
      self->begin_stop();
    });
  }

  void begin_stop() {
    if (sh->stopping.exchange(true)) return;
    beast::error_code ec;
    acceptor.close(ec);
    metrics_acceptor.close(ec);
    reload_timer.cancel();
    accept_retry_timer.cancel();
    signals.cancel(ec);
    std::vector<std::shared_ptr<Session>> live;
    {
      std::lock_guard lock(sh->mu);
      for (auto& [ptr, weak] : sh->sessions)
        if (auto s = weak.lock()) live.push_back(std::move(s));
    }
    for (auto& s : live) net::post(s->executor(), [s] { s->on_server_stop(); });
    live.clear();
    drain_deadline = std::chrono::steady_clock::now() + sh->opts.shutdown_grace;
    drain_tick();
  }

  void drain_tick() {
    const int left = sh->active.load();
    if (left == 0 || std::chrono::steady_clock::now() >= drain_deadline) {
      if (left > 0)
        sh->log("level=warn msg=\"shutdown grace expired\" open_connections=" + std::to_string(left));
      ioc->stop();
      return;
    }
    drain_timer.expires_after(std::chrono::milliseconds(20));
    drain_timer.async_wait([self = this](beast::error_code) { self->drain_tick(); });
  }
};

Server::Server(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Result<std::unique_ptr<Server>> Server::create(ServerOptions options, Handler handler, WebhookMetrics& metrics) {
  const unsigned threads = options.threads == 0 ? 1 : options.threads;
  auto impl = std::make_unique<Impl>(threads);
  auto sh = std::make_shared<Shared>();
  sh->opts = std::move(options);
  sh->opts.threads = threads;
  sh->handler = std::move(handler);
  sh->metrics_handler = make_metrics_handler(metrics);
  sh->metrics = &metrics;
  auto logger = [weak = std::weak_ptr<Shared>(sh)](const std::string& line) {
    if (auto s = weak.lock()) s->log(line);
  };
  auto reloader = CertReloader::create(sh->opts.cert_file, sh->opts.key_file, &metrics, logger);
  if (!reloader) return reloader.error();
  sh->reloader = std::move(*reloader);
  impl->sh = sh;

  SG_TRY(listen_on(impl->acceptor, sh->opts.address, sh->opts.port, "HTTPS listener"));
  impl->bound_port = impl->acceptor.local_endpoint().port();
  if (sh->opts.metrics_port) {
    SG_TRY(listen_on(impl->metrics_acceptor, sh->opts.metrics_address, *sh->opts.metrics_port, "metrics listener"));
    impl->bound_metrics_port = impl->metrics_acceptor.local_endpoint().port();
  }
  return std::unique_ptr<Server>(new Server(std::move(impl)));
}

Server::~Server() {
  if (!impl_->threads.empty()) {
    stop();
    wait();
  }
  // Answers arriving from now on are dropped; connections still open after the grace period
  // are closed when the io_context goes.
  std::lock_guard lock(impl_->sh->gate_mu);
  impl_->sh->gate_open = false;
}

std::uint16_t Server::port() const { return impl_->bound_port; }
std::uint16_t Server::metrics_port() const { return impl_->bound_metrics_port; }

void Server::start() {
  auto& im = *impl_;
  if (!im.threads.empty()) return;
  // Signals are registered before start() returns, so a SIGTERM right after is not fatal.
  if (im.sh->opts.handle_signals) {
    beast::error_code ec;
    for (int sig : {SIGTERM, SIGINT, SIGHUP}) {
      im.signals.add(sig, ec);
      if (ec) im.sh->log("level=warn msg=\"cannot handle signal " + std::to_string(sig) + "\" error=\"" + ec.message() + "\"");
    }
  }
  net::dispatch(im.ctl, [self = impl_.get()] {
    self->accept(self->acceptor, true);
    if (self->metrics_acceptor.is_open()) self->accept(self->metrics_acceptor, false);
    self->schedule_reload();
    if (self->sh->opts.handle_signals) self->wait_signal();
  });
  for (unsigned i = 0; i < im.sh->opts.threads; ++i) {
    im.threads.emplace_back([ioc = im.ioc.get(), sh = im.sh] {
      for (;;) {
        try {
          ioc->run();
          return;
        } catch (const std::exception& e) {
          sh->log(std::string("level=error msg=\"worker caught an exception\" error=\"") + e.what() + "\"");
        }
      }
    });
  }
}

void Server::stop() {
  net::post(impl_->ctl, [self = impl_.get()] { self->begin_stop(); });
}

void Server::wait() {
  for (auto& t : impl_->threads)
    if (t.joinable()) t.join();
  impl_->threads.clear();
}

void Server::reload_certificates() {
  net::post(impl_->ctl, [self = impl_.get()] { self->sh->reloader->check(true); });
}

}  // namespace scangate::webhook
