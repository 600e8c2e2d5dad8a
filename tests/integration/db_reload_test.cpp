// Issue 14 (hot DB reload), on the real webhook: `--db FILE` is watched; a DB written over it
// atomically (as `scangate db build --output` does) serves the next reviews without a restart, and
// the verdicts cached under the old DB's revision are decided again; a file that is not a DB is
// refused, logged and counted, and the DB in use keeps serving. A cached image is decided again
// from the inventory its scan kept: after a reload the webhook sends no request to the registry
// (counted by a loopback proxy in front of it), and still decides once the registry is gone.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <thread>
#include <vector>

#include "it_support.h"
#include "support/process.h"
#include "support/test_support.h"

using scangate::it::eventually;
using scangate::it::metric_sum;
using scangate::it::metrics_text;
using scangate::it::pod_review;
using scangate::it::post;
using scangate::it::revision_of;
using scangate::it::scenario_db;
using scangate::it::start_webhook;
using scangate::it::TempDir;
using scangate::test::fixture_env;
using scangate::test::run_process;
using scangate::test::testdata;
using Json = nlohmann::json;

namespace {

// A loopback TCP proxy in front of the fixture's registry that counts what the webhook asks of it:
// HTTP/1.1 requests (their request lines) and blob requests. close() stops it and drops every
// connection, as a registry that went away.
class CountingProxy {
 public:
  explicit CountingProxy(const std::string& upstream) {
    const auto colon = upstream.rfind(':');
    REQUIRE(colon != std::string::npos);
    upstream_port_ = std::stoi(upstream.substr(colon + 1));
    REQUIRE(upstream.substr(0, colon) == "127.0.0.1");
    listener_ = socket(AF_INET, SOCK_STREAM, 0);
    REQUIRE(listener_ >= 0);
    sockaddr_in a = loopback(0);
    REQUIRE(bind(listener_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
    REQUIRE(listen(listener_, 64) == 0);
    socklen_t len = sizeof a;
    REQUIRE(getsockname(listener_, reinterpret_cast<sockaddr*>(&a), &len) == 0);
    port_ = ntohs(a.sin_port);
    acceptor_ = std::thread([this] { accept_loop(); });
  }
  ~CountingProxy() { close(); }
  CountingProxy(const CountingProxy&) = delete;
  CountingProxy& operator=(const CountingProxy&) = delete;

  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }
  size_t requests() const { return requests_.load(); }
  size_t blob_requests() const { return blobs_.load(); }

  void close() {
    if (stop_.exchange(true)) return;
    acceptor_.join();
    ::close(listener_);
    std::vector<std::thread> pumps;
    {
      std::lock_guard<std::mutex> l(mu_);
      pumps.swap(pumps_);
    }
    for (auto& t : pumps) t.join();
  }

 private:
  static sockaddr_in loopback(int port) {
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<uint16_t>(port));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    return a;
  }

  void accept_loop() {
    while (!stop_) {
      pollfd p{listener_, POLLIN, 0};
      if (poll(&p, 1, 100) <= 0) continue;
      int client = accept(listener_, nullptr, nullptr);
      if (client < 0) continue;
      std::lock_guard<std::mutex> l(mu_);
      pumps_.emplace_back([this, client] { pump(client); });
    }
  }

  // Counts a needle in what the client sent, across read boundaries: `carry` keeps the last
  // needle-length-minus-one bytes, too short to hold a needle already counted.
  static size_t occurrences(std::string& carry, const std::string& needle, const char* data, size_t n) {
    carry.append(data, n);
    size_t k = 0;
    for (size_t at = carry.find(needle); at != std::string::npos; at = carry.find(needle, at + needle.size())) ++k;
    if (carry.size() >= needle.size()) carry.erase(0, carry.size() - (needle.size() - 1));
    return k;
  }

  void pump(int client) {
    int up = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a = loopback(upstream_port_);
    if (up < 0 || connect(up, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
      if (up >= 0) ::close(up);
      ::close(client);
      return;
    }
    std::string request_carry, blob_carry;
    char buf[64 * 1024];
    while (!stop_) {
      pollfd p[2] = {{client, POLLIN, 0}, {up, POLLIN, 0}};
      if (poll(p, 2, 100) <= 0) continue;
      bool closed = false;
      for (int i = 0; i < 2 && !closed; ++i) {
        if (!(p[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
        ssize_t n = read(p[i].fd, buf, sizeof buf);
        if (n <= 0) {
          closed = true;
          break;
        }
        if (i == 0) {
          requests_ += occurrences(request_carry, " HTTP/1.1\r\n", buf, static_cast<size_t>(n));
          blobs_ += occurrences(blob_carry, "/blobs/sha256:", buf, static_cast<size_t>(n));
        }
        const int to = i == 0 ? up : client;
        for (ssize_t off = 0; off < n;) {
          ssize_t w = send(to, buf + off, static_cast<size_t>(n - off), MSG_NOSIGNAL);
          if (w <= 0) {
            closed = true;
            break;
          }
          off += w;
        }
      }
      if (closed) break;
    }
    ::close(up);
    ::close(client);
  }

  int listener_ = -1;
  int port_ = 0;
  int upstream_port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<size_t> requests_{0}, blobs_{0};
  std::thread acceptor_;
  std::mutex mu_;
  std::vector<std::thread> pumps_;
};

}  // namespace

TEST_CASE("db reload: a DB written over --db serves the next review, a broken one is refused",
          "[registry][webhook][db-reload]") {
  auto env = fixture_env();
  TempDir tmp("sg-db-reload");
  const std::string& d = tmp.path;
  const std::string live = d + "/scangate.db";
  std::filesystem::copy_file(scenario_db(), live);
  const std::string first = revision_of(live);

  // The second DB knows only Alpine 3.10: nothing in the python:3.6 (Alpine 3.14) image matches it.
  const std::string next = d + "/next.db";
  auto built = run_process({SCANGATE_CLI, "db", "build", "--quiet", "--output", next, "--alpine-secdb",
                            testdata("scenario/secdb/v3.10-main.json")});
  INFO(built.err);
  REQUIRE(built.exit_code == 0);
  const std::string second = revision_of(next);
  REQUIRE(second != first);

  auto w = start_webhook(env, {"--db", live});
  const std::string image = env.at("REGISTRY") + "/" + env.at("IMAGE_PYTHON_3_6");
  Json before = post(*w, pod_review("db-1", image));
  INFO(w->log());
  CHECK(before["response"]["allowed"] == false);  // 8 CRITICAL under the scenario DB
  CHECK(metric_sum(metrics_text(*w), "scangate_db_info{revision=\"" + first + "\"}") == 1);
  CHECK(metric_sum(metrics_text(*w), "scangate_db_age_seconds") >= 0);

  // `db build --output` over the live file: a temporary file beside it, renamed over it.
  auto rebuilt = run_process({SCANGATE_CLI, "db", "build", "--quiet", "--output", live, "--alpine-secdb",
                              testdata("scenario/secdb/v3.10-main.json")});
  REQUIRE(rebuilt.exit_code == 0);
  REQUIRE(eventually([&] { return metric_sum(metrics_text(*w), "scangate_db_reloads_total{result=\"ok\"}") == 1; }));
  CHECK(metric_sum(metrics_text(*w), "scangate_db_info{revision=\"" + second + "\"}") == 1);
  CHECK(metric_sum(metrics_text(*w), "scangate_db_info{revision=\"" + first + "\"}") == 0);
  CHECK(w->log().find("vulnerability DB reloaded") != std::string::npos);
  // The verdict cached under the first revision is not reused: the image is decided again.
  Json after = post(*w, pod_review("db-2", image));
  CHECK(after["response"]["allowed"] == true);

  // Not a DB, renamed over the live file: refused, counted, and the second DB keeps serving.
  {
    std::ofstream f(d + "/broken.db", std::ios::binary);
    f << "this is not an SQLite database\n";
  }
  std::filesystem::rename(d + "/broken.db", live);
  REQUIRE(eventually([&] { return metric_sum(metrics_text(*w), "scangate_db_reloads_total{result=\"error\"}") == 1; }));
  CHECK(w->log().find("vulnerability DB reload failed; keeping the DB in use") != std::string::npos);
  CHECK(metric_sum(metrics_text(*w), "scangate_db_info{revision=\"" + second + "\"}") == 1);
  Json kept = post(*w, pod_review("db-3", image));
  CHECK(kept["response"]["allowed"] == true);
}

TEST_CASE("db reload: cached images are decided again from their kept inventory, with no registry request",
          "[registry][webhook][db-reload][rematch]") {
  auto env = fixture_env();
  TempDir tmp("sg-db-rematch");
  const std::string& d = tmp.path;
  const std::string live = d + "/scangate.db";
  std::filesystem::copy_file(scenario_db(), live);

  CountingProxy registry(env.at("REGISTRY"));
  auto w = start_webhook(env, {"--db", live, "--insecure-registry", registry.address()});
  // By digest: no tag look-up either. The index's linux/arm64/v8 image is the python one.
  auto repository = [&](const std::string& key) {
    const std::string& image = env.at("IMAGE_" + key);
    return image.substr(0, image.rfind(':'));
  };
  const std::string python = registry.address() + "/" + repository("PYTHON_3_6") + "@" + env.at("DIGEST_PYTHON_3_6");
  const std::string index =
      registry.address() + "/" + repository("MULTIARCH_VULN") + "@" + env.at("DIGEST_MULTIARCH_VULN_INDEX");

  Json first = post(*w, pod_review("rm-1", python));
  INFO(w->log());
  CHECK(first["response"]["allowed"] == false);  // 8 CRITICAL under the scenario DB
  Json first_index = post(*w, pod_review("rm-2", index));
  CHECK(first_index["response"]["allowed"] == false);
  CHECK(first_index["response"]["status"]["message"].get<std::string>().find("linux/arm64/v8") != std::string::npos);
  const size_t requests = registry.requests();
  CHECK(registry.blob_requests() >= 3);  // at least the python image's layers were pulled
  const double scans = metric_sum(metrics_text(*w), "scangate_scans_total");
  CHECK(scans >= 2);

  // A DB that knows only Alpine 3.10: nothing in either image matches it.
  auto rebuilt = run_process({SCANGATE_CLI, "db", "build", "--quiet", "--output", live, "--alpine-secdb",
                              testdata("scenario/secdb/v3.10-main.json")});
  REQUIRE(rebuilt.exit_code == 0);
  REQUIRE(eventually([&] { return metric_sum(metrics_text(*w), "scangate_db_reloads_total{result=\"ok\"}") == 1; }));
  Json second = post(*w, pod_review("rm-3", python));
  CHECK(second["response"]["allowed"] == true);
  Json second_index = post(*w, pod_review("rm-4", index));
  CHECK(second_index["response"]["allowed"] == true);
  // Decided from the kept inventories: not one request reached the registry, no scan ran.
  CHECK(registry.requests() == requests);
  CHECK(metric_sum(metrics_text(*w), "scangate_scans_total") == scans);
  CHECK(w->log().find("decided again from the kept inventory") != std::string::npos);

  // The registry goes away; a third DB (Alpine 3.14 with the NVD severities) finds the python
  // image's CVEs again. A scan would fail now (scan.onError); the rematch decides by the findings.
  registry.close();
  const std::string third = d + "/third.db";
  auto built = run_process({SCANGATE_CLI, "db", "build", "--quiet", "--output", third, "--alpine-secdb",
                            testdata("scenario/secdb/v3.14-main.json"), "--nvd",
                            testdata("scenario/nvd/nvdcve-2.0-scenario.json")});
  INFO(built.err);
  REQUIRE(built.exit_code == 0);
  std::filesystem::rename(third, live);
  REQUIRE(eventually([&] { return metric_sum(metrics_text(*w), "scangate_db_reloads_total{result=\"ok\"}") == 2; }));
  Json offline = post(*w, pod_review("rm-5", python));
  CHECK(offline["response"]["allowed"] == false);
  const std::string why = offline["response"]["status"]["message"];
  CHECK(why.find("8 CRITICAL") != std::string::npos);
  CHECK(why.find("CVE-2022-37434") != std::string::npos);
  CHECK(why.find("onError") == std::string::npos);
  Json offline_index = post(*w, pod_review("rm-6", index));
  CHECK(offline_index["response"]["allowed"] == false);
  const std::string index_why = offline_index["response"]["status"]["message"];
  CHECK(index_why.find("linux/arm64/v8") != std::string::npos);
  CHECK(index_why.find("CVE-2022-37434") != std::string::npos);
  CHECK(index_why.find("onError") == std::string::npos);
  CHECK(metric_sum(metrics_text(*w), "scangate_scans_total") == scans);
}
