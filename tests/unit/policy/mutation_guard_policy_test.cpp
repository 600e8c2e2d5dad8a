// Policy decisions no other test pinned down (found by tests/mutation/run.sh). The expectations
// are the README's (scanner/policy/README.md):
//  - "Keys it does not name keep the policy's value": an override may turn ignoreUnfixed OFF
//    for its namespaces as well as on.
//  - "Image patterns ... a glob on the normalised repository, without tag or digest, as Docker
//    normalises it: python:3.6-alpine is docker.io/library/python".
#include <catch2/catch.hpp>

#include "scanner/policy/gate.h"
#include "scanner/policy/image_name.h"
#include "scanner/policy/policy.h"
#include "scanner/policy/verdict.h"

using namespace scangate;
using namespace scangate::policy;

namespace {

Policy pol(const std::string& body) {
  auto r = parse_policy("apiVersion: scangate.io/v1alpha1\nkind: Policy\n" + body, "policy.yaml");
  if (!r.ok()) FAIL(r.error().message);
  return r.value();
}

Finding unfixed_critical() {
  Finding f;
  f.vuln_id = "CVE-2023-0001";
  f.pkg.name = "libfoo";
  f.pkg.version = "1.0";
  f.severity = Severity::kCritical;
  f.status = "affected";  // no fixed version
  return f;
}

ImageIdentity identity(const std::string& reference) {
  ImageMetadata meta;
  meta.reference = reference;
  return identity_of(meta);
}

}  // namespace

TEST_CASE("an override's ignoreUnfixed: false makes unfixed findings count again in its namespaces (mutation guard)",
          "[verdict][overrides][ignoreUnfixed][mutation]") {
  Policy p = pol(R"(ignoreUnfixed: true
limits: {CRITICAL: 0}
overrides:
  - namespaces: ["prod-*"]
    ignoreUnfixed: false
)");
  CHECK(effective_rules(p, "dev").ignore_unfixed);
  CHECK_FALSE(effective_rules(p, "prod-eu").ignore_unfixed);

  const std::vector<Finding> findings = {unfixed_critical()};
  DecisionInput in;
  in.findings = findings;
  in.today = "2026-06-15";

  in.namespace_name = "dev";  // the policy's ignoreUnfixed: true leaves it out
  Verdict dev = decide(p, in);
  CHECK(dev.allowed);
  CHECK(dev.ignored_unfixed == 1);
  CHECK(dev.count(Severity::kCritical).count == 0);

  in.namespace_name = "prod-eu";  // the override turns it off: the CRITICAL counts and denies
  Verdict prod = decide(p, in);
  CHECK_FALSE(prod.allowed);
  CHECK(prod.override_index == 0);
  CHECK(prod.ignored_unfixed == 0);
  CHECK(prod.count(Severity::kCritical).count == 1);
}

TEST_CASE("exemptImages globs match the normalised repository, never the reference as typed (mutation guard)",
          "[verdict][exempt][mutation]") {
  const ImageIdentity python = identity("python:3.6-alpine");
  REQUIRE(python.repository == "docker.io/library/python");

  // The README's own examples exempt it.
  CHECK(exemption(pol("exemptImages: [docker.io/library/python]\n"), "", python));
  CHECK(exemption(pol("exemptImages: [\"*/library/python\"]\n"), "", python));
  CHECK(exemption(pol("exemptImages: [\"docker.io/library/python\"]\n"), "default",
                  identity("python@sha256:" + std::string(64, 'a'))));

  // Patterns written against the typed reference (tag included) do not.
  CHECK_FALSE(exemption(pol("exemptImages: [\"python:*\"]\n"), "", python));
  CHECK_FALSE(exemption(pol("exemptImages: [\"python*\"]\n"), "", python));
  CHECK_FALSE(exemption(pol("exemptImages: [\"*:3.6-alpine\"]\n"), "", python));

  // Through decide(): the image is admitted (or not) without evaluating its findings.
  const std::vector<Finding> findings = {unfixed_critical()};
  DecisionInput in;
  in.image = python;
  in.findings = findings;
  in.today = "2026-06-15";
  CHECK(decide(pol("exemptImages: [docker.io/library/python]\n"), in).exempt);
  Verdict typed = decide(pol("exemptImages: [\"python:*\"]\n"), in);
  CHECK_FALSE(typed.exempt);
  CHECK_FALSE(typed.allowed);
}
