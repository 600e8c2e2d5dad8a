// libFuzzer target: the policy file (scanner/policy/policy.h, a YAML document through yaml-cpp and
// scanner/core/yaml_schema.h) and decide() under the policies it accepts.
//
// Properties: a refusal is kFormat and names the file; an accepted policy's revision is
// policy_revision() of it, its canonical form is a JSON object; decide() on a fixed image with a
// few findings and a secret, in a namespace and from the CLI:
//   - gives the same verdict from the findings as from their counted_finding() copies (what the
//     webhook's verdict cache keeps, verdict.h);
//   - never denies outside enforce mode, and never denies an image with nothing found.
#include <nlohmann/json.hpp>

#include "scanner/policy/policy.h"
#include "scanner/policy/verdict.h"
#include "tests/fuzz/fuzz_check.h"

using namespace scangate;
using namespace scangate::policy;

namespace {

constexpr std::string_view kFile = "fuzz-policy.yaml";

[[noreturn]] void fail(const std::string& what, std::string_view in) { fuzz::fail("policy_fuzz", what, in); }

std::vector<Finding> findings() {
  std::vector<Finding> out;
  const std::pair<const char*, Severity> rows[] = {{"CVE-2022-37434", Severity::kCritical},
                                                   {"GHSA-xvch-5gv4-984h", Severity::kHigh},
                                                   {"CVE-2023-0001", Severity::kLow}};
  for (const auto& [id, sev] : rows) {
    Finding f;
    f.vuln_id = id;
    f.pkg = Package{"apk", "zlib", "1.2.11-r3", "zlib", "1.2.11-r3", "x86_64", {"Zlib"}, "lib/apk/db/installed", {}};
    f.fixed_version = sev == Severity::kLow ? "" : "1.2.12-r2";
    f.status = f.fixed_version.empty() ? "affected" : "fixed";
    f.severity = sev;
    f.cvss["nvd"] = CvssScore{"", "CVSS:3.1/AV:N", std::nullopt, sev == Severity::kCritical ? 9.8 : 5.0};
    out.push_back(f);
  }
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view in = fuzz::as_text(data, size);
  auto p = parse_policy(in, std::string(kFile));
  if (!p.ok()) {
    if (p.error().kind != ErrorKind::kFormat) fail("refused with another kind: " + p.error().message, in);
    if (p.error().message.find(kFile) == std::string::npos) fail("the error does not name the file", in);
    return 0;
  }
  if (p->revision != policy_revision(*p)) fail("revision is not policy_revision()", in);
  const auto canonical = nlohmann::json::parse(canonical_json(*p), nullptr, false);
  if (!canonical.is_object()) fail("the canonical form is not a JSON object", in);

  static const std::vector<Finding> found = findings();
  std::vector<CountedFinding> counted;
  for (const auto& f : found) counted.push_back(counted_finding(f));
  SecretFinding secret;
  secret.rule_id = "aws-access-key-id";
  secret.severity = "CRITICAL";
  secret.file_path = "app/.env";
  const std::vector<SecretFinding> secrets{secret};

  for (const char* ns : {"", "default", "kube-system"}) {
    DecisionInput full;
    full.image = {"docker.io/library/alpine", "alpine:3.20", "sha256:" + std::string(64, 'a')};
    full.namespace_name = ns;
    full.findings = found;
    full.secrets = secrets;
    full.today = "2025-01-01";
    DecisionInput kept = full;
    kept.findings = {};
    kept.counted = counted;
    const Verdict a = decide(*p, full), b = decide(*p, kept);
    if (!(a == b)) fail(std::string("decide() differs on the counted findings in namespace \"") + ns + "\"", in);
    if (!a.allowed && a.mode != Mode::kEnforce) fail("denied outside enforce mode", in);

    DecisionInput clean = full;
    clean.findings = {};
    clean.secrets = {};
    if (!decide(*p, clean).allowed) fail(std::string("an image with nothing found denied in \"") + ns + "\"", in);
  }
  return 0;
}
