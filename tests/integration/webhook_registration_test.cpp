// The webhook publishes its own ValidatingWebhookConfiguration (and, with digest pinning, its
// MutatingWebhookConfiguration) once Ready, and `admission-test` is
// the chart's helm test; both run as the real scangate-webhook against the stand-in API server
// (tests/chart/fake_kube_apiserver.py: TLS with a CA made here, a bearer token, the Kubernetes
// formats; not a Kubernetes API server, see tests/README.md).
//
// Expectations come from the inputs, not from the code: the caBundle is base64(CA file) as
// coreutils' base64 writes it, the owner's uid is the one the stand-in was given, the body is the
// rendered configuration file with exactly caBundle and ownerReferences added.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <thread>

#include "it_support.h"
#include "support/process.h"
#include "support/test_support.h"

using scangate::it::ApiServer;
using scangate::it::Child;
using scangate::it::kStartTimeout;
using scangate::it::make_certificates;
using scangate::it::metrics_text;
using scangate::it::scenario_db;
using scangate::it::TempDir;
using scangate::test::read_file;
using scangate::test::run_process;
using Json = nlohmann::json;

namespace {

constexpr const char* kOwner = "sg-scangate-webhook-registration";
constexpr const char* kOwnerUid = "6f1c2d3e-4b5a-4c7d-9e8f-0a1b2c3d4e5f";
constexpr const char* kVwcPath = "/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations/sg-scangate";
constexpr const char* kMwcPath = "/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations/sg-scangate";
constexpr const char* kOwnerPath = "/apis/rbac.authorization.k8s.io/v1/clusterroles/sg-scangate-webhook-registration";

void write(const std::string& path, const std::string& text) {
  std::filesystem::create_directories(std::filesystem::path(path).parent_path());
  std::ofstream f(path, std::ios::binary);
  f << text;
  REQUIRE(f.good());
}

// Replaced as the kubelet replaces a Secret volume's file: a new inode, renamed into place.
void replace(const std::string& path, const std::string& text) {
  write(path + ".new", text);
  std::filesystem::rename(path + ".new", path);
}

double now_seconds() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

std::string base64_of(const std::string& file) {
  auto r = run_process({"/usr/bin/base64", "-w0", file});
  REQUIRE(r.exit_code == 0);
  return r.out;
}

// What the chart renders into the ConfigMap (webhook.yaml without the caBundle), reduced.
Json vwc_file() {
  return Json::parse(R"({
    "apiVersion": "admissionregistration.k8s.io/v1",
    "kind": "ValidatingWebhookConfiguration",
    "metadata": {"name": "sg-scangate", "labels": {"app.kubernetes.io/name": "scangate"}},
    "webhooks": [{
      "name": "images.scangate.io",
      "admissionReviewVersions": ["v1", "v1beta1"],
      "sideEffects": "NoneOnDryRun",
      "failurePolicy": "Fail",
      "timeoutSeconds": 10,
      "matchPolicy": "Equivalent",
      "clientConfig": {"service": {"name": "sg-scangate", "namespace": "gate", "path": "/validate", "port": 443}},
      "namespaceSelector": {"matchExpressions": [
        {"key": "kubernetes.io/metadata.name", "operator": "NotIn", "values": ["gate", "kube-system"]}]},
      "rules": [{"apiGroups": [""], "apiVersions": ["v1"], "operations": ["CREATE", "UPDATE"],
                 "resources": ["pods"], "scope": "Namespaced"}]
    }]
  })");
}

// What the chart renders with webhook.pinDigests (webhook-mutating.yaml without the caBundle), reduced.
Json mwc_file() {
  return Json::parse(R"({
    "apiVersion": "admissionregistration.k8s.io/v1",
    "kind": "MutatingWebhookConfiguration",
    "metadata": {"name": "sg-scangate", "labels": {"app.kubernetes.io/name": "scangate"}},
    "webhooks": [{
      "name": "digests.scangate.io",
      "admissionReviewVersions": ["v1", "v1beta1"],
      "sideEffects": "None",
      "failurePolicy": "Ignore",
      "reinvocationPolicy": "IfNeeded",
      "timeoutSeconds": 10,
      "matchPolicy": "Equivalent",
      "clientConfig": {"service": {"name": "sg-scangate", "namespace": "gate", "path": "/mutate", "port": 443}},
      "rules": [{"apiGroups": [""], "apiVersions": ["v1"], "operations": ["CREATE", "UPDATE"],
                 "resources": ["pods"], "scope": "Namespaced"}]
    }]
  })");
}

Json status(int code, const std::string& reason, const std::string& message) {
  return Json{{"kind", "Status"},    {"apiVersion", "v1"}, {"metadata", Json::object()},
              {"status", "Failure"}, {"message", message}, {"reason", reason},
              {"code", code}};
}

// The stand-in with the ClusterRole that owns the published configuration.
struct OwnerApi : ApiServer {
  OwnerApi(const std::string& d, const Json& rules)
      : ApiServer(d, rules, {"--clusterrole", std::string(kOwner) + "=" + kOwnerUid}) {}
};

std::vector<std::string> webhook_argv(const std::string& d, const std::string& db, const ApiServer& api) {
  std::vector<std::string> argv = {SCANGATE_WEBHOOK,
                                   "--listen=127.0.0.1:0",
                                   "--metrics-listen=127.0.0.1:0",
                                   "--tls-cert-file=" + d + "/tls.crt",
                                   "--tls-private-key-file=" + d + "/tls.key",
                                   "--db=" + db,
                                   "--shutdown-delay=0s",
                                   "--publish-webhook-config=" + d + "/vwc.json",
                                   "--publish-ca-file=" + d + "/publish/ca.crt",
                                   "--webhook-owner-clusterrole=" + std::string(kOwner)};
  for (auto& f : api.kube_flags()) argv.push_back(f);
  return argv;
}

}  // namespace

TEST_CASE("registration: the webhook applies its configuration only once ready, with caBundle, owner and retries",
          "[webhook][registration]") {
  TempDir tmp("sg-registration");
  const std::string d = tmp.path;
  // Scripted faults, in the order the webhook meets them: the owner GET fails once with a 500 (the
  // client retries it), the first apply is refused 403 (a failure of the publisher: logged,
  // counted, retried with backoff), the second answered 429 with Retry-After: 1 (the client waits
  // at least a second before it tries again).
  const Json rules = Json::array(
      {{{"method", "GET"},
        {"path_prefix", kOwnerPath},
        {"times", 1},
        {"status", 500},
        {"body", status(500, "InternalError", "etcdserver: request timed out")}},
       {{"method", "PATCH"},
        {"path_prefix", kVwcPath},
        {"times", 1},
        {"status", 403},
        {"body", status(403, "Forbidden",
                        "validatingwebhookconfigurations.admissionregistration.k8s.io \"sg-scangate\" is forbidden: "
                        "User \"system:serviceaccount:gate:sg-scangate\" cannot patch resource")}},
       {{"method", "PATCH"},
        {"path_prefix", kVwcPath},
        {"times", 1},
        {"status", 429},
        {"headers", {{"Retry-After", "1"}}},
        {"body", status(429, "TooManyRequests", "too many requests, please try again later")}}});
  OwnerApi api(d, rules);

  make_certificates(d);  // the webhook's serving certificate and its CA (d/ca.pem)
  write(d + "/publish/ca.crt", read_file(d + "/ca.pem"));
  write(d + "/vwc.json", vwc_file().dump(2));

  Child webhook;
  webhook.spawn(webhook_argv(d, scenario_db(), api), d + "/webhook.log");
  auto m = webhook.wait_for(std::regex("https_port=([0-9]+) metrics_port=([0-9]+)"), kStartTimeout);
  INFO(read_file(d + "/webhook.log"));
  REQUIRE(!m.empty());
  const std::string readyz = "https://127.0.0.1:" + m.at(1) + "/readyz";
  const std::string metrics_url = "http://127.0.0.1:" + m.at(2) + "/metrics";

  // The last moment /readyz was seen not ready: no request may have reached the API server before.
  // Only an answer counts: the webhook may be ready (and publishing) before the first probe.
  double last_not_ready = 0;
  for (auto until = std::chrono::steady_clock::now() + kStartTimeout;;) {
    const double asked = now_seconds();
    auto r = run_process({"/usr/bin/curl", "-s", "--max-time", "10", "-o", "/dev/null", "-w", "%{http_code}",
                          "--cacert", d + "/ca.pem", readyz});
    if (r.out == "200") break;
    // Only an explicit "not ready" counts: a probe that got no answer at all (curl's 000 on a
    // loaded machine) says nothing about when the webhook became ready.
    if (r.out == "503") last_not_ready = asked;
    REQUIRE(std::chrono::steady_clock::now() < until);
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }

  REQUIRE(api.wait_until(
      [](const std::vector<Json>& reqs) {
        for (auto& r : reqs)
          if (r["method"] == "PATCH" && r["status"] == 201) return true;
        return false;
      },
      std::chrono::seconds(60)));

  const auto all = api.requests();
  REQUIRE(!all.empty());
  for (auto& r : all) CHECK(r["time"].get<double>() > last_not_ready);

  // Every request carries the token; none deletes anything.
  for (auto& r : all) {
    CHECK(r["headers"]["Authorization"] == "Bearer " + api.token);
    CHECK(r["status"] != 401);
    CHECK(r["method"] != "DELETE");
  }

  // The owner: a 500, retried.
  auto gets = api.requests("GET", kOwnerPath);
  REQUIRE(gets.size() >= 2);
  CHECK(gets[0]["status"] == 500);
  CHECK(gets[1]["status"] == 200);

  // The applies: 403 (publisher retry), 429 (client retry after >= 1 s), 201 (created).
  auto patches = api.requests("PATCH", kVwcPath);
  REQUIRE(patches.size() >= 3);
  CHECK(patches[0]["status"] == 403);
  CHECK(patches[1]["status"] == 429);
  CHECK(patches[2]["status"] == 201);
  CHECK(patches[2]["time"].get<double>() - patches[1]["time"].get<double>() >= 0.95);
  for (auto& p : patches) {
    CHECK(p["headers"]["Content-Type"] == "application/apply-patch+yaml");
    CHECK(p["query"]["fieldManager"] == Json::array({"scangate"}));
    CHECK(p["query"]["force"] == Json::array({"true"}));
  }

  // The body: the file, plus the caBundle (base64 of the CA file) and the ClusterRole as owner.
  Json applied = Json::parse(patches[2]["body"].get<std::string>());
  Json expected = vwc_file();
  expected["webhooks"][0]["clientConfig"]["caBundle"] = base64_of(d + "/publish/ca.crt");
  expected["metadata"]["ownerReferences"] = Json::array({{{"apiVersion", "rbac.authorization.k8s.io/v1"},
                                                          {"kind", "ClusterRole"},
                                                          {"name", kOwner},
                                                          {"uid", kOwnerUid}}});
  CHECK(applied == expected);
  // The stand-in stored it under that name.
  auto vwc = run_process({"/usr/bin/curl", "-s", "--cacert", d + "/api/ca.pem", "-H",
                          "Authorization: Bearer " + api.token, api.url() + kVwcPath});
  REQUIRE(vwc.exit_code == 0);
  CHECK(Json::parse(vwc.out)["metadata"]["ownerReferences"][0]["uid"] == kOwnerUid);

  // The failure is a log line with its reason and the API server's message, and a counted metric.
  const std::string log = read_file(d + "/webhook.log");
  CHECK(log.find("publishing the webhook configuration failed; retrying") != std::string::npos);
  CHECK(log.find("reason=forbidden") != std::string::npos);
  CHECK(log.find("cannot patch resource") != std::string::npos);
  CHECK(log.find("webhook configuration published") != std::string::npos);
  CHECK(log.find(api.token) == std::string::npos);
  auto metrics = run_process({"/usr/bin/curl", "-s", "--max-time", "30", metrics_url});
  REQUIRE(metrics.exit_code == 0);
  CHECK(metrics.out.find("scangate_webhook_config_published 1") != std::string::npos);
  CHECK(metrics.out.find("scangate_webhook_config_publish_failures_total{reason=\"forbidden\"} 1") !=
        std::string::npos);
  CHECK(metrics.out.find("scangate_webhook_config_publish_failures_total{reason=\"unavailable\"} 0") !=
        std::string::npos);

  // Token rotation (the kubelet swaps the projected token): the stand-in reads the same file, so
  // a request with the old token would be a 401.
  const std::string token2 = "sg-test-token-rotated-5f6e7d8c9b";
  replace(d + "/token", token2 + "\n");

  // Certificate rotation: a new CA in the file is applied again (200: the object exists).
  TempDir ca2("sg-registration-ca2");
  make_certificates(ca2.path);
  replace(d + "/publish/ca.crt", read_file(ca2.path + "/ca.pem"));
  const std::string bundle2 = base64_of(d + "/publish/ca.crt");
  REQUIRE(api.wait_until(
      [&](const std::vector<Json>& reqs) {
        for (auto& r : reqs) {
          if (r["method"] != "PATCH" || r["status"] != 200) continue;
          Json body = Json::parse(r["body"].get<std::string>());
          if (body["webhooks"][0]["clientConfig"]["caBundle"] == bundle2) return true;
        }
        return false;
      },
      std::chrono::seconds(30)));

  for (auto& r : api.requests()) CHECK(r["status"] != 401);
  auto last = api.requests("PATCH", kVwcPath).back();
  CHECK(last["headers"]["Authorization"] == "Bearer " + token2);

  // Shutdown removes nothing: other replicas serve the configuration.
  webhook.stop();
  for (auto& r : api.requests()) CHECK(r["method"] != "DELETE");
}

TEST_CASE("registration: a CA file cut short (read mid-rotation) is never published, the whole one is",
          "[webhook][registration]") {
  TempDir tmp("sg-registration-cut-ca");
  const std::string d = tmp.path;
  OwnerApi api(d, Json::array());
  make_certificates(d);
  write(d + "/publish/ca.crt", read_file(d + "/ca.pem"));
  write(d + "/vwc.json", vwc_file().dump());
  const std::string bundle1 = base64_of(d + "/publish/ca.crt");

  Child webhook;
  webhook.spawn(webhook_argv(d, scenario_db(), api), d + "/webhook.log");
  auto m = webhook.wait_for(std::regex("https_port=([0-9]+) metrics_port=([0-9]+)"), kStartTimeout);
  INFO(read_file(d + "/webhook.log"));
  REQUIRE(!m.empty());
  const std::string metrics_url = "http://127.0.0.1:" + m.at(2) + "/metrics";
  auto patched_with = [&](const std::string& bundle) {
    return [bundle](const std::vector<Json>& reqs) {
      for (auto& r : reqs) {
        if (r["method"] != "PATCH" || (r["status"] != 200 && r["status"] != 201)) continue;
        if (Json::parse(r["body"].get<std::string>())["webhooks"][0]["clientConfig"]["caBundle"] == bundle) return true;
      }
      return false;
    };
  };
  REQUIRE(api.wait_until(patched_with(bundle1), std::chrono::seconds(60)));

  // The rotation is written in place, and the publisher looks while half of it is there. Before the
  // fix it published base64(half a certificate): the API server then cannot verify the webhook and
  // every Pod of the cluster is refused (failurePolicy: Fail).
  TempDir ca2("sg-registration-cut-ca2");
  make_certificates(ca2.path);
  const std::string pem2 = read_file(ca2.path + "/ca.pem");
  write(d + "/publish/ca.crt", pem2.substr(0, pem2.size() / 2));
  const std::string half = base64_of(d + "/publish/ca.crt");
  std::this_thread::sleep_for(std::chrono::seconds(5));
  CHECK_FALSE(patched_with(half)(api.requests()));
  auto metrics = run_process({"/usr/bin/curl", "-s", "--max-time", "30", metrics_url});
  REQUIRE(metrics.exit_code == 0);
  const std::regex ca_failures(R"(scangate_webhook_config_publish_failures_total\{reason="ca"\} [1-9])");
  CHECK(std::regex_search(metrics.out, ca_failures));
  CHECK(read_file(d + "/webhook.log").find("does not parse") != std::string::npos);

  // The rest of the file arrives: the whole new CA is published.
  write(d + "/publish/ca.crt", pem2);
  REQUIRE(api.wait_until(patched_with(base64_of(d + "/publish/ca.crt")), std::chrono::seconds(60)));
  CHECK_FALSE(patched_with(half)(api.requests()));
  webhook.stop();
}

TEST_CASE("registration: a webhook that never becomes ready never publishes its configuration",
          "[webhook][registration]") {
  TempDir tmp("sg-registration-unready");
  const std::string d = tmp.path;
  OwnerApi api(d, Json::array());
  make_certificates(d);
  write(d + "/publish/ca.crt", read_file(d + "/ca.pem"));
  write(d + "/vwc.json", vwc_file().dump());

  // The DB is missing: the engine cannot load, /readyz never turns 200 and the webhook exits 2.
  Child webhook;
  webhook.spawn(webhook_argv(d, d + "/no-such-db.sqlite", api), d + "/webhook.log");
  for (auto until = std::chrono::steady_clock::now() + kStartTimeout; webhook.running();) {
    REQUIRE(std::chrono::steady_clock::now() < until);
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  INFO(read_file(d + "/webhook.log"));
  CHECK(read_file(d + "/webhook.log").find("--db") != std::string::npos);
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  CHECK(api.requests().empty());
}

TEST_CASE("registration: a configuration file that is not a ValidatingWebhookConfiguration stops the webhook at start",
          "[webhook][registration]") {
  TempDir tmp("sg-registration-bad");
  const std::string d = tmp.path;
  OwnerApi api(d, Json::array());
  make_certificates(d);
  write(d + "/publish/ca.crt", read_file(d + "/ca.pem"));
  Json bad = vwc_file();
  bad["kind"] = "MutatingWebhookConfiguration";
  write(d + "/vwc.json", bad.dump());
  auto argv = webhook_argv(d, scenario_db(), api);
  auto r = run_process(argv);
  CHECK(r.exit_code == 2);
  CHECK(r.err.find("ValidatingWebhookConfiguration") != std::string::npos);
  CHECK(r.err.find(d + "/vwc.json") != std::string::npos);

  // Without its companion flags.
  write(d + "/vwc.json", vwc_file().dump());
  std::vector<std::string> partial;
  for (auto& a : argv)
    if (a.rfind("--webhook-owner-clusterrole", 0) != 0) partial.push_back(a);
  r = run_process(partial);
  CHECK(r.exit_code == 2);
  CHECK(r.err.find("--webhook-owner-clusterrole") != std::string::npos);
  CHECK(api.requests().empty());
}

TEST_CASE("registration: with digest pinning the MutatingWebhookConfiguration is applied too, the same way",
          "[webhook][registration]") {
  TempDir tmp("sg-registration-mutating");
  const std::string d = tmp.path;
  // The first apply of the mutating configuration is refused (RBAC without
  // mutatingwebhookconfigurations): the whole attempt is retried.
  OwnerApi api(d, Json::array({{{"method", "PATCH"},
                                {"path_prefix", kMwcPath},
                                {"times", 1},
                                {"status", 403},
                                {"body", status(403, "Forbidden",
                                                "mutatingwebhookconfigurations.admissionregistration.k8s.io "
                                                "\"sg-scangate\" is forbidden")}}}));
  make_certificates(d);
  write(d + "/publish/ca.crt", read_file(d + "/ca.pem"));
  write(d + "/vwc.json", vwc_file().dump(2));
  write(d + "/mwc.json", mwc_file().dump(2));
  auto argv = webhook_argv(d, scenario_db(), api);
  argv.push_back("--publish-mutating-webhook-config=" + d + "/mwc.json");

  Child webhook;
  webhook.spawn(argv, d + "/webhook.log");
  auto m = webhook.wait_for(std::regex("https_port=([0-9]+) metrics_port=([0-9]+)"), kStartTimeout);
  INFO(read_file(d + "/webhook.log"));
  REQUIRE(!m.empty());
  auto applied_with = [](const char* path, int code, const std::string& bundle) {
    return [=](const std::vector<Json>& reqs) {
      for (auto& r : reqs) {
        if (r["method"] != "PATCH" || r["path"] != path || r["status"] != code) continue;
        if (Json::parse(r["body"].get<std::string>())["webhooks"][0]["clientConfig"]["caBundle"] == bundle) return true;
      }
      return false;
    };
  };
  const std::string bundle1 = base64_of(d + "/publish/ca.crt");
  REQUIRE(api.wait_until(applied_with(kMwcPath, 201, bundle1), std::chrono::seconds(60)));

  // The validating configuration first, in every attempt; the refused attempt is retried whole.
  auto vwc = api.requests("PATCH", kVwcPath);
  auto mwc = api.requests("PATCH", kMwcPath);
  REQUIRE(vwc.size() >= 2);
  REQUIRE(mwc.size() >= 2);
  CHECK(vwc[0]["status"] == 201);
  CHECK(mwc[0]["status"] == 403);
  CHECK(vwc[1]["status"] == 200);
  CHECK(mwc[1]["status"] == 201);
  CHECK(mwc[0]["time"].get<double>() >= vwc[0]["time"].get<double>());
  CHECK(mwc[1]["time"].get<double>() >= vwc[1]["time"].get<double>());
  for (auto& p : mwc) {
    CHECK(p["headers"]["Content-Type"] == "application/apply-patch+yaml");
    CHECK(p["query"]["fieldManager"] == Json::array({"scangate"}));
    CHECK(p["query"]["force"] == Json::array({"true"}));
  }
  // The body: the file, plus the caBundle and the owner, as for the validating configuration.
  Json expected = mwc_file();
  expected["webhooks"][0]["clientConfig"]["caBundle"] = bundle1;
  expected["metadata"]["ownerReferences"] = Json::array({{{"apiVersion", "rbac.authorization.k8s.io/v1"},
                                                          {"kind", "ClusterRole"},
                                                          {"name", kOwner},
                                                          {"uid", kOwnerUid}}});
  CHECK(Json::parse(mwc[1]["body"].get<std::string>()) == expected);
  const std::string log = read_file(d + "/webhook.log");
  CHECK(log.find("reason=forbidden") != std::string::npos);
  CHECK(log.find("MutatingWebhookConfiguration") != std::string::npos);

  // A new CA reaches both configurations.
  TempDir ca2("sg-registration-mutating-ca2");
  make_certificates(ca2.path);
  replace(d + "/publish/ca.crt", read_file(ca2.path + "/ca.pem"));
  const std::string bundle2 = base64_of(d + "/publish/ca.crt");
  REQUIRE(api.wait_until(applied_with(kMwcPath, 200, bundle2), std::chrono::seconds(30)));
  CHECK(applied_with(kVwcPath, 200, bundle2)(api.requests()));
  webhook.stop();
  for (auto& r : api.requests()) CHECK(r["method"] != "DELETE");
}

TEST_CASE(
    "registration: a mutating configuration file of the wrong kind, or without the validating one, stops the "
    "webhook at start",
    "[webhook][registration]") {
  TempDir tmp("sg-registration-mutating-bad");
  const std::string d = tmp.path;
  OwnerApi api(d, Json::array());
  make_certificates(d);
  write(d + "/publish/ca.crt", read_file(d + "/ca.pem"));
  write(d + "/vwc.json", vwc_file().dump());
  write(d + "/mwc.json", vwc_file().dump());  // a ValidatingWebhookConfiguration
  auto argv = webhook_argv(d, scenario_db(), api);
  argv.push_back("--publish-mutating-webhook-config=" + d + "/mwc.json");
  auto r = run_process(argv);
  CHECK(r.exit_code == 2);
  CHECK(r.err.find("MutatingWebhookConfiguration") != std::string::npos);
  CHECK(r.err.find(d + "/mwc.json") != std::string::npos);

  write(d + "/mwc.json", mwc_file().dump());
  std::vector<std::string> alone;
  for (auto& a : argv)
    if (a.rfind("--publish-webhook-config=", 0) != 0) alone.push_back(a);
  r = run_process(alone);
  CHECK(r.exit_code == 2);
  CHECK(r.err.find("--publish-mutating-webhook-config needs --publish-webhook-config") != std::string::npos);
  CHECK(api.requests().empty());
}

TEST_CASE("admission-test: a webhook denial passes, an admitted Pod or another refusal fails",
          "[webhook][registration]") {
  TempDir tmp("sg-admission-test");
  const std::string d = tmp.path;
  const std::string image = "registry.example/vulnerable@sha256:" + std::string(64, 'a');
  const std::string pods = "/api/v1/namespaces/default/pods";
  auto run = [&](const ApiServer& api, const std::vector<std::string>& extra) {
    std::vector<std::string> argv = {SCANGATE_WEBHOOK, "admission-test",
                                     "--namespace",    "default",
                                     "--image",        image,
                                     "--timeout",      "3s",
                                     "--interval",     "1s"};
    for (auto& f : api.kube_flags()) argv.push_back(f);
    argv.insert(argv.end(), extra.begin(), extra.end());
    return run_process(argv);
  };

  SECTION("the webhook denies: exit 0, one dry-run POST of a Pod with the image") {
    const std::string msg = "admission webhook \"images.scangate.io\" denied the request: scangate: image " + image +
                            " denied: 3 CRITICAL vulnerabilities (limit 0)";
    OwnerApi api(
        d, Json::array({{{"method", "POST"}, {"path_prefix", pods}, {"status", 403}, {"body", status(403, "", msg)}}}));
    auto r = run(api, {});
    INFO(r.err);
    CHECK(r.exit_code == 0);
    CHECK(r.err.find("admission test passed") != std::string::npos);
    auto posts = api.requests("POST", pods);
    REQUIRE(posts.size() == 1);
    CHECK(posts[0]["query"]["dryRun"] == Json::array({"All"}));
    CHECK(posts[0]["headers"]["Authorization"] == "Bearer " + api.token);
    Json pod = Json::parse(posts[0]["body"].get<std::string>());
    CHECK(pod["kind"] == "Pod");
    CHECK(pod["metadata"]["namespace"] == "default");
    CHECK(pod["spec"]["containers"][0]["image"] == image);
  }

  SECTION("the Pod is admitted: exit 1 with a clear message, after asking until the timeout") {
    OwnerApi api(d, Json::array());
    auto r = run(api, {});
    INFO(r.err);
    CHECK(r.exit_code == 1);
    CHECK(r.err.find("was admitted in namespace default") != std::string::npos);
    CHECK(r.err.find("images.scangate.io") != std::string::npos);
    CHECK(api.requests("POST", pods).size() >= 2);
    // --expect allow is met by the same answer.
    CHECK(run(api, {"--expect", "allow"}).exit_code == 0);
  }

  SECTION("RBAC refuses the dry run: exit 1 naming the API server's answer, not the webhook") {
    OwnerApi api(d, Json::array({{{"method", "POST"},
                                  {"path_prefix", pods},
                                  {"status", 403},
                                  {"body", status(403, "Forbidden",
                                                  "pods is forbidden: User \"system:serviceaccount:gate:t\" cannot "
                                                  "create resource \"pods\" in the namespace \"default\"")}}}));
    auto r = run(api, {});
    INFO(r.err);
    CHECK(r.exit_code == 1);
    CHECK(r.err.find("the API server answered 403 Forbidden: pods is forbidden") != std::string::npos);
  }

  SECTION("another webhook name is not this webhook's denial") {
    OwnerApi api(d, Json::array({{{"method", "POST"},
                                  {"path_prefix", pods},
                                  {"status", 403},
                                  {"body", status(403, "",
                                                  "admission webhook \"validate.kyverno.svc\" denied the request: "
                                                  "no")}}}));
    auto r = run(api, {});
    CHECK(r.exit_code == 1);
  }

  SECTION("another webhook whose message quotes this webhook's denial is not this webhook's denial") {
    OwnerApi api(d, Json::array({{{"method", "POST"},
                                  {"path_prefix", pods},
                                  {"status", 403},
                                  {"body", status(403, "",
                                                  "admission webhook \"validate.kyverno.svc\" denied the request: "
                                                  "admission webhook \"images.scangate.io\" denied the request")}}}));
    auto r = run(api, {});
    INFO(r.err);
    CHECK(r.exit_code == 1);
  }

  SECTION("usage errors exit 2") {
    auto r = run_process({SCANGATE_WEBHOOK, "admission-test", "--image", image});
    CHECK(r.exit_code == 2);
    CHECK(r.err.find("--namespace") != std::string::npos);
    r = run_process({SCANGATE_WEBHOOK, "admission-test", "--namespace", "x", "--image", image, "--expect", "maybe"});
    CHECK(r.exit_code == 2);
  }
}
