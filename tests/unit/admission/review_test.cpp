// parse_admission_review / render_admission_response against the real AdmissionReview samples
// in ../shared/testdata/admission (expected images read off each JSON file by hand), objects
// rendered offline by the real kubectl, and hand-written workload objects.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <yaml-cpp/yaml.h>

#include "support/process.h"
#include "support/test_support.h"
#include "webhook/admission/review.h"

using nlohmann::json;
using namespace scangate;
using namespace scangate::admission;
using scangate::test::read_file;
using scangate::test::testdata;

namespace {

constexpr auto C = ContainerKind::kContainer;
constexpr auto I = ContainerKind::kInitContainer;
constexpr auto E = ContainerKind::kEphemeralContainer;

json load(const std::string& name) { return json::parse(read_file(testdata("admission/" + name))); }

// SOURCES.md: request-only files are wrapped as {"apiVersion":"admission.k8s.io/v1",
// "kind":"AdmissionReview","request":<file>}.
json wrap(json request, const std::string& api = "admission.k8s.io/v1") {
  return json{{"apiVersion", api}, {"kind", "AdmissionReview"}, {"request", std::move(request)}};
}

// An AdmissionReview for CREATE of `object` (kind/resource taken from the object).
json review_for(const json& object, const std::string& resource, const std::string& op = "CREATE") {
  std::string api = object.at("apiVersion");
  std::string group, version = api;
  if (auto p = api.find('/'); p != std::string::npos) {
    group = api.substr(0, p);
    version = api.substr(p + 1);
  }
  json req = {{"uid", "0c6f1e2a-7d44-4b7e-9f57-3f7f8b9d1e01"},
              {"kind", {{"group", group}, {"version", version}, {"kind", object.at("kind")}}},
              {"resource", {{"group", group}, {"version", version}, {"resource", resource}}},
              {"operation", op},
              {"namespace", "default"},
              {"name", object["metadata"].value("name", "")},
              {"object", object}};
  return wrap(std::move(req));
}

AdmissionRequest parse_ok(const json& review) {
  auto r = parse_admission_review(review.dump());
  INFO((r ? std::string() : r.error().message));
  REQUIRE(r.ok());
  return std::move(r).value();
}

Error parse_err(std::string_view body) {
  auto r = parse_admission_review(body);
  REQUIRE_FALSE(r.ok());
  return r.error();
}

std::vector<ContainerImage> imgs(std::initializer_list<ContainerImage> l) { return l; }

// yaml-cpp node -> JSON (scalars stay strings except true/false).
json yaml_to_json(const YAML::Node& n) {
  switch (n.Type()) {
    case YAML::NodeType::Map: {
      json o = json::object();
      for (const auto& kv : n) o[kv.first.as<std::string>()] = yaml_to_json(kv.second);
      return o;
    }
    case YAML::NodeType::Sequence: {
      json a = json::array();
      for (const auto& v : n) a.push_back(yaml_to_json(v));
      return a;
    }
    case YAML::NodeType::Scalar: {
      std::string s = n.as<std::string>();
      if (n.Tag() != "!" && (s == "true" || s == "false")) return s == "true";
      return s;
    }
    default: return nullptr;
  }
}

json kubectl_json(const std::vector<std::string>& args) {
  std::vector<std::string> argv = {"/usr/bin/kubectl"};
  argv.insert(argv.end(), args.begin(), args.end());
  argv.insert(argv.end(), {"--dry-run=client", "-o", "json"});
  auto r = scangate::test::run_process(argv);
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  return json::parse(r.out);
}

}  // namespace

TEST_CASE("full v1 reviews: Pod CREATE samples 01 and 02", "[review]") {
  for (const char* file :
       {"01-pod-create-privileged.admissionreview.json", "02-pod-create-unprivileged.admissionreview.json"}) {
    INFO(file);
    auto r = parse_ok(load(file));
    CHECK(r.api_version == "admission.k8s.io/v1");
    CHECK(r.uid == "1299d386-525b-4032-98ae-1949f69f9cfc");
    CHECK(r.kind.group.empty());
    CHECK(r.kind.version == "v1");
    CHECK(r.kind.kind == "Pod");
    CHECK(r.resource.resource == "pods");
    CHECK(r.sub_resource.empty());
    CHECK(r.operation == "CREATE");
    CHECK(r.namespace_ == "default");
    CHECK(r.name == "nginx");
    CHECK_FALSE(r.dry_run);
    REQUIRE(r.user.has_value());
    CHECK(r.user->username == "kubernetes-admin");
    CHECK(r.user->groups == std::vector<std::string>{"system:masters", "system:authenticated"});
    CHECK(r.images == imgs({{"sleeping-sidecar", "alpine", C}, {"nginx", "nginx", C}}));
    CHECK(r.not_gated_reason.empty());
  }
}

TEST_CASE("request-only samples wrapped per SOURCES.md", "[review]") {
  SECTION("03 Deployment CREATE gates its template's image") {
    auto r = parse_ok(wrap(load("03-deployment-create.request.json")));
    CHECK(r.uid == "31403b86-f972-423e-8adb-c4bd79dc15cc");
    CHECK(r.kind.group == "apps");
    CHECK(r.kind.kind == "Deployment");
    CHECK(r.user->username == "system:admin");
    CHECK(r.images == imgs({{"nginx", "nginx:latest", C}}));
  }
  SECTION("04 Deployment UPDATE with the same images gates nothing") {
    auto r = parse_ok(wrap(load("04-deployment-update.request.json")));
    CHECK(r.operation == "UPDATE");
    CHECK(r.uid == "ab41adeb-eca2-4add-9336-c263895d3953");
    CHECK(r.images.empty());
    CHECK(r.not_gated_reason == "no new images on UPDATE");
  }
  SECTION("05 Pod UPDATE with the same image gates nothing") {
    auto r = parse_ok(wrap(load("05-pod-update.request.json")));
    CHECK(r.name == "hello-world");
    CHECK(r.images.empty());
  }
  SECTION("06 Pod CREATE with ephemeralContainers in its spec gates all three") {
    auto r = parse_ok(wrap(load("06-pod-create-privileged-ephemeral-container.request.json")));
    CHECK(r.images == imgs({{"sleeping-sidecar", "alpine", C}, {"nginx", "nginx", C}, {"nginx", "nginx", E}}));
  }
  SECTION("07 Pod CREATE with init and ephemeral containers, no name or namespace") {
    auto r = parse_ok(wrap(load("07-pod-create-init-and-ephemeral-containers.request.json")));
    CHECK(r.name.empty());
    CHECK(r.namespace_.empty());
    CHECK(r.user->username == "alice");
    CHECK(r.user->uid == "alice-uid");
    CHECK(r.images == imgs({{"nginx", "nginx", C}, {"nginx", "nginx", I}, {"busybox", "busybox", E}}));
  }
  SECTION("08 status subresource UPDATE gates nothing") {
    auto r = parse_ok(wrap(load("08-pod-status-subresource-update.request.json")));
    CHECK(r.sub_resource == "status");
    CHECK(r.images.empty());
    CHECK(r.not_gated_reason == "subresource status is not gated");
  }
}

TEST_CASE("v1beta1 gatekeeper sample (YAML) without uid is rejected, with one it decodes", "[review]") {
  json review =
      yaml_to_json(YAML::LoadFile(testdata("admission/09-pod-update-minimal.gatekeeper.admissionreview-v1beta1.yaml")));
  auto e = parse_err(review.dump());
  CHECK(admission_http_status(e) == 400);
  CHECK(e.message == "AdmissionReview request has no uid");

  review["request"]["uid"] = "b1e9d3a0-1111-2222-3333-444455556666";  // added by this test
  auto r = parse_ok(review);
  CHECK(r.api_version == "admission.k8s.io/v1beta1");
  CHECK(r.operation == "UPDATE");
  // No request.kind in the sample: the object's apiVersion/kind (v1 Pod) are used.
  CHECK(r.kind.kind == "Pod");
  CHECK(r.kind.group.empty());
  CHECK(r.kind.version == "v1");
  // No oldObject: every image counts as new.
  CHECK(r.images == imgs({{"nginx", "nginx", C}}));

  AdmissionDecision d;
  json reply = json::parse(render_admission_response(r, d));
  CHECK(reply["apiVersion"] == "admission.k8s.io/v1beta1");
  CHECK(reply["response"]["uid"] == "b1e9d3a0-1111-2222-3333-444455556666");
}

TEST_CASE("gatekeeper Pod object with ephemeralContainers, wrapped as a CREATE", "[review]") {
  json pod = yaml_to_json(YAML::LoadFile(testdata("admission/10-pod-with-ephemeral-container.gatekeeper.object.yaml")));
  auto r = parse_ok(review_for(pod, "pods"));
  CHECK(r.images == imgs({{"nginx", "nginx", E}}));
}

TEST_CASE("pods/ephemeralcontainers subresource gates only the new ephemeral containers", "[review]") {
  // No captured subresource request exists (SOURCES.md): derived from sample 05 by setting
  // subResource and adding an ephemeral debug container to the new object.
  json req = load("05-pod-update.request.json");
  req["subResource"] = "ephemeralcontainers";
  req["requestSubResource"] = "ephemeralcontainers";
  req["object"]["spec"]["ephemeralContainers"] = json::array({{{"name", "debugger"}, {"image", "busybox:1.36"}}});
  auto r = parse_ok(wrap(req));
  CHECK(r.sub_resource == "ephemeralcontainers");
  CHECK(r.images == imgs({{"debugger", "busybox:1.36", E}}));

  SECTION("an ephemeral container already present in oldObject is not gated again") {
    req["oldObject"]["spec"]["ephemeralContainers"] = req["object"]["spec"]["ephemeralContainers"];
    req["object"]["spec"]["ephemeralContainers"].push_back({{"name", "debugger2"}, {"image", "alpine:3.19"}});
    auto r2 = parse_ok(wrap(req));
    CHECK(r2.images == imgs({{"debugger2", "alpine:3.19", E}}));
  }
  SECTION("Kubernetes <= 1.21 sent an EphemeralContainers object") {
    json obj = {{"kind", "EphemeralContainers"},
                {"apiVersion", "v1"},
                {"metadata", {{"name", "hello-world"}}},
                {"ephemeralContainers", json::array({{{"name", "dbg"}, {"image", "busybox:1.36"}}})}};
    req["kind"] = {{"group", ""}, {"version", "v1"}, {"kind", "EphemeralContainers"}};
    req["object"] = obj;
    req["oldObject"] = {{"kind", "EphemeralContainers"}, {"apiVersion", "v1"}, {"ephemeralContainers", json::array()}};
    auto r3 = parse_ok(wrap(req));
    CHECK(r3.images == imgs({{"dbg", "busybox:1.36", E}}));
  }
}

TEST_CASE("UPDATE gates only images new compared with oldObject", "[review]") {
  json req = load("04-deployment-update.request.json");
  SECTION("scaling a Deployment gates nothing") {
    req["object"]["spec"]["replicas"] = 7;
    auto r = parse_ok(wrap(req));
    CHECK(r.images.empty());
  }
  SECTION("a new image tag is gated") {
    req["object"]["spec"]["template"]["spec"]["containers"][0]["image"] = "nginx:1.25";
    auto r = parse_ok(wrap(req));
    CHECK(r.images == imgs({{"nginx", "nginx:1.25", C}}));
  }
  SECTION("an added sidecar is gated, the unchanged container is not") {
    req["object"]["spec"]["template"]["spec"]["containers"].push_back(
        {{"name", "proxy"}, {"image", "envoyproxy/envoy:v1.29"}});
    auto r = parse_ok(wrap(req));
    CHECK(r.images == imgs({{"proxy", "envoyproxy/envoy:v1.29", C}}));
  }
}

TEST_CASE("DELETE and CONNECT pass without gating", "[review]") {
  for (const char* op : {"DELETE", "CONNECT"}) {
    json review = load("01-pod-create-privileged.admissionreview.json");
    review["request"]["operation"] = op;
    auto r = parse_ok(review);
    CHECK(r.operation == op);
    CHECK(r.images.empty());
    CHECK(r.not_gated_reason == std::string(op) + " is not gated");
  }
}

TEST_CASE("dryRun is decoded (derived: no real sample has dryRun true)", "[review]") {
  json review = load("01-pod-create-privileged.admissionreview.json");
  review["request"]["dryRun"] = true;
  CHECK(parse_ok(review).dry_run);
}

TEST_CASE("workload objects rendered by kubectl", "[review][kubectl]") {
  SECTION("Deployment") {
    auto r = parse_ok(review_for(kubectl_json({"create", "deployment", "web", "--image=nginx:1.25"}), "deployments"));
    CHECK(r.kind.group == "apps");
    CHECK(r.images == imgs({{"nginx", "nginx:1.25", C}}));
  }
  SECTION("Deployment with two images") {
    auto r = parse_ok(review_for(
        kubectl_json({"create", "deployment", "web", "--image=nginx:1.25", "--image=redis:7.2"}), "deployments"));
    CHECK(r.images == imgs({{"nginx", "nginx:1.25", C}, {"redis", "redis:7.2", C}}));
  }
  SECTION("Job") {
    auto r = parse_ok(review_for(kubectl_json({"create", "job", "migrate", "--image=busybox:1.36"}), "jobs"));
    CHECK(r.kind.group == "batch");
    CHECK(r.images == imgs({{"migrate", "busybox:1.36", C}}));
  }
  SECTION("CronJob: spec.jobTemplate.spec.template") {
    auto r = parse_ok(review_for(
        kubectl_json({"create", "cronjob", "nightly", "--image=alpine:3.19", "--schedule=0 3 * * *"}), "cronjobs"));
    CHECK(r.kind.kind == "CronJob");
    CHECK(r.images == imgs({{"nightly", "alpine:3.19", C}}));
  }
}

TEST_CASE("hand-written workload objects", "[review]") {
  json tmpl = {{"metadata", {{"labels", {{"app", "x"}}}}},
               {"spec",
                {{"initContainers", json::array({{{"name", "init"}, {"image", "busybox:1.36"}}})},
                 {"containers", json::array({{{"name", "app"},
                                              {"image",
                                               "registry.example.com/app@sha256:"
                                               "0123456789abcdef0123456789abcdef"
                                               "0123456789abcdef0123456789abcdef"}}})}}}};
  const auto expected = imgs(
      {{"app", "registry.example.com/app@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", C},
       {"init", "busybox:1.36", I}});
  for (auto [api, kind, resource] :
       {std::tuple{"apps/v1", "StatefulSet", "statefulsets"}, std::tuple{"apps/v1", "DaemonSet", "daemonsets"},
        std::tuple{"apps/v1", "ReplicaSet", "replicasets"},
        std::tuple{"v1", "ReplicationController", "replicationcontrollers"}}) {
    INFO(kind);
    json obj = {{"apiVersion", api},
                {"kind", kind},
                {"metadata", {{"name", "x"}}},
                {"spec", {{"selector", {{"matchLabels", {{"app", "x"}}}}}, {"template", tmpl}}}};
    auto r = parse_ok(review_for(obj, resource));
    CHECK(r.images == expected);
  }
  SECTION("PodTemplate keeps its template at the top level") {
    json obj = {{"apiVersion", "v1"}, {"kind", "PodTemplate"}, {"metadata", {{"name", "x"}}}, {"template", tmpl}};
    CHECK(parse_ok(review_for(obj, "podtemplates")).images == expected);
  }
  SECTION("a kind without a pod spec gates nothing") {
    json obj = {{"apiVersion", "v1"}, {"kind", "ConfigMap"}, {"metadata", {{"name", "x"}}}, {"data", {{"a", "b"}}}};
    auto r = parse_ok(review_for(obj, "configmaps"));
    CHECK(r.images.empty());
    CHECK(r.not_gated_reason == "kind ConfigMap carries no pod spec");
  }
  SECTION("the scale subresource gates nothing") {
    json obj = {{"apiVersion", "apps/v1"},
                {"kind", "StatefulSet"},
                {"metadata", {{"name", "x"}}},
                {"spec", {{"template", tmpl}}}};
    json review = review_for(obj, "statefulsets", "UPDATE");
    review["request"]["subResource"] = "scale";
    auto r = parse_ok(review);
    CHECK(r.images.empty());
  }
}

TEST_CASE("bad bodies are rejected with a 400 and a clear message", "[review][errors]") {
  SECTION("malformed JSON") {
    auto e = parse_err(R"({"apiVersion": "admission.k8s.io/v1", "kind": )");
    CHECK(admission_http_status(e) == 400);
    CHECK(e.kind == ErrorKind::kFormat);
    // 46 characters, then the input ends where a value was due: column 47.
    CHECK(e.message == "malformed JSON at line 1, column 47: unexpected end of input");
  }
  SECTION("empty body") { CHECK_THAT(parse_err("").message, Catch::Contains("empty body")); }
  SECTION("not an object") { CHECK_THAT(parse_err("[1,2]").message, Catch::Contains("not an AdmissionReview")); }
  SECTION("wrong kind") {
    auto e = parse_err(R"({"apiVersion":"v1","kind":"Pod","metadata":{"name":"x"}})");
    CHECK(admission_http_status(e) == 400);
    CHECK_THAT(e.message, Catch::StartsWith("not an AdmissionReview: kind is \"Pod\""));
  }
  SECTION("unsupported apiVersion") {
    CHECK_THAT(
        parse_err(R"({"apiVersion":"admission.k8s.io/v2","kind":"AdmissionReview","request":{"uid":"a"}})").message,
        Catch::Contains("unsupported AdmissionReview apiVersion"));
  }
  SECTION("missing request") {
    CHECK(parse_err(R"({"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview"})").message ==
          "AdmissionReview has no request object");
  }
  SECTION("missing uid") {
    json review = load("01-pod-create-privileged.admissionreview.json");
    review["request"].erase("uid");
    CHECK(parse_err(review.dump()).message == "AdmissionReview request has no uid");
  }
  SECTION("uid of the wrong type") {
    json review = load("01-pod-create-privileged.admissionreview.json");
    review["request"]["uid"] = 42;
    CHECK(parse_err(review.dump()).message == "request.uid must be a string, got number");
  }
  SECTION("containers that are not an array") {
    json review = load("01-pod-create-privileged.admissionreview.json");
    review["request"]["object"]["spec"]["containers"] = "nginx";
    CHECK_THAT(parse_err(review.dump()).message, Catch::Contains("containers must be an array"));
  }
  SECTION("deep nesting is refused without building the tree") {
    std::string body(1 << 20, '[');
    CHECK_THAT(parse_err(body).message, Catch::Contains("nested deeper than 128 levels"));
  }
  SECTION("invalid UTF-8") {
    std::string body = R"({"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":")";
    body += "\xff\xfe";
    body += R"("}})";
    CHECK_THAT(parse_err(body).message, Catch::StartsWith("malformed JSON"));
  }
}

TEST_CASE("render_admission_response echoes and decides", "[render]") {
  auto req = parse_ok(load("01-pod-create-privileged.admissionreview.json"));
  SECTION("allowed") {
    json reply = json::parse(render_admission_response(req, AdmissionDecision{}));
    CHECK(reply["apiVersion"] == "admission.k8s.io/v1");
    CHECK(reply["kind"] == "AdmissionReview");
    CHECK(reply["response"]["uid"] == "1299d386-525b-4032-98ae-1949f69f9cfc");
    CHECK(reply["response"]["allowed"] == true);
    CHECK_FALSE(reply["response"].contains("status"));
    CHECK_FALSE(reply["response"].contains("warnings"));
    CHECK_FALSE(reply["response"].contains("auditAnnotations"));
  }
  SECTION("denied with message, warnings and audit annotations") {
    AdmissionDecision d;
    d.allowed = false;
    d.message = "image nginx has 2 CRITICAL vulnerabilities: CVE-2023-1 \"quoted\"";
    d.warnings = {"exception for CVE-2022-9 expired on 2024-01-01"};
    d.audit_annotations = {{"scangate.io/critical", "2"}};
    json reply = json::parse(render_admission_response(req, d));
    CHECK(reply["response"]["allowed"] == false);
    CHECK(reply["response"]["status"]["code"] == 403);
    CHECK(reply["response"]["status"]["message"] == d.message);
    CHECK(reply["response"]["warnings"] == json::array({"exception for CVE-2022-9 expired on 2024-01-01"}));
    CHECK(reply["response"]["auditAnnotations"]["scangate.io/critical"] == "2");
  }
  SECTION("invalid UTF-8 in a message is replaced, not thrown") {
    AdmissionDecision d;
    d.allowed = false;
    d.message = "bad \xff byte";
    json reply = json::parse(render_admission_response(req, d));
    CHECK(reply["response"]["status"]["message"] == "bad \xEF\xBF\xBD byte");
  }
}

// Issue 12: encoding/json (the API server, the kubelet) keeps the LAST of two equal keys; the
// webhook must never gate one image while another runs, so any repeated key is a 400.
TEST_CASE("duplicate keys anywhere in a review are refused with a 400", "[review][errors][duplicates]") {
  const std::string clean = R"({"name":"app","image":"registry.example.com/clean:1"})";
  const std::string vuln = R"({"name":"app","image":"registry.example.com/vulnerable:1"})";
  const std::string head = R"({"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"u1",)"
                           R"("kind":{"group":"","version":"v1","kind":"Pod"},"operation":"CREATE",)";
  auto status_and_message = [](const std::string& body) {
    auto r = parse_admission_review(body);
    REQUIRE_FALSE(r.ok());
    CHECK(admission_http_status(r.error()) == 400);
    CHECK(r.error().kind == ErrorKind::kFormat);
    return r.error().message;
  };
  SECTION("the same body without the repeat is gated on its one image") {
    auto r = parse_admission_review(head + R"("object":{"spec":{"containers":[)" + clean + "]}}}}");
    REQUIRE(r.ok());
    CHECK(r->images == imgs({{"app", "registry.example.com/clean:1", C}}));
  }
  SECTION("two specs in request.object: a clean one, then the vulnerable one Kubernetes would run") {
    auto m = status_and_message(head + R"("object":{"spec":{"containers":[)" + clean + R"(]},"spec":{"containers":[)" +
                                vuln + "]}}}}");
    CHECK_THAT(m, Catch::StartsWith("duplicate key \"spec\" at $.request.object.spec (line 1, column "));
  }
  SECTION("two images in one container") {
    auto m = status_and_message(head + R"("object":{"spec":{"containers":[{"name":"app","image":"clean:1",)" +
                                R"("image":"vulnerable:1"}]}}}})");
    CHECK_THAT(m, Catch::StartsWith("duplicate key \"image\" at $.request.object.spec.containers[0].image (line 1,"));
  }
  SECTION("two containers lists, the second spelled with an escape") {
    auto m = status_and_message(head + R"("object":{"spec":{"containers":[)" + clean + R"(],"c\u006fntainers":[)" +
                                vuln + "]}}}}");
    CHECK_THAT(m, Catch::StartsWith("duplicate key \"containers\" at $.request.object.spec.containers (line 1,"));
  }
  SECTION("at the top level: two requests") {
    json review = load("01-pod-create-privileged.admissionreview.json");
    std::string body = review.dump();
    body.insert(body.size() - 1, R"(,"request":{"uid":"u2","operation":"DELETE"})");
    CHECK_THAT(status_and_message(body), Catch::StartsWith("duplicate key \"request\" at $.request (line 1, column "));
  }
  SECTION("in request: two uids, two operations") {
    CHECK_THAT(status_and_message(head + R"("uid":"u2","object":{}}})"),
               Catch::StartsWith("duplicate key \"uid\" at $.request.uid"));
    CHECK_THAT(status_and_message(head + R"("operation":"DELETE","object":{}}})"),
               Catch::StartsWith("duplicate key \"operation\" at $.request.operation"));
  }
  SECTION("in parts the webhook never reads (metadata labels): still refused, fail closed") {
    auto m = status_and_message(head + R"("object":{"metadata":{"labels":{"a":"1","a":"2"}},"spec":{"containers":[)" +
                                clean + "]}}}}");
    CHECK_THAT(m, Catch::StartsWith("duplicate key \"a\" at $.request.object.metadata.labels.a"));
  }
}
