// Helpers for the CSPM tests: a scripted HTTP(S) server on loopback, a test PKI made with the real
// openssl tool, a captured log, a fake clock.
#pragma once

#include <httplib.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "scanner/cspm/log.h"
#include "scanner/cspm/uploader.h"

namespace scangate::cspm::test {

// A CA and a server certificate for 127.0.0.1 and localhost, in a fresh temp directory.
struct TestPki {
  std::string dir;
  std::string ca_cert;      // PEM file
  std::string server_cert;  // PEM file, signed by the CA
  std::string server_key;   // PEM file
};
const TestPki& test_pki();  // made once per test process

// What the fake server saw of one request.
struct SeenRequest {
  std::string method, path, target, body;  // target: the raw request target, query included
  std::multimap<std::string, std::string> params;
  std::map<std::string, std::string> headers;              // names as sent
  std::map<std::string, httplib::MultipartFormData> form;  // multipart fields
  std::string header(const std::string& name) const;       // case-insensitive; "" when absent
};

// A small httplib server on 127.0.0.1:0 whose POST answers come from `handler`, called with the
// number of the request (0-based). Records every request.
class ScriptedServer {
 public:
  using Handler = std::function<void(int index, const httplib::Request&, httplib::Response&)>;
  explicit ScriptedServer(Handler handler, bool tls = false);
  ~ScriptedServer();
  std::string url() const;
  int port() const { return port_; }
  std::vector<SeenRequest> requests() const;
  size_t count() const;

 private:
  std::unique_ptr<httplib::Server> server_;
  std::thread thread_;
  int port_ = 0;
  bool tls_ = false;
  Handler handler_;
  mutable std::mutex mu_;
  std::vector<SeenRequest> seen_;
};

// While alive, collects what the core logger writes (every component), as "level: message" lines
// (levels as cspm::to_string names them); raw() has the JSON lines as written.
class CapturedLog {
 public:
  Logger logger() const { return Logger("cspm"); }
  std::vector<std::string> lines() const;
  std::string all() const;
  std::vector<std::string> raw() const { return capture_.lines(); }

 private:
  log::Capture capture_{log::Format::kJson};
};

// A clock that only moves when the uploader sleeps; records each sleep.
struct FakeTime {
  std::chrono::steady_clock::time_point now = std::chrono::steady_clock::time_point{} + std::chrono::hours(1);
  std::vector<std::chrono::milliseconds> sleeps;
  std::function<void(int)> on_sleep;  // called with the number of sleeps so far
};
// Deps bound to `t` (which must outlive them); random() returns `r`.
UploaderDeps fake_deps(FakeTime& t, Logger log, double r = 0.5);

// A port on 127.0.0.1 where nothing listens (bound once and released).
int unused_port();

// Every file name in a directory, sorted.
std::vector<std::string> files_in(const std::string& dir);

// The report most tests send: a real Trivy report from the shared test data.
std::string sample_report();
std::string sample_report_2();

}  // namespace scangate::cspm::test
