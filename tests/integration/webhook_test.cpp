// scangate-webhook end to end: real TLS with a CA generated here, the real registry from the
// fixture, the scenario DB. AdmissionReviews are posted with curl, as the API server would.
//
// Expected verdicts come from ../shared/testdata/scenario/README.md, not from the code:
// python:3.6.15-alpine3.14 has 8 CRITICAL (zlib CVE-2022-37434 among them), alpine:3.10.9 has one
// (apk-tools CVE-2021-36159); alpine 3.15.11, 3.18.9 and 3.20.3 have none.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <mutex>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <thread>

#include "it_support.h"
#include "support/process.h"
#include "support/test_support.h"

using scangate::it::Child;
using scangate::it::HttpReply;
using scangate::it::kStartTimeout;
using scangate::it::make_certificates;
using scangate::it::metric_sum;
using scangate::it::metrics_text;
using scangate::it::pod_review;
using scangate::it::post;
using scangate::it::post_file;
using scangate::it::post_text;
using scangate::it::scenario_db;
using scangate::it::start_webhook;
using scangate::it::Webhook;
using scangate::test::fixture_env;
using scangate::test::run_process;
using Json = nlohmann::json;

namespace {

constexpr auto kUploadTimeout = std::chrono::seconds(60);

// An AdmissionReview v1 for `op` of `object`, as the API server sends it (kind and resource from
// the object, plural resource name given).
Json review_for(const std::string& uid, const Json& object, const std::string& resource,
                const std::string& op = "CREATE", const Json& old_object = nullptr) {
  std::string api = object.at("apiVersion");
  std::string group, version = api;
  if (auto p = api.find('/'); p != std::string::npos) {
    group = api.substr(0, p);
    version = api.substr(p + 1);
  }
  Json gvk = {{"group", group}, {"version", version}, {"kind", object.at("kind")}};
  Json gvr = {{"group", group}, {"version", version}, {"resource", resource}};
  Json req = {
      {"uid", uid},
      {"kind", gvk},
      {"resource", gvr},
      {"requestKind", gvk},
      {"requestResource", gvr},
      {"name", object["metadata"].value("name", "")},
      {"namespace", "default"},
      {"operation", op},
      {"userInfo", {{"username", "kubernetes-admin"}, {"groups", {"system:masters", "system:authenticated"}}}},
      {"object", object},
      {"oldObject", old_object},
      {"dryRun", false},
      {"options", {{"apiVersion", "meta.k8s.io/v1"}, {"kind", op == "CREATE" ? "CreateOptions" : "UpdateOptions"}}}};
  return Json{{"apiVersion", "admission.k8s.io/v1"}, {"kind", "AdmissionReview"}, {"request", req}};
}

// `kubectl create ... --dry-run=client -o json`: the object exactly as kubectl renders it.
Json kubectl_json(const std::vector<std::string>& args) {
  const char* kubectl = std::getenv("KUBECTL");  // scripts/setup installs one at /usr/bin/kubectl
  std::vector<std::string> argv = {kubectl && *kubectl ? kubectl : "/usr/bin/kubectl"};
  argv.insert(argv.end(), args.begin(), args.end());
  argv.insert(argv.end(), {"--dry-run=client", "-o", "json"});
  auto r = run_process(argv);
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  return Json::parse(r.out);
}

// Hand-written StatefulSet / DaemonSet with one container.
Json apps_object(const std::string& kind, const std::string& name, const std::string& container,
                 const std::string& image) {
  Json spec = {{"selector", {{"matchLabels", {{"app", name}}}}},
               {"template",
                {{"metadata", {{"labels", {{"app", name}}}}},
                 {"spec", {{"containers", Json::array({{{"name", container}, {"image", image}}})}}}}}};
  if (kind == "StatefulSet") {
    spec["serviceName"] = name;
    spec["replicas"] = 3;
  }
  return Json{{"apiVersion", "apps/v1"},
              {"kind", kind},
              {"metadata", {{"name", name}, {"namespace", "default"}}},
              {"spec", spec}};
}

// The first container of an object's pod template, wherever the kind keeps it.
const Json& first_container(const Json& object) {
  const Json& spec =
      object.at("kind") == "CronJob" ? object.at("spec").at("jobTemplate").at("spec") : object.at("spec");
  return spec.at("template").at("spec").at("containers").at(0);
}

// "sha256:0123abcd" for the message's short digest (8 hex digits, as in the example).
std::string short_digest(const std::string& digest) { return digest.substr(0, std::string("sha256:").size() + 8); }

// A "registry" on loopback that accepts connections and never answers: every request to it
// stalls until the client's own read timeout (60 s).
struct StallingRegistry {
  int fd = -1;
  int port = 0;
  std::atomic<bool> stop{false};
  std::mutex mu;
  std::vector<int> accepted;
  std::thread thread;

  StallingRegistry() {
    fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    REQUIRE(fd >= 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
    REQUIRE(::listen(fd, 64) == 0);
    socklen_t len = sizeof a;
    REQUIRE(::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0);
    port = ntohs(a.sin_port);
    thread = std::thread([this] {
      while (!stop) {
        pollfd p{fd, POLLIN, 0};
        if (::poll(&p, 1, 100) <= 0) continue;
        int c = ::accept4(fd, nullptr, nullptr, SOCK_CLOEXEC);
        if (c < 0) continue;
        std::lock_guard<std::mutex> l(mu);
        accepted.push_back(c);  // held open, never read, never answered
      }
    });
  }
  size_t connections() {
    std::lock_guard<std::mutex> l(mu);
    return accepted.size();
  }
  // Closing the connections lets the webhook's pending look-up fail fast, so it stops promptly.
  ~StallingRegistry() {
    stop = true;
    thread.join();
    for (int c : accepted) ::close(c);
    ::close(fd);
  }
};

// Files the CSPM receiver stored (reports, not their .meta.json).
std::vector<std::filesystem::path> received_reports(const std::string& dir) {
  std::vector<std::filesystem::path> out;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(dir, ec)) {
    std::string n = e.path().filename().string();
    if (n.size() > 5 && n.ends_with(".json") && !n.ends_with(".meta.json") && n[0] != '.') out.push_back(e.path());
  }
  return out;
}

}  // namespace

TEST_CASE("webhook: the vulnerable image is denied, the patched one allowed, metrics count them",
          "[registry][webhook]") {
  auto env = fixture_env();
  auto w = start_webhook(env);
  std::string code;
  Json denied = post(*w, pod_review("uid-1", env.at("REGISTRY") + "/" + env.at("IMAGE_PYTHON_3_6")), &code);
  INFO(w->log());
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

  std::string metrics = metrics_text(*w);
  CHECK(metrics.find("scangate_admission_requests_total") != std::string::npos);
  CHECK(metrics.find("scangate_verdict_cache_hits_total") != std::string::npos);
  CHECK(metrics.find("scangate_scans_total{result=\"ok\"} 2") != std::string::npos);
  CHECK(metrics.find("scangate_db_info{revision=\"sha256:") != std::string::npos);

  // Bad input gets a clear 4xx and the server keeps answering.
  auto bad = post_text(*w, "{not json");
  CHECK(bad.code == "400");
  Json still = post(*w, pod_review("uid-4", env.at("REGISTRY") + "/alpine:3.15.11"));
  CHECK(still["response"]["allowed"] == true);
}

TEST_CASE("webhook: kubectl-rendered Deployment Job CronJob and hand-written StatefulSet DaemonSet are gated",
          "[registry][webhook]") {
  auto env = fixture_env();
  auto w = start_webhook(env);
  const std::string vulnerable = env.at("REGISTRY") + "/" + env.at("IMAGE_PYTHON_3_6");
  const std::string clean = env.at("REGISTRY") + "/alpine:3.15.11";

  struct Workload {
    std::string what, resource;
    Json object;
  };
  auto workloads = [&](const std::string& image) {
    return std::vector<Workload>{
        {"Deployment", "deployments", kubectl_json({"create", "deployment", "web", "--image=" + image})},
        {"Job", "jobs", kubectl_json({"create", "job", "migrate", "--image=" + image})},
        {"CronJob", "cronjobs",
         kubectl_json({"create", "cronjob", "nightly", "--image=" + image, "--schedule=0 3 * * *"})},
        {"StatefulSet", "statefulsets", apps_object("StatefulSet", "db", "postgres", image)},
        {"DaemonSet", "daemonsets", apps_object("DaemonSet", "agent", "collector", image)},
    };
  };

  int n = 0;
  for (const auto& wl : workloads(vulnerable)) {
    INFO(wl.what << " with " << vulnerable);
    const std::string container = first_container(wl.object).at("name");
    CHECK(first_container(wl.object).at("image") == vulnerable);
    const std::string uid = "deny-" + std::to_string(++n);
    std::string code;
    Json r = post(*w, review_for(uid, wl.object, wl.resource), &code);
    INFO(r.dump());
    CHECK(code == "200");
    CHECK(r["apiVersion"] == "admission.k8s.io/v1");
    CHECK(r["kind"] == "AdmissionReview");
    CHECK(r["response"]["uid"] == uid);
    CHECK(r["response"]["allowed"] == false);
    CHECK(r["response"]["status"]["code"] == 403);
    std::string msg = r["response"]["status"].value("message", "");
    CHECK(msg.find("container \"" + container + "\"") != std::string::npos);
    CHECK(msg.find("image " + vulnerable + " (" + short_digest(env.at("DIGEST_PYTHON_3_6"))) != std::string::npos);
    CHECK(msg.find("CRITICAL") != std::string::npos);
    CHECK(msg.find("CVE-2022-37434") != std::string::npos);
  }
  // The container names kubectl gives: the image's name for a Deployment, the object's for
  // a Job and a CronJob.
  auto rendered = workloads(vulnerable);
  CHECK(first_container(rendered[0].object).at("name") == "python");
  CHECK(first_container(rendered[1].object).at("name") == "migrate");
  CHECK(first_container(rendered[2].object).at("name") == "nightly");

  for (const auto& wl : workloads(clean)) {
    INFO(wl.what << " with " << clean);
    const std::string uid = "allow-" + std::to_string(++n);
    Json r = post(*w, review_for(uid, wl.object, wl.resource));
    INFO(r.dump());
    CHECK(r["response"]["uid"] == uid);
    CHECK(r["response"]["allowed"] == true);
    CHECK_FALSE(r["response"].contains("status"));
  }
  // One scan per image, whatever the number of workloads that use it.
  CHECK(metric_sum(metrics_text(*w), "scangate_scans_total") == 2);
}

TEST_CASE("webhook: a scale-only Deployment UPDATE is allowed without a scan", "[registry][webhook]") {
  auto env = fixture_env();
  auto w = start_webhook(env);
  // A first scan, so the scan counter exists with a known value.
  Json first = post(*w, pod_review("warm-up", env.at("REGISTRY") + "/alpine:3.15.11"));
  REQUIRE(first["response"]["allowed"] == true);
  const double scans_before = metric_sum(metrics_text(*w), "scangate_scans_total");
  REQUIRE(scans_before == 1);

  // alpine:3.18.9 was never scanned by this process: a scan would show in the counter.
  const std::string image = env.at("REGISTRY") + "/alpine:3.18.9";
  Json old_obj = kubectl_json({"create", "deployment", "web", "--image=" + image});
  Json new_obj = old_obj;
  new_obj["spec"]["replicas"] = 5;
  Json r = post(*w, review_for("scale-1", new_obj, "deployments", "UPDATE", old_obj));
  INFO(r.dump());
  CHECK(r["response"]["uid"] == "scale-1");
  CHECK(r["response"]["allowed"] == true);
  CHECK(metric_sum(metrics_text(*w), "scangate_scans_total") == scans_before);

  // Control: the same image in a CREATE is scanned (and allowed: no CRITICAL in alpine 3.18.9).
  Json created = post(*w, review_for("create-1", old_obj, "deployments"));
  CHECK(created["response"]["allowed"] == true);
  CHECK(metric_sum(metrics_text(*w), "scangate_scans_total") == scans_before + 1);

  // An UPDATE that changes the image is gated on the new image.
  Json vuln_obj = new_obj;
  const std::string vulnerable = env.at("REGISTRY") + "/" + env.at("IMAGE_PYTHON_3_6");
  vuln_obj["spec"]["template"]["spec"]["containers"][0]["image"] = vulnerable;
  Json changed = post(*w, review_for("image-1", vuln_obj, "deployments", "UPDATE", new_obj));
  INFO(changed.dump());
  CHECK(changed["response"]["allowed"] == false);
  CHECK(changed["response"]["status"]["code"] == 403);
  CHECK(changed["response"]["status"].value("message", "").find("CVE-2022-37434") != std::string::npos);
}

TEST_CASE("webhook: an ephemeral container added through pods/ephemeralcontainers is gated", "[registry][webhook]") {
  auto env = fixture_env();
  auto w = start_webhook(env);
  const std::string clean = env.at("REGISTRY") + "/alpine:3.15.11";
  const std::string vulnerable = env.at("REGISTRY") + "/" + env.at("IMAGE_PYTHON_3_6");

  // What `kubectl debug -it app --image=... --target=app` sends (Kubernetes >= 1.22): an UPDATE of
  // the pods/ephemeralcontainers subresource whose object is the whole Pod.
  Json old_pod = {
      {"apiVersion", "v1"},
      {"kind", "Pod"},
      {"metadata", {{"name", "app"}, {"namespace", "default"}, {"uid", "6e1b6c5e-3a8e-4c53-9d2f-000000000001"}}},
      {"spec", {{"containers", Json::array({{{"name", "app"}, {"image", clean}}})}}},
      {"status", {{"phase", "Running"}}}};
  auto with_debugger = [&](const std::string& image) {
    Json pod = old_pod;
    pod["spec"]["ephemeralContainers"] = Json::array(
        {{{"name", "debugger"}, {"image", image}, {"targetContainerName", "app"}, {"stdin", true}, {"tty", true}}});
    return pod;
  };
  auto subresource_review = [&](const std::string& uid, const Json& pod) {
    Json review = review_for(uid, pod, "pods", "UPDATE", old_pod);
    review["request"]["subResource"] = "ephemeralcontainers";
    review["request"]["requestSubResource"] = "ephemeralcontainers";
    return review;
  };

  Json r = post(*w, subresource_review("debug-1", with_debugger(vulnerable)));
  INFO(r.dump());
  CHECK(r["response"]["uid"] == "debug-1");
  CHECK(r["response"]["allowed"] == false);
  CHECK(r["response"]["status"]["code"] == 403);
  std::string msg = r["response"]["status"].value("message", "");
  CHECK(msg.find("container \"debugger\"") != std::string::npos);
  CHECK(msg.find(vulnerable) != std::string::npos);
  CHECK(msg.find("CRITICAL") != std::string::npos);
  CHECK(msg.find("CVE-2022-37434") != std::string::npos);
  CHECK(msg.find("container \"app\"") == std::string::npos);  // unchanged, not gated again

  Json ok = post(*w, subresource_review("debug-2", with_debugger(clean)));
  CHECK(ok["response"]["uid"] == "debug-2");
  CHECK(ok["response"]["allowed"] == true);
}

TEST_CASE("webhook: a dryRun review is decided the same way and uploads nothing to CSPM", "[registry][webhook]") {
  auto env = fixture_env();
  const std::string rdir = scangate::test::make_temp_dir("sg-webhook-cspm");
  struct Cleanup {
    std::string dir;
    ~Cleanup() { std::filesystem::remove_all(dir); }
  } cleanup{rdir};
  {
    std::ofstream t(rdir + "/token");
    t << "webhook-e2e-token-" << getpid() << "\n";
  }
  // The real receiver (an AccuKnox-compatible artifact endpoint) on loopback.
  Child receiver;
  receiver.spawn({SCANGATE_CLI, "cspm-receiver", "--quiet", "--listen", "127.0.0.1:0", "--dir", rdir + "/received",
                  "--token-file", rdir + "/token"},
                 rdir + "/receiver.log");
  auto m = receiver.wait_for(std::regex("(http://127\\.0\\.0\\.1:[0-9]+)"), kStartTimeout);
  INFO(scangate::test::read_file(rdir + "/receiver.log"));
  REQUIRE(!m.empty());
  const std::string url = m.at(1);

  auto w = start_webhook(env, {"--cspm-url", url, "--cspm-token-file", rdir + "/token", "--cspm-tenant-id", "1",
                               "--spool-dir", rdir + "/spool"});

  // dryRun: the vulnerable image, never scanned here, is denied exactly as without dryRun...
  Json dry = pod_review("dry-1", env.at("REGISTRY") + "/" + env.at("IMAGE_PYTHON_3_6"));
  dry["request"]["dryRun"] = true;
  Json r = post(*w, dry);
  INFO(r.dump());
  CHECK(r["response"]["allowed"] == false);
  CHECK(r["response"]["status"]["code"] == 403);
  CHECK(r["response"]["status"].value("message", "").find("CVE-2022-37434") != std::string::npos);

  // ...and a normal review of another unscanned image (alpine 3.10.9: apk-tools CVE-2021-36159).
  Json normal = post(*w, pod_review("wet-1", env.at("REGISTRY") + "/alpine:3.10.9"));
  INFO(normal.dump());
  CHECK(normal["response"]["allowed"] == false);
  CHECK(normal["response"]["status"].value("message", "").find("CVE-2021-36159") != std::string::npos);

  // One uploader sends reports in order, so had the dry run uploaded, its report would land first.
  auto until = std::chrono::steady_clock::now() + kUploadTimeout;
  while (received_reports(rdir + "/received").empty() && std::chrono::steady_clock::now() < until)
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  std::this_thread::sleep_for(std::chrono::seconds(1));  // room for a wrong second upload to show
  auto reports = received_reports(rdir + "/received");
  INFO(w->log());
  INFO(scangate::test::read_file(rdir + "/receiver.log"));
  REQUIRE(reports.size() == 1);
  std::string report = scangate::test::read_file(reports[0].string());
  CHECK(report.find(env.at("DIGEST_ALPINE_3_10_9")) != std::string::npos);
  CHECK(report.find(env.at("DIGEST_PYTHON_3_6")) == std::string::npos);
  CHECK(report.find("CVE-2021-36159") != std::string::npos);
  std::string metrics = metrics_text(*w);
  CHECK(metric_sum(metrics, "scangate_cspm_uploads_total") == 1);
  CHECK(metric_sum(metrics, "scangate_scans_total") == 2);  // the dry run did scan
}

TEST_CASE("webhook: bad input over TLS gets a clear 4xx and the server keeps answering", "[registry][webhook]") {
  auto env = fixture_env();
  auto w = start_webhook(env);
  const Json good = pod_review("good", env.at("REGISTRY") + "/alpine:3.15.11");
  auto still_answers = [&] {
    Json r = post(*w, good);
    CHECK(r["response"]["uid"] == "good");
    CHECK(r["response"]["allowed"] == true);
  };
  still_answers();

  {
    INFO("malformed JSON");
    auto h = post_text(*w, "{\"apiVersion\": \"admission.k8s.io/v1\", \"kind\": ");
    INFO(h.body);
    CHECK(h.code == "400");
    CHECK(h.body.find("invalid AdmissionReview") != std::string::npos);
  }
  still_answers();
  {
    INFO("wrong kind");
    Json review = good;
    review["kind"] = "ConfigMap";
    auto h = post_text(*w, review.dump());
    INFO(h.body);
    CHECK(h.code == "400");
    CHECK(h.body.find("ConfigMap") != std::string::npos);
  }
  still_answers();
  {
    INFO("missing uid");
    Json review = good;
    review["request"].erase("uid");
    auto h = post_text(*w, review.dump());
    INFO(h.body);
    CHECK(h.code == "400");
    CHECK(h.body.find("uid") != std::string::npos);
  }
  still_answers();
  {
    INFO("wrong content type");
    auto h = post_text(*w, good.dump(), "text/plain");
    INFO(h.body);
    CHECK(h.code == "415");
    CHECK(h.body.find("text/plain") != std::string::npos);
  }
  still_answers();
  {
    INFO("a 12 MB body");
    Json review = good;
    review["request"]["object"]["metadata"]["annotations"] = {{"padding", std::string(12u << 20, 'a')}};
    auto h = post_text(*w, review.dump());
    INFO(h.body);
    CHECK(h.code == "413");
    CHECK(h.body.find("too large") != std::string::npos);
  }
  still_answers();
  {
    INFO("plain HTTP to the TLS port");
    auto r = run_process({"/usr/bin/curl", "-s", "--max-time", "30", "-w", "\n%{http_code}", "-H",
                          "Content-Type: application/json", "--data-binary", good.dump(),
                          "http://127.0.0.1:" + std::to_string(w->https_port) + "/validate"});
    INFO(r.out);
    CHECK(r.out.ends_with("\n400"));
    CHECK(r.out.find("https://") != std::string::npos);
  }
  still_answers();
  INFO(w->log());
  CHECK(w->proc.running());
}

TEST_CASE("webhook: a registry that never answers the tag look-up is decided before the API server's timeout",
          "[registry][webhook][deadline]") {
  auto env = fixture_env();
  const std::string dir = scangate::test::make_temp_dir("sg-webhook-stall");
  struct Cleanup {
    std::string dir;
    ~Cleanup() { std::filesystem::remove_all(dir); }
  } cleanup{dir};
  {
    std::ofstream allow(dir + "/allow.yaml");
    allow << "apiVersion: scangate.io/v1alpha1\nkind: Policy\nscan: {onPending: allow, onError: allow}\n";
  }
  struct Case {
    std::string what;
    std::vector<std::string> args;
    bool allowed;
  };
  const std::vector<Case> cases = {
      {"default policy: onPending and onError deny", {}, false},
      {"a policy that says allow", {"--policy", dir + "/allow.yaml"}, true},
  };
  int n = 0;
  for (const auto& c : cases) {
    INFO(c.what);
    std::unique_ptr<Webhook> w;
    StallingRegistry stall;  // destroyed first: its connections close before the webhook stops
    const std::string registry = "127.0.0.1:" + std::to_string(stall.port);
    std::vector<std::string> args = {"--insecure-registry", registry};
    args.insert(args.end(), c.args.begin(), c.args.end());
    w = start_webhook(env, args);

    const std::string body = dir + "/review-" + std::to_string(++n) + ".json";
    std::ofstream(body) << pod_review("stall-" + std::to_string(n), registry + "/app:1.0").dump();
    auto t0 = std::chrono::steady_clock::now();
    HttpReply h = post_file(*w, body, "application/json", "/validate?timeout=3s");
    auto took = std::chrono::steady_clock::now() - t0;
    INFO(w->log());
    INFO(h.body);
    REQUIRE(h.curl_exit == 0);
    CHECK(h.code == "200");
    // The API server gives up after its ?timeout=; the answer, whatever it is, comes before.
    CHECK(took < std::chrono::seconds(3));
    CHECK(stall.connections() >= 1);  // the webhook did go to the registry
    Json r = Json::parse(h.body);
    CHECK(r["response"]["uid"] == "stall-" + std::to_string(n));
    CHECK(r["response"]["allowed"] == c.allowed);
    if (c.allowed) {
      CHECK(r["response"]["warnings"].dump().find("admitted because scan.") != std::string::npos);
    } else {
      CHECK(r["response"]["status"]["code"] == 403);
      const std::string msg = r["response"]["status"]["message"];
      CHECK(msg.find(registry + "/app:1.0") != std::string::npos);
      CHECK(msg.find("(policy scan.on") != std::string::npos);  // onPending or onError decided, not a timeout
    }
  }
}

TEST_CASE("gate: scangate image --timeout against a registry that never answers exits 2, never a pass",
          "[registry][gate][deadline]") {
  // The pipeline-gate side of the stalled registry: without a bound the CI job would hang until
  // the CI system killed it. The answer is an error (2), never the pass of an empty scan.
  StallingRegistry reg;
  auto r = run_process({SCANGATE_CLI, "image", "--db", scenario_db(), "--severity", "CRITICAL", "--exit-code", "1",
                        "--timeout", "2s", "127.0.0.1:" + std::to_string(reg.port) + "/app:1.0"});
  CAPTURE(r.err);
  CHECK(r.exit_code == 2);
  CHECK(r.err.find("deadline") != std::string::npos);
  CHECK(reg.connections() >= 1);  // it really asked the stalled registry
  // A malformed --timeout is a usage error before anything is pulled.
  auto bad = run_process({SCANGATE_CLI, "image", "--db", scenario_db(), "--timeout", "soon", "alpine:3.15"});
  CHECK(bad.exit_code == 2);
  CHECK(bad.err.find("--timeout") != std::string::npos);
}
