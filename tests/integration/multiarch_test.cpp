// scangate-webhook and multi-arch images, end to end: the fixture's multiarch-vuln:1 is an OCI
// image index pushed to the loopback registry whose linux/amd64 image is clean (alpine 3.20.3) and
// whose linux/arm64/v8 image is the python 3.6 image (8 CRITICAL, zlib CVE-2022-37434 among them,
// per ../shared/testdata/scenario); its windows/amd64 and unknown/unknown (attestation) entries
// are alpine 3.10.9 (1 CRITICAL) and must never be judged. See tests/fixtures/registry.sh.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <fstream>
#include <string>

#include "it_support.h"
#include "support/process.h"
#include "support/test_support.h"

using scangate::it::make_certificates;
using scangate::it::metrics_text;
using scangate::it::pod_review;
using scangate::it::post;
using scangate::it::scenario_db;
using scangate::it::start_webhook;
using scangate::test::fixture_env;
using scangate::test::run_process;
using Json = nlohmann::json;

namespace {

bool has(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

}  // namespace

TEST_CASE("webhook: an index is denied when its arm64 image violates, the message names the platform",
          "[registry][webhook][platforms]") {
  auto env = fixture_env();
  const std::string image = env.at("REGISTRY") + "/" + env.at("IMAGE_MULTIARCH_VULN");
  auto w = start_webhook(env);
  Json r = post(*w, pod_review("uid-ma-1", image));
  INFO(w->log());
  CHECK(r["response"]["allowed"] == false);
  CHECK(r["response"]["status"]["code"] == 403);
  const std::string msg = r["response"]["status"]["message"];
  INFO(msg);
  CHECK(has(msg, "container \"app\" image " + image + " (linux/arm64/v8)"));
  CHECK(has(msg, "8 CRITICAL"));
  CHECK(has(msg, "CVE-2022-37434"));
  CHECK_FALSE(has(msg, "(linux/amd64)"));  // clean
  CHECK_FALSE(has(msg, "windows"));        // not a platform of a linux cluster
  CHECK_FALSE(has(msg, "unknown"));        // the attestation entry
  // Two images were scanned (amd64 and arm64), neither the windows one nor the attestation.
  CHECK(has(metrics_text(*w), "scangate_scans_total{result=\"ok\"} 2"));

  // The retry is decided from the cache, with the same message.
  Json again = post(*w, pod_review("uid-ma-2", image));
  CHECK(again["response"]["allowed"] == false);
  CHECK(again["response"]["status"]["message"] == msg);
  CHECK(has(metrics_text(*w), "scangate_scans_total{result=\"ok\"} 2"));
}

TEST_CASE("webhook: --platforms linux/amd64 admits the index whose only amd64 image is clean",
          "[registry][webhook][platforms]") {
  auto env = fixture_env();
  const std::string image = env.at("REGISTRY") + "/" + env.at("IMAGE_MULTIARCH_VULN");
  auto w = start_webhook(env, {"--platforms", "linux/amd64"});
  Json r = post(*w, pod_review("uid-ma-3", image));
  INFO(w->log());
  CHECK(r["response"]["allowed"] == true);
  CHECK(has(metrics_text(*w), "scangate_scans_total{result=\"ok\"} 1"));
  // The vulnerable single-platform image is still denied: the setting only picks from indexes.
  Json py = post(*w, pod_review("uid-ma-4", env.at("REGISTRY") + "/" + env.at("IMAGE_PYTHON_3_6")));
  CHECK(py["response"]["allowed"] == false);
}

TEST_CASE("webhook: the platforms config key, and an index with none of them decided by scan.onError",
          "[registry][webhook][platforms]") {
  auto env = fixture_env();
  const std::string image = env.at("REGISTRY") + "/" + env.at("IMAGE_MULTIARCH_VULN");
  const std::string dir = scangate::test::make_temp_dir("sg-platforms");
  {
    std::ofstream(dir + "/arm.yaml") << "platforms: [linux/arm64]\n";
    std::ofstream(dir + "/none.yaml") << "platforms: linux/s390x,linux/ppc64le\n";
  }
  SECTION("platforms: [linux/arm64] judges the arm64/v8 image") {
    auto w = start_webhook(env, {"--config", dir + "/arm.yaml"});
    Json r = post(*w, pod_review("uid-ma-5", image));
    INFO(w->log());
    CHECK(r["response"]["allowed"] == false);
    const std::string msg = r["response"]["status"]["message"];
    CHECK(has(msg, "(linux/arm64/v8)"));
    CHECK(has(msg, "8 CRITICAL"));
  }
  SECTION("no listed platform in the index: onError (deny by default), naming what it offers") {
    auto w = start_webhook(env, {"--config", dir + "/none.yaml"});
    Json r = post(*w, pod_review("uid-ma-6", image));
    INFO(w->log());
    CHECK(r["response"]["allowed"] == false);
    const std::string msg = r["response"]["status"]["message"];
    CHECK(has(msg, "has no image for the platforms the webhook checks (linux/s390x, linux/ppc64le)"));
    CHECK(has(msg, "linux/amd64, linux/arm64/v8, windows/amd64"));
    CHECK(has(msg, "scan.onError: deny"));
  }
  std::filesystem::remove_all(dir);
}

TEST_CASE("webhook: an invalid --platforms value stops the start, naming the flag", "[webhook][platforms]") {
  const std::string d = scangate::test::make_temp_dir("sg-platforms-bad");
  make_certificates(d);
  auto r = run_process({SCANGATE_WEBHOOK, "--listen", "127.0.0.1:0", "--metrics-listen", "127.0.0.1:0",
                        "--tls-cert-file", d + "/tls.crt", "--tls-private-key-file", d + "/tls.key", "--db",
                        scenario_db(), "--platforms", "linux/amd64,linux"});
  INFO(r.out + r.err);
  CHECK(r.exit_code != 0);
  CHECK(has(r.out + r.err, "--platforms"));
  CHECK(has(r.out + r.err, "invalid platform"));  // the log escapes the quotes around "linux"
  CHECK(has(r.out + r.err, "use os/arch[/variant]"));
  std::filesystem::remove_all(d);
}
