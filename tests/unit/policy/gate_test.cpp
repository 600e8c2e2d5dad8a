// The CLI's two uses of the policy (`scangate image --policy` and `scangate policy explain` on a
// saved report) reach the same verdict as the decision function the webhook calls.
#include "scanner/policy/gate.h"

#include <catch2/catch.hpp>

#include "scanner/policy/render.h"
#include "scenario_input.h"

using namespace scangate;
using namespace scangate::policy;

namespace {

const std::string kHead = "apiVersion: scangate.io/v1alpha1\nkind: Policy\n";

Policy pol(const std::string& body) {
  auto r = parse_policy(kHead + body, "policy.yaml");
  if (!r.ok()) FAIL(r.error().message);
  return r.value();
}

// What the webhook does: findings in memory, the image as the admission request names it.
Verdict webhook_verdict(const Policy& p, const std::vector<Finding>& findings, const std::string& ns,
                        const std::string& today) {
  DecisionInput in;
  in.image = {"docker.io/library/python", "python:3.6-alpine", test::scenario_image_id()};
  in.namespace_name = ns;
  in.findings = findings;
  in.today = today;
  return decide(p, in);
}

}  // namespace

TEST_CASE("gate: a saved report and the webhook's input give the same verdict", "[gate][scenario]") {
  std::string digest = test::scenario_image_id();
  REQUIRE(digest.size() == 71);
  std::string report = test::scenario_report_json("python:3.6-alpine", digest);
  std::vector<Finding> findings = test::scenario_findings();

  const std::vector<std::string> policies = {
      "",
      "limits: {CRITICAL: 0, HIGH: 10}\n",
      "exceptions:\n  - {id: \"CVE-2022-2*\", expires: 2027-01-31, reason: expat}\n"
      "  - {id: CVE-2022-37434, images: [\"*/library/python\"], expires: 2026-01-31, reason: zlib}\n",
      "exceptions:\n  - {id: \"CVE-*\", images: [\"" + digest + "\"], expires: 2027-01-31, reason: all}\n",
      "mode: warn\nsecrets: {action: ignore}\n",
      "overrides:\n  - namespaces: [\"dev-*\"]\n    mode: audit\n",
      "exemptNamespaces: [kube-system]\n",
  };
  for (const auto& body : policies) {
    Policy p = pol(body);
    for (const std::string ns : {"", "dev-a", "kube-system"}) {
      INFO("policy: " << body << " namespace: " << ns);
      GateRequest req;
      req.namespace_name = ns;
      req.today = "2026-06-15";
      auto cli = explain_report(p, report, req);
      REQUIRE(cli.ok());
      Verdict direct = webhook_verdict(p, findings, ns, req.today);
      // The report names the image by what was typed; everything the policy decides on is equal.
      CHECK(cli->verdict.image.repository == direct.image.repository);
      CHECK(cli->verdict.image.digest == direct.image.digest);
      CHECK(cli->verdict.image.reference == direct.image.reference);
      CHECK(cli->verdict == direct);
      CHECK(render_text(cli->verdict) == render_text(direct));
      CHECK(render_admission_line("app", cli->verdict) == render_admission_line("app", direct));
    }
  }
}

TEST_CASE("gate: exit codes follow the verdict", "[gate]") {
  std::vector<Finding> findings = test::scenario_findings();
  GateRequest req;
  req.image = {"docker.io/library/python", "python:3.6-alpine", ""};
  req.today = "2026-06-15";
  req.deny_exit_code = 3;
  CHECK(gate_findings(Policy::default_policy(), findings, {}, req).exit_code == 3);
  CHECK(gate_findings(pol("mode: warn\n"), findings, {}, req).exit_code == 0);
  CHECK(gate_findings(pol("mode: audit\n"), findings, {}, req).exit_code == 0);
  CHECK(gate_findings(pol("limits: {}\n"), findings, {}, req).exit_code == 0);

  // Findings split over report targets gate the same as one list.
  std::vector<ScanTarget> targets(2);
  for (size_t i = 0; i < findings.size(); ++i) targets[i % 2].findings.push_back(findings[i]);
  CHECK(flatten_findings(targets).size() == findings.size());
  GateOutcome split = gate_scan(Policy::default_policy(), targets, {}, req);
  CHECK(split.exit_code == 3);
  CHECK(split.verdict.count(Severity::kCritical).count == 8);
}

TEST_CASE("gate: the image identity of a scan", "[gate]") {
  ImageMetadata meta;
  meta.reference = "python:3.6-alpine";
  meta.normalized = "docker.io/library/python:3.6-alpine";
  meta.manifest_digest = "sha256:409b6e4ea0f8e21d7cad593d6c06a428bb670859f0549f859d2f7c9a12d8a200";
  ImageIdentity id = identity_of(meta);
  CHECK(id.repository == "docker.io/library/python");
  CHECK(id.reference == "python:3.6-alpine");
  CHECK(id.digest == meta.manifest_digest);
  meta.normalized.clear();
  CHECK(identity_of(meta).repository == "docker.io/library/python");
}

TEST_CASE("gate: explain reports a bad report as an error", "[gate]") {
  GateRequest req;
  req.today = "2026-06-15";
  CHECK_FALSE(explain_report(Policy::default_policy(), "not json", req).ok());
}
