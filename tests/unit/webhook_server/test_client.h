// Blocking test clients for the server tests, with a timeout on every operation: an HTTPS
// client (CA-verified, optionally capped at an old TLS version) and raw TCP helpers.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace scangate::test {

struct HttpReply {
  int status = 0;
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;
  bool keep_alive = false;
};

struct TlsClientOptions {
  std::string ca_pem;       // trust anchor
  int max_tls_version = 0;  // e.g. TLS1_1_VERSION; 0: library default (1.2 and 1.3)
  std::chrono::milliseconds timeout{5000};
  int recv_buffer = 0;  // SO_RCVBUF set before connecting (a client that reads slowly); 0: default
};

class HttpsClient {
 public:
  // Connects to 127.0.0.1:port and completes the TLS handshake; throws with the TLS error.
  HttpsClient(std::uint16_t port, const TlsClientOptions& options);
  ~HttpsClient();

  HttpReply request(const std::string& method, const std::string& target, const std::string& body = "",
                    const std::string& content_type = "application/json",
                    const std::vector<std::pair<std::string, std::string>>& extra_headers = {});
  // Sends raw bytes over TLS / reads one response.
  void send_raw(const std::string& bytes);
  HttpReply read_reply();
  // True when the server closes the connection (EOF, reset, TLS close) within `wait`.
  bool closed_within(std::chrono::milliseconds wait);
  // Reads and discards until the server closes the connection or `wait` passes; returns the
  // bytes read, and sets *closed when the connection was closed.
  std::size_t drain(std::chrono::milliseconds wait, bool* closed);
  long peer_serial() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Plain TCP: connects, sends `bytes`, and returns everything read until the server closes
// (or `wait` passes). Sets *closed when the server closed the connection.
std::string tcp_exchange(std::uint16_t port, const std::string& bytes, std::chrono::milliseconds wait,
                         bool* closed = nullptr);

// Plain HTTP/1.1 GET over TCP (the metrics listener).
HttpReply http_get(std::uint16_t port, const std::string& target);

}  // namespace scangate::test
