// Issue 16, digest pinning, against the fixture registry and a running webhook: POST /mutate
// answers a JSONPatch that pins every new container image (init and ephemeral ones too) of
// kubectl-rendered Deployment, CronJob and Pod objects to the digest their tag resolves to; the
// patch applies (tests/fixtures/jsonpatch_check.py, an independent RFC 6902 applier) and leaves a
// valid object; and once the tag moves to a vulnerable image, the pinned object is still judged
// (and run) by the digest it was pinned to, while the tag itself is denied.
#include <unistd.h>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <fstream>

#include "it_support.h"
#include "scanner/core/base64.h"
#include "support/process.h"
#include "support/test_support.h"

using scangate::it::Json;
using scangate::it::post_file;
using scangate::it::start_webhook;
using scangate::it::TempDir;
using scangate::it::write_file;
using scangate::test::fixture_env;
using scangate::test::read_file;
using scangate::test::run_process;

namespace {

const std::string kTool = std::string(SCANGATE_SOURCE_DIR) + "/tests/fixtures/fixture_tool.py";
const std::string kCheck = std::string(SCANGATE_SOURCE_DIR) + "/tests/fixtures/jsonpatch_check.py";

struct Group {
  std::string group, version, resource;
};

Json review_of(const Json& object, const Group& g, const std::string& uid) {
  return Json{{"apiVersion", "admission.k8s.io/v1"},
              {"kind", "AdmissionReview"},
              {"request",
               {{"uid", uid},
                {"kind", {{"group", g.group}, {"version", g.version}, {"kind", object["kind"]}}},
                {"resource", {{"group", g.group}, {"version", g.version}, {"resource", g.resource}}},
                {"operation", "CREATE"},
                {"namespace", "default"},
                {"name", object["metadata"]["name"]},
                {"object", object},
                {"dryRun", false}}}};
}

// Every container image of the pod spec at `spec` set to `image` (the first init container, when
// there is one, keeps a pinned reference: it must be left alone).
void set_images(Json& spec, const std::string& image, const std::string& pinned) {
  for (const char* list : {"containers", "initContainers", "ephemeralContainers"}) {
    if (!spec.contains(list)) continue;
    for (auto& c : spec[list]) c["image"] = image;
  }
  if (spec.contains("initContainers") && !spec["initContainers"].empty()) spec["initContainers"][0]["image"] = pinned;
}

Json post_json(scangate::it::Webhook& w, const Json& review, const std::string& target) {
  const std::string file = w.dir + "/review-" + std::to_string(++w.posted) + ".json";
  write_file(file, review.dump());
  auto h = post_file(w, file, "application/json", target);
  INFO(w.log());
  REQUIRE(h.curl_exit == 0);
  INFO(h.body);
  REQUIRE(h.code == "200");
  return Json::parse(h.body);
}

}  // namespace

TEST_CASE("POST /mutate pins kubectl-rendered objects to the digests their tags resolve to", "[pin]") {
  auto env = fixture_env();
  TempDir tmp("sg-pin");
  const std::string registry = env.at("REGISTRY");
  const std::string repo = "pin-" + std::to_string(getpid()) + "/app";
  const std::string tag = registry + "/" + repo + ":1";
  auto push = [&](const std::string& layout_ref) {
    auto r = run_process(
        {"/usr/bin/python3", kTool, "push-layout", env.at("IMAGES_LAYOUT"), registry, layout_ref + "=" + repo + ":1"});
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
  };
  push("alpine-3.20.3");
  const std::string clean = env.at("DIGEST_ALPINE_3_20_3");
  const std::string other_pinned = registry + "/alpine@" + env.at("DIGEST_ALPINE_3_18_9");

  // Tags are looked up afresh on every request: a moved tag shows at once.
  auto w = start_webhook(env, {"--tag-cache-ttl", "0s"});

  struct Rendered {
    std::string file;
    Group g;
    std::vector<std::string> spec_path;
  };
  const std::vector<Rendered> objects = {
      {"deployment.json", {"apps", "v1", "deployments"}, {"spec", "template", "spec"}},
      {"cronjob.json", {"batch", "v1", "cronjobs"}, {"spec", "jobTemplate", "spec", "template", "spec"}},
      {"pod.json", {"", "v1", "pods"}, {"spec"}},
  };
  for (const auto& o : objects) {
    DYNAMIC_SECTION(o.file) {
      Json object = Json::parse(read_file(scangate::test::testdata("kube/rendered/" + o.file)));
      Json* spec = &object;
      for (const auto& k : o.spec_path) spec = &(*spec)[k];
      set_images(*spec, tag, other_pinned);
      const std::string object_file = tmp.path + "/" + o.file;
      write_file(object_file, object.dump());

      Json reply = post_json(*w, review_of(object, o.g, "pin-" + o.file), "/mutate?timeout=10s");
      const Json& resp = reply["response"];
      CHECK(resp["allowed"] == true);
      REQUIRE(resp["patchType"] == "JSONPatch");
      const std::string patch = *scangate::base64_decode(resp["patch"].get<std::string>());
      write_file(tmp.path + "/patch.json", patch);
      auto applied = run_process({"/usr/bin/python3", kCheck, object_file, tmp.path + "/patch.json"});
      INFO(patch);
      INFO(applied.err);
      REQUIRE(applied.exit_code == 0);
      Json patched = Json::parse(applied.out);
      Json* pspec = &patched;
      for (const auto& k : o.spec_path) pspec = &(*pspec)[k];
      size_t pinned_here = 0;
      for (const char* list : {"containers", "initContainers", "ephemeralContainers"}) {
        if (!pspec->contains(list)) continue;
        for (const auto& c : (*pspec)[list]) {
          const std::string image = c["image"];
          if (image == other_pinned) continue;  // already pinned: left alone
          CHECK(image == tag + "@" + clean);
          ++pinned_here;
        }
      }
      CHECK(pinned_here >= 1);

      // The tag moves to a vulnerable image. The pinned object is judged by the digest it runs.
      push("alpine-3.10.9");
      Json pinned_verdict = post_json(*w, review_of(patched, o.g, "val-pinned-" + o.file), "/validate?timeout=30s");
      CHECK(pinned_verdict["response"]["allowed"] == true);
      Json tag_verdict = post_json(*w, review_of(object, o.g, "val-tag-" + o.file), "/validate?timeout=30s");
      CHECK(tag_verdict["response"]["allowed"] == false);
      push("alpine-3.20.3");  // back, for the next object
    }
  }

  SECTION("an object whose images are all pinned gets no patch, and a bad body a 400") {
    Json pod = Json::parse(read_file(scangate::test::testdata("kube/rendered/pod.json")));
    set_images(pod["spec"], other_pinned, other_pinned);
    Json reply = post_json(*w, review_of(pod, {"", "v1", "pods"}, "pinned-already"), "/mutate?timeout=10s");
    CHECK(reply["response"]["allowed"] == true);
    CHECK_FALSE(reply["response"].contains("patch"));
    write_file(tmp.path + "/bad.json", "{\"apiVersion\":");
    auto bad = post_file(*w, tmp.path + "/bad.json", "application/json", "/mutate");
    CHECK(bad.code == "400");
  }
}
