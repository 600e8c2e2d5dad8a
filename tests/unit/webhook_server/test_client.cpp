#include "test_client.h"

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <cctype>
#include <functional>
#include <vector>
#include <stdexcept>

namespace scangate::test {

namespace net = boost::asio;
namespace ssl = boost::asio::ssl;
namespace beast = boost::beast;
namespace http = boost::beast::http;
using tcp = boost::asio::ip::tcp;

namespace {

// Runs the io_context until the started operation completes; throws on error.
void run(net::io_context& ioc) {
  ioc.restart();
  ioc.run();
}

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

HttpReply to_reply(http::response<http::string_body>& res) {
  HttpReply r;
  r.status = static_cast<int>(res.result_int());
  for (const auto& f : res) r.headers[lower(std::string(f.name_string()))] = std::string(f.value());
  r.body = res.body();
  r.keep_alive = res.keep_alive();
  return r;
}

}  // namespace

struct HttpsClient::Impl {
  net::io_context ioc;
  ssl::context ctx{ssl::context::tls_client};
  std::unique_ptr<beast::ssl_stream<beast::tcp_stream>> stream;
  beast::flat_buffer buffer;
  std::chrono::milliseconds timeout{5000};

  beast::tcp_stream& tcp() { return beast::get_lowest_layer(*stream); }
};

HttpsClient::HttpsClient(std::uint16_t port, const TlsClientOptions& o) : impl_(std::make_unique<Impl>()) {
  auto& im = *impl_;
  im.timeout = o.timeout;
  im.ctx.add_certificate_authority(net::buffer(o.ca_pem));
  im.ctx.set_verify_mode(ssl::verify_peer);
  if (o.max_tls_version != 0) {
    SSL_CTX_set_security_level(im.ctx.native_handle(), 0);
    SSL_CTX_set_min_proto_version(im.ctx.native_handle(), TLS1_VERSION);
    SSL_CTX_set_max_proto_version(im.ctx.native_handle(), o.max_tls_version);
    SSL_CTX_set_cipher_list(im.ctx.native_handle(), "DEFAULT:@SECLEVEL=0");
  }
  im.stream = std::make_unique<beast::ssl_stream<beast::tcp_stream>>(im.ioc, im.ctx);
  X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(im.stream->native_handle()), "127.0.0.1");

  beast::error_code ec;
  if (o.recv_buffer > 0) {
    im.tcp().socket().open(tcp::v4());
    im.tcp().socket().set_option(net::socket_base::receive_buffer_size(o.recv_buffer));
  }
  im.tcp().expires_after(im.timeout);
  im.tcp().async_connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), port), [&](beast::error_code e) { ec = e; });
  run(im.ioc);
  if (ec) throw std::runtime_error("connect: " + ec.message());
  im.tcp().expires_after(im.timeout);
  im.stream->async_handshake(ssl::stream_base::client, [&](beast::error_code e) { ec = e; });
  run(im.ioc);
  if (ec) throw std::runtime_error("TLS handshake: " + ec.message());
}

HttpsClient::~HttpsClient() = default;

void HttpsClient::send_raw(const std::string& bytes) {
  auto& im = *impl_;
  beast::error_code ec;
  im.tcp().expires_after(im.timeout);
  net::async_write(*im.stream, net::buffer(bytes), [&](beast::error_code e, std::size_t) { ec = e; });
  run(im.ioc);
  if (ec) throw std::runtime_error("write: " + ec.message());
}

HttpReply HttpsClient::read_reply() {
  auto& im = *impl_;
  beast::error_code ec;
  http::response_parser<http::string_body> parser;
  parser.body_limit(64u << 20);
  im.tcp().expires_after(im.timeout);
  http::async_read(*im.stream, im.buffer, parser, [&](beast::error_code e, std::size_t) { ec = e; });
  run(im.ioc);
  if (ec) throw std::runtime_error("read: " + ec.message());
  return to_reply(parser.get());
}

HttpReply HttpsClient::request(const std::string& method, const std::string& target, const std::string& body,
                               const std::string& content_type,
                               const std::vector<std::pair<std::string, std::string>>& extra_headers) {
  auto& im = *impl_;
  http::request<http::string_body> req;
  req.method_string(method);
  req.target(target);
  req.version(11);
  req.set(http::field::host, "127.0.0.1");
  if (!content_type.empty()) req.set(http::field::content_type, content_type);
  for (const auto& [k, v] : extra_headers) req.set(k, v);
  req.body() = body;
  req.keep_alive(true);
  req.prepare_payload();
  beast::error_code ec;
  im.tcp().expires_after(im.timeout);
  http::async_write(*im.stream, req, [&](beast::error_code e, std::size_t) { ec = e; });
  run(im.ioc);
  if (ec) throw std::runtime_error("write: " + ec.message());
  return read_reply();
}

bool HttpsClient::closed_within(std::chrono::milliseconds wait) {
  auto& im = *impl_;
  beast::error_code ec;
  char byte;
  im.tcp().expires_after(wait);
  im.stream->async_read_some(net::buffer(&byte, 1), [&](beast::error_code e, std::size_t) { ec = e; });
  run(im.ioc);
  return ec && ec != beast::error::timeout;
}

std::size_t HttpsClient::drain(std::chrono::milliseconds wait, bool* closed) {
  auto& im = *impl_;
  std::size_t total = im.buffer.size();
  im.buffer.consume(im.buffer.size());
  std::vector<char> chunk(64 * 1024);
  beast::error_code ec;
  im.tcp().expires_after(wait);
  std::function<void(beast::error_code, std::size_t)> on_read = [&](beast::error_code e, std::size_t n) {
    total += n;
    ec = e;
    if (!e) im.stream->async_read_some(net::buffer(chunk), on_read);
  };
  im.stream->async_read_some(net::buffer(chunk), on_read);
  run(im.ioc);
  *closed = ec && ec != beast::error::timeout;
  return total;
}

long HttpsClient::peer_serial() const {
  X509* cert = SSL_get1_peer_certificate(impl_->stream->native_handle());
  if (cert == nullptr) return -1;
  long serial = ASN1_INTEGER_get(X509_get_serialNumber(cert));
  X509_free(cert);
  return serial;
}

std::string tcp_exchange(std::uint16_t port, const std::string& bytes, std::chrono::milliseconds wait, bool* closed) {
  net::io_context ioc;
  beast::tcp_stream s(ioc);
  beast::error_code ec;
  s.expires_after(wait);
  s.async_connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), port), [&](beast::error_code e) { ec = e; });
  run(ioc);
  if (ec) throw std::runtime_error("connect: " + ec.message());
  if (!bytes.empty()) {
    net::async_write(s, net::buffer(bytes), [&](beast::error_code e, std::size_t) { ec = e; });
    run(ioc);
    if (ec) throw std::runtime_error("write: " + ec.message());
  }
  std::string out;
  char buf[4096];
  bool got_close = false;
  s.expires_after(wait);
  for (;;) {
    std::size_t n = 0;
    s.async_read_some(net::buffer(buf), [&](beast::error_code e, std::size_t k) {
      ec = e;
      n = k;
    });
    run(ioc);
    out.append(buf, n);
    if (ec) {
      got_close = ec != beast::error::timeout;
      break;
    }
  }
  if (closed != nullptr) *closed = got_close;
  return out;
}

HttpReply http_get(std::uint16_t port, const std::string& target) {
  net::io_context ioc;
  beast::tcp_stream s(ioc);
  beast::error_code ec;
  s.expires_after(std::chrono::seconds(5));
  s.async_connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), port), [&](beast::error_code e) { ec = e; });
  run(ioc);
  if (ec) throw std::runtime_error("connect: " + ec.message());
  http::request<http::empty_body> req{http::verb::get, target, 11};
  req.set(http::field::host, "127.0.0.1");
  http::async_write(s, req, [&](beast::error_code e, std::size_t) { ec = e; });
  run(ioc);
  if (ec) throw std::runtime_error("write: " + ec.message());
  beast::flat_buffer buffer;
  http::response<http::string_body> res;
  http::async_read(s, buffer, res, [&](beast::error_code e, std::size_t) { ec = e; });
  run(ioc);
  if (ec) throw std::runtime_error("read: " + ec.message());
  return to_reply(res);
}

}  // namespace scangate::test
