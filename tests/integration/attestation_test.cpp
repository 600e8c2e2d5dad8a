// Issue 16 (the pipeline's scan in the cluster), against the Debian docker-registry of the fixture:
// `scangate image --attest` then `scangate attest verify`; the attestations sit where cosign puts
// them and verify under an independent DSSE implementation (tests/fixtures/dsse_ref.py: openssl
// and Python's base64); the webhook admits or denies by re-matching the attested SBOM against its
// own DB without fetching a layer (the registry's access log is counted); tampered, foreign-key,
// other-digest, stale and unsigned attestations are never trusted (a scan decides, and
// scan.requireAttestation denies); and what `trivy --format cosign-vuln` + `cosign attest` write
// is read the same way. Every image is a copy under a repository of its own, so the cases do not
// see each other's attestations.
#include <unistd.h>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "it_support.h"
#include "scanner/core/base64.h"
#include "scanner/core/time_util.h"
#include "support/process.h"
#include "support/test_support.h"

using scangate::it::Json;
using scangate::it::metric_sum;
using scangate::it::metrics_text;
using scangate::it::pod_review;
using scangate::it::post;
using scangate::it::revision_of;
using scangate::it::scenario_db;
using scangate::it::start_webhook;
using scangate::it::TempDir;
using scangate::it::write_file;
using scangate::test::fixture_env;
using scangate::test::read_file;
using scangate::test::run_process;

namespace {

const std::string kTool = std::string(SCANGATE_SOURCE_DIR) + "/tests/fixtures/fixture_tool.py";
const std::string kDsse = std::string(SCANGATE_SOURCE_DIR) + "/tests/fixtures/dsse_ref.py";
const std::string kPython = "/usr/bin/python3";
const std::string kVuln = "https://cosign.sigstore.dev/attestation/vuln/v1";
const std::string kBom = "https://cyclonedx.org/bom";

struct Image {
  std::string repo;                // "attest-<pid>-<name>/app"
  std::string ref;                 // REGISTRY/repo:1
  std::string digest;              // of the manifest
  std::vector<std::string> blobs;  // its config and layers
};

// A copy of the fixture image `key` (images.tsv: ALPINE_3_10_9, ...) under a repository of its own.
Image copy_image(const std::map<std::string, std::string>& env, const std::string& key, const std::string& name) {
  static const std::map<std::string, std::string> layout_ref = {{"ALPINE_3_10_9", "alpine-3.10.9"},
                                                                {"ALPINE_3_20_3", "alpine-3.20.3"}};
  Image img;
  img.repo = "attest-" + std::to_string(getpid()) + "-" + name + "/app";
  img.ref = env.at("REGISTRY") + "/" + img.repo + ":1";
  img.digest = env.at("DIGEST_" + key);
  img.blobs.push_back(env.at("CONFIG_DIGEST_" + key));
  std::istringstream layers(env.at("LAYERS_" + key));
  for (std::string l; std::getline(layers, l, ',');) img.blobs.push_back(l);
  auto r = run_process({kPython, kTool, "push-layout", env.at("IMAGES_LAYOUT"), env.at("REGISTRY"),
                        layout_ref.at(key) + "=" + img.repo + ":1"});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  return img;
}

// GETs of the image's own blobs (config and layers) in the registry's access log.
size_t blob_gets(const std::map<std::string, std::string>& env, const Image& img) {
  const std::string log = read_file(env.at("FIXTURE_DIR") + "/registry-anon.log");
  size_t n = 0;
  for (const auto& b : img.blobs) {
    const std::string needle = "\"GET /v2/" + img.repo + "/blobs/" + b + " ";
    for (size_t at = log.find(needle); at != std::string::npos; at = log.find(needle, at + 1)) ++n;
  }
  return n;
}

struct Keys {
  std::string key, pub;
};

Keys make_keys(const std::string& dir, const std::string& name) {
  auto r = run_process({kPython, kDsse, "keygen", dir + "/" + name});
  REQUIRE(r.exit_code == 0);
  return {dir + "/" + name + "/key.pem", dir + "/" + name + "/pub.pem"};
}

// An in-toto statement about `digest` and its DSSE envelope, both made by the independent
// implementation, as `cosign attest --predicate FILE --type T` would make them.
std::string reference_envelope(const std::string& dir, const Keys& k, const std::string& digest,
                               const std::string& predicate_type, const std::string& predicate) {
  auto st = run_process({kPython, kDsse, "statement", digest, "registry.example/app", predicate_type}, predicate);
  REQUIRE(st.exit_code == 0);
  auto env = run_process({kPython, kDsse, "sign", k.key, "application/vnd.in-toto+json"}, st.out);
  REQUIRE(env.exit_code == 0);
  (void)dir;
  return env.out;
}

// A vulnerability record that claims the image is clean: what a forger would attach.
std::string clean_predicate(const std::string& finished) {
  Json p = {{"invocation", {{"parameters", nullptr}, {"uri", ""}, {"event_id", ""}, {"builder.id", ""}}},
            {"scanner",
             {{"uri", "pkg:github/aquasecurity/trivy@0.50.1"},
              {"version", "0.50.1"},
              {"db", {{"uri", ""}, {"version", ""}}},
              {"result",
               {{"SchemaVersion", 2},
                {"ArtifactName", "app"},
                {"ArtifactType", "container_image"},
                {"Results", Json::array()}}}}},
            {"metadata", {{"scanStartedOn", finished}, {"scanFinishedOn", finished}}}};
  return p.dump();
}

void attach(const std::map<std::string, std::string>& env, const Image& img, const std::string& file,
            const std::string& type) {
  auto r = run_process({kPython, kTool, "attach-att", env.at("REGISTRY"), img.repo, img.digest, type + "=" + file});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
}

std::string message_of(const Json& reply) {
  const auto& r = reply.at("response");
  return r.contains("status") && r["status"].contains("message") ? r["status"]["message"].get<std::string>() : "";
}

std::vector<std::string> attest_args(const std::map<std::string, std::string>& env, const std::string& db,
                                     const Keys& k, const Image& img, const std::string& out) {
  return {SCANGATE_CLI,       "image",    "--quiet", "--db", db,         "--insecure-registry",
          env.at("REGISTRY"), "--attest", "--key",   k.key,  "--format", "json",
          "--output",         out,        img.ref};
}

// A DB with the scenario's NVD records but no Alpine advisory: the pipeline's view before the
// advisories for its packages were published.
const std::string& outdated_db() {
  static const TempDir tmp("sg-db-outdated");
  static const std::string path = [] {
    auto r = run_process({SCANGATE_CLI, "db", "build", "--quiet", "--output", tmp.path + "/db.sqlite", "--nvd",
                          scangate::test::testdata("scenario/nvd/nvdcve-2.0-scenario.json")});
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    return tmp.path + "/db.sqlite";
  }();
  return path;
}

}  // namespace

TEST_CASE("attest then verify: cosign's layout, an independent DSSE implementation, the image digest as subject",
          "[attest]") {
  auto env = fixture_env();
  TempDir tmp("sg-attest-cli");
  const Keys k = make_keys(tmp.path, "ci"), other = make_keys(tmp.path, "other");
  const Image img = copy_image(env, "ALPINE_3_20_3", "cli");

  auto scan = run_process(attest_args(env, scenario_db(), k, img, tmp.path + "/report.json"));
  INFO(scan.err);
  REQUIRE(scan.exit_code == 0);

  auto verify = run_process(
      {SCANGATE_CLI, "attest", "verify", "--insecure-registry", env.at("REGISTRY"), "--key", k.pub, img.ref});
  INFO(verify.out + verify.err);
  CHECK(verify.exit_code == 0);
  CHECK_THAT(verify.out, Catch::Contains("OK   " + kVuln) && Catch::Contains("OK   " + kBom) &&
                             Catch::Contains(img.digest) && Catch::EndsWith("verified\n"));

  // The attestations as any cosign-compatible reader finds them.
  auto got = run_process({kPython, kTool, "get-att", env.at("REGISTRY"), img.repo, img.digest, tmp.path + "/att"});
  INFO(got.err);
  REQUIRE(got.exit_code == 0);
  CHECK(read_file(tmp.path + "/att/types") ==
        "application/vnd.dsse.envelope.v1+json " + kVuln + "\napplication/vnd.dsse.envelope.v1+json " + kBom + "\n");
  const std::string hex = img.digest.substr(7);
  for (int i = 0; i < 2; ++i) {
    const std::string layer = read_file(tmp.path + "/att/layer-" + std::to_string(i) + ".json");
    auto ok = run_process({kPython, kDsse, "verify", k.pub}, layer);
    INFO(ok.err);
    REQUIRE(ok.exit_code == 0);
    CHECK(run_process({kPython, kDsse, "verify", other.pub}, layer).exit_code == 1);
    Json st = Json::parse(ok.out);
    CHECK(st["_type"] == "https://in-toto.io/Statement/v0.1");
    REQUIRE(st["subject"].size() == 1);
    CHECK(st["subject"][0]["digest"]["sha256"] == hex);  // the digest, never the tag
    CHECK(st["subject"][0]["name"] == env.at("REGISTRY") + "/" + img.repo);
    if (i == 0) {
      CHECK(st["predicateType"] == kVuln);
      const Json& p = st["predicate"];
      CHECK(p["scanner"]["db"]["version"] == revision_of(scenario_db()));
      CHECK(p["scanner"]["result"]["SchemaVersion"] == 2);
      CHECK(scangate::parse_rfc3339(p["metadata"]["scanStartedOn"].get<std::string>()));
      CHECK(scangate::parse_rfc3339(p["metadata"]["scanFinishedOn"].get<std::string>()));
      // Every finding, whatever the report's filters: here the same as the saved report.
      Json saved = Json::parse(read_file(tmp.path + "/report.json"));
      CHECK(p["scanner"]["result"]["Results"].size() == saved["Results"].size());
    } else {
      CHECK(st["predicateType"] == kBom);
      CHECK(st["predicate"]["bomFormat"] == "CycloneDX");
      CHECK(st["predicate"].dump().find("\"name\":\"musl\"") != std::string::npos);
    }
  }

  SECTION("another key verifies nothing, and says so") {
    auto bad = run_process(
        {SCANGATE_CLI, "attest", "verify", "--insecure-registry", env.at("REGISTRY"), "--key", other.pub, img.ref});
    CHECK(bad.exit_code == 1);
    CHECK_THAT(bad.out, Catch::Contains("bad_signature") && Catch::Contains("not verified"));
  }
  SECTION("attesting again replaces the records of the same types") {
    auto again = run_process(attest_args(env, scenario_db(), k, img, tmp.path + "/report2.json"));
    REQUIRE(again.exit_code == 0);
    auto re = run_process({kPython, kTool, "get-att", env.at("REGISTRY"), img.repo, img.digest, tmp.path + "/att2"});
    REQUIRE(re.exit_code == 0);
    CHECK(Json::parse(read_file(tmp.path + "/att2/manifest.json"))["layers"].size() == 2);
  }
  SECTION("bad requests are errors before any pull") {
    auto no_key = run_process(
        {SCANGATE_CLI, "image", "--db", scenario_db(), "--insecure-registry", env.at("REGISTRY"), "--attest", img.ref},
        "", {{"SCANGATE_ATTEST_KEY", ""}, {"SCANGATE_ATTEST_KEY_FILE", ""}});
    CHECK(no_key.exit_code == 2);
    CHECK_THAT(no_key.err, Catch::Contains("--attest needs a signing key"));
    auto archive = run_process({SCANGATE_CLI, "image", "--db", scenario_db(), "--input", env.at("DOCKER_ARCHIVE"),
                                "--attest", "--key", k.key});
    CHECK(archive.exit_code == 2);
    CHECK_THAT(archive.err, Catch::Contains("not --input"));
    auto pub_as_key = run_process({SCANGATE_CLI, "image", "--db", scenario_db(), "--insecure-registry",
                                   env.at("REGISTRY"), "--attest", "--key", k.pub, img.ref});
    CHECK(pub_as_key.exit_code == 2);
    CHECK_THAT(pub_as_key.err, Catch::Contains("not a PEM private key"));
    // The key may come from the environment, as CI secrets do.
    auto from_env = run_process({SCANGATE_CLI, "image", "--quiet", "--db", scenario_db(), "--insecure-registry",
                                 env.at("REGISTRY"), "--attest", "--output", tmp.path + "/r3.json", img.ref},
                                "", {{"SCANGATE_ATTEST_KEY", read_file(k.key)}});
    INFO(from_env.err);
    CHECK(from_env.exit_code == 0);
  }
}

TEST_CASE("the webhook decides by re-matching the attested SBOM: no layer is pulled, the findings are today's",
          "[attest]") {
  auto env = fixture_env();
  TempDir tmp("sg-attest-wh");
  const Keys k = make_keys(tmp.path, "ci");
  // The pipeline scanned with a DB that knew nothing of Alpine's advisories: it found nothing.
  const Image vulnerable = copy_image(env, "ALPINE_3_10_9", "sbom-vuln");
  const Image clean = copy_image(env, "ALPINE_3_20_3", "sbom-clean");
  for (const Image* img : {&vulnerable, &clean}) {
    auto scan = run_process(attest_args(env, outdated_db(), k, *img, tmp.path + "/r.json"));
    INFO(scan.err);
    REQUIRE(scan.exit_code == 0);
  }
  const size_t before_vulnerable = blob_gets(env, vulnerable), before_clean = blob_gets(env, clean);
  CHECK(before_vulnerable >= 1);  // the pipeline's own pull

  auto w = start_webhook(env, {"--attestation-key", k.pub});
  // Today's DB (the scenario's) knows the CRITICAL in 3.10.9's packages.
  Json denied = post(*w, pod_review("sbom-1", vulnerable.ref));
  CHECK(denied["response"]["allowed"] == false);
  CHECK_THAT(message_of(denied),
             Catch::Contains("CRITICAL") && Catch::Contains("findings from the pipeline's signed SBOM"));
  Json allowed = post(*w, pod_review("sbom-2", clean.ref));
  CHECK(allowed["response"]["allowed"] == true);

  CHECK(blob_gets(env, vulnerable) == before_vulnerable);
  CHECK(blob_gets(env, clean) == before_clean);
  const std::string m = metrics_text(*w);
  CHECK(metric_sum(m, "scangate_layer_pulls_total") == 0);
  CHECK(m.find("scangate_attestations_total{result=\"verified\"} 4") != std::string::npos);
}

TEST_CASE("tampered, foreign-key, other-digest, stale and unsigned attestations are never trusted", "[attest]") {
  auto env = fixture_env();
  TempDir tmp("sg-attest-bad");
  const Keys k = make_keys(tmp.path, "ci"), stranger = make_keys(tmp.path, "stranger");
  const std::string now = scangate::utc_now_rfc3339();

  struct Case {
    std::string name, envelope, result;
  };
  std::vector<Case> cases;
  {
    // Signed, then the payload changed: the forger's "no findings" over the original bytes.
    Json e = Json::parse(reference_envelope(tmp.path, k, env.at("DIGEST_ALPINE_3_10_9"), kVuln, clean_predicate(now)));
    std::string payload = *scangate::base64_decode(e["payload"].get<std::string>());
    payload.replace(payload.find("0.50.1"), 6, "0.50.2");
    e["payload"] = scangate::base64_encode(payload);
    cases.push_back({"tampered", e.dump(), "bad_signature"});
  }
  cases.push_back({"stranger",
                   reference_envelope(tmp.path, stranger, env.at("DIGEST_ALPINE_3_10_9"), kVuln, clean_predicate(now)),
                   "bad_signature"});
  cases.push_back({"other-digest",
                   reference_envelope(tmp.path, k, env.at("DIGEST_ALPINE_3_20_3"), kVuln, clean_predicate(now)),
                   "wrong_subject"});
  cases.push_back(
      {"stale",
       reference_envelope(tmp.path, k, env.at("DIGEST_ALPINE_3_10_9"), kVuln, clean_predicate("2020-01-01T00:00:00Z")),
       "stale"});
  {
    Json e = Json::parse(reference_envelope(tmp.path, k, env.at("DIGEST_ALPINE_3_10_9"), kVuln, clean_predicate(now)));
    e["signatures"] = Json::array();
    cases.push_back({"unsigned", e.dump(), "unsigned"});
  }

  const std::string policy = tmp.path + "/policy.yaml";
  write_file(policy,
             "apiVersion: scangate.io/v1alpha1\nkind: Policy\n"
             "overrides:\n  - namespaces: [prod]\n    scan: {requireAttestation: true}\n");
  auto w = start_webhook(env, {"--attestation-key", k.pub, "--policy", policy});
  for (const auto& c : cases) {
    DYNAMIC_SECTION(c.name) {
      const Image img = copy_image(env, "ALPINE_3_10_9", c.name);
      write_file(tmp.path + "/" + c.name + ".json", c.envelope);
      attach(env, img, tmp.path + "/" + c.name + ".json", kVuln);
      // Not trusted: the image is scanned, and its CRITICAL denies it.
      Json r = post(*w, pod_review("bad-" + c.name, img.ref));
      CHECK(r["response"]["allowed"] == false);
      CHECK_THAT(message_of(r), Catch::Contains("CRITICAL") && Catch::Contains(c.result));
      CHECK(blob_gets(env, img) >= 1);
      // Where only attested images run, the reason is the attestation.
      Json prod = post(*w, pod_review("bad-prod-" + c.name, img.ref, "prod"));
      CHECK(prod["response"]["allowed"] == false);
      CHECK_THAT(message_of(prod), Catch::Contains("no valid scan attestation") && Catch::Contains(c.result));
      CHECK(metric_sum(metrics_text(*w), "scangate_attestations_total{result=\"" + c.result + "\"}") >= 1);
    }
  }
  SECTION("an image with no attestation at all runs only outside prod") {
    const Image img = copy_image(env, "ALPINE_3_20_3", "none");
    CHECK(post(*w, pod_review("none-1", img.ref))["response"]["allowed"] == true);
    Json prod = post(*w, pod_review("none-2", img.ref, "prod"));
    CHECK(prod["response"]["allowed"] == false);
    CHECK_THAT(message_of(prod), Catch::Contains("no attestation is attached"));
  }
  SECTION("a valid attestation runs in prod") {
    const Image img = copy_image(env, "ALPINE_3_20_3", "valid");
    auto scan = run_process(attest_args(env, scenario_db(), k, img, tmp.path + "/valid.json"));
    REQUIRE(scan.exit_code == 0);
    Json prod = post(*w, pod_review("valid-1", img.ref, "prod"));
    CHECK(prod["response"]["allowed"] == true);
  }
}

TEST_CASE("what trivy --format cosign-vuln and cosign attest write is read through the same report reader",
          "[attest]") {
  auto env = fixture_env();
  TempDir tmp("sg-attest-trivy");
  const Keys k = make_keys(tmp.path, "cosign");
  // A clean image, attested with Trivy's real report of an Alpine 3.10 image (4 MEDIUM): the
  // webhook decides on the attested findings, not on a scan of its own.
  const Image img = copy_image(env, "ALPINE_3_20_3", "trivy");
  auto pred =
      run_process({kPython, kTool, "cosign-vuln", scangate::test::testdata("reports/trivy_alpine-310.json.golden"),
                   scangate::utc_now_rfc3339()});
  REQUIRE(pred.exit_code == 0);
  write_file(tmp.path + "/trivy.att.json", reference_envelope(tmp.path, k, img.digest, kVuln, pred.out));
  attach(env, img, tmp.path + "/trivy.att.json", kVuln);

  const std::string policy = tmp.path + "/policy.yaml";
  write_file(policy,
             "apiVersion: scangate.io/v1alpha1\nkind: Policy\n"
             "overrides:\n  - namespaces: [strict]\n    limits: {MEDIUM: 0}\n");
  auto w = start_webhook(env, {"--attestation-key", k.pub, "--policy", policy});
  Json r = post(*w, pod_review("trivy-1", img.ref, "strict"));
  CHECK(r["response"]["allowed"] == false);
  // Trivy's findings (openssl's CVE-2019-1549 is in its report, not in alpine 3.20.3).
  CHECK_THAT(message_of(r), Catch::Contains("4 MEDIUM") && Catch::Contains("CVE-2019-1549") &&
                                Catch::Contains("findings from the pipeline's signed vulnerability record"));
  CHECK(blob_gets(env, img) == 0);
  CHECK(post(*w, pod_review("trivy-2", img.ref))["response"]["allowed"] == true);
}

TEST_CASE("a scangate vulnerability record whose SBOM was removed is not taken alone", "[attest]") {
  // The attacker review's downgrade: the pipeline (with an outdated DB) attested a record that says
  // "clean" and the SBOM that today's DB convicts; someone who can push, but holds no key, leaves
  // only the record.
  auto env = fixture_env();
  TempDir tmp("sg-attest-strip");
  const Keys k = make_keys(tmp.path, "ci");
  const Image img = copy_image(env, "ALPINE_3_10_9", "strip");
  auto scan = run_process(attest_args(env, outdated_db(), k, img, tmp.path + "/r.json"));
  INFO(scan.err);
  REQUIRE(scan.exit_code == 0);
  auto got = run_process({kPython, kTool, "get-att", env.at("REGISTRY"), img.repo, img.digest, tmp.path + "/att"});
  REQUIRE(got.exit_code == 0);
  REQUIRE(read_file(tmp.path + "/att/types").find(kVuln) < read_file(tmp.path + "/att/types").find(kBom));
  attach(env, img, tmp.path + "/att/layer-0.json", kVuln);  // the record alone, still validly signed
  const size_t before = blob_gets(env, img);

  auto w = start_webhook(env, {"--attestation-key", k.pub});
  Json r = post(*w, pod_review("strip-1", img.ref));
  CHECK(r["response"]["allowed"] == false);
  CHECK_THAT(message_of(r), Catch::Contains("CRITICAL") && Catch::Contains("names an SBOM that is missing"));
  CHECK(blob_gets(env, img) > before);  // scanned
  CHECK(metric_sum(metrics_text(*w), "scangate_attestations_total{result=\"sbom_missing\"}") == 1);
}
