// The Kubernetes API client: in-cluster configuration from a fake environment, and calls against
// a loopback TLS server (httplib, the net tests' PKI) that answers as the API server does
// (objects, meta/v1 Status errors, 429 with Retry-After).
#include "scanner/kube/kube_client.h"

#include <catch2/catch.hpp>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <vector>

#include "scanner/core/log.h"
#include "scanner/kube/ca_bundle.h"
#include "support/test_support.h"
#include "unit/net/net_test_util.h"

using namespace scangate;
using namespace scangate::kube;
using scangate::test::net::pki;
using scangate::test::net::Server;
using std::chrono::milliseconds;

namespace {

GetEnv env_of(std::map<std::string, std::string> vars) {
  return [vars](const std::string& name) -> std::optional<std::string> {
    auto it = vars.find(name);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

void write(const std::string& path, const std::string& text) {
  std::ofstream f(path, std::ios::binary);
  f << text;
}

std::string status_json(int code, const std::string& reason, const std::string& message) {
  return nlohmann::json{{"kind", "Status"},    {"apiVersion", "v1"}, {"metadata", nlohmann::json::object()},
                        {"status", "Failure"}, {"message", message}, {"reason", reason},
                        {"code", code}}
      .dump();
}

struct Sleeps {
  std::mutex mu;
  std::vector<milliseconds> v;
  net::Sleeper sleeper() {
    return [this](milliseconds d) {
      std::lock_guard<std::mutex> l(mu);
      v.push_back(d);
    };
  }
};

}  // namespace

TEST_CASE("kube: the in-cluster server URL brackets an IPv6 host", "[kube]") {
  CHECK(service_url("10.96.0.1", "443") == "https://10.96.0.1:443");
  CHECK(service_url("fd00:10:96::1", "6443") == "https://[fd00:10:96::1]:6443");
  CHECK(service_url("[fd00::1]", "443") == "https://[fd00::1]:443");
  CHECK(service_url("kubernetes.default.svc", "") == "https://kubernetes.default.svc:443");
}

TEST_CASE("kube: in-cluster configuration from the environment and the service-account files", "[kube]") {
  const std::string d = scangate::test::make_temp_dir("sg-kube-cfg");
  write(d + "/token", "abc.def.ghi\n");
  write(d + "/ca.crt", scangate::test::read_file(pki().ca_cert));

  auto c = in_cluster_config({"", d + "/token", d + "/ca.crt"},
                             env_of({{"KUBERNETES_SERVICE_HOST", "fd00::1"}, {"KUBERNETES_SERVICE_PORT", "443"}}));
  REQUIRE(c.ok());
  CHECK(c->server == "https://[fd00::1]:443");
  CHECK(c->token_file == d + "/token");
  CHECK(c->ca_file == d + "/ca.crt");

  auto none = in_cluster_config({"", d + "/token", d + "/ca.crt"}, env_of({}));
  REQUIRE(!none.ok());
  CHECK(none.error().message.find("KUBERNETES_SERVICE_HOST") != std::string::npos);
  CHECK(none.error().message.find("--kube-api-server") != std::string::npos);

  // The defaults are the pod's service-account files.
  auto defaults = in_cluster_config({"https://127.0.0.1:1", "", d + "/ca.crt"}, env_of({}));
  if (!std::filesystem::exists(std::string(kServiceAccountDir) + "/token")) {
    REQUIRE(!defaults.ok());
    CHECK(defaults.error().message.find(std::string(kServiceAccountDir) + "/token") != std::string::npos);
    CHECK(defaults.error().message.find("--kube-token-file") != std::string::npos);
  }
  auto no_ca = in_cluster_config({"https://127.0.0.1:1", d + "/token", d + "/missing.crt"}, env_of({}));
  REQUIRE(!no_ca.ok());
  CHECK(no_ca.error().message.find(d + "/missing.crt") != std::string::npos);
}

TEST_CASE("kube: errors name the object, the status, the reason and the API server's message", "[kube]") {
  CHECK(object_of("/apis/rbac.authorization.k8s.io/v1/clusterroles/sg-owner") == "clusterroles/sg-owner");
  CHECK(object_of("/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations/x?fieldManager=a") ==
        "validatingwebhookconfigurations/x");
  ApiResponse r;
  r.status = 403;
  r.reason = "Forbidden";
  r.message = "clusterroles.rbac.authorization.k8s.io \"sg-owner\" is forbidden: User \"u\" cannot get";
  Error e = api_error("get", "clusterroles/sg-owner", r);
  CHECK(e.kind == ErrorKind::kAuth);
  CHECK(e.message.find("get clusterroles/sg-owner: the API server answered 403 Forbidden: clusterroles") == 0);
  r.status = 404;
  r.reason = "NotFound";
  CHECK(api_error("get", "x/y", r).kind == ErrorKind::kNotFound);
  r.status = 422;
  CHECK(api_error("apply", "x/y", r).kind == ErrorKind::kInvalidArgument);
  r.status = 503;
  CHECK(api_error("apply", "x/y", r).kind == ErrorKind::kNetwork);
}

TEST_CASE("kube: a client refuses plain HTTP to a remote host and a CA file without a certificate", "[kube]") {
  const std::string d = scangate::test::make_temp_dir("sg-kube-create");
  write(d + "/not-a-ca", "hello\n");
  auto plain = KubeClient::create({"http://10.0.0.1:8080", "", ""});
  REQUIRE(!plain.ok());
  CHECK(plain.error().message.find("plain HTTP") != std::string::npos);
  auto bad_ca = KubeClient::create({"https://127.0.0.1:1", "", d + "/not-a-ca"});
  REQUIRE(!bad_ca.ok());
  CHECK(bad_ca.error().kind == ErrorKind::kFormat);
}

TEST_CASE("kube: get, apply, create and delete over TLS with the bearer token", "[kube]") {
  const std::string d = scangate::test::make_temp_dir("sg-kube-calls");
  write(d + "/token", "first-token-0123456789\n");
  Server api("127.0.0.1", true);
  std::mutex mu;
  std::string applied_body, applied_type, applied_query;
  int throttled = 0;
  api.http().Get("/apis/rbac.authorization.k8s.io/v1/clusterroles/owner", [&](const auto&, auto& res) {
    res.set_content(R"({"kind":"ClusterRole","apiVersion":"rbac.authorization.k8s.io/v1",)"
                    R"("metadata":{"name":"owner","uid":"u-1"},"rules":[]})",
                    "application/json");
  });
  api.http().Get("/apis/rbac.authorization.k8s.io/v1/clusterroles/missing", [&](const auto&, auto& res) {
    res.status = 404;
    res.set_content(status_json(404, "NotFound", "clusterroles.rbac.authorization.k8s.io \"missing\" not found"),
                    "application/json");
  });
  api.http().Patch("/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations/vwc",
                   [&](const httplib::Request& req, httplib::Response& res) {
                     std::lock_guard<std::mutex> l(mu);
                     if (throttled++ == 0) {
                       res.status = 429;
                       res.set_header("Retry-After", "2");
                       res.set_content(status_json(429, "TooManyRequests", "slow down"), "application/json");
                       return;
                     }
                     applied_body = req.body;
                     applied_type = req.get_header_value("Content-Type");
                     applied_query = req.target.substr(req.target.find('?') + 1);
                     res.status = 201;
                     res.set_content(req.body, "application/json");
                   });
  api.http().Post("/api/v1/namespaces/ns/pods", [&](const auto&, auto& res) {
    res.status = 500;
    res.set_content(status_json(500, "InternalError",
                                "Internal error occurred: failed calling webhook \"images.scangate.io\": timeout"),
                    "application/json");
  });
  api.http().Delete("/api/v1/namespaces/ns/pods/gone", [&](const auto&, auto& res) {
    res.status = 404;
    res.set_content(status_json(404, "NotFound", "pods \"gone\" not found"), "application/json");
  });
  api.start();

  Sleeps sleeps;
  ClientOptions o;
  o.sleeper = sleeps.sleeper();
  auto client = KubeClient::create({api.origin(), d + "/token", pki().ca_cert}, o);
  REQUIRE(client.ok());
  const Deadline deadline = Deadline::after(std::chrono::seconds(30));

  auto owner = (*client)->get("/apis/rbac.authorization.k8s.io/v1/clusterroles/owner", deadline);
  REQUIRE(owner.ok());
  CHECK((*owner)["metadata"]["uid"] == "u-1");

  auto missing = (*client)->get("/apis/rbac.authorization.k8s.io/v1/clusterroles/missing", deadline);
  REQUIRE(!missing.ok());
  CHECK(missing.error().kind == ErrorKind::kNotFound);
  CHECK(missing.error().message ==
        "get clusterroles/missing: the API server answered 404 NotFound: "
        "clusterroles.rbac.authorization.k8s.io \"missing\" not found");

  // Server-side apply: the 429 is retried after at least its Retry-After.
  nlohmann::json obj = {{"apiVersion", "admissionregistration.k8s.io/v1"},
                        {"kind", "ValidatingWebhookConfiguration"},
                        {"metadata", {{"name", "vwc"}}}};
  auto applied = (*client)->apply("/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations/vwc", obj,
                                  "scangate", deadline);
  REQUIRE(applied.ok());
  CHECK(applied_type == "application/apply-patch+yaml");
  CHECK(applied_query == "fieldManager=scangate&force=true");
  CHECK(nlohmann::json::parse(applied_body) == obj);
  REQUIRE(sleeps.v.size() == 1);
  CHECK(sleeps.v[0] >= milliseconds(2000));

  // A create is not retried on a 500 (it is not idempotent); the message is the API server's.
  auto created = (*client)->create("/api/v1/namespaces/ns/pods?dryRun=All",
                                   {{"apiVersion", "v1"}, {"kind", "Pod"}, {"metadata", {{"name", "p"}}}}, deadline);
  REQUIRE(!created.ok());
  CHECK(created.error().message.find("create ns/pods/p: the API server answered 500 InternalError: Internal error "
                                     "occurred: failed calling webhook") == 0);
  size_t posts = 0;
  for (const auto& s : api.seen()) posts += s.method == "POST";
  CHECK(posts == 1);

  // Deleting what is gone is done.
  CHECK((*client)->remove("/api/v1/namespaces/ns/pods/gone", deadline).ok());

  // Every request carried the token; it is registered with the logger's redaction.
  for (const auto& s : api.seen()) CHECK(s.header("Authorization") == "Bearer first-token-0123456789");
  CHECK(log::redact("token first-token-0123456789 here").find("first-token-0123456789") == std::string::npos);

  // A rotated token (the kubelet swaps the file) is read again before the next call.
  write(d + "/token.new", "second-token-9876543210\n");
  std::filesystem::rename(d + "/token.new", d + "/token");
  REQUIRE((*client)->get("/apis/rbac.authorization.k8s.io/v1/clusterroles/owner", deadline).ok());
  CHECK(api.seen().back().header("Authorization") == "Bearer second-token-9876543210");
}

TEST_CASE("kube: a deadline too short for the server's Retry-After is an error, never a long sleep", "[kube]") {
  const std::string d = scangate::test::make_temp_dir("sg-kube-deadline");
  write(d + "/token", "token-for-deadline-test\n");
  Server api("127.0.0.1", true);
  api.http().Get("/api/v1/namespaces/x", [&](const auto&, auto& res) {
    res.status = 429;
    res.set_header("Retry-After", "30");
    res.set_content(status_json(429, "TooManyRequests", "slow down"), "application/json");
  });
  api.start();
  Sleeps sleeps;
  ClientOptions o;
  o.sleeper = sleeps.sleeper();
  auto client = KubeClient::create({api.origin(), d + "/token", pki().ca_cert}, o);
  REQUIRE(client.ok());
  auto r = (*client)->get("/api/v1/namespaces/x", Deadline::after(std::chrono::seconds(3)));
  REQUIRE(!r.ok());
  CHECK(r.error().message.find("deadline") != std::string::npos);
  CHECK(sleeps.v.empty());
}

TEST_CASE("kube: a CA bundle is whole PEM certificates: cut short, a private key or too big is refused", "[kube][ca]") {
  const std::string ca = scangate::test::read_file(pki().ca_cert);
  const std::string server = scangate::test::read_file(pki().server_cert);
  auto whole = check_ca_bundle(ca, "ca");
  REQUIRE(whole.ok());
  CHECK(*whole == 1);
  auto two = check_ca_bundle("# roots\n" + ca + "\n" + server, "ca");
  REQUIRE(two.ok());
  CHECK(*two == 2);
  // A file read while it was being written: every cut of the certificate is refused (before the
  // fix the publisher only looked for the BEGIN line and published a caBundle the API server
  // cannot use, which fails every call to a fail-closed webhook).
  for (size_t cut = 28; cut < ca.size() - 1; cut += 7) {
    INFO("cut at " << cut);
    CHECK_FALSE(check_ca_bundle(ca.substr(0, cut), "ca").ok());
  }
  CHECK_FALSE(check_ca_bundle(ca + server.substr(0, server.size() / 2), "ca").ok());
  // One base64 character changed in the body.
  std::string corrupt = ca;
  corrupt[ca.find('\n', 40) + 10] = corrupt[ca.find('\n', 40) + 10] == 'A' ? 'B' : 'A';
  auto c = check_ca_bundle(corrupt, "ca");
  // (A changed character may still decode to some DER; it must then still be one whole certificate.)
  if (!c.ok()) CHECK(c.error().kind == ErrorKind::kFormat);
  CHECK_FALSE(check_ca_bundle("hello\n", "ca").ok());
  auto key = check_ca_bundle(ca + scangate::test::read_file(pki().server_key), "ca");
  REQUIRE_FALSE(key.ok());
  CHECK(key.error().message.find("not a CERTIFICATE") != std::string::npos);
  CHECK_FALSE(check_ca_bundle(ca + std::string(kMaxCaBundleBytes, '#'), "ca").ok());

  // The client refuses such a CA file at creation.
  const std::string d = scangate::test::make_temp_dir("sg-kube-ca");
  write(d + "/cut.pem", ca.substr(0, ca.size() / 2));
  auto cut = KubeClient::create({"https://127.0.0.1:1", "", d + "/cut.pem"});
  REQUIRE_FALSE(cut.ok());
  CHECK(cut.error().kind == ErrorKind::kFormat);
  // A huge file is not read whole.
  {
    std::ofstream f(d + "/huge.pem", std::ios::binary);
    f << ca;
    f << std::string(2 * kMaxCaBundleBytes, '#');
  }
  auto huge = read_file_bounded(d + "/huge.pem", kMaxCaBundleBytes, "the CA file");
  REQUIRE_FALSE(huge.ok());
  CHECK(huge.error().kind == ErrorKind::kLimit);
}

TEST_CASE("kube: a token file holding a line break, or too big, is never sent, and deep JSON is not parsed",
          "[kube][token]") {
  const std::string d = scangate::test::make_temp_dir("sg-kube-token");
  Server api("127.0.0.1", true);
  api.http().Get("/api/v1/namespaces/x", [&](const auto&, auto& res) {
    res.set_content(R"({"kind":"Namespace","metadata":{"name":"x"}})", "application/json");
  });
  api.http().Get("/api/v1/namespaces/deep",
                 [&](const auto&, auto& res) { res.set_content(std::string(1 << 20, '['), "application/json"); });
  api.start();
  ClientOptions o;
  Sleeps sleeps;
  o.sleeper = sleeps.sleeper();
  write(d + "/token", "good-token-abcdef\n");
  auto client = KubeClient::create({api.origin(), d + "/token", pki().ca_cert}, o);
  REQUIRE(client.ok());
  const Deadline deadline = Deadline::after(std::chrono::seconds(30));
  REQUIRE((*client)->get("/api/v1/namespaces/x", deadline).ok());
  const size_t sent = api.seen().size();

  // Garbage with a CRLF inside: before the fix it went into the header block as it was
  // (header injection into the request to the API server).
  write(d + "/token.new", "evil-token\r\nX-Injected: 1\r\n\r\nGET / HTTP/1.1\n");
  std::filesystem::rename(d + "/token.new", d + "/token");
  auto injected = (*client)->get("/api/v1/namespaces/x", deadline);
  REQUIRE_FALSE(injected.ok());
  CHECK(injected.error().kind == ErrorKind::kAuth);
  CHECK(api.seen().size() == sent);  // nothing was sent
  for (const auto& s : api.seen()) CHECK(s.header("X-Injected").empty());

  // A huge token file.
  {
    std::ofstream f(d + "/token.new", std::ios::binary);
    f << std::string(kMaxTokenBytes + 10, 'a');
  }
  std::filesystem::rename(d + "/token.new", d + "/token");
  auto huge = (*client)->get("/api/v1/namespaces/x", deadline);
  REQUIRE_FALSE(huge.ok());
  CHECK(huge.error().kind == ErrorKind::kAuth);
  CHECK(api.seen().size() == sent);

  // A good token again: calls go on.
  write(d + "/token.new", "good-token-ghijkl\n");
  std::filesystem::rename(d + "/token.new", d + "/token");
  REQUIRE((*client)->get("/api/v1/namespaces/x", deadline).ok());

  // 1 MiB of '[': not parsed into a tree; the answer is "not a JSON object".
  auto deep = (*client)->get("/api/v1/namespaces/deep", deadline);
  REQUIRE_FALSE(deep.ok());
  CHECK(deep.error().kind == ErrorKind::kFormat);
}
