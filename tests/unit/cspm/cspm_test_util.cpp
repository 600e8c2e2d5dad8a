#include "cspm_test_util.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <nlohmann/json.hpp>
#include <stdexcept>

#include "support/process.h"
#include "support/test_support.h"
#include "scanner/core/fs_util.h"

namespace scangate::cspm::test {

namespace {

void openssl(const std::vector<std::string>& args) {
  std::vector<std::string> argv = {"/usr/bin/openssl"};
  argv.insert(argv.end(), args.begin(), args.end());
  auto r = scangate::test::run_process(argv);
  if (r.exit_code != 0) throw std::runtime_error("openssl " + args[0] + " failed: " + r.err);
}

TestPki make_pki() {
  TestPki p;
  p.dir = scangate::test::make_temp_dir("sg-cspm-pki");
  p.ca_cert = p.dir + "/ca.pem";
  p.server_cert = p.dir + "/server.pem";
  p.server_key = p.dir + "/server.key";
  std::string ca_key = p.dir + "/ca.key", csr = p.dir + "/server.csr", ext = p.dir + "/ext.cnf";
  openssl({"req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", ca_key,
           "-out", p.ca_cert, "-days", "2", "-subj", "/CN=scangate test CA", "-addext",
           "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign"});
  openssl({"req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", p.server_key,
           "-out", csr, "-subj", "/CN=127.0.0.1"});
  {
    std::ofstream e(ext);
    e << "subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n";
  }
  openssl({"x509", "-req", "-in", csr, "-CA", p.ca_cert, "-CAkey", ca_key, "-CAcreateserial", "-out", p.server_cert,
           "-days", "2", "-extfile", ext});
  return p;
}

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

}  // namespace

const TestPki& test_pki() {
  static const TestPki pki = make_pki();  // one per test process; read-only afterwards
  return pki;
}

std::string SeenRequest::header(const std::string& name) const {
  for (const auto& [k, v] : headers)
    if (lower(k) == lower(name)) return v;
  return "";
}

ScriptedServer::ScriptedServer(Handler handler, bool tls) : tls_(tls), handler_(std::move(handler)) {
  if (tls) {
    const auto& pki = test_pki();
    server_ = std::make_unique<httplib::SSLServer>(pki.server_cert.c_str(), pki.server_key.c_str());
  } else {
    server_ = std::make_unique<httplib::Server>();
  }
  if (!server_->is_valid()) throw std::runtime_error("test server: invalid TLS setup");
  auto record = [this](const httplib::Request& req, httplib::Response& res) {
    SeenRequest s;
    s.method = req.method;
    s.path = req.path;
    s.target = req.target;
    s.body = req.body;
    s.params = req.params;
    for (const auto& [k, v] : req.headers) s.headers[k] = v;
    for (const auto& [k, v] : req.files) s.form[k] = v;
    int index;
    {
      std::lock_guard<std::mutex> lock(mu_);
      index = static_cast<int>(seen_.size());
      seen_.push_back(std::move(s));
    }
    handler_(index, req, res);
  };
  server_->Post(".*", record);
  server_->set_read_timeout(std::chrono::seconds(5));
  port_ = server_->bind_to_any_port("127.0.0.1");
  if (port_ <= 0) throw std::runtime_error("test server: cannot bind");
  thread_ = std::thread([this] { server_->listen_after_bind(); });
  for (int i = 0; i < 5000 && !server_->is_running(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  if (!server_->is_running()) throw std::runtime_error("test server: did not start");
}

ScriptedServer::~ScriptedServer() {
  server_->stop();
  if (thread_.joinable()) thread_.join();
}

std::string ScriptedServer::url() const {
  return std::string(tls_ ? "https" : "http") + "://127.0.0.1:" + std::to_string(port_);
}

std::vector<SeenRequest> ScriptedServer::requests() const {
  std::lock_guard<std::mutex> lock(mu_);
  return seen_;
}

size_t ScriptedServer::count() const {
  std::lock_guard<std::mutex> lock(mu_);
  return seen_.size();
}

std::vector<std::string> CapturedLog::lines() const {
  std::vector<std::string> out;
  for (const auto& line : capture_.lines()) {
    auto j = nlohmann::json::parse(line);
    auto level = log::parse_level(j.at("level").get<std::string>());
    if (!level) throw std::runtime_error("a log line without a level: " + line);
    out.push_back(std::string(cspm::to_string(*level)) + ": " + j.at("msg").get<std::string>());
  }
  return out;
}

std::string CapturedLog::all() const {
  std::string out;
  for (const auto& l : lines()) out += l + "\n";
  return out;
}

UploaderDeps fake_deps(FakeTime& t, Logger log, double r) {
  UploaderDeps d;
  d.now = [&t] { return t.now; };
  d.sleep = [&t](std::chrono::milliseconds ms) {
    t.sleeps.push_back(ms);
    t.now += ms;
    if (t.on_sleep) t.on_sleep(static_cast<int>(t.sleeps.size()));
  };
  d.random = [r] { return r; };
  d.log = std::move(log);
  return d;
}

int unused_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = 0;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) throw std::runtime_error("bind failed");
  socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  ::close(fd);
  return ntohs(a.sin_port);
}

std::vector<std::string> files_in(const std::string& dir) {
  auto names = fs::list_dir(dir);
  if (!names.ok()) throw std::runtime_error(names.error().message);
  std::vector<std::string> out = *names;
  std::sort(out.begin(), out.end());
  return out;
}

std::string sample_report() {
  return scangate::test::read_file(scangate::test::testdata("reports/trivy_alpine-310.json.golden"));
}

std::string sample_report_2() {
  return scangate::test::read_file(scangate::test::testdata("reports/trivy_debian-buster.json.golden"));
}

}  // namespace scangate::cspm::test
