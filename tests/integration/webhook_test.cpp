// scangate-webhook end to end: real TLS with a CA generated here, the real registry from the
// fixture, the scenario DB. AdmissionReviews are posted with curl, as the API server would.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <regex>
#include <thread>

#include "support/process.h"
#include "support/test_support.h"

using scangate::test::fixture_env;
using scangate::test::run_process;
using scangate::test::testdata;
using Json = nlohmann::json;

namespace {

struct Webhook {
  pid_t pid = -1;
  std::string dir, log;
  int https_port = 0, metrics_port = 0;

  ~Webhook() {
    if (pid > 0) {
      kill(pid, SIGTERM);
      int st = 0;
      waitpid(pid, &st, 0);
    }
    if (!dir.empty()) std::filesystem::remove_all(dir);
  }
};

void sh(const std::vector<std::string>& argv) {
  auto r = run_process(argv);
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
}

std::unique_ptr<Webhook> start_webhook(const std::map<std::string, std::string>& env) {
  auto w = std::make_unique<Webhook>();
  w->dir = scangate::test::make_temp_dir("sg-webhook");
  const std::string d = w->dir;
  // A CA and a server certificate for 127.0.0.1, as cert-manager would issue them.
  sh({"/usr/bin/openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", d + "/ca.key", "-out",
      d + "/ca.pem", "-days", "2", "-subj", "/CN=scangate-test-ca"});
  sh({"/usr/bin/openssl", "req", "-newkey", "rsa:2048", "-nodes", "-keyout", d + "/tls.key", "-out", d + "/tls.csr",
      "-subj", "/CN=scangate-webhook"});
  {
    std::ofstream ext(d + "/ext.cnf");
    ext << "subjectAltName=IP:127.0.0.1,DNS:localhost\n";
  }
  sh({"/usr/bin/openssl", "x509", "-req", "-in", d + "/tls.csr", "-CA", d + "/ca.pem", "-CAkey", d + "/ca.key",
      "-CAcreateserial", "-out", d + "/tls.crt", "-days", "2", "-extfile", d + "/ext.cnf"});
  // The scenario DB.
  std::vector<std::string> build = {SCANGATE_CLI, "db", "build", "--quiet", "--output", d + "/db.sqlite"};
  for (const char* v : {"3.10", "3.14", "3.15", "3.18", "3.20"}) {
    build.push_back("--alpine-secdb");
    build.push_back(testdata(std::string("scenario/secdb/v") + v + "-main.json"));
  }
  build.push_back("--nvd");
  build.push_back(testdata("scenario/nvd/nvdcve-2.0-scenario.json"));
  sh(build);

  w->log = d + "/webhook.log";
  w->pid = fork();
  if (w->pid == 0) {
    int fd = open(w->log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    dup2(fd, 2);
    dup2(fd, 1);
    execl(SCANGATE_WEBHOOK, SCANGATE_WEBHOOK, "--listen", "127.0.0.1:0", "--metrics-listen", "127.0.0.1:0",
          "--tls-cert-file", (d + "/tls.crt").c_str(), "--tls-private-key-file", (d + "/tls.key").c_str(), "--db",
          (d + "/db.sqlite").c_str(), "--insecure-registry", env.at("REGISTRY").c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  std::regex ports("https_port=([0-9]+) metrics_port=([0-9]+)");
  for (int i = 0; i < 200 && w->https_port == 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    std::string text = scangate::test::read_file(w->log);
    std::smatch m;
    if (std::regex_search(text, m, ports)) {
      w->https_port = std::stoi(m[1]);
      w->metrics_port = std::stoi(m[2]);
    }
  }
  INFO(scangate::test::read_file(w->log));
  REQUIRE(w->https_port > 0);
  // Ready once the DB and the policy are loaded.
  for (int i = 0; i < 100; ++i) {
    auto r = run_process({"/usr/bin/curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "--cacert", d + "/ca.pem",
                          "https://127.0.0.1:" + std::to_string(w->https_port) + "/readyz"});
    if (r.out == "200") break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return w;
}

Json pod_review(const std::string& uid, const std::string& image) {
  return Json{{"apiVersion", "admission.k8s.io/v1"},
              {"kind", "AdmissionReview"},
              {"request",
               {{"uid", uid},
                {"kind", {{"group", ""}, {"version", "v1"}, {"kind", "Pod"}}},
                {"resource", {{"group", ""}, {"version", "v1"}, {"resource", "pods"}}},
                {"operation", "CREATE"},
                {"namespace", "default"},
                {"name", "app"},
                {"object",
                 {{"apiVersion", "v1"},
                  {"kind", "Pod"},
                  {"metadata", {{"name", "app"}, {"namespace", "default"}}},
                  {"spec", {{"containers", Json::array({{{"name", "app"}, {"image", image}}})}}}}},
                {"dryRun", false}}}};
}

Json post(const Webhook& w, const Json& review, std::string* code = nullptr) {
  std::string body_file = w.dir + "/review.json";
  {
    std::ofstream f(body_file);
    f << review.dump();
  }
  auto r = run_process({"/usr/bin/curl", "-s", "-w", "\n%{http_code}", "--cacert", w.dir + "/ca.pem", "-H",
                        "Content-Type: application/json", "--data-binary", "@" + body_file,
                        "https://127.0.0.1:" + std::to_string(w.https_port) + "/validate?timeout=10s"});
  REQUIRE(r.exit_code == 0);
  auto nl = r.out.rfind('\n');
  if (code) *code = r.out.substr(nl + 1);
  return Json::parse(r.out.substr(0, nl));
}

}  // namespace

TEST_CASE("webhook: the vulnerable image is denied, the patched one allowed, metrics count them", "[registry][webhook]") {
  auto env = fixture_env();
  auto w = start_webhook(env);
  std::string code;
  Json denied = post(*w, pod_review("uid-1", env.at("REGISTRY") + "/" + env.at("IMAGE_PYTHON_3_6")), &code);
  INFO(scangate::test::read_file(w->log));
  CHECK(code == "200");
  CHECK(denied["apiVersion"] == "admission.k8s.io/v1");
  CHECK(denied["response"]["uid"] == "uid-1");
  CHECK(denied["response"]["allowed"] == false);
  CHECK(denied["response"]["status"]["code"] == 403);
  std::string msg = denied["response"]["status"]["message"];
  CHECK(msg.find("container \"app\"") != std::string::npos);
  CHECK(msg.find("8 CRITICAL") != std::string::npos);
  CHECK(msg.find("CVE-2022-37434") != std::string::npos);

  Json allowed = post(*w, pod_review("uid-2", env.at("REGISTRY") + "/alpine:3.15.11"));
  CHECK(allowed["response"]["uid"] == "uid-2");
  CHECK(allowed["response"]["allowed"] == true);

  // The retry of the denied image is a cache hit: the same verdict.
  Json again = post(*w, pod_review("uid-3", env.at("REGISTRY") + "/" + env.at("IMAGE_PYTHON_3_6")));
  CHECK(again["response"]["allowed"] == false);

  auto metrics = run_process({"/usr/bin/curl", "-s", "http://127.0.0.1:" + std::to_string(w->metrics_port) + "/metrics"});
  CHECK(metrics.out.find("scangate_admission_requests_total") != std::string::npos);
  CHECK(metrics.out.find("scangate_verdict_cache_hits_total") != std::string::npos);
  CHECK(metrics.out.find("scangate_scans_total{result=\"ok\"} 2") != std::string::npos);
  CHECK(metrics.out.find("scangate_db_info{revision=\"sha256:") != std::string::npos);

  // Bad input gets a clear 4xx and the server keeps answering.
  std::string bad_code;
  auto bad = run_process({"/usr/bin/curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "--cacert", w->dir + "/ca.pem",
                          "-H", "Content-Type: application/json", "--data-binary", "{not json",
                          "https://127.0.0.1:" + std::to_string(w->https_port) + "/validate"});
  CHECK(bad.out == "400");
  Json still = post(*w, pod_review("uid-4", env.at("REGISTRY") + "/alpine:3.15.11"));
  CHECK(still["response"]["allowed"] == true);
}
