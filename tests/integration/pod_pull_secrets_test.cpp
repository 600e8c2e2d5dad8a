// Issue 15: the webhook pulls what the kubelet pulls. The real scangate-webhook with
// --pod-pull-secrets reads the pod's imagePullSecrets and its ServiceAccount's from the stand-in
// API server (tests/chart/fake_kube_apiserver.py over TLS with a CA made here: v1 Secret and
// ServiceAccount objects in the API reference's shape, a bearer token, 404 and 429 on demand), and
// pulls from the fixture's basic-auth and token-auth registries on loopback.
//
// Expectations come from the inputs: the credentials are the fixture's (random per start), the
// verdicts are the scenario's (alpine 3.10.9 has one CRITICAL, apk-tools CVE-2021-36159; 3.20.3
// has none: ../shared/testdata/scenario/README.md).
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <future>
#include <map>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include "it_support.h"
#include "support/process.h"
#include "support/test_support.h"

using scangate::it::ApiServer;
using scangate::it::metric_sum;
using scangate::it::metrics_text;
using scangate::it::post;
using scangate::it::start_webhook;
using scangate::it::TempDir;
using scangate::it::write_file;
using scangate::test::fixture_env;
using scangate::test::run_process;
using Json = nlohmann::json;

namespace {

std::string b64(const std::string& s) {
  auto r = run_process({"/usr/bin/base64", "-w0"}, s);
  REQUIRE(r.exit_code == 0);
  return r.out;
}

Json meta(const std::string& ns, const std::string& name) {
  return Json{{"name", name},
              {"namespace", ns},
              {"uid", "0c2b6f5e-" + std::to_string(std::hash<std::string>{}(ns + name) % 100000000)},
              {"resourceVersion", "4711"},
              {"creationTimestamp", "2026-12-01T10:00:00Z"}};
}

// A v1 Secret of type kubernetes.io/dockerconfigjson for `registry`.
Json dockerconfigjson_secret(const std::string& ns, const std::string& name, const std::string& registry,
                             const std::string& user, const std::string& password) {
  Json cfg = {
      {"auths", {{registry, {{"username", user}, {"password", password}, {"auth", b64(user + ":" + password)}}}}}};
  return Json{{"apiVersion", "v1"},
              {"kind", "Secret"},
              {"metadata", meta(ns, name)},
              {"type", "kubernetes.io/dockerconfigjson"},
              {"data", {{".dockerconfigjson", b64(cfg.dump())}}}};
}

// The legacy kubernetes.io/dockercfg form: the auths map itself, keyed here with a scheme and the
// /v1/ path, as `docker login` wrote it.
Json dockercfg_secret(const std::string& ns, const std::string& name, const std::string& registry,
                      const std::string& user, const std::string& password) {
  Json cfg = {{"http://" + registry + "/v1/", {{"auth", b64(user + ":" + password)}, {"email", "ci@example.com"}}}};
  return Json{{"apiVersion", "v1"},
              {"kind", "Secret"},
              {"metadata", meta(ns, name)},
              {"type", "kubernetes.io/dockercfg"},
              {"data", {{".dockercfg", b64(cfg.dump())}}}};
}

Json service_account(const std::string& ns, const std::string& name, const std::vector<std::string>& pull) {
  Json sa = {{"apiVersion", "v1"}, {"kind", "ServiceAccount"}, {"metadata", meta(ns, name)}};
  Json list = Json::array();
  for (const auto& n : pull) list.push_back({{"name", n}});
  if (!pull.empty()) sa["imagePullSecrets"] = list;
  return sa;
}

struct Cluster {
  std::string objects;
  void put(const Json& obj) {
    const std::string kind = obj["kind"] == "Secret" ? "secrets" : "serviceaccounts";
    write_file(objects + "/" + obj["metadata"]["namespace"].get<std::string>() + "/" + kind + "/" +
                   obj["metadata"]["name"].get<std::string>() + ".json",
               obj.dump());
  }
};

// A Pod (or a Deployment's template) naming `secrets` and `sa`.
Json review(const std::string& uid, const std::string& ns, const std::string& image,
            const std::vector<std::string>& secrets, const std::string& sa = "", bool deployment = false) {
  Json spec = {{"containers", Json::array({{{"name", "app"}, {"image", image}}})}};
  if (!secrets.empty()) {
    Json list = Json::array();
    for (const auto& s : secrets) list.push_back({{"name", s}});
    spec["imagePullSecrets"] = list;
  }
  if (!sa.empty()) spec["serviceAccountName"] = sa;
  Json object, kind, resource;
  if (deployment) {
    kind = {{"group", "apps"}, {"version", "v1"}, {"kind", "Deployment"}};
    resource = {{"group", "apps"}, {"version", "v1"}, {"resource", "deployments"}};
    Json tmpl = {{"metadata", {{"labels", {{"app", "x"}}}}}, {"spec", spec}};
    Json dspec = {{"replicas", 2}, {"template", tmpl}};
    object = {{"apiVersion", "apps/v1"},
              {"kind", "Deployment"},
              {"metadata", {{"name", "app"}, {"namespace", ns}}},
              {"spec", dspec}};
  } else {
    kind = {{"group", ""}, {"version", "v1"}, {"kind", "Pod"}};
    resource = {{"group", ""}, {"version", "v1"}, {"resource", "pods"}};
    object = {
        {"apiVersion", "v1"}, {"kind", "Pod"}, {"metadata", {{"name", "app"}, {"namespace", ns}}}, {"spec", spec}};
  }
  return Json{{"apiVersion", "admission.k8s.io/v1"},
              {"kind", "AdmissionReview"},
              {"request",
               {{"uid", uid},
                {"kind", kind},
                {"resource", resource},
                {"operation", "CREATE"},
                {"namespace", ns},
                {"name", "app"},
                {"object", object},
                {"dryRun", false}}}};
}

std::string message_of(const Json& reply) {
  const auto& r = reply["response"];
  return r.contains("status") ? r["status"].value("message", "") : "";
}

// A denial for a pod that cannot pull the image: "could not be scanned", and nothing of the
// verdict another tenant's scan made.
void check_nothing_of_the_findings(const std::string& msg) {
  CHECK(msg.find("could not be scanned") != std::string::npos);
  CHECK(msg.find("CRITICAL") == std::string::npos);
  CHECK(msg.find("CVE-") == std::string::npos);
}

size_t gets_of(const ApiServer& api, const std::string& path) { return api.requests("GET", path).size(); }

std::vector<std::string> kube_flags(const ApiServer& api) {
  std::vector<std::string> f = {"--pod-pull-secrets", "true"};
  for (auto& k : api.kube_flags()) f.push_back(k);
  return f;
}

// Copies the fixture's alpine 3.10.9 (one CRITICAL) into the basic-auth registry as private/vuln:1.
std::string push_private_vuln(const std::map<std::string, std::string>& env) {
  const std::string dest = env.at("AUTH_REGISTRY") + "/private/vuln:1";
  auto r = run_process({"/usr/bin/skopeo", "copy", "--src-tls-verify=false", "--dest-tls-verify=false", "--dest-creds",
                        env.at("AUTH_USER") + ":" + env.at("AUTH_PASSWORD"),
                        "docker://" + env.at("REGISTRY") + "/" + env.at("IMAGE_ALPINE_3_10_9"), "docker://" + dest});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  return dest;
}

// tests/fixtures/lying_registry.py: every manifest HEAD names `digest`, every GET is a 404.
struct LyingRegistry {
  scangate::it::Child proc;
  std::string host;
  LyingRegistry(const std::string& dir, const std::string& digest) {
    proc.spawn({"/usr/bin/python3", std::string(SCANGATE_SOURCE_DIR) + "/tests/fixtures/lying_registry.py", "--digest",
                digest, "--log", dir + "/lying.log"},
               dir + "/lying.out");
    auto m = proc.wait_for(std::regex("^([0-9]+)\n"), scangate::it::kStartTimeout);
    REQUIRE(!m.empty());
    host = "127.0.0.1:" + m.at(1);
  }
};

}  // namespace

TEST_CASE("pod pull secrets: the pod's, then its ServiceAccount's, then the webhook.s, unusable Secrets are skipped",
          "[webhook][credentials][pullsecrets]") {
  auto env = fixture_env();
  TempDir tmp("sg-pullsec");
  const std::string registry = env.at("AUTH_REGISTRY");
  const std::string user = env.at("AUTH_USER"), password = env.at("AUTH_PASSWORD");
  Cluster c{tmp.path + "/objects"};
  c.put(dockerconfigjson_secret("team-a", "good", registry, user, password));
  c.put(dockerconfigjson_secret("team-a", "stale", registry, user, "an-old-password"));
  Json opaque = dockerconfigjson_secret("team-a", "opaque", registry, user, password);
  opaque["type"] = "Opaque";
  c.put(opaque);
  c.put(dockercfg_secret("team-a", "legacy", registry, user, password));
  c.put(service_account("team-a", "default", {}));
  c.put(service_account("team-a", "builder", {"legacy"}));
  c.put(service_account("team-b", "default", {}));

  ApiServer api(tmp.path, Json::array(), {"--objects", c.objects});
  auto w = start_webhook(env, kube_flags(api));
  const std::string image = registry + "/" + env.at("PRIVATE_REPO");

  SECTION("the pod's own Secret reaches the private image: scanned and admitted") {
    Json r = post(*w, review("a1", "team-a", image, {"good"}));
    INFO(message_of(r));
    CHECK(r["response"]["allowed"] == true);
  }
  SECTION("a missing Secret, one of the wrong type and a stale one are passed over for the next") {
    Json r = post(*w, review("a2", "team-a", image, {"missing", "opaque", "stale", "good"}));
    INFO(message_of(r));
    CHECK(r["response"]["allowed"] == true);
    const std::string log = w->log();
    CHECK(log.find("secret team-a/missing") != std::string::npos);
    CHECK(log.find("secret team-a/opaque") != std::string::npos);
    CHECK(log.find(password) == std::string::npos);  // named, never their content
    CHECK(log.find("an-old-password") == std::string::npos);
  }
  SECTION("only the ServiceAccount's (legacy dockercfg) Secret is right: scanned") {
    Json r = post(*w, review("a3", "team-a", image, {"stale"}, "builder"));
    INFO(message_of(r));
    CHECK(r["response"]["allowed"] == true);
  }
  SECTION("a Deployment's pod template carries the same fields") {
    Json r = post(*w, review("a4", "team-a", image, {"good"}, "", true));
    INFO(message_of(r));
    CHECK(r["response"]["allowed"] == true);
  }
  SECTION("no credential is right: scan.onError (deny) decides, and the message names what was tried") {
    Json r = post(*w, review("a5", "team-a", image, {"stale"}));
    CHECK(r["response"]["allowed"] == false);
    const std::string msg = message_of(r);
    CHECK(msg.find("could not be scanned") != std::string::npos);
    CHECK(msg.find("secret team-a/stale") != std::string::npos);
    CHECK(msg.find("the webhook's own credentials") != std::string::npos);
    CHECK(msg.find("an-old-password") == std::string::npos);
  }
  SECTION("the API server's token is rotated while the webhook runs") {
    CHECK(post(*w, review("a6", "team-a", image, {"good"}))["response"]["allowed"] == true);
    api.token = "sg-test-token-rotated-77f1e2d3c4b5";
    scangate::it::write_file(api.dir + "/token.next", api.token + "\n");
    std::filesystem::rename(api.dir + "/token.next", api.dir + "/token");
    // A Secret not read yet: read with the new token (the stand-in refuses the old one).
    c.put(dockerconfigjson_secret("team-a", "fresh", registry, user, password));
    Json r = post(*w, review("a7", "team-a", image, {"fresh"}));
    INFO(message_of(r));
    CHECK(r["response"]["allowed"] == true);
    auto got = api.requests("GET", "/api/v1/namespaces/team-a/secrets/fresh");
    REQUIRE(!got.empty());
    CHECK(got.back()["headers"]["Authorization"] == "Bearer " + api.token);
  }
}

TEST_CASE("pod pull secrets: another tenant's scan never answers for a pod that cannot pull the image",
          "[webhook][credentials][pullsecrets]") {
  auto env = fixture_env();
  TempDir tmp("sg-pullsec-tenant");
  const std::string registry = env.at("AUTH_REGISTRY");
  Cluster c{tmp.path + "/objects"};
  c.put(dockerconfigjson_secret("team-a", "good", registry, env.at("AUTH_USER"), env.at("AUTH_PASSWORD")));
  c.put(service_account("team-a", "default", {}));
  c.put(service_account("team-b", "default", {}));
  ApiServer api(tmp.path, Json::array(), {"--objects", c.objects});
  const std::string vuln = push_private_vuln(env);
  const std::string digest = env.at("DIGEST_ALPINE_3_10_9");  // skopeo copies the manifest as it is
  auto w = start_webhook(env, kube_flags(api));

  // team-a reaches it with its Secret: scanned, denied for the CRITICAL finding.
  Json a = post(*w, review("t1", "team-a", vuln, {"good"}));
  CHECK(a["response"]["allowed"] == false);
  CHECK(message_of(a).find("CRITICAL") != std::string::npos);

  // team-b has no credential for that registry: by tag or by digest, the verdict cached for the
  // digest is not its answer; it gets "could not be scanned", nothing of the findings.
  const std::string pinned = registry + "/private/vuln@" + digest;
  for (const auto& ref : {vuln, pinned}) {
    Json b = post(*w, review("t2", "team-b", ref, {}));
    const std::string msg = message_of(b);
    INFO(msg);
    CHECK(b["response"]["allowed"] == false);
    check_nothing_of_the_findings(msg);
  }
  // Regression (review of efc3606): team-b's own registry answers a HEAD with team-a's digest.
  // The webhook must not believe the header: the registry has to serve that manifest, which it
  // cannot, so team-b still learns nothing.
  {
    LyingRegistry liar(tmp.path, digest);
    const double scans = metric_sum(metrics_text(*w), "scangate_scans_total");
    Json b = post(*w, review("t2b", "team-b", liar.host + "/probe/x:latest", {}));
    const std::string msg = message_of(b);
    INFO(msg);
    CHECK(b["response"]["allowed"] == false);
    check_nothing_of_the_findings(msg);
    CHECK(metric_sum(metrics_text(*w), "scangate_scans_total") == scans);
  }
  // The same content from a registry team-b can pull: the verdict is about content, so the
  // cached one decides (no second scan of that digest).
  const double scans_before = metric_sum(metrics_text(*w), "scangate_scans_total");
  Json pub = post(*w, review("t3", "team-b", env.at("REGISTRY") + "/alpine@" + digest, {}));
  CHECK(pub["response"]["allowed"] == false);
  CHECK(message_of(pub).find("CRITICAL") != std::string::npos);
  CHECK(metric_sum(metrics_text(*w), "scangate_scans_total") == scans_before);
}

TEST_CASE("pod pull secrets: a burst of 50 pods of one namespace costs at most 2 API calls per object",
          "[webhook][credentials][pullsecrets]") {
  auto env = fixture_env();
  TempDir tmp("sg-pullsec-burst");
  const std::string registry = env.at("AUTH_REGISTRY");
  Cluster c{tmp.path + "/objects"};
  c.put(dockerconfigjson_secret("burst", "regcred", registry, env.at("AUTH_USER"), env.at("AUTH_PASSWORD")));
  c.put(service_account("burst", "runner", {"regcred"}));
  // The first answer for the ServiceAccount is a 429 with Retry-After: retried, not failed.
  Json rules = Json::array({{{"method", "GET"},
                             {"path_prefix", "/api/v1/namespaces/burst/serviceaccounts/runner"},
                             {"times", 1},
                             {"status", 429},
                             {"headers", {{"Retry-After", "1"}}},
                             {"body",
                              {{"kind", "Status"},
                               {"apiVersion", "v1"},
                               {"metadata", Json::object()},
                               {"status", "Failure"},
                               {"message", "Too many requests, please try again later."},
                               {"reason", "TooManyRequests"},
                               {"code", 429}}}}});
  ApiServer api(tmp.path, rules, {"--objects", c.objects});
  auto w = start_webhook(env, kube_flags(api));
  const std::string image = registry + "/" + env.at("PRIVATE_REPO");

  // Catch's assertions are not thread-safe: the threads only post (curl, bodies written up front)
  // and every check runs here.
  std::vector<std::string> files;
  for (int i = 0; i < 50; ++i) {
    files.push_back(tmp.path + "/review-" + std::to_string(i) + ".json");
    write_file(files.back(), review("b" + std::to_string(i), "burst", image, {"regcred"}, "runner").dump());
  }
  std::vector<std::future<scangate::it::HttpReply>> replies;
  for (int i = 0; i < 50; ++i)
    replies.push_back(std::async(std::launch::async, [&w, &files, i] {
      return scangate::it::post_file(*w, files[static_cast<size_t>(i)], "application/json");
    }));
  int allowed = 0;
  for (auto& f : replies) {
    auto h = f.get();
    REQUIRE(h.curl_exit == 0);
    INFO(h.body);
    allowed += Json::parse(h.body)["response"]["allowed"] == true ? 1 : 0;
  }
  CHECK(allowed == 50);
  const auto secret_gets = gets_of(api, "/api/v1/namespaces/burst/secrets/regcred");
  const auto sa_gets = gets_of(api, "/api/v1/namespaces/burst/serviceaccounts/runner");
  CHECK(secret_gets >= 1);
  CHECK(secret_gets <= 2);
  CHECK(sa_gets >= 2);  // the 429, then the answer
  CHECK(sa_gets <= 3);  // ... and at most 2 calls beyond the refused one
}

// The token flow with a pod's Secret: the credentials go to the token issuer (which also grants
// anonymous pulls, so this checks that a Secret for a token realm does not break the pull).
TEST_CASE("pod pull secrets: the token-auth registry with a pod Secret", "[webhook][credentials][pullsecrets]") {
  auto env = fixture_env();
  if (env.at("TOKEN_REGISTRY").empty()) {
    WARN("the fixture has no token-auth registry");
    return;
  }
  TempDir tmp("sg-pullsec-token");
  const std::string registry = env.at("TOKEN_REGISTRY");
  Cluster c{tmp.path + "/objects"};
  c.put(dockerconfigjson_secret("tok", "issuer", registry, env.at("TOKEN_USER"), env.at("TOKEN_PASSWORD")));
  c.put(service_account("tok", "default", {}));
  ApiServer api(tmp.path, Json::array(), {"--objects", c.objects});
  auto w = start_webhook(env, kube_flags(api));
  Json r = post(*w, review("k1", "tok", registry + "/" + env.at("PRIVATE_REPO"), {"issuer"}));
  INFO(message_of(r));
  CHECK(r["response"]["allowed"] == true);
}

// The webhook's own --registry-config naming a credential helper (credHelpers), as on EKS with
// docker-credential-ecr-login: real helper scripts on PATH answer for the basic-auth registry.
TEST_CASE("credential helpers: the webhook's registry config runs docker-credential-<name> get",
          "[webhook][credentials][helpers]") {
  auto env = fixture_env();
  TempDir tmp("sg-credhelper");
  const std::string registry = env.at("AUTH_REGISTRY");
  const std::string bin = tmp.path + "/bin";
  std::filesystem::create_directories(bin);
  auto script = [&](const std::string& name, const std::string& body) {
    const std::string path = bin + "/docker-credential-" + name;
    write_file(path, "#!/bin/sh\n" + body);
    std::filesystem::permissions(path, std::filesystem::perms::owner_all);
  };
  // Answers with the fixture's credentials, and records the server it was asked about.
  script("good", "read server\necho \"$server\" >>" + tmp.path +
                     "/asked\nprintf '{\"ServerURL\":\"%s\",\"Username\":\"" + env.at("AUTH_USER") +
                     "\",\"Secret\":\"" + env.at("AUTH_PASSWORD") + "\"}' \"$server\"\n");
  script("hang", "exec sleep 600\n");
  script("garbage", "echo 'this is not JSON at all'\n");
  const std::string old_path = std::getenv("PATH") ? std::getenv("PATH") : "/usr/bin:/bin";
  ::setenv("PATH", (bin + ":" + old_path).c_str(), 1);
  const std::string cfg = tmp.path + "/config.json";
  auto config_with = [&](const std::string& helper) {
    write_file(cfg + ".next", Json{{"credHelpers", {{registry, helper}}}}.dump());
    std::filesystem::rename(cfg + ".next", cfg);
  };
  const std::string image = registry + "/" + env.at("PRIVATE_REPO");

  SECTION("a helper that prints credentials: scanned") {
    config_with("good");
    auto w = start_webhook(env, {"--registry-config", cfg, "--tag-cache-ttl", "0s"});
    Json r = post(*w, scangate::it::pod_review("h1", image));
    INFO(message_of(r));
    CHECK(r["response"]["allowed"] == true);
    CHECK(scangate::test::read_file(tmp.path + "/asked").find(registry) != std::string::npos);
    CHECK(w->log().find(env.at("AUTH_PASSWORD")) == std::string::npos);
  }
  SECTION("a helper that hangs is killed at its timeout: not scanned, answered in time") {
    config_with("hang");
    auto w = start_webhook(env, {"--registry-config", cfg, "--tag-cache-ttl", "0s"});
    auto t0 = std::chrono::steady_clock::now();
    Json r = post(*w, scangate::it::pod_review("h2", image));
    const auto waited = std::chrono::steady_clock::now() - t0;
    INFO(message_of(r));
    CHECK(r["response"]["allowed"] == false);  // scan.onError: deny
    CHECK(message_of(r).find("docker-credential-hang") != std::string::npos);
    CHECK(waited < std::chrono::seconds(30));  // the ?timeout=30s bound, not the helper's 600 s
  }
  SECTION("a helper that prints garbage: a clear error, never its output") {
    config_with("garbage");
    auto w = start_webhook(env, {"--registry-config", cfg, "--tag-cache-ttl", "0s"});
    Json r = post(*w, scangate::it::pod_review("h3", image));
    CHECK(r["response"]["allowed"] == false);
    CHECK(message_of(r).find("docker-credential-garbage") != std::string::npos);
    CHECK(message_of(r).find("this is not JSON") == std::string::npos);
  }
  SECTION("the config replaced while running: from a failing helper to a working one") {
    config_with("garbage");
    auto w = start_webhook(env, {"--registry-config", cfg, "--tag-cache-ttl", "0s"});
    CHECK(post(*w, scangate::it::pod_review("h4", image))["response"]["allowed"] == false);
    config_with("good");
    REQUIRE(
        scangate::it::eventually([&] { return w->log().find("registry credentials reloaded") != std::string::npos; }));
    CHECK(post(*w, scangate::it::pod_review("h5", image))["response"]["allowed"] == true);
  }
  ::setenv("PATH", old_path.c_str(), 1);
}

// Regression (review of efc3606), without pull secrets: a registry whose HEAD names the digest of
// a clean image the webhook has cached must not get that image's pass for content it cannot serve.
TEST_CASE("a registry's Docker-Content-Digest alone never decides: the manifest must be served",
          "[webhook][registry]") {
  auto env = fixture_env();
  TempDir tmp("sg-liar");
  auto w = start_webhook(env, {"--tag-cache-ttl", "0s"});
  Json clean = post(*w, scangate::it::pod_review("l1", env.at("REGISTRY") + "/" + env.at("IMAGE_ALPINE_3_20_3")));
  REQUIRE(clean["response"]["allowed"] == true);
  LyingRegistry liar(tmp.path, env.at("DIGEST_ALPINE_3_20_3"));
  Json lie = post(*w, scangate::it::pod_review("l2", liar.host + "/evil/app:1"));
  const std::string msg = message_of(lie);
  INFO(msg);
  CHECK(lie["response"]["allowed"] == false);  // scan.onError: deny
  CHECK(msg.find("did not serve it") != std::string::npos);
  CHECK(scangate::test::read_file(tmp.path + "/lying.log")
            .find("GET /v2/evil/app/manifests/" + env.at("DIGEST_ALPINE_3_20_3")) != std::string::npos);
}
