// Loopback servers for the HTTP client tests: httplib servers (plain or TLS) on 127.0.0.1 or
// 127.0.0.2 that record what they saw and which TCP connections carried it, a server that accepts
// and never answers, and a throw-away PKI made with the openssl tool.
#pragma once

#include <httplib.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>
#include <arpa/inet.h>

#include <atomic>
#include <chrono>
#include <fstream>
#include <functional>
#include <memory>
#include <mutex>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "support/process.h"
#include "support/test_support.h"

namespace scangate::test::net {

// A CA and a server certificate valid for 127.0.0.1, 127.0.0.2 and localhost.
struct Pki {
  std::string dir, ca_cert, server_cert, server_key;
};

inline void openssl(const std::vector<std::string>& args) {
  std::vector<std::string> argv = {"/usr/bin/openssl"};
  argv.insert(argv.end(), args.begin(), args.end());
  auto r = run_process(argv);
  if (r.exit_code != 0) throw std::runtime_error("openssl " + args[0] + " failed: " + r.err);
}

inline const Pki& pki() {
  static const Pki made = [] {
    Pki p;
    p.dir = make_temp_dir("sg-net-pki");
    p.ca_cert = p.dir + "/ca.pem";
    p.server_cert = p.dir + "/server.pem";
    p.server_key = p.dir + "/server.key";
    const std::string ca_key = p.dir + "/ca.key", csr = p.dir + "/server.csr", ext = p.dir + "/ext.cnf";
    openssl({"req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", ca_key,
             "-out", p.ca_cert, "-days", "2", "-subj", "/CN=scangate net test CA", "-addext",
             "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign"});
    openssl({"req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", p.server_key,
             "-out", csr, "-subj", "/CN=127.0.0.1"});
    std::ofstream(ext) << "subjectAltName=IP:127.0.0.1,IP:127.0.0.2,DNS:localhost\nbasicConstraints=CA:FALSE\n"
                          "extendedKeyUsage=serverAuth\n";
    openssl({"x509", "-req", "-in", csr, "-CA", p.ca_cert, "-CAkey", ca_key, "-CAcreateserial", "-out", p.server_cert,
             "-days", "2", "-extfile", ext});
    return p;
  }();
  return made;
}

// What a server saw of one request.
struct Seen {
  std::string method, path, target;
  httplib::Headers headers;
  std::string connection;  // remote address:port: one value per TCP connection
  bool has(const std::string& name) const { return headers.find(name) != headers.end(); }
  std::string header(const std::string& name) const {
    auto it = headers.find(name);
    return it == headers.end() ? std::string() : it->second;
  }
};

class Server {
 public:
  explicit Server(const std::string& address = "127.0.0.1", bool tls = false) : address_(address), tls_(tls) {
    if (tls)
      svr_ = std::make_unique<httplib::SSLServer>(pki().server_cert.c_str(), pki().server_key.c_str());
    else
      svr_ = std::make_unique<httplib::Server>();
    svr_->set_keep_alive_max_count(1000);
    svr_->set_pre_routing_handler([this](const httplib::Request& req, httplib::Response&) {
      Seen s;
      s.method = req.method;
      s.path = req.path;
      s.target = req.target;
      s.headers = req.headers;
      s.connection = req.remote_addr + ":" + std::to_string(req.remote_port);
      std::lock_guard<std::mutex> l(mu_);
      seen_.push_back(std::move(s));
      return httplib::Server::HandlerResponse::Unhandled;
    });
  }
  ~Server() { stop(); }

  httplib::Server& http() { return *svr_; }
  // Call after the routes are set.
  void start() {
    port_ = svr_->bind_to_any_port(address_);
    if (port_ <= 0) throw std::runtime_error("cannot bind " + address_);
    th_ = std::thread([this] { svr_->listen_after_bind(); });
    while (!svr_->is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  void stop() {
    if (th_.joinable()) {
      svr_->stop();
      th_.join();
    }
  }
  int port() const { return port_; }
  std::string origin() const {
    return std::string(tls_ ? "https" : "http") + "://" + address_ + ":" + std::to_string(port_);
  }
  std::string url(const std::string& path) const { return origin() + path; }

  std::vector<Seen> seen() const {
    std::lock_guard<std::mutex> l(mu_);
    return seen_;
  }
  size_t connections() const {
    std::set<std::string> c;
    for (const auto& s : seen()) c.insert(s.connection);
    return c.size();
  }

 private:
  std::string address_;
  bool tls_;
  std::unique_ptr<httplib::Server> svr_;
  int port_ = 0;
  std::thread th_;
  mutable std::mutex mu_;
  std::vector<Seen> seen_;
};

// Accepts connections on 127.0.0.1 and never reads or writes: a hung server.
class SilentServer {
 public:
  SilentServer() {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    if (fd_ < 0 || ::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || ::listen(fd_, 16) != 0 ||
        ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len) != 0)
      throw std::runtime_error("cannot listen on 127.0.0.1");
    port_ = ntohs(a.sin_port);
    th_ = std::thread([this] {
      while (!stop_) {
        pollfd p{fd_, POLLIN, 0};
        if (::poll(&p, 1, 20) > 0) {
          int c = ::accept(fd_, nullptr, nullptr);
          if (c >= 0) {
            std::lock_guard<std::mutex> l(mu_);
            accepted_.push_back(c);
          }
        }
      }
    });
  }
  ~SilentServer() {
    stop_ = true;
    th_.join();
    for (int c : accepted_) ::close(c);
    ::close(fd_);
  }
  int port() const { return port_; }
  size_t accepted() {
    std::lock_guard<std::mutex> l(mu_);
    return accepted_.size();
  }

 private:
  int fd_ = -1, port_ = 0;
  std::atomic<bool> stop_{false};
  std::thread th_;
  std::mutex mu_;
  std::vector<int> accepted_;
};

// A hand-written server on 127.0.0.1 for misbehaviour httplib cannot produce: each connection gets
// its own thread, which reads request heads (requests without bodies) and calls the handler with
// the socket and the head; the handler writes the answer itself and returns false to close.
class RawServer {
 public:
  using Handler = std::function<bool(int fd, const std::string& head)>;

  explicit RawServer(Handler handler) : handler_(std::move(handler)) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    if (fd_ < 0 || ::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || ::listen(fd_, 16) != 0 ||
        ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len) != 0)
      throw std::runtime_error("cannot listen on 127.0.0.1");
    port_ = ntohs(a.sin_port);
    th_ = std::thread([this] {
      while (!stop_) {
        pollfd p{fd_, POLLIN, 0};
        if (::poll(&p, 1, 20) <= 0) continue;
        int c = ::accept(fd_, nullptr, nullptr);
        if (c < 0) continue;
        std::lock_guard<std::mutex> l(mu_);
        conns_.push_back(c);
        workers_.emplace_back([this, c] { serve(c); });
      }
    });
  }
  ~RawServer() {
    stop_ = true;
    th_.join();
    {
      std::lock_guard<std::mutex> l(mu_);
      for (int c : conns_) ::shutdown(c, SHUT_RDWR);
    }
    for (auto& w : workers_) w.join();
    for (int c : conns_) ::close(c);
    ::close(fd_);
  }
  int port() const { return port_; }
  std::string url(const std::string& path) const { return "http://127.0.0.1:" + std::to_string(port_) + path; }
  size_t accepted() {
    std::lock_guard<std::mutex> l(mu_);
    return conns_.size();
  }

  // Writes all of `data`; false when the peer is gone.
  static bool send_all(int fd, const std::string& data) {
    size_t off = 0;
    while (off < data.size()) {
      ssize_t n = ::send(fd, data.data() + off, data.size() - off, MSG_NOSIGNAL);
      if (n <= 0) return false;
      off += static_cast<size_t>(n);
    }
    return true;
  }
  // Writes `data` one byte every `every`; false when the peer is gone (or the server stopped: its
  // destructor shuts the connections down).
  static bool drip(int fd, const std::string& data, std::chrono::milliseconds every) {
    for (char ch : data) {
      if (!send_all(fd, std::string(1, ch))) return false;
      std::this_thread::sleep_for(every);
    }
    return true;
  }

 private:
  void serve(int c) {
    std::string buf;
    char tmp[4096];
    while (!stop_) {
      auto end = buf.find("\r\n\r\n");
      if (end != std::string::npos) {
        std::string head = buf.substr(0, end + 4);
        buf.erase(0, end + 4);
        if (!handler_(c, head)) break;
        continue;
      }
      pollfd p{c, POLLIN, 0};
      if (::poll(&p, 1, 20) <= 0) continue;
      ssize_t n = ::recv(c, tmp, sizeof tmp, 0);
      if (n <= 0) break;
      buf.append(tmp, static_cast<size_t>(n));
    }
    ::shutdown(c, SHUT_RDWR);
  }

  Handler handler_;
  int fd_ = -1, port_ = 0;
  std::atomic<bool> stop_{false};
  std::thread th_;
  std::mutex mu_;
  std::vector<int> conns_;
  std::vector<std::thread> workers_;
};

// A port on 127.0.0.1 where nothing listens (bound, never listened on, closed).
inline int unused_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) != 0)
    throw std::runtime_error("cannot bind 127.0.0.1");
  ::close(fd);
  return ntohs(a.sin_port);
}

}  // namespace scangate::test::net
