#include "webhook/server/server.h"

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/core/detect_ssl.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include <algorithm>
#include <array>
#include <atomic>
#include <cstdio>
#include <mutex>
#include <thread>
#include <vector>

#include <sys/socket.h>

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

// The request whose handler is running on this thread right now (0: none). An answer given
// while the handler runs (a verdict-cache hit) is written directly instead of being posted
// back through the io_context.
thread_local std::uint64_t t_inline_request = 0;
std::atomic<std::uint64_t> g_request_ids{0};

// What every session of one server shares.
struct Shared {
  ServerOptions opts;
  Handler handler;          // HTTPS routes
  Handler metrics_handler;  // plain-HTTP /metrics
  WebhookMetrics* metrics = nullptr;
  std::unique_ptr<CertReloader> reloader;
  std::chrono::milliseconds tick{250};  // deadline check interval (a fraction of the smallest timeout)

  // Responses may arrive from other threads (the verdict engine's); they are posted only while
  // the io_context exists.
  std::mutex gate_mu;
  bool gate_open = true;

  std::atomic<bool> stopping{false};
  std::atomic<int> active{0};

  // Request-body bytes reserved by every connection together (opts.body_budget).
  std::atomic<std::size_t> buffered{0};
  bool reserve_body(std::size_t n) {
    std::size_t cur = buffered.load(std::memory_order_relaxed);
    do {
      if (n > opts.body_budget || cur > opts.body_budget - n) return false;
    } while (!buffered.compare_exchange_weak(cur, cur + n, std::memory_order_relaxed));
    if (metrics != nullptr) metrics->http_buffered_body_bytes.Increment(static_cast<double>(n));
    return true;
  }
  void release_body(std::size_t n) {
    buffered.fetch_sub(n, std::memory_order_relaxed);
    if (metrics != nullptr) metrics->http_buffered_body_bytes.Decrement(static_cast<double>(n));
  }

  // Every open connection, for the deadline sweep and the graceful stop.
  std::mutex conns_mu;
  Session* conns = nullptr;  // intrusive list
  template <class F>
  void for_each_connection(F&& f);

  // scangate_http_requests_total{code} children, created on first use (Family::Add is a
  // locked map look-up; the children live as long as the family).
  std::array<std::atomic<prometheus::Counter*>, 600> status_counters{};

  // Codes outside 100..599 (none are sent today) share the one "other" series.
  void count_status(unsigned code) {
    if (metrics == nullptr) return;
    if (code < 100 || code >= status_counters.size()) code = 0;
    prometheus::Counter* c = status_counters[code].load(std::memory_order_acquire);
    if (c == nullptr) {
      c = &metrics->http_requests.Add({{"code", code == 0 ? std::string("other") : std::to_string(code)}});
      status_counters[code].store(c, std::memory_order_release);
    }
    c->Increment();
  }
};

// One connection. Owns itself through shared_from_this. Its handlers run on any worker thread,
// one at a time: at most one socket operation is pending at once, and the entry points that
// can come from elsewhere (an answer from the verdict engine, the deadline sweep, the
// graceful stop) take the connection's mutex, as every completion does (uncontended on the
// hot path, unlike a strand, which costs a trip through the scheduler per completion).
// While anything is pending the connection has a deadline (header, idle, body, write or
// handler timeout); when that passes the sweep shuts the connection down, or answers 500 when
// the handler has not answered in time.
class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket&& socket, std::shared_ptr<Shared> shared, bool tls)
      : sock_(std::move(socket)),
        sh_(std::move(shared)),
        tls_mode_(tls),
        handler_(tls ? &sh_->handler : &sh_->metrics_handler),
        body_limit_(tls ? sh_->opts.body_limit : std::size_t{64} << 10) {
    sh_->active.fetch_add(1);
  }

  ~Session() {
    release_body();
    unlink();
    sh_->active.fetch_sub(1);
  }

  void start() {
    link();
    std::lock_guard lock(mu_);
    begin();
  }

  // A graceful stop: idle connections close now, busy ones after their response (written
  // with Connection: close).
  void on_server_stop() {
    std::lock_guard lock(mu_);
    if (state_ == State::kIdle || state_ == State::kHandshake) abort_io();
  }

  void check_deadline(std::chrono::steady_clock::time_point now) {
    std::lock_guard lock(mu_);
    if (now >= deadline_) on_deadline();
  }

  // At the server's end, with its threads joined: a connection still awaiting an answer lets
  // go of itself.
  void release() {
    std::shared_ptr<Session> h;
    std::lock_guard lock(mu_);
    h.swap(hold_);
  }

  Session* next_ = nullptr;
  Session* prev_ = nullptr;

 private:
  // The deadline passed: a handler that has not answered gets a 500, anything else closes.
  void on_deadline() {
    disarm();
    if (state_ == State::kHandling) {
      return on_response(request_id_, text_response(500, "internal error: no answer within the handler timeout"));
    }
    abort_io();
  }

  // From outside the connection's handlers (the sweep, the stop) while a socket operation may
  // be pending. The parts of a composed operation (TLS records, partial writes) run without
  // the connection's mutex, so the socket object is not touched here: shutting the
  // descriptor down makes the pending operation fail, and its handler closes the socket.
  void abort_io() {
    auto& sock = lowest();
    if (sock.is_open()) ::shutdown(sock.native_handle(), SHUT_RDWR);
  }

  enum class State { kHandshake, kIdle, kReading, kHandling, kWriting, kClosing };

  void link() {
    std::lock_guard lock(sh_->conns_mu);
    next_ = sh_->conns;
    if (next_ != nullptr) next_->prev_ = this;
    sh_->conns = this;
    linked_ = true;
  }
  void unlink() {
    std::lock_guard lock(sh_->conns_mu);
    if (!linked_) return;
    if (prev_ != nullptr)
      prev_->next_ = next_;
    else
      sh_->conns = next_;
    if (next_ != nullptr) next_->prev_ = prev_;
    linked_ = false;
  }

  void arm(std::chrono::milliseconds d) { deadline_ = std::chrono::steady_clock::now() + d; }
  void disarm() { deadline_ = std::chrono::steady_clock::time_point::max(); }

  tcp::socket& lowest() { return tls_ ? tls_->next_layer() : sock_; }

  template <class F>
  void with_stream(F&& f) {
    if (tls_)
      f(*tls_);
    else
      f(sock_);
  }

  // Every completion is a member function of one signature, called under the connection's
  // mutex by one handler type, so each composed operation is instantiated once per stream type.
  using IoHandler = void (Session::*)(beast::error_code, std::size_t);
  auto bound(IoHandler h) {
    return [self = shared_from_this(), h](beast::error_code ec, std::size_t n) {
      std::lock_guard lock(self->mu_);
      ((*self).*h)(ec, n);
    };
  }

  void begin() {
    if (!tls_mode_) return read_next();
    state_ = State::kHandshake;
    arm(sh_->opts.header_timeout);
    beast::async_detect_ssl(sock_, buffer_, [self = shared_from_this()](beast::error_code ec, bool is_tls) {
      std::lock_guard lock(self->mu_);
      self->on_detect(ec, is_tls);
    });
  }

  void on_detect(beast::error_code ec, bool is_tls) {
    if (ec) return close();
    if (!is_tls) return refuse_plain_http();
    ctx_ = sh_->reloader->current();  // this connection keeps this context, even across reloads
    tls_.emplace(std::move(sock_), *ctx_);
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
    if (buffer_.size() > 0) return parse();  // pipelined
    arm(sh_->opts.idle_timeout);
    read_some();
  }

  void read_some() {
    with_stream([&](auto& s) { s.async_read_some(buffer_.prepare(kReadChunk), bound(&Session::on_read)); });
  }

  void on_read(beast::error_code ec, std::size_t n) {
    if (ec) return close();  // disconnect, or closed by the deadline
    buffer_.commit(n);
    parse();
  }

  // Feeds what has been read to the parser: the whole request is usually in the first read,
  // and is parsed here without another trip through the event loop. The header is parsed on its
  // own (the parser is not eager until it is done), so that its size and field count are checked
  // and the body's share of the server's budget reserved before a byte of the body is stored.
  void parse() {
    if (!parser_) {
      state_ = State::kReading;
      parser_.emplace();
      parser_->header_limit(sh_->opts.header_limit);
      parser_->body_limit(body_limit_);
      parser_->eager(false);
      header_bytes_ = 0;
      header_lines_ = 0;
      arm(sh_->opts.header_timeout);
    }
    while (buffer_.size() > 0 && !parser_->is_done()) {
      const bool had_header = parser_->is_header_done();
      beast::error_code ec;
      const std::size_t used = parser_->put(buffer_.data(), ec);
      if (!had_header) count_header(used);
      buffer_.consume(used);
      if (!had_header) {
        // Beast consumes complete header lines as they come and applies its limit only to what
        // is still unparsed, so the limits on the whole header are kept here.
        const std::size_t max_lines = std::size_t{sh_->opts.max_header_fields} + 2;  // + start line, blank line
        if (header_lines_ > max_lines) return header_too_many_fields();
        if (header_bytes_ > sh_->opts.header_limit ||
            (ec == http::error::need_more && header_bytes_ + buffer_.size() >= sh_->opts.header_limit))
          return on_parse_error(http::error::header_limit);
      }
      if (ec == http::error::need_more) break;
      if (ec) return on_parse_error(ec);
      if (!had_header && parser_->is_header_done()) {
        const auto length = parser_->content_length();
        if (length && !reserve_body(static_cast<std::size_t>(*length))) return refuse_busy();
        parser_->eager(true);
        arm(sh_->opts.body_timeout);
        if (!parser_->is_done() && beast::iequals(parser_->get()[http::field::expect], "100-continue")) {
          return write_continue();
        }
      } else if (had_header && !parser_->content_length()) {
        // A chunked body: reserved as it grows.
        const std::size_t have = parser_->get().body().capacity();
        if (have > reserved_ && !reserve_body(have - reserved_)) return refuse_busy();
      }
      if (used == 0) break;
    }
    if (parser_->is_done()) return handle();
    read_some();
  }

  // The header bytes the parser consumed, and their lines.
  void count_header(std::size_t used) {
    header_bytes_ += used;
    const char* p = static_cast<const char*>(buffer_.data().data());
    header_lines_ += static_cast<std::size_t>(std::count(p, p + used, '\n'));
  }

  void header_too_many_fields() {
    send_error(431, "request header has too many fields: the limit is " + std::to_string(sh_->opts.max_header_fields));
  }

  bool reserve_body(std::size_t n) {
    if (n == 0) return true;
    if (!sh_->reserve_body(n)) return false;
    reserved_ += n;
    return true;
  }

  void release_body() {
    if (reserved_ == 0) return;
    sh_->release_body(reserved_);
    reserved_ = 0;
  }

  // The server-wide body budget is spent: 503 with Retry-After, before the body is read.
  void refuse_busy() {
    if (sh_->metrics != nullptr) sh_->metrics->http_body_budget_refusals.Increment();
    send_error(503, "server busy: too many request bytes are being received; retry shortly",
               {{"Retry-After", std::to_string(sh_->opts.busy_retry_after.count())}});
  }

  void on_parse_error(beast::error_code ec) {
    if (ec == http::error::body_limit) {
      return send_error(413, "request body too large: the limit is " + std::to_string(body_limit_) + " bytes");
    }
    if (ec == http::error::header_limit) {
      return send_error(431,
                        "request header too large: the limit is " + std::to_string(sh_->opts.header_limit) + " bytes");
    }
    send_error(400, "malformed HTTP request: " + ec.message());
  }

  void write_continue() {
    out_ = parser_->get().version() == 10 ? "HTTP/1.0 100 Continue\r\n\r\n" : "HTTP/1.1 100 Continue\r\n\r\n";
    arm(sh_->opts.write_timeout);
    with_stream([&](auto& s) { net::async_write(s, net::buffer(out_), bound(&Session::on_continue_written)); });
  }

  void on_continue_written(beast::error_code ec, std::size_t) {
    if (ec) return close();
    arm(sh_->opts.body_timeout);
    if (buffer_.size() > 0) return parse();
    read_some();
  }

  void handle() {
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

    const std::uint64_t id = g_request_ids.fetch_add(1, std::memory_order_relaxed) + 1;
    request_id_ = id;
    responded_ = false;
    arm(sh_->opts.handler_timeout);

    // Inline (on this thread, while the handler runs): kept and written when the handler
    // returns. Later, from any thread: posted to the io_context, holding only a weak reference,
    // so that a late answer after the connection is gone touches nothing.
    Respond respond = [self = this, weak = weak_from_this(), sh = sh_, ex = sock_ex_, id](Response r) {
      if (t_inline_request == id) {
        if (!self->inline_) self->inline_.emplace(std::move(r));
        return;
      }
      std::lock_guard lock(sh->gate_mu);
      if (!sh->gate_open) return;
      net::post(ex, [weak, id, r = std::move(r)]() mutable {
        if (auto s = weak.lock()) {
          std::lock_guard session_lock(s->mu_);
          s->on_response(id, std::move(r));
        }
      });
    };
    const std::uint64_t outer = t_inline_request;
    t_inline_request = id;
    try {
      (*handler_)(std::move(req), std::move(respond));
    } catch (const std::exception& e) {
      sh_->opts.log.error("request handler failed", {{"error", e.what()}});
      if (!inline_) inline_.emplace(text_response(500, "internal error while handling the request"));
    }
    t_inline_request = outer;
    if (inline_) {
      Response r = std::move(*inline_);
      inline_.reset();
      return on_response(id, std::move(r));
    }
    // Nothing is pending on the socket while the answer is awaited: the connection holds
    // itself until the answer, the handler timeout or the server's end.
    if (!responded_) hold_ = shared_from_this();
  }

  void on_response(std::uint64_t id, Response r) {
    if (id != request_id_ || responded_) return;
    responded_ = true;
    auto keep = std::move(hold_);  // the caller holds the connection too
    write_response(std::move(r));
  }

  // The whole response (status line, header, body) in one buffer: one TLS record, one send.
  void write_response(Response r) {
    state_ = State::kWriting;
    release_body();  // the request is done with
    keep_after_write_ = keep_alive_ && !r.close && !sh_->stopping.load();
    const auto status = static_cast<unsigned>(r.status);
    out_.clear();
    out_.reserve(160 + r.content_type.size() + (head_ ? 0 : r.body.size()));
    out_ += version_ == 10 ? "HTTP/1.0 " : "HTTP/1.1 ";
    out_ += std::to_string(status);
    out_ += ' ';
    auto reason = http::obsolete_reason(http::int_to_status(status));
    out_.append(reason.data(), reason.size());
    out_ += "\r\nContent-Type: ";
    out_ += r.content_type;
    out_ += "\r\n";
    for (const auto& [k, v] : r.headers) {
      if (k.find_first_of("\r\n:") != std::string::npos || v.find_first_of("\r\n") != std::string::npos) continue;
      out_ += k;
      out_ += ": ";
      out_ += v;
      out_ += "\r\n";
    }
    out_ += "Content-Length: ";
    out_ += std::to_string(r.body.size());
    if (!keep_after_write_)
      out_ += "\r\nConnection: close";
    else if (version_ == 10)
      out_ += "\r\nConnection: keep-alive";
    out_ += "\r\n\r\n";
    if (!head_) out_ += r.body;
    sh_->count_status(status);
    arm(sh_->opts.write_timeout);
    with_stream([&](auto& s) { net::async_write(s, net::buffer(out_), bound(&Session::on_write)); });
  }

  void on_write(beast::error_code ec, std::size_t) {
    if (ec) return close();
    head_ = false;
    if (out_.capacity() > kKeepOutput) std::string().swap(out_);
    if (linger_) return drain_then_close();
    if (!keep_after_write_) return shutdown();
    read_next();
  }

  // After an error answered before the body was read (413), read and discard what the
  // client is still sending for a bounded while, so it can read the answer instead of
  // getting a reset (as Go's net/http does).
  void drain_then_close() {
    state_ = State::kClosing;
    arm(std::min<std::chrono::milliseconds>(sh_->opts.write_timeout, std::chrono::seconds(1)));
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

  void send_error(int status, std::string message, std::vector<std::pair<std::string, std::string>> headers = {}) {
    parser_.reset();
    keep_alive_ = false;
    linger_ = status == 413 || status == 431 || status == 503;  // the client may still be sending
    responded_ = true;  // no answer can be pending: the request was never handed to the handler
    Response r = text_response(status, std::move(message));
    for (auto& h : headers) r.headers.push_back(std::move(h));
    r.close = true;
    write_response(std::move(r));
  }

  // Orderly end: TLS close_notify (bounded), then close the socket.
  void shutdown() {
    state_ = State::kClosing;
    if (!tls_) {
      beast::error_code ec;
      sock_.shutdown(tcp::socket::shutdown_send, ec);
      return close();
    }
    arm(std::min<std::chrono::milliseconds>(sh_->opts.header_timeout, std::chrono::seconds(2)));
    tls_->async_shutdown([self = shared_from_this()](beast::error_code) {
      std::lock_guard lock(self->mu_);
      self->close();
    });
  }

  void close() {
    state_ = State::kClosing;
    disarm();
    release_body();
    beast::error_code ec;
    auto& sock = lowest();
    if (sock.is_open()) {
      sock.shutdown(tcp::socket::shutdown_both, ec);
      sock.close(ec);
    }
  }

  static constexpr std::size_t kReadChunk = 16 * 1024;
  static constexpr std::size_t kMaxDrain = 8u << 20;
  static constexpr std::size_t kKeepOutput = 64u << 10;

  tcp::socket sock_;
  net::any_io_executor sock_ex_{sock_.get_executor()};
  std::mutex mu_;                      // one handler at a time (see above)
  std::shared_ptr<ssl::context> ctx_;  // outlives tls_
  std::optional<ssl::stream<tcp::socket>> tls_;
  std::shared_ptr<Shared> sh_;
  const bool tls_mode_;
  const Handler* handler_;
  const std::size_t body_limit_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  std::optional<Response> inline_;
  std::shared_ptr<Session> hold_;  // set while an answer is awaited with nothing pending on the socket
  std::string out_;
  std::chrono::steady_clock::time_point deadline_ = std::chrono::steady_clock::time_point::max();
  bool linked_ = false;
  std::uint64_t request_id_ = 0;
  bool responded_ = true;
  bool keep_alive_ = false;
  bool keep_after_write_ = false;
  bool head_ = false;
  bool linger_ = false;
  std::size_t drained_ = 0;
  std::size_t header_bytes_ = 0;  // of the request being read
  std::size_t header_lines_ = 0;
  std::size_t reserved_ = 0;  // this connection's share of the body budget
  unsigned version_ = 11;
  State state_ = State::kIdle;
};

template <class F>
void Shared::for_each_connection(F&& f) {
  std::vector<std::shared_ptr<Session>> all;
  {
    std::lock_guard lock(conns_mu);
    for (Session* s = conns; s != nullptr; s = s->next_)
      if (auto p = s->weak_from_this().lock()) all.push_back(std::move(p));  // null while being destroyed
  }
  for (auto& s : all) f(*s);
}

Result<void> listen_on(tcp::acceptor& acceptor, const std::string& address, std::uint16_t port, const char* what) {
  beast::error_code ec;
  auto where = std::string(what) + " " + (address.find(':') != std::string::npos ? "[" + address + "]" : address) +
               ":" + std::to_string(port);
  auto addr = net::ip::make_address(address.empty() ? "0.0.0.0" : address, ec);
  if (ec) return Error(ErrorKind::kInvalidArgument, "cannot listen on " + where + ": bad address: " + ec.message());
  tcp::endpoint ep(addr, port);
  if (acceptor.open(ep.protocol(), ec); ec)
    return Error(ErrorKind::kNetwork, "cannot open " + where + ": " + ec.message());
  acceptor.set_option(net::socket_base::reuse_address(true), ec);
  if (acceptor.bind(ep, ec); ec) return Error(ErrorKind::kNetwork, "cannot bind " + where + ": " + ec.message());
  if (acceptor.listen(net::socket_base::max_listen_connections, ec); ec)
    return Error(ErrorKind::kNetwork, "cannot listen on " + where + ": " + ec.message());
  return Ok();
}

}  // namespace

// Owned by Server alone; handlers capture `this`: the workers are joined and the io_context
// (declared first, destroyed last) is gone before the rest of the Impl is.
struct Server::Impl {
  std::unique_ptr<net::io_context> ioc;
  net::strand<net::io_context::executor_type> ctl;  // acceptors, timers, signals
  std::shared_ptr<Shared> sh;
  tcp::acceptor acceptor;
  tcp::acceptor metrics_acceptor;
  net::steady_timer reload_timer;
  net::steady_timer drain_timer;
  net::steady_timer delay_timer;
  bool delaying = false;
  net::steady_timer accept_retry_timer;
  net::steady_timer sweep_timer;
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
        delay_timer(ctl),
        accept_retry_timer(ctl),
        sweep_timer(ctl),
        signals(ctl) {}

  ~Impl() {
    // The workers are joined: connections still awaiting an answer let go of themselves, and
    // the rest go with the io_context.
    if (sh) sh->for_each_connection([](Session& s) { s.release(); });
  }

  void accept(tcp::acceptor& a, bool tls) {
    a.async_accept(*ioc, [self = this, &a, tls](beast::error_code ec, tcp::socket s) {
      if (ec == net::error::operation_aborted || !a.is_open() || self->sh->stopping.load()) return;
      if (ec) {
        // Out of descriptors or similar: log and retry shortly instead of spinning.
        self->sh->opts.log.warn("accept failed", {{"error", ec.message()}});
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

  // Timeouts are deadlines: one timer checks every connection a few times per smallest
  // timeout, instead of a timer armed and cancelled around every socket operation.
  void schedule_sweep() {
    sweep_timer.expires_after(sh->tick);
    sweep_timer.async_wait([this](beast::error_code ec) {
      if (ec) return;
      const auto now = std::chrono::steady_clock::now();
      sh->for_each_connection([now](Session& s) { s.check_deadline(now); });
      schedule_sweep();
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
      const std::string name = sig == SIGTERM ? "SIGTERM" : "SIGINT";
      const auto delay = self->sh->opts.shutdown_delay;
      if (self->delaying || delay.count() <= 0) {
        self->sh->opts.log.info("received " + name + "; stopping gracefully");
        return self->begin_stop();
      }
      // Kubernetes removes a terminating pod from the Service's endpoints asynchronously: keep
      // answering for the delay, with /readyz failing, so requests routed meanwhile get answers.
      self->delaying = true;
      self->sh->opts.log.info("received " + name + "; draining: /readyz fails, requests are answered for " +
                              std::to_string(delay.count()) + " ms, then a graceful stop (a second signal stops now)");
      if (self->sh->opts.on_draining) self->sh->opts.on_draining();
      self->delay_timer.expires_after(delay);
      self->delay_timer.async_wait([self](beast::error_code e) {
        if (e) return;
        self->sh->opts.log.info("drain delay over; stopping gracefully");
        self->begin_stop();
      });
      self->wait_signal();
    });
  }

  void begin_stop() {
    if (sh->stopping.exchange(true)) return;
    beast::error_code ec;
    acceptor.close(ec);
    metrics_acceptor.close(ec);
    reload_timer.cancel();
    delay_timer.cancel();
    accept_retry_timer.cancel();
    signals.cancel(ec);
    sh->for_each_connection([](Session& s) { s.on_server_stop(); });
    drain_deadline = std::chrono::steady_clock::now() + sh->opts.shutdown_grace;
    drain_tick();
  }

  void drain_tick() {
    const int left = sh->active.load();
    if (left == 0 || std::chrono::steady_clock::now() >= drain_deadline) {
      if (left > 0) sh->opts.log.warn("shutdown grace expired", {{"open_connections", left}});
      sweep_timer.cancel();
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
  {
    // Deadlines are checked a few times per smallest timeout (5 ms .. 250 ms).
    auto smallest = std::min({sh->opts.header_timeout, sh->opts.idle_timeout, sh->opts.body_timeout,
                              sh->opts.write_timeout, sh->opts.handler_timeout});
    sh->tick = std::clamp<std::chrono::milliseconds>(smallest / 4, std::chrono::milliseconds(5),
                                                     std::chrono::milliseconds(250));
  }
  sh->metrics_handler = make_metrics_handler(metrics);
  sh->metrics = &metrics;
  auto reloader = CertReloader::create(sh->opts.cert_file, sh->opts.key_file, &metrics, log::Logger("tls"));
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
      if (ec) im.sh->opts.log.warn("cannot handle signal " + std::to_string(sig), {{"error", ec.message()}});
    }
  }
  net::dispatch(im.ctl, [self = impl_.get()] {
    self->accept(self->acceptor, true);
    if (self->metrics_acceptor.is_open()) self->accept(self->metrics_acceptor, false);
    self->schedule_reload();
    if (self->sh->opts.handle_signals) self->wait_signal();
  });
  net::dispatch(im.ctl, [self = impl_.get()] { self->schedule_sweep(); });
  for (unsigned i = 0; i < im.sh->opts.threads; ++i) {
    im.threads.emplace_back([ioc = im.ioc.get(), sh = im.sh] {
      for (;;) {
        try {
          ioc->run();
          return;
        } catch (const std::exception& e) { sh->opts.log.error("worker caught an exception", {{"error", e.what()}}); }
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
