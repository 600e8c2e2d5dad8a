// scangate-webhook's limits end to end (the real binary, the fixture registry): metric labels
// from closed sets whatever the requests say, the engine's refusals counted, and the tag cache's
// lifetime (the window in which a tag pushed over still gets the old image's verdict).
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <unistd.h>

#include <chrono>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <thread>

#include "it_support.h"
#include "support/process.h"
#include "support/test_support.h"

using scangate::it::metric_sum;
using scangate::it::metrics_text;
using scangate::it::pod_review;
using scangate::it::post;
using scangate::it::start_webhook;
using scangate::it::Webhook;
using scangate::test::fixture_env;
using scangate::test::run_process;
using Json = nlohmann::json;

namespace {

// Samples (lines) of `name` in the exposition.
size_t series(const std::string& text, const std::string& name) {
  std::istringstream in(text);
  size_t n = 0;
  for (std::string line; std::getline(in, line);)
    if (line.rfind(name + "{", 0) == 0) ++n;
  return n;
}

// Points `repo:to` at the manifest `repo:from` names (both in the fixture's plain-HTTP registry),
// as a `docker push` over an existing tag does.
void retag(const std::string& registry, const std::string& repo, const std::string& from, const std::string& to,
           const std::string& dir) {
  const std::string base = "http://" + registry + "/v2/" + repo + "/manifests/";
  const std::string headers = dir + "/manifest.headers", body = dir + "/manifest.json";
  auto got = run_process({"/usr/bin/curl", "-sf", "--max-time", "30", "-D", headers, "-o", body, "-H",
                          "Accept: application/vnd.oci.image.manifest.v1+json, "
                          "application/vnd.docker.distribution.manifest.v2+json",
                          base + from});
  INFO(got.err);
  REQUIRE(got.exit_code == 0);
  std::string content_type;
  std::istringstream in(scangate::test::read_file(headers));
  for (std::string line; std::getline(in, line);) {
    if (line.size() > 13 && (line.rfind("Content-Type:", 0) == 0 || line.rfind("content-type:", 0) == 0)) {
      content_type = line.substr(13);
      content_type.erase(0, content_type.find_first_not_of(' '));
      while (!content_type.empty() && (content_type.back() == '\r' || content_type.back() == ' '))
        content_type.pop_back();
    }
  }
  REQUIRE(!content_type.empty());
  auto put = run_process({"/usr/bin/curl", "-sf", "--max-time", "30", "-X", "PUT", "-H",
                          "Content-Type: " + content_type, "--data-binary", "@" + body, base + to});
  INFO(put.err);
  REQUIRE(put.exit_code == 0);
}

}  // namespace

TEST_CASE("webhook: operations and kinds from the request never become new metric series",
          "[registry][webhook][limits]") {
  auto env = fixture_env();
  auto w = start_webhook(env);
  // Not gated (unknown operation or kind): allowed without a scan, each counted.
  for (int i = 0; i < 25; ++i) {
    Json op = pod_review("uid-op-" + std::to_string(i), "alpine:3.15.11");
    op["request"]["operation"] = "OPERATION-" + std::to_string(i) + std::string(1000, 'x');
    Json kind = pod_review("uid-kind-" + std::to_string(i), "alpine:3.15.11");
    kind["request"]["kind"]["kind"] = "Kind" + std::to_string(i) + std::string(1000, 'y');
    CHECK(post(*w, op)["response"]["allowed"] == true);
    CHECK(post(*w, kind)["response"]["allowed"] == true);
  }
  const std::string text = metrics_text(*w);
  INFO(text.substr(0, 4000));
  CHECK(series(text, "scangate_admission_requests_total") == 2);
  CHECK_THAT(text, Catch::Contains(
                       R"(scangate_admission_requests_total{decision="allowed",kind="Pod",operation="other"} 25)"));
  CHECK_THAT(text, Catch::Contains(
                       R"(scangate_admission_requests_total{decision="allowed",kind="other",operation="CREATE"} 25)"));
  CHECK(text.find("OPERATION-") == std::string::npos);
  CHECK(text.find("Kind1") == std::string::npos);
  CHECK(metric_sum(text, "scangate_admission_requests_total") == 50);
}

TEST_CASE("webhook: a review naming more images than --max-images-per-review is refused and counted",
          "[registry][webhook][limits]") {
  auto env = fixture_env();
  auto w = start_webhook(env, {"--max-images-per-review", "1"});
  Json review = pod_review("uid-many", env.at("REGISTRY") + "/alpine:3.15.11");
  review["request"]["object"]["spec"]["containers"].push_back(
      {{"name", "second"}, {"image", env.at("REGISTRY") + "/alpine:3.18.9"}});
  Json reply = post(*w, review);
  INFO(reply.dump());
  CHECK(reply["response"]["allowed"] == false);  // scan.onError: deny (the default policy)
  CHECK_THAT(reply["response"]["status"]["message"].get<std::string>(),
             Catch::Contains("names 2 images, more than the webhook checks (1)"));
  const std::string text = metrics_text(*w);
  CHECK_THAT(text, Catch::Contains(R"(scangate_work_rejected_total{pool="review",reason="too_many_images"} 1)"));
  CHECK(metric_sum(text, "scangate_work_rejected_total") == 1);
  CHECK(metric_sum(text, "scangate_scans_total") == 0);  // nothing was scanned

  // One image is within the limit.
  Json one = post(*w, pod_review("uid-one", env.at("REGISTRY") + "/alpine:3.15.11"));
  CHECK(one["response"]["allowed"] == true);
}

TEST_CASE("webhook: --tag-cache-ttl bounds how long a tag pushed over is judged by its old image",
          "[registry][webhook][limits]") {
  auto env = fixture_env();
  const std::string registry = env.at("REGISTRY");
  const std::string dir = scangate::test::make_temp_dir("sg-tag-ttl");
  std::mt19937_64 rng(std::random_device{}());
  const std::string tag = "ttl-" + std::to_string(getpid()) + "-" + std::to_string(rng() % 1000000);
  const std::string image = registry + "/alpine:" + tag;
  // alpine:3.15.11 is clean; alpine:3.10.9 has one CRITICAL (apk-tools CVE-2021-36159).
  retag(registry, "alpine", "3.15.11", tag, dir);

  auto cached = start_webhook(env, {"--tag-cache-ttl", "1h"});
  auto uncached = start_webhook(env, {"--tag-cache-ttl", "0"});
  auto by_default = start_webhook(env);
  for (Webhook* w : {cached.get(), uncached.get(), by_default.get()})
    CHECK(post(*w, pod_review("uid-clean", image))["response"]["allowed"] == true);

  retag(registry, "alpine", "3.10.9", tag, dir);  // the vulnerable image pushed over the tag
  const auto pushed = std::chrono::steady_clock::now();

  // No caching: the next review resolves the tag again and judges the new image.
  Json now = post(*uncached, pod_review("uid-moved", image));
  CHECK(now["response"]["allowed"] == false);
  CHECK_THAT(now["response"]["status"]["message"].get<std::string>(), Catch::Contains("CVE-2021-36159"));
  // An hour's TTL: still the old digest's verdict (the window the TTL opens).
  CHECK(post(*cached, pod_review("uid-moved", image))["response"]["allowed"] == true);
  // The default closes the window within 10 s.
  std::this_thread::sleep_until(pushed + std::chrono::milliseconds(10'500));
  Json later = post(*by_default, pod_review("uid-later", image));
  CHECK(later["response"]["allowed"] == false);
  std::filesystem::remove_all(dir);
}
