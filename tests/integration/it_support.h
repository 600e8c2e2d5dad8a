// What the integration tests share: child processes that serve (receiver, webhook), a CA and a
// server certificate generated per test, and the scenario DB built from the real feeds.
#pragma once

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <sstream>
#include <fstream>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include "support/process.h"
#include "support/test_support.h"

namespace scangate::it {

// A directory of one test, removed when it ends.
struct TempDir {
  std::string path;
  explicit TempDir(const std::string& prefix) : path(scangate::test::make_temp_dir(prefix)) {}
  ~TempDir() { std::filesystem::remove_all(path); }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
};

// Polls `pred` every 200 ms until it holds or `limit` has passed; the last answer.
inline bool eventually(const std::function<bool()>& pred, std::chrono::seconds limit = std::chrono::seconds(30)) {
  for (auto until = std::chrono::steady_clock::now() + limit; std::chrono::steady_clock::now() < until;) {
    if (pred()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  return pred();
}

// The revision `scangate db info` prints for a DB file.
inline std::string revision_of(const std::string& db) {
  auto r = scangate::test::run_process({SCANGATE_CLI, "db", "info", "--db", db});
  REQUIRE(r.exit_code == 0);
  auto at = r.out.find("Revision:");
  REQUIRE(at != std::string::npos);
  auto start = r.out.find_first_not_of(' ', at + 9);
  return r.out.substr(start, r.out.find('\n', start) - start);
}

using Json = nlohmann::json;
using scangate::test::run_process;

// Generous: the machine running the tests may be busy compiling.
constexpr auto kStartTimeout = std::chrono::seconds(60);

// A child process (stdout and stderr to `log`), stopped with SIGTERM when this goes away.
struct Child {
  pid_t pid = -1;
  std::string log;

  Child() = default;
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;
  ~Child() { stop(); }

  void spawn(const std::vector<std::string>& argv, const std::string& log_file) {
    log = log_file;
    { std::ofstream create(log, std::ios::app); }  // exists before the first read; restarts append
    pid = fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
      int fd = open(log.c_str(), O_WRONLY | O_APPEND);
      dup2(fd, 2);
      dup2(fd, 1);
      std::vector<char*> args;
      for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
      args.push_back(nullptr);
      execv(args[0], args.data());
      _exit(127);
    }
  }

  bool running() {
    int st = 0;
    if (pid > 0 && waitpid(pid, &st, WNOHANG) == pid) pid = -1;
    return pid > 0;
  }

  void stop() {
    if (pid <= 0) return;
    kill(pid, SIGTERM);
    int st = 0;
    waitpid(pid, &st, 0);
    pid = -1;
  }

  // The groups of the first match of `re` in the log at or after byte `from`, polled until
  // `timeout`; empty when it never shows or the process exits first.
  std::vector<std::string> wait_for(const std::regex& re, std::chrono::seconds timeout, size_t from = 0) {
    auto until = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      std::string text = scangate::test::read_file(log);
      text = from < text.size() ? text.substr(from) : std::string();
      std::smatch m;
      if (std::regex_search(text, m, re)) return {m.begin(), m.end()};
      if (!running() || std::chrono::steady_clock::now() > until) return {};
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  }
};

inline void sh(const std::vector<std::string>& argv) {
  auto r = scangate::test::run_process(argv);
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
}

// A CA (d/ca.pem) and a server certificate for 127.0.0.1 (d/tls.crt, d/tls.key), as
// cert-manager would issue them.
inline void make_certificates(const std::string& d) {
  sh({"/usr/bin/openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", d + "/ca.key", "-out",
      d + "/ca.pem", "-days", "2", "-subj", "/CN=scangate-test-ca"});
  sh({"/usr/bin/openssl", "req", "-newkey", "rsa:2048", "-nodes", "-keyout", d + "/tls.key", "-out", d + "/tls.csr",
      "-subj", "/CN=scangate-test-server"});
  {
    std::ofstream ext(d + "/ext.cnf");
    ext << "subjectAltName=IP:127.0.0.1,DNS:localhost\n";
  }
  sh({"/usr/bin/openssl", "x509", "-req", "-in", d + "/tls.csr", "-CA", d + "/ca.pem", "-CAkey", d + "/ca.key",
      "-CAcreateserial", "-out", d + "/tls.crt", "-days", "2", "-extfile", d + "/ext.cnf"});
}

// The scenario DB (Alpine secdb for the scenario's releases + the scenario's NVD records),
// built once per test process.
inline const std::string& scenario_db() {
  struct TempDir {
    std::string path = scangate::test::make_temp_dir("sg-db");
    ~TempDir() { std::filesystem::remove_all(path); }  // at process exit
  };
  static const TempDir tmp;
  static const std::string path = [] {
    const std::string& dir = tmp.path;
    std::vector<std::string> argv = {SCANGATE_CLI, "db", "build", "--quiet", "--output", dir + "/db.sqlite"};
    for (const char* v : {"3.10", "3.14", "3.15", "3.18", "3.20"}) {
      argv.push_back("--alpine-secdb");
      argv.push_back(scangate::test::testdata(std::string("scenario/secdb/v") + v + "-main.json"));
    }
    argv.push_back("--nvd");
    argv.push_back(scangate::test::testdata("scenario/nvd/nvdcve-2.0-scenario.json"));
    sh(argv);
    return dir + "/db.sqlite";
  }();
  return path;
}

// scangate-webhook with its own CA and certificate (dir/ca.pem), the scenario DB and the fixture's
// registry; ready (GET /readyz 200) when returned. `extra_args` are appended (e.g. --policy).
struct Webhook {
  std::string dir;
  Child proc;
  int https_port = 0, metrics_port = 0;
  int posted = 0;

  ~Webhook() {
    proc.stop();
    if (!dir.empty()) std::filesystem::remove_all(dir);
  }
  std::string log() const { return scangate::test::read_file(proc.log); }
};

inline std::unique_ptr<Webhook> start_webhook(const std::map<std::string, std::string>& env,
                                              const std::vector<std::string>& extra_args = {}) {
  auto w = std::make_unique<Webhook>();
  w->dir = scangate::test::make_temp_dir("sg-webhook");
  const std::string d = w->dir;
  make_certificates(d);

  std::vector<std::string> argv = {SCANGATE_WEBHOOK,  "--listen",
                                   "127.0.0.1:0",     "--metrics-listen",
                                   "127.0.0.1:0",     "--tls-cert-file",
                                   d + "/tls.crt",    "--tls-private-key-file",
                                   d + "/tls.key",    "--db",
                                   scenario_db(),     "--insecure-registry",
                                   env.at("REGISTRY")};
  argv.insert(argv.end(), extra_args.begin(), extra_args.end());
  w->proc.spawn(argv, d + "/webhook.log");
  auto m = w->proc.wait_for(std::regex("https_port=([0-9]+) metrics_port=([0-9]+)"), kStartTimeout);
  INFO(w->log());
  REQUIRE(!m.empty());
  w->https_port = std::stoi(m.at(1));
  w->metrics_port = std::stoi(m.at(2));
  // Ready once the DB and the policy are loaded.
  std::string ready;
  for (auto until = std::chrono::steady_clock::now() + kStartTimeout; std::chrono::steady_clock::now() < until;) {
    auto r = run_process({"/usr/bin/curl", "-s", "--max-time", "10", "-o", "/dev/null", "-w", "%{http_code}",
                          "--cacert", d + "/ca.pem", "https://127.0.0.1:" + std::to_string(w->https_port) + "/readyz"});
    ready = r.out;
    if (ready == "200") break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  REQUIRE(ready == "200");
  return w;
}

struct HttpReply {
  int curl_exit = -1;
  std::string code;  // HTTP status as curl saw it ("000" when there was none)
  std::string body;
};

// POSTs the file `body_file` to the webhook's TLS port.
inline HttpReply post_file(const Webhook& w, const std::string& body_file, const std::string& content_type,
                           const std::string& target = "/validate?timeout=30s") {
  auto r = run_process({"/usr/bin/curl", "-s", "--max-time", "60", "-w", "\n%{http_code}", "--cacert",
                        w.dir + "/ca.pem", "-H", "Content-Type: " + content_type, "--data-binary", "@" + body_file,
                        "https://127.0.0.1:" + std::to_string(w.https_port) + target});
  HttpReply h;
  h.curl_exit = r.exit_code;
  auto nl = r.out.rfind('\n');
  if (nl == std::string::npos) return h;
  h.body = r.out.substr(0, nl);
  h.code = r.out.substr(nl + 1);
  return h;
}

inline HttpReply post_text(Webhook& w, const std::string& body, const std::string& content_type = "application/json") {
  std::string file = w.dir + "/body-" + std::to_string(++w.posted) + ".json";
  {
    std::ofstream f(file, std::ios::binary);
    f << body;
  }
  return post_file(w, file, content_type);
}

// Posts a review; the deadline (?timeout=30s, the API server's maximum) leaves a scan on a busy
// machine plenty of time, so the verdict is never the scan.onPending one.
inline Json post(Webhook& w, const Json& review, std::string* code = nullptr) {
  auto h = post_text(w, review.dump());
  INFO(w.log());
  REQUIRE(h.curl_exit == 0);
  if (code) *code = h.code;
  INFO(h.body);
  return Json::parse(h.body);
}

inline std::string metrics_text(const Webhook& w) {
  auto r = run_process(
      {"/usr/bin/curl", "-s", "--max-time", "30", "http://127.0.0.1:" + std::to_string(w.metrics_port) + "/metrics"});
  REQUIRE(r.exit_code == 0);
  return r.out;
}

// Sum of every sample of a counter family (all label sets) in Prometheus text format.
inline double metric_sum(const std::string& text, const std::string& name) {
  std::istringstream in(text);
  std::string line;
  double sum = 0;
  while (std::getline(in, line)) {
    if (line.rfind(name + "{", 0) != 0 && line.rfind(name + " ", 0) != 0) continue;
    sum += std::stod(line.substr(line.rfind(' ') + 1));
  }
  return sum;
}

// Writes `text` to `path`, creating its directory.
inline void write_file(const std::string& path, const std::string& text) {
  std::filesystem::create_directories(std::filesystem::path(path).parent_path());
  std::ofstream f(path, std::ios::binary);
  f << text;
  REQUIRE(f.good());
}

// tests/chart/fake_kube_apiserver.py (a stand-in, not a Kubernetes API server) with its own CA (dir/api/ca.pem) and the
// token in dir/token.
struct ApiServer {
  std::string dir;
  Child proc;
  int port = 0;
  std::string token = "sg-test-token-0a9f8e7d6c5b4a39";

  // `extra`: more flags for the stand-in (--clusterrole NAME=UID, --objects DIR).
  ApiServer(const std::string& d, const Json& rules, const std::vector<std::string>& extra = {}) : dir(d) {
    std::filesystem::create_directories(dir + "/api");
    make_certificates(dir + "/api");
    write_file(dir + "/token", token + "\n");
    write_file(dir + "/rules.json", rules.dump());
    std::vector<std::string> argv = {"/usr/bin/python3",
                                     std::string(SCANGATE_SOURCE_DIR) + "/tests/chart/fake_kube_apiserver.py",
                                     "--cert",
                                     dir + "/api/tls.crt",
                                     "--key",
                                     dir + "/api/tls.key",
                                     "--token-file",
                                     dir + "/token",
                                     "--log",
                                     dir + "/requests.jsonl",
                                     "--rule",
                                     dir + "/rules.json"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    proc.spawn(argv, dir + "/apiserver.log");
    auto m = proc.wait_for(std::regex("^([0-9]+)\n"), kStartTimeout);
    INFO(scangate::test::read_file(dir + "/apiserver.log"));
    REQUIRE(!m.empty());
    port = std::stoi(m.at(1));
  }

  std::string url() const { return "https://127.0.0.1:" + std::to_string(port); }

  std::vector<std::string> kube_flags() const {
    return {"--kube-api-server", url(), "--kube-token-file", dir + "/token", "--kube-ca-file", dir + "/api/ca.pem"};
  }

  std::vector<Json> requests() const {
    std::vector<Json> out;
    if (!std::filesystem::exists(dir + "/requests.jsonl")) return out;
    std::istringstream in(scangate::test::read_file(dir + "/requests.jsonl"));
    std::string line;
    while (std::getline(in, line))
      if (!line.empty()) out.push_back(Json::parse(line));
    return out;
  }

  std::vector<Json> requests(const std::string& method, const std::string& path) const {
    std::vector<Json> out;
    for (auto& r : requests())
      if (r["method"] == method && r["path"] == path) out.push_back(r);
    return out;
  }

  // Polls until `pred` holds over the requests.
  template <class Pred>
  bool wait_until(Pred pred, std::chrono::seconds timeout) const {
    for (auto until = std::chrono::steady_clock::now() + timeout; std::chrono::steady_clock::now() < until;) {
      if (pred(requests())) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return pred(requests());
  }
};

inline Json pod_review(const std::string& uid, const std::string& image, const std::string& ns = "default") {
  return Json{{"apiVersion", "admission.k8s.io/v1"},
              {"kind", "AdmissionReview"},
              {"request",
               {{"uid", uid},
                {"kind", {{"group", ""}, {"version", "v1"}, {"kind", "Pod"}}},
                {"resource", {{"group", ""}, {"version", "v1"}, {"resource", "pods"}}},
                {"operation", "CREATE"},
                {"namespace", ns},
                {"name", "app"},
                {"object",
                 {{"apiVersion", "v1"},
                  {"kind", "Pod"},
                  {"metadata", {{"name", "app"}, {"namespace", ns}}},
                  {"spec", {{"containers", Json::array({{{"name", "app"}, {"image", image}}})}}}}},
                {"dryRun", false}}}};
}

}  // namespace scangate::it
