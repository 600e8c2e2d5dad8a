// Digest pinning, the pure half (webhook/admission/pin.h): which image fields a review pins, the
// pinned reference, the JSONPatch and the mutating reply. Expected pointers are read off the
// Kubernetes API reference's field paths by hand; the patches are applied to objects in the format
// `kubectl get -o json` prints (tests/data/kube/rendered) by an independent RFC 6902 applier,
// tests/fixtures/jsonpatch_check.py, which also checks the result is still a valid object.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <fstream>

#include "scanner/core/base64.h"
#include "scanner/core/sha256.h"
#include "support/process.h"
#include "support/test_support.h"
#include "webhook/admission/pin.h"

using nlohmann::json;
using namespace scangate;
using namespace scangate::admission;
using scangate::test::read_file;
using scangate::test::testdata;

namespace {

constexpr auto C = ContainerKind::kContainer;
constexpr auto I = ContainerKind::kInitContainer;
constexpr auto E = ContainerKind::kEphemeralContainer;

const std::string kDigestA = "sha256:" + std::string(64, 'a');

json rendered(const std::string& name) { return json::parse(read_file(testdata("kube/rendered/" + name))); }

// An admission.k8s.io/v1 review of `op` on `object` (request.kind from the object's apiVersion).
json review(const json& object, const std::string& op = "CREATE", const json& old_object = nullptr,
            const std::string& sub_resource = "") {
  const std::string api = object.value("apiVersion", "v1");
  const auto slash = api.find('/');
  json kind = {{"group", slash == std::string::npos ? "" : api.substr(0, slash)},
               {"version", slash == std::string::npos ? api : api.substr(slash + 1)},
               {"kind", object.value("kind", "")}};
  json req = {{"uid", "5d0c2b7e-8f3a-4e61-9b2d-7a1c4e9f0b36"},
              {"kind", kind},
              {"operation", op},
              {"namespace", "shop"},
              {"object", object}};
  if (!old_object.is_null()) req["oldObject"] = old_object;
  if (!sub_resource.empty()) req["subResource"] = sub_resource;
  return {{"apiVersion", "admission.k8s.io/v1"}, {"kind", "AdmissionReview"}, {"request", req}};
}

std::vector<ImageField> fields_ok(const json& body) {
  auto r = image_fields(body.dump());
  INFO((r ? std::string() : r.error().message));
  REQUIRE(r.ok());
  return std::move(r).value();
}

ImageField field(std::string pointer, std::string image, ContainerKind kind, std::string name,
                 std::string previous_digest = "") {
  ImageField f;
  f.pointer = std::move(pointer);
  f.image = std::move(image);
  f.kind = kind;
  f.container = std::move(name);
  f.previous_digest = std::move(previous_digest);
  return f;
}

// A workload of `kind` whose pod spec (at the kind's documented place) is `spec`.
json workload(const std::string& api_version, const std::string& kind, const json& spec) {
  json o = {{"apiVersion", api_version}, {"kind", kind}, {"metadata", {{"name", "w"}}}};
  const json tmpl = {{"metadata", {{"labels", {{"app", "w"}}}}}, {"spec", spec}};
  if (kind == "Pod") {
    o["spec"] = spec;
  } else if (kind == "CronJob") {
    o["spec"] = {{"schedule", "0 3 * * *"}, {"jobTemplate", {{"spec", {{"template", tmpl}}}}}};
  } else if (kind == "PodTemplate") {
    o["template"] = tmpl;
  } else {
    o["spec"] = {{"template", tmpl}};
  }
  return o;
}

const json kSpec = {
    {"initContainers", {{{"name", "init"}, {"image", "busybox:1.36"}}}},
    {"containers", {{{"name", "app"}, {"image", "nginx:1.25"}}, {{"name", "side"}, {"image", "envoy"}}}}};

// What the route does with the fields: every one pinned to `digest_of(image)` (or its previous
// digest), as a JSONPatch.
std::string digest_of(const std::string& image) { return Sha256::digest(image); }

std::string patch_for(const std::vector<ImageField>& fields) {
  std::vector<ImagePin> pins;
  pins.reserve(fields.size());
  for (const auto& f : fields)
    pins.emplace_back(f.pointer, f.image,
                      pin_image(f.image, f.previous_digest.empty() ? digest_of(f.image) : f.previous_digest));
  return render_json_patch(pins);
}

// tests/fixtures/jsonpatch_check.py OBJECT PATCH [extra]: the patched object, or the failure.
test::ProcessResult apply_patch(const json& object, const std::string& patch, const std::string& extra = "") {
  const std::string dir = test::make_temp_dir("pin-test");
  std::ofstream(dir + "/object.json") << object.dump(4);
  std::ofstream(dir + "/patch.json") << patch;
  std::vector<std::string> argv = {"/usr/bin/env", "python3",
                                   std::string(SCANGATE_SOURCE_DIR) + "/tests/fixtures/jsonpatch_check.py",
                                   dir + "/object.json", dir + "/patch.json"};
  if (!extra.empty()) argv.push_back(extra);
  return test::run_process(argv);
}

json patched_ok(const json& object, const std::string& patch) {
  auto r = apply_patch(object, patch);
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  return json::parse(r.out);
}

}  // namespace

TEST_CASE("pointers of the image fields per workload kind", "[pin]") {
  // kSpec's three images under the pod spec at `spec` (a JSON pointer), in spec order.
  auto at = [](const std::string& spec) {
    return std::vector<ImageField>{field(spec + "/containers/0/image", "nginx:1.25", C, "app"),
                                   field(spec + "/containers/1/image", "envoy", C, "side"),
                                   field(spec + "/initContainers/0/image", "busybox:1.36", I, "init")};
  };
  const std::vector<std::pair<std::string, std::string>> template_kinds = {
      {"apps/v1", "Deployment"}, {"apps/v1", "StatefulSet"}, {"apps/v1", "DaemonSet"},
      {"apps/v1", "ReplicaSet"}, {"batch/v1", "Job"},        {"v1", "ReplicationController"}};
  for (const auto& [api, kind] : template_kinds) {
    INFO(kind);
    CHECK(fields_ok(review(workload(api, kind, kSpec))) == at("/spec/template/spec"));
  }
  CHECK(fields_ok(review(workload("v1", "Pod", kSpec))) == at("/spec"));
  CHECK(fields_ok(review(workload("batch/v1", "CronJob", kSpec))) == at("/spec/jobTemplate/spec/template/spec"));
  CHECK(fields_ok(review(workload("v1", "PodTemplate", kSpec))) == at("/template/spec"));
  // batch/v1beta1 CronJob and extensions/v1beta1 Deployment of old API servers: the same places.
  CHECK(fields_ok(review(workload("batch/v1beta1", "CronJob", kSpec))).size() == 3);
  CHECK(fields_ok(review(workload("extensions/v1beta1", "Deployment", kSpec))).size() == 3);
}

TEST_CASE("the real AdmissionReview samples: Pod and Deployment CREATE, Deployment UPDATE", "[pin]") {
  auto pod = fields_ok(json::parse(read_file(testdata("admission/01-pod-create-privileged.admissionreview.json"))));
  CHECK(pod == std::vector<ImageField>{field("/spec/containers/0/image", "alpine", C, "sleeping-sidecar"),
                                       field("/spec/containers/1/image", "nginx", C, "nginx")});
  const json wrap = {{"apiVersion", "admission.k8s.io/v1"}, {"kind", "AdmissionReview"}};
  json create = wrap;
  create["request"] = json::parse(read_file(testdata("admission/03-deployment-create.request.json")));
  CHECK(fields_ok(create) ==
        std::vector<ImageField>{field("/spec/template/spec/containers/0/image", "nginx:latest", C, "nginx")});
  // Sample 04 updates a Deployment without touching its image: nothing to pin (a pin would roll
  // the Deployment out).
  json update = wrap;
  update["request"] = json::parse(read_file(testdata("admission/04-deployment-update.request.json")));
  CHECK(fields_ok(update).empty());
}

TEST_CASE("init and ephemeral containers of a Pod, the subresource and old EphemeralContainers objects", "[pin]") {
  const json pod = rendered("pod.json");
  CHECK(fields_ok(review(pod)) ==
        std::vector<ImageField>{field("/spec/containers/0/image", "nginx:1.25.3", C, "web"),
                                field("/spec/initContainers/0/image", "busybox:1.36", I, "wait-for-db"),
                                field("/spec/ephemeralContainers/0/image", "busybox:1.36", E, "debugger-8kz2q")});

  // kubectl debug: UPDATE of pods/ephemeralcontainers adds the ephemeral container. Only it is
  // pinned; the running containers' unpinned images stay as they are.
  json before = pod;
  before["spec"].erase("ephemeralContainers");
  json after = pod;
  after["spec"]["ephemeralContainers"].push_back(
      {{"name", "debugger-2"}, {"image", "nicolaka/netshoot:v0.13"}, {"targetContainerName", "web"}});
  CHECK(
      fields_ok(review(after, "UPDATE", before, "ephemeralcontainers")) ==
      std::vector<ImageField>{field("/spec/ephemeralContainers/0/image", "busybox:1.36", E, "debugger-8kz2q"),
                              field("/spec/ephemeralContainers/1/image", "nicolaka/netshoot:v0.13", E, "debugger-2")});
  CHECK(
      fields_ok(review(after, "UPDATE", pod, "ephemeralcontainers")) ==
      std::vector<ImageField>{field("/spec/ephemeralContainers/1/image", "nicolaka/netshoot:v0.13", E, "debugger-2")});

  // Kubernetes <= 1.21 sent an EphemeralContainers object: its list is at the top level.
  const json old_style = {{"apiVersion", "v1"},
                          {"kind", "EphemeralContainers"},
                          {"metadata", {{"name", "web-7c5ddbdf54-x2x9k"}, {"namespace", "shop"}}},
                          {"ephemeralContainers", {{{"name", "debugger"}, {"image", "busybox:1.36"}}}}};
  CHECK(fields_ok(review(old_style, "UPDATE", nullptr, "ephemeralcontainers")) ==
        std::vector<ImageField>{field("/ephemeralContainers/0/image", "busybox:1.36", E, "debugger")});
}

TEST_CASE("already pinned images, empty images and requests that pin nothing", "[pin]") {
  json spec = {{"containers",
                {{{"name", "a"}, {"image", "nginx:1.25@" + kDigestA}},
                 {{"name", "b"}, {"image", "nginx@" + kDigestA}},
                 {{"name", "c"}, {"image", ""}},
                 {{"name", "d"}},
                 {{"name", "e"}, {"image", "redis:7"}}}}};
  CHECK(fields_ok(review(workload("v1", "Pod", spec))) ==
        std::vector<ImageField>{field("/spec/containers/4/image", "redis:7", C, "e")});
  // The rendered Deployment's `cache` container is pinned already: not a field.
  for (const auto& f : fields_ok(review(rendered("deployment.json")))) CHECK(f.container != "cache");

  const json pod = workload("v1", "Pod", kSpec);
  CHECK(fields_ok(review(pod, "DELETE", pod)).empty());
  CHECK(fields_ok(review(pod, "CONNECT")).empty());
  CHECK(fields_ok(review(pod, "UPDATE", pod, "status")).empty());
  CHECK(fields_ok(review(workload("v1", "ConfigMap", kSpec))).empty());
  CHECK(fields_ok(review(workload("example.com/v1", "Deployment", kSpec))).empty());
  json no_object = review(pod);
  no_object["request"].erase("object");
  CHECK(fields_ok(no_object).empty());
}

TEST_CASE("UPDATE pins only what is new compared with oldObject", "[pin]") {
  const json pod = rendered("pod.json");
  SECTION("an unchanged Pod: nothing (a pin would restart its containers)") {
    CHECK(fields_ok(review(pod, "UPDATE", pod)).empty());
  }
  SECTION("a Pod whose container image changes: that one") {
    json changed = pod;
    changed["spec"]["containers"][0]["image"] = "nginx:1.27.0";
    CHECK(fields_ok(review(changed, "UPDATE", pod)) ==
          std::vector<ImageField>{field("/spec/containers/0/image", "nginx:1.27.0", C, "web")});
  }
  const json dep = rendered("deployment.json");
  SECTION("a Deployment with a new container and a changed init container") {
    json changed = dep;
    auto& spec = changed["spec"]["template"]["spec"];
    spec["containers"].push_back({{"name", "metrics"}, {"image", "prom/statsd-exporter:v0.26.0"}});
    spec["initContainers"][0]["image"] = "ghcr.io/example/shop-migrations:v43";
    CHECK(
        fields_ok(review(changed, "UPDATE", dep)) ==
        std::vector<ImageField>{
            field("/spec/template/spec/containers/3/image", "prom/statsd-exporter:v0.26.0", C, "metrics"),
            field("/spec/template/spec/initContainers/0/image", "ghcr.io/example/shop-migrations:v43", I, "migrate")});
  }
  SECTION("the same image under a container's new name is new to that container") {
    json changed = dep;
    changed["spec"]["template"]["spec"]["containers"][0]["name"] = "frontend";
    CHECK(fields_ok(review(changed, "UPDATE", dep)) ==
          std::vector<ImageField>{field("/spec/template/spec/containers/0/image", "nginx:1.25.3", C, "frontend")});
  }
  SECTION("an image the webhook pinned, written back unpinned: pinned to the same digest again") {
    const std::string digest = digest_of("nginx:1.25.3");
    json old = dep;
    old["spec"]["template"]["spec"]["containers"][0]["image"] = "nginx:1.25.3@" + digest;
    old["spec"]["template"]["spec"]["containers"][1]["image"] =
        "registry.example.com:5000/platform/fluent-bit@" + digest;
    json reapplied = dep;
    reapplied["spec"]["template"]["spec"]["containers"][1]["image"] = "registry.example.com:5000/platform/fluent-bit:2";
    auto fields = fields_ok(review(reapplied, "UPDATE", old));
    CHECK(fields ==
          std::vector<ImageField>{field("/spec/template/spec/containers/0/image", "nginx:1.25.3", C, "web", digest),
                                  // another tag of that repository: resolved anew
                                  field("/spec/template/spec/containers/1/image",
                                        "registry.example.com:5000/platform/fluent-bit:2", C, "log-shipper")});
    // The re-pinned container is the one already running: no rollout for it. (--apply-only: the
    // unchanged init container stays unpinned, which the full check would refuse.)
    auto r = apply_patch(reapplied, patch_for(fields), "--apply-only");
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    CHECK(json::parse(r.out)["spec"]["template"]["spec"]["containers"][0] ==
          old["spec"]["template"]["spec"]["containers"][0]);
  }
  SECTION("a previous pin that is not a digest the webhook writes is not reused") {
    json old = dep;
    old["spec"]["template"]["spec"]["containers"][0]["image"] = "nginx:1.25.3@sha256:ABC";
    CHECK(fields_ok(review(dep, "UPDATE", old)) ==
          std::vector<ImageField>{field("/spec/template/spec/containers/0/image", "nginx:1.25.3", C, "web")});
  }
  SECTION("UPDATE without oldObject: every unpinned image") { CHECK(fields_ok(review(pod, "UPDATE")).size() == 3); }
}

TEST_CASE("a body that is not an AdmissionReview is the codec's error", "[pin]") {
  auto r = image_fields("{\"kind\": ");
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().kind == ErrorKind::kFormat);
  CHECK(admission_http_status(r.error()) == 400);
  CHECK(r.error().message == parse_admission_review("{\"kind\": ").error().message);
  json dup = review(workload("v1", "Pod", kSpec));
  std::string body = dup.dump();
  body.insert(body.find("\"spec\":"), "\"spec\":{},");  // a repeated key is refused, not guessed
  CHECK_FALSE(image_fields(body).ok());
  CHECK_FALSE(image_fields("").ok());
}

TEST_CASE("pin_image writes the digest after the reference as written", "[pin]") {
  CHECK(pin_image("nginx:1.25", kDigestA) == "nginx:1.25@" + kDigestA);
  CHECK(pin_image("nginx", kDigestA) == "nginx@" + kDigestA);  // no tag: none added, no docker.io
  CHECK(pin_image("registry.example.com:5000/team/app", kDigestA) == "registry.example.com:5000/team/app@" + kDigestA);
  CHECK(pin_image("docker.io/library/nginx:1.25", kDigestA) == "docker.io/library/nginx:1.25@" + kDigestA);
  const std::string pinned = "nginx:1.25@sha256:" + std::string(64, 'b');
  CHECK(pin_image(pinned, kDigestA) == pinned);
  CHECK(pin_image("nginx@sha512:" + std::string(128, 'c'), kDigestA) == "nginx@sha512:" + std::string(128, 'c'));
  const std::string sha512 = "sha512:" + std::string(128, '0');
  CHECK(pin_image("nginx:1.25", sha512) == "nginx:1.25@" + sha512);
  // Not a digest the kubelet could pull by: the image stays as it is.
  for (const std::string& bad :
       {std::string(), std::string(64, 'a'), "sha256:" + std::string(63, 'a'), "sha256:" + std::string(64, 'A'),
        "md5:" + std::string(32, 'a'), "sha256:" + std::string(63, 'a') + "g", "sha256:" + std::string(65, 'a')}) {
    INFO(bad);
    CHECK(pin_image("nginx:1.25", bad) == "nginx:1.25");
    CHECK_FALSE(is_pinnable_digest(bad));
  }
  CHECK(is_pinnable_digest(kDigestA));
  CHECK(is_pinnable_digest("sha384:" + std::string(96, 'f')));
}

TEST_CASE("the JSONPatch: a test of the old value, then the replace", "[pin]") {
  const std::string p = "/spec/containers/0/image";
  CHECK(render_json_patch({ImagePin(p, "nginx:1.25", "nginx:1.25@" + kDigestA)}) ==
        R"([{"op":"test","path":"/spec/containers/0/image","value":"nginx:1.25"},)"
        R"({"op":"replace","path":"/spec/containers/0/image","value":"nginx:1.25@)" +
            kDigestA + R"("}])");
  CHECK(render_json_patch({}) == "[]");
  // A pin that changes nothing (already pinned) is left out.
  CHECK(render_json_patch({ImagePin(p, "nginx@" + kDigestA, "nginx@" + kDigestA)}) == "[]");
}

TEST_CASE("JSONPatch strings are escaped", "[pin]") {
  // Not images the API server would admit, but the patch must stay valid JSON whatever it holds.
  const std::string odd = "we\"ird\\name\ttab\x01:\xC3\xA9t\xC3\xA9";
  const std::string pointer = "/data/a~1b/x\"y";
  const std::string patch = render_json_patch({ImagePin(pointer, odd, odd + "@" + kDigestA)});
  json parsed = json::parse(patch);
  REQUIRE(parsed.size() == 2);
  CHECK(parsed[0]["path"] == pointer);
  CHECK(parsed[0]["value"] == odd);
  CHECK(parsed[1]["op"] == "replace");
  CHECK(parsed[1]["value"] == odd + "@" + kDigestA);
  CHECK(patch.find('\t') == std::string::npos);
  CHECK(patch.find('\x01') == std::string::npos);
  // The independent applier unescapes the pointer (~1 is '/') and the strings alike.
  const json object = {{"data", {{"a/b", {{"x\"y", odd}}}}}};
  auto r = apply_patch(object, patch, "--apply-only");
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(json::parse(r.out)["data"]["a/b"]["x\"y"] == odd + "@" + kDigestA);
  // A test of another old value fails the whole patch: nothing is replaced.
  const std::string stale = render_json_patch({ImagePin("/data/a~1b/x\"y", "other", "other@" + kDigestA)});
  CHECK(apply_patch(object, stale, "--apply-only").exit_code == 1);
}

TEST_CASE("patches applied to objects as kubectl prints them stay valid objects of their kind", "[pin]") {
  struct Case {
    const char* file;
    std::vector<std::pair<std::string, std::string>> images;  // pointer (as a JSON pointer) -> image before
  };
  const std::vector<Case> cases = {
      {"deployment.json",
       {{"/spec/template/spec/containers/0/image", "nginx:1.25.3"},
        {"/spec/template/spec/containers/1/image", "registry.example.com:5000/platform/fluent-bit"},
        {"/spec/template/spec/initContainers/0/image", "ghcr.io/example/shop-migrations:v42"}}},
      {"cronjob.json",
       {{"/spec/jobTemplate/spec/template/spec/containers/0/image", "python:3.12-slim"},
        {"/spec/jobTemplate/spec/template/spec/initContainers/0/image", "curlimages/curl:8.5.0"}}},
      {"pod.json",
       {{"/spec/containers/0/image", "nginx:1.25.3"},
        {"/spec/initContainers/0/image", "busybox:1.36"},
        {"/spec/ephemeralContainers/0/image", "busybox:1.36"}}},
  };
  for (const auto& c : cases) {
    INFO(c.file);
    const json object = rendered(c.file);
    auto fields = fields_ok(review(object));
    REQUIRE(fields.size() == c.images.size());
    for (std::size_t i = 0; i < fields.size(); ++i) {
      CHECK(fields[i].pointer == c.images[i].first);
      CHECK(fields[i].image == c.images[i].second);
    }
    // The checker fails unless every image is pinned and nothing else changed.
    const json out = patched_ok(object, patch_for(fields));
    for (const auto& [pointer, before] : c.images)
      CHECK(out.at(json::json_pointer(pointer)) == before + "@" + digest_of(before));
    CHECK(out["status"] == object["status"]);
    CHECK(out["metadata"] == object["metadata"]);
  }
  // The already pinned `cache` container of the Deployment keeps its digest.
  const json dep = patched_ok(rendered("deployment.json"), patch_for(fields_ok(review(rendered("deployment.json")))));
  CHECK(dep["spec"]["template"]["spec"]["containers"][2]["image"] ==
        "redis:7.2.4-alpine@sha256:837325dfcd7974d79b6aac16a4aff00380cd25c54bd9b9a9f35c674b418d381c");
  // Without the patch the checker refuses the objects: not every image is pinned.
  CHECK(apply_patch(rendered("pod.json"), "[]").exit_code == 1);
}

TEST_CASE("the mutating reply: allowed, JSONPatch, base64 patch, envelope echoed", "[pin]") {
  AdmissionRequest req;
  req.api_version = "admission.k8s.io/v1";
  req.uid = "705ab4f5-6393-11e8-b7cc-42010a800002";
  const std::string patch = render_json_patch({ImagePin("/spec/containers/0/image", "nginx", "nginx@" + kDigestA)});
  json reply = json::parse(render_mutation_response(req, patch, {"scangate: pinned nginx"}));
  CHECK(reply["apiVersion"] == "admission.k8s.io/v1");
  CHECK(reply["kind"] == "AdmissionReview");
  CHECK(reply["response"]["uid"] == req.uid);
  CHECK(reply["response"]["allowed"] == true);
  CHECK(reply["response"]["patchType"] == "JSONPatch");
  auto decoded = base64_decode(reply["response"]["patch"].get<std::string>());
  REQUIRE(decoded.has_value());
  CHECK(*decoded == patch);
  CHECK(reply["response"]["warnings"] == json::array({"scangate: pinned nginx"}));
  CHECK_FALSE(reply["response"].contains("status"));

  req.api_version = "admission.k8s.io/v1beta1";
  for (const std::string& none : {std::string(), std::string("[]")}) {
    reply = json::parse(render_mutation_response(req, none, {}));
    CHECK(reply["apiVersion"] == "admission.k8s.io/v1beta1");
    CHECK(reply["response"]["allowed"] == true);
    CHECK_FALSE(reply["response"].contains("patch"));
    CHECK_FALSE(reply["response"].contains("patchType"));
    CHECK_FALSE(reply["response"].contains("warnings"));
  }
}
