// Promises the README makes that no other test held the code to, each checked on the real binaries:
// - the gate decides on parsed severities, so a description full of "CRITICAL" cannot fail a clean
//   build (expectations from the scenario's NVD record and expected findings, not from the code);
// - the CSPM token never reaches the webhook's log, not even when the receiver refuses it;
// - a policy mounted from a ConfigMap is reloaded when the kubelet swaps its `..data` symlink;
// - SIGTERM on the real webhook lets the in-flight review finish with a real answer, then exits 0;
//   with --shutdown-delay it first drains: /readyz fails and new requests are still answered.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <signal.h>
#include <sys/wait.h>

#include <filesystem>
#include <fstream>
#include <future>
#include <thread>

#include "it_support.h"
#include "support/process.h"
#include "support/test_support.h"

using scangate::it::Child;
using scangate::it::kStartTimeout;
using scangate::it::metric_sum;
using scangate::it::metrics_text;
using scangate::it::pod_review;
using scangate::it::post;
using scangate::it::post_text;
using scangate::it::scenario_db;
using scangate::it::start_webhook;
using scangate::it::TempDir;
using scangate::test::fixture_env;
using scangate::test::run_process;
using scangate::test::testdata;
using Json = nlohmann::json;

namespace {

void write(const std::string& path, const std::string& text) {
  std::filesystem::create_directories(std::filesystem::path(path).parent_path());
  std::ofstream f(path, std::ios::binary);
  f << text;
  REQUIRE(f.good());
}

// The zlib stanza of the python:3.6.15-alpine3.14 image's apk database (zlib 1.2.11-r3).
std::string zlib_stanza() {
  std::string db = scangate::test::read_file(testdata("scenario/installed/python-3.6.15-alpine3.14.installed"));
  auto at = db.find("P:zlib\n");
  REQUIRE(at != std::string::npos);
  auto start = db.rfind("\n\n", at);
  start = start == std::string::npos ? 0 : start + 2;
  auto end = db.find("\n\n", at);
  REQUIRE(end != std::string::npos);
  return db.substr(start, end - start + 1) + "\n";
}

// Builds a DB from the Alpine 3.14 secdb and `nvd` (a file in NVD 2.0 format).
std::string build_db(const std::string& dir, const std::string& name, const std::string& nvd) {
  const std::string out = dir + "/" + name;
  auto r = run_process({SCANGATE_CLI, "db", "build", "--quiet", "--output", out, "--alpine-secdb",
                        testdata("scenario/secdb/v3.14-main.json"), "--nvd", nvd});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  return out;
}

// A "registry" that accepts connections and never answers (a python3 child on loopback).
struct SilentRegistry {
  Child proc;
  int port = 0;
  explicit SilentRegistry(const std::string& dir) {
    proc.spawn({"/usr/bin/python3", "-c",
                "import socket,sys,time\n"
                "s=socket.socket(); s.bind(('127.0.0.1',0)); s.listen(64)\n"
                "print('port=%d' % s.getsockname()[1], flush=True)\n"
                "held=[]\n"
                "while True:\n"
                "    c,_=s.accept(); held.append(c)\n"},
               dir + "/silent.log");
    auto m = proc.wait_for(std::regex("port=([0-9]+)"), kStartTimeout);
    REQUIRE(!m.empty());
    port = std::stoi(m.at(1));
  }
};

// Waits up to `limit` for the webhook to exit and reaps it; one still running is killed (and the
// returned status is not an exit). The fixture no longer owns the process afterwards.
int reap_within(scangate::it::Webhook& w, std::chrono::seconds limit) {
  const pid_t pid = w.proc.pid;
  w.proc.pid = -1;
  int status = -1;
  for (auto until = std::chrono::steady_clock::now() + limit; std::chrono::steady_clock::now() < until;) {
    if (waitpid(pid, &status, WNOHANG) == pid) return status;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  kill(pid, SIGKILL);
  waitpid(pid, nullptr, 0);
  return -1;
}

}  // namespace

TEST_CASE("promise: a description that says CRITICAL cannot fail a clean build", "[gate][promise]") {
  TempDir tmp("sg-promise-desc");
  const std::string& d = tmp.path;
  // A root filesystem holding only zlib 1.2.11-r3 on Alpine 3.14.3. The scenario's expected findings
  // give it CVE-2018-25032 (HIGH) and CVE-2022-37434 (CRITICAL, NVD 9.8).
  write(d + "/rootfs/etc/alpine-release", "3.14.3\n");
  write(d + "/rootfs/etc/os-release", "NAME=\"Alpine Linux\"\nID=alpine\nVERSION_ID=3.14.3\n");
  write(d + "/rootfs/lib/apk/db/installed", zlib_stanza());

  // The same NVD feed, with CVE-2022-37434 re-scored LOW and its description shouting CRITICAL.
  Json nvd = Json::parse(scangate::test::read_file(testdata("scenario/nvd/nvdcve-2.0-scenario.json")));
  bool edited = false;
  for (auto& v : nvd["vulnerabilities"]) {
    auto& cve = v["cve"];
    if (cve["id"] != "CVE-2022-37434") continue;
    cve["descriptions"] = Json::array(
        {{{"lang", "en"}, {"value", "CRITICAL CRITICAL CRITICAL: severity CRITICAL, \"Severity\": \"CRITICAL\""}}});
    auto& data = cve["metrics"]["cvssMetricV31"][0]["cvssData"];
    data["vectorString"] = "CVSS:3.1/AV:P/AC:H/PR:H/UI:R/S:U/C:L/I:N/A:N";
    data["baseScore"] = 1.6;
    data["baseSeverity"] = "LOW";
    edited = true;
  }
  REQUIRE(edited);
  write(d + "/nvd-low.json", nvd.dump());
  const std::string db_low = build_db(d, "low.db", d + "/nvd-low.json");
  const std::string db_real = build_db(d, "real.db", testdata("scenario/nvd/nvdcve-2.0-scenario.json"));

  // Control: with the real record, the critical-severity gate fails.
  auto control = run_process({SCANGATE_CLI, "rootfs", "--quiet", "--db", db_real, "--severity", "CRITICAL",
                              "--exit-code", "1", d + "/rootfs"});
  CAPTURE(control.out, control.err);
  REQUIRE(control.exit_code == 1);
  CHECK(control.out.find("CVE-2022-37434") != std::string::npos);

  // With the re-scored record, the text is still full of CRITICAL and the gate passes.
  auto gate = run_process({SCANGATE_CLI, "rootfs", "--quiet", "--db", db_low, "--severity", "CRITICAL", "--exit-code",
                           "1", "--format", "json", "--output", d + "/report.json", d + "/rootfs"});
  CAPTURE(gate.out, gate.err);
  CHECK(gate.exit_code == 0);
  // The report with every severity: both zlib findings, CVE-2022-37434 as LOW with its description.
  auto all = run_process({SCANGATE_CLI, "rootfs", "--quiet", "--db", db_low, "--format", "json", "--output",
                          d + "/all.json", d + "/rootfs"});
  REQUIRE(all.exit_code == 0);
  const std::string text = scangate::test::read_file(d + "/all.json");
  CHECK(text.find("CRITICAL") != std::string::npos);  // `grep -q CRITICAL` would have failed this build
  Json rep = Json::parse(text);
  std::map<std::string, std::string> severity;
  for (const auto& res : rep["Results"])
    for (const auto& v : res.value("Vulnerabilities", Json::array())) {
      severity[v["VulnerabilityID"]] = v["Severity"];
      if (v["VulnerabilityID"] == "CVE-2022-37434")
        CHECK(v.value("Description", "").find("CRITICAL") != std::string::npos);
    }
  CHECK(severity == std::map<std::string, std::string>{{"CVE-2018-25032", "HIGH"}, {"CVE-2022-37434", "LOW"}});
}

TEST_CASE("promise: the CSPM token never reaches the webhook's log, not even when the receiver refuses it",
          "[registry][webhook][promise]") {
  auto env = fixture_env();
  TempDir tmp("sg-promise-token");
  const std::string& d = tmp.path;
  const std::string good = "receiver-token-" + std::to_string(getpid()) + "-good";
  const std::string wrong = "webhook-token-" + std::to_string(getpid()) + "-Zq8x";
  write(d + "/good", good + "\n");
  write(d + "/wrong", wrong + "\n");
  Child receiver;
  receiver.spawn(
      {SCANGATE_CLI, "cspm-receiver", "--listen", "127.0.0.1:0", "--dir", d + "/received", "--token-file", d + "/good"},
      d + "/receiver.log");
  auto m = receiver.wait_for(std::regex("(http://127\\.0\\.0\\.1:[0-9]+)"), kStartTimeout);
  REQUIRE(!m.empty());

  // The receiver refuses the webhook's token: the refusal is logged, the token is not.
  auto w = start_webhook(env, {"--log-level", "debug", "--cspm-url", m.at(1), "--cspm-token-file", d + "/wrong",
                               "--cspm-tenant-id", "7", "--spool-dir", d + "/spool"});
  Json r = post(*w, pod_review("token-1", env.at("REGISTRY") + "/alpine:3.10.9"));
  CHECK(r["response"]["allowed"] == false);
  bool refused = false;
  for (auto until = std::chrono::steady_clock::now() + std::chrono::seconds(60);
       !refused && std::chrono::steady_clock::now() < until;) {
    refused = w->log().find("authentication failed") != std::string::npos;
    if (!refused) std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  const std::string log = w->log();
  INFO(log);
  CHECK(refused);
  CHECK(log.find(wrong) == std::string::npos);
  CHECK(log.find(wrong.substr(wrong.size() - 8)) == std::string::npos);  // not even its tail
  CHECK(log.find(good) == std::string::npos);
}

TEST_CASE("promise: a policy mounted from a ConfigMap is reloaded when the kubelet swaps ..data",
          "[registry][webhook][policy][promise]") {
  auto env = fixture_env();
  TempDir tmp("sg-promise-cm");
  const std::string& d = tmp.path;
  const std::string header = "apiVersion: scangate.io/v1alpha1\nkind: Policy\n";
  // The kubelet's layout: policy.yaml -> ..data/policy.yaml, ..data -> ..<timestamp> directory.
  write(d + "/cm/..2026_12_07_v1/policy.yaml", header + "limits: {CRITICAL: 0}\n");
  std::filesystem::create_directory_symlink("..2026_12_07_v1", d + "/cm/..data");
  std::filesystem::create_symlink("..data/policy.yaml", d + "/cm/policy.yaml");

  auto w = start_webhook(env, {"--policy", d + "/cm/policy.yaml"});
  const std::string image = env.at("REGISTRY") + "/" + env.at("IMAGE_PYTHON_3_6");
  Json before = post(*w, pod_review("cm-1", image));
  CHECK(before["response"]["allowed"] == false);

  // The kubelet writes the new version beside the old one and renames a fresh symlink over ..data.
  const double reloads = metric_sum(metrics_text(*w), "scangate_policy_reloads_total{result=\"ok\"}");
  write(d + "/cm/..2026_12_07_v2/policy.yaml", header + "limits: {CRITICAL: 8}\n");
  std::filesystem::create_directory_symlink("..2026_12_07_v2", d + "/cm/..data_tmp");
  std::filesystem::rename(d + "/cm/..data_tmp", d + "/cm/..data");
  std::filesystem::remove_all(d + "/cm/..2026_12_07_v1");

  bool reloaded = false;
  for (auto until = std::chrono::steady_clock::now() + std::chrono::seconds(30);
       !reloaded && std::chrono::steady_clock::now() < until;) {
    reloaded = metric_sum(metrics_text(*w), "scangate_policy_reloads_total{result=\"ok\"}") > reloads;
    if (!reloaded) std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  INFO(w->log());
  REQUIRE(reloaded);
  Json after = post(*w, pod_review("cm-2", image));
  CHECK(after["response"]["allowed"] == true);  // 8 CRITICAL, now within the limit
  CHECK(std::filesystem::is_symlink(d + "/cm/policy.yaml"));
}

TEST_CASE("promise: SIGTERM lets the in-flight review finish with an answer, then the webhook exits 0",
          "[registry][webhook][promise]") {
  auto env = fixture_env();
  TempDir tmp("sg-promise-term");
  SilentRegistry silent(tmp.path);
  const std::string host = "127.0.0.1:" + std::to_string(silent.port);
  auto w = start_webhook(env, {"--insecure-registry", host, "--shutdown-delay", "0s"});

  // A review that waits on the silent registry until its 4 s deadline.
  Json review = pod_review("term-1", host + "/app:1.0");
  const std::string body_file = w->dir + "/term.json";
  write(body_file, review.dump());
  auto in_flight = std::async(std::launch::async, [&] {
    return scangate::it::post_file(*w, body_file, "application/json", "/validate?timeout=4s");
  });
  // Once the webhook is waiting on the registry, SIGTERM.
  std::this_thread::sleep_for(std::chrono::milliseconds(1000));
  REQUIRE(kill(w->proc.pid, SIGTERM) == 0);

  auto reply = in_flight.get();
  INFO(w->log());
  CHECK(reply.curl_exit == 0);
  CHECK(reply.code == "200");
  Json r = Json::parse(reply.body, nullptr, false);
  REQUIRE(!r.is_discarded());
  CHECK(r["response"]["uid"] == "term-1");
  CHECK(r["response"]["allowed"] == false);  // fail closed: the image was never scanned

  const int status = reap_within(*w, std::chrono::seconds(30));
  CHECK(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
  CHECK(w->log().find("received SIGTERM") != std::string::npos);
}

// Issue 14 (drain): a rollout or a node drain sends SIGTERM while the Service may still route to
// the pod for a few seconds. During --shutdown-delay the webhook keeps listening and answering on
// new connections, with /readyz failing; then it stops gracefully and exits 0.
TEST_CASE("drain: after SIGTERM, /readyz fails and new reviews are answered for --shutdown-delay, then exit 0",
          "[registry][webhook][drain]") {
  auto env = fixture_env();
  TempDir tmp("sg-drain");
  SilentRegistry silent(tmp.path);
  const std::string host = "127.0.0.1:" + std::to_string(silent.port);
  auto w = start_webhook(env, {"--insecure-registry", host, "--shutdown-delay", "8s"});
  auto readyz = [&] {
    return run_process({"/usr/bin/curl", "-s", "--max-time", "5", "-o", "/dev/null", "-w", "%{http_code}", "--cacert",
                        w->dir + "/ca.pem", "https://127.0.0.1:" + std::to_string(w->https_port) + "/readyz"})
        .out;
  };
  REQUIRE(readyz() == "200");
  REQUIRE(kill(w->proc.pid, SIGTERM) == 0);
  auto drained = w->proc.wait_for(std::regex("draining"), kStartTimeout);
  INFO(w->log());
  REQUIRE(!drained.empty());
  CHECK(readyz() == "503");

  // Reviews on new connections during the delay get answers (the image's registry never answers,
  // so each is decided by its 500 ms deadline: denied, fail closed).
  for (int i = 0; i < 3; ++i) {
    Json review = pod_review("drain-" + std::to_string(i), host + "/app:1.0");
    const std::string body_file = w->dir + "/drain-" + std::to_string(i) + ".json";
    write(body_file, review.dump());
    auto reply = scangate::it::post_file(*w, body_file, "application/json", "/validate?timeout=500ms");
    CHECK(reply.curl_exit == 0);
    CHECK(reply.code == "200");
    Json r = Json::parse(reply.body, nullptr, false);
    REQUIRE(!r.is_discarded());
    CHECK(r["response"]["uid"] == "drain-" + std::to_string(i));
    CHECK(r["response"]["allowed"] == false);
  }
  CHECK(w->log().find("drain delay over") == std::string::npos);  // still draining while answered

  const int status = reap_within(*w, std::chrono::seconds(60));
  CHECK(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
  CHECK(w->log().find("drain delay over; stopping gracefully") != std::string::npos);
}

TEST_CASE("drain: a second SIGTERM during --shutdown-delay stops at once", "[webhook][drain]") {
  auto env = fixture_env();
  auto w = start_webhook(env, {"--shutdown-delay", "10m"});
  REQUIRE(kill(w->proc.pid, SIGTERM) == 0);
  REQUIRE(!w->proc.wait_for(std::regex("draining"), kStartTimeout).empty());
  REQUIRE(kill(w->proc.pid, SIGTERM) == 0);
  const int status = reap_within(*w, std::chrono::seconds(60));
  INFO(w->log());
  CHECK(WIFEXITED(status));  // within the minute, not after the 10 minutes of the delay
  CHECK(WEXITSTATUS(status) == 0);
  CHECK(w->log().find("drain delay over") == std::string::npos);
}
