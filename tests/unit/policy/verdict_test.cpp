#include "scanner/policy/verdict.h"

#include <algorithm>
#include <catch2/catch.hpp>
#include <optional>
#include <set>

#include "scanner/policy/trivy_report.h"
#include "scenario_input.h"

using namespace scangate;
using namespace scangate::policy;
using scangate::test::scenario_findings;
using scangate::test::scenario_rows;
using scangate::test::scenario_summary;

namespace {

const std::string kHead = "apiVersion: scangate.io/v1alpha1\nkind: Policy\n";
const std::string kToday = "2026-06-15";

Policy pol(const std::string& body) {
  auto r = parse_policy(kHead + body, "policy.yaml");
  if (!r.ok()) FAIL(r.error().message);
  return r.value();
}

ImageIdentity python_image() {
  return {"docker.io/library/python", "python:3.6-alpine", scangate::test::scenario_image_id()};
}

struct Scenario {
  std::vector<Finding> findings = scenario_findings();
  std::vector<SecretFinding> secrets;
  DecisionInput input(const std::string& ns = "") const {
    DecisionInput in;
    in.image = python_image();
    in.namespace_name = ns;
    in.findings = findings;
    in.secrets = secrets;
    in.today = kToday;
    return in;
  }
};

// The scenario's CRITICAL ids, read from the expected-findings TSV.
std::vector<std::string> critical_ids() {
  std::set<std::string> ids;
  for (const auto& r : scenario_rows())
    if (r.severity == "CRITICAL") ids.insert(r.vuln_id);
  return {ids.begin(), ids.end()};
}

std::string exception_list(const std::vector<std::string>& ids, const std::string& expires) {
  std::string s = "exceptions:\n";
  for (const auto& id : ids)
    s += "  - {id: " + id + ", expires: " + expires + ", reason: \"base image rebuild SEC-1\"}\n";
  return s;
}

}  // namespace

TEST_CASE("verdict: the default policy denies the seed scenario for its CRITICAL findings", "[verdict][scenario]") {
  auto summary = scenario_summary();
  REQUIRE(summary.at("CRITICAL") == 8);
  Scenario s;
  Verdict v = decide(Policy::default_policy(), s.input());
  CHECK_FALSE(v.allowed);
  CHECK(v.violated);
  CHECK(v.mode == Mode::kEnforce);
  CHECK(v.count(Severity::kCritical).count == summary.at("CRITICAL"));
  CHECK(v.count(Severity::kCritical).limit == 0);
  CHECK(v.count(Severity::kCritical).exceeded());
  CHECK(v.count(Severity::kHigh).count == summary.at("HIGH"));
  CHECK(v.count(Severity::kMedium).count == summary.at("MEDIUM"));
  CHECK(v.count(Severity::kLow).count == summary.at("LOW"));
  CHECK(v.count(Severity::kUnknown).count == summary.at("UNKNOWN"));
  CHECK_FALSE(v.count(Severity::kHigh).limit);
  REQUIRE(v.reasons.size() == 1);
  CHECK(v.reasons[0] == "8 CRITICAL vulnerabilities; the policy allows 0");
  // The findings that counted are exactly the CRITICAL ones.
  std::set<std::string> counted;
  for (const auto& f : v.counted()) counted.insert(f.vuln_id);
  auto want = critical_ids();
  CHECK(std::vector<std::string>(counted.begin(), counted.end()) == want);
  CHECK(v.policy_revision == Policy::default_policy().revision);
}

TEST_CASE("verdict: exceptions by exact id for the 8 CRITICAL ids allow the image", "[verdict][exceptions]") {
  Scenario s;
  Policy p = pol(exception_list(critical_ids(), "2027-01-31"));
  Verdict v = decide(p, s.input());
  CHECK(v.allowed);
  CHECK_FALSE(v.violated);
  CHECK(v.count(Severity::kCritical).count == 0);
  CHECK(v.ignored_by_exception == 8);
  CHECK(v.applied_exceptions.size() == 8);
  CHECK(v.expired_exceptions.empty());
  for (const auto& x : v.applied_exceptions) {
    CHECK(x.findings == 1);
    CHECK(x.matched == std::vector<std::string>{x.id});
    CHECK(x.reason == "base image rebuild SEC-1");
    CHECK(x.line == 4 + static_cast<int>(x.index));
  }
}

TEST_CASE("verdict: expired exceptions deny and are reported as expired", "[verdict][exceptions][expiry]") {
  Scenario s;
  Policy p = pol(exception_list(critical_ids(), "2026-01-31"));
  Verdict v = decide(p, s.input());
  CHECK_FALSE(v.allowed);
  CHECK(v.count(Severity::kCritical).count == 8);
  CHECK(v.applied_exceptions.empty());
  REQUIRE(v.expired_exceptions.size() == 8);
  REQUIRE(v.warnings.size() == 8);
  CHECK(v.warnings[0] ==
        "exception '" + critical_ids()[0] + "' (policy.yaml:4) expired on 2026-01-31 and no longer applies");
}

TEST_CASE("verdict: an exception stops applying on its expiry date", "[verdict][exceptions][expiry]") {
  Scenario s;
  Policy p = pol("exceptions:\n  - {id: CVE-2022-37434, expires: 2026-06-15, reason: r}\n");
  auto in = s.input();
  in.today = "2026-06-14";
  Verdict before = decide(p, in);
  CHECK(before.count(Severity::kCritical).count == 7);
  CHECK(before.applied_exceptions.size() == 1);
  in.today = "2026-06-15";  // the expiry day itself
  Verdict on = decide(p, in);
  CHECK(on.count(Severity::kCritical).count == 8);
  CHECK(on.applied_exceptions.empty());
  CHECK(on.expired_exceptions.size() == 1);
}

TEST_CASE("verdict: exceptions by glob", "[verdict][exceptions]") {
  Scenario s;
  // CVE-2022-2* covers the seven expat CRITICAL ids, not zlib's CVE-2022-37434.
  Verdict v = decide(pol("exceptions:\n  - {id: \"CVE-2022-2*\", expires: 2027-01-31, reason: expat}\n"), s.input());
  CHECK_FALSE(v.allowed);
  CHECK(v.count(Severity::kCritical).count == 1);
  CHECK(v.count(Severity::kCritical).top.at(0).vuln_id == "CVE-2022-37434");
  REQUIRE(v.applied_exceptions.size() == 1);
  // Independent count: rows of the TSV whose id starts with CVE-2022-2.
  int expected = 0;
  std::set<std::string> ids;
  for (const auto& r : scenario_rows())
    if (r.vuln_id.rfind("CVE-2022-2", 0) == 0) {
      ++expected;
      ids.insert(r.vuln_id);
    }
  CHECK(v.applied_exceptions[0].findings == expected);
  CHECK(v.applied_exceptions[0].matched == std::vector<std::string>(ids.begin(), ids.end()));
  CHECK(v.ignored_by_exception == expected);
}

TEST_CASE("verdict: exceptions scoped by image glob and by digest", "[verdict][exceptions]") {
  Scenario s;
  auto with_images = [&](const std::string& images) {
    return decide(pol("limits: {}\nexceptions:\n  - {id: CVE-2022-37434, images: " + images +
                      ", expires: 2027-01-31, reason: r}\n"),
                  s.input());
  };
  CHECK(with_images("[\"*/library/python\"]").ignored_by_exception == 1);
  CHECK(with_images("[\"docker.io/library/*\"]").ignored_by_exception == 1);
  CHECK(with_images("[\"*/legacy/*\"]").ignored_by_exception == 0);
  CHECK(with_images("[\"" + scangate::test::scenario_image_id() + "\"]").ignored_by_exception == 1);
  CHECK(with_images("[\"sha256:0000000000000000000000000000000000000000000000000000000000000000\"]")
            .ignored_by_exception == 0);
  CHECK(with_images("[\"*/legacy/*\", \"**/python\"]").ignored_by_exception == 1);
  // Issue 12: `*` stops at '/', so "*/python" no longer reaches docker.io/library/python.
  CHECK(with_images("[\"*/legacy/*\", \"*/python\"]").ignored_by_exception == 0);
}

TEST_CASE("verdict: exceptions scoped by namespace never match the pipeline", "[verdict][exceptions]") {
  Scenario s;
  Policy p = pol(exception_list(critical_ids(), "2027-01-31") + "");
  // Scope every exception to namespace `legacy`.
  for (auto& x : p.exceptions) x.namespaces = {"legacy"};
  CHECK(decide(p, s.input("legacy")).allowed);
  CHECK_FALSE(decide(p, s.input("prod")).allowed);
  CHECK_FALSE(decide(p, s.input("")).allowed);  // the CLI has no namespace
  for (auto& x : p.exceptions) x.namespaces = {"legacy-*"};
  CHECK(decide(p, s.input("legacy-payments")).allowed);
}

TEST_CASE("verdict: an expired exception next to an active one for the same id", "[verdict][exceptions]") {
  Scenario s;
  Policy p =
      pol("exceptions:\n"
          "  - {id: CVE-2022-37434, expires: 2025-01-01, reason: old}\n"
          "  - {id: CVE-2022-37434, expires: 2027-01-01, reason: renewed}\n");
  Verdict v = decide(p, s.input());
  REQUIRE(v.applied_exceptions.size() == 1);
  CHECK(v.applied_exceptions[0].reason == "renewed");
  CHECK(v.expired_exceptions.empty());  // nothing was counted because of the old one
}

TEST_CASE("verdict: limits per severity", "[verdict][limits]") {
  Scenario s;
  auto summary = scenario_summary();
  int high = summary.at("HIGH");
  auto at = [&](int critical, int h) {
    return decide(pol("limits: {CRITICAL: " + std::to_string(critical) + ", HIGH: " + std::to_string(h) + "}\n"),
                  s.input());
  };
  CHECK(at(8, high).allowed);
  Verdict over = at(8, high - 1);
  CHECK_FALSE(over.allowed);
  REQUIRE(over.reasons.size() == 1);
  CHECK(over.reasons[0] ==
        std::to_string(high) + " HIGH vulnerabilities; the policy allows " + std::to_string(high - 1));
  Verdict both = at(7, 0);
  CHECK(both.reasons.size() == 2);
  CHECK(decide(pol("limits: {}\n"), s.input()).allowed);
  CHECK_FALSE(decide(pol("limits: {UNKNOWN: 1}\n"), s.input()).allowed);  // 2 UNKNOWN
  CHECK(decide(pol("limits: {UNKNOWN: 2, LOW: 0}\n"), s.input()).allowed);
}

TEST_CASE("verdict: ignoreUnfixed leaves out findings without a fix", "[verdict][ignoreUnfixed]") {
  // Trivy's own pair of goldens: the same image with and without --ignore-unfixed.
  auto all = findings_from_trivy_json(
      scangate::test::read_file(scangate::test::testdata("reports/trivy_debian-buster.json.golden")));
  auto fixed_only = findings_from_trivy_json(
      scangate::test::read_file(scangate::test::testdata("reports/trivy_debian-buster-ignore-unfixed.json.golden")));
  REQUIRE(all.ok());
  REQUIRE(fixed_only.ok());
  REQUIRE(all->size() > fixed_only->size());
  DecisionInput in;
  in.findings = *all;
  in.today = kToday;
  Verdict keep = decide(pol("limits: {}\nignoreUnfixed: false\n"), in);
  Verdict drop = decide(pol("limits: {}\nignoreUnfixed: true\n"), in);
  auto total = [](const Verdict& v) {
    int n = 0;
    for (const auto& c : v.counts) n += c.count;
    return n;
  };
  CHECK(total(keep) == static_cast<int>(all->size()));
  CHECK(keep.ignored_unfixed == 0);
  CHECK(total(drop) == static_cast<int>(fixed_only->size()));
  CHECK(drop.ignored_unfixed == static_cast<int>(all->size() - fixed_only->size()));
}

TEST_CASE("verdict: minCVSS ignores findings scored below it", "[verdict][minCVSS]") {
  auto f = [](const std::string& id, Severity sev, std::optional<double> nvd3, std::optional<double> other3) {
    Finding x;
    x.vuln_id = id;
    x.pkg.name = "pkg";
    x.severity = sev;
    if (nvd3) x.cvss["nvd"].v3_score = nvd3;
    if (other3) x.cvss["redhat"].v3_score = other3;
    return x;
  };
  std::vector<Finding> fs = {f("CVE-A", Severity::kCritical, 9.8, std::nullopt),
                             f("CVE-B", Severity::kCritical, 6.9, 9.1),  // NVD's score wins
                             f("CVE-C", Severity::kCritical, std::nullopt, 7.2),
                             f("CVE-D", Severity::kCritical, std::nullopt, std::nullopt)};
  DecisionInput in;
  in.findings = fs;
  in.today = kToday;
  Verdict v = decide(pol("minCVSS: 7\nlimits: {CRITICAL: 2}\n"), in);
  CHECK(v.ignored_below_cvss == 1);
  CHECK(v.count(Severity::kCritical).count == 3);  // unscored CVE-D still counts
  CHECK_FALSE(v.allowed);
  std::vector<std::string> order;
  for (const auto& c : v.count(Severity::kCritical).top) order.push_back(c.vuln_id);
  CHECK(order == std::vector<std::string>{"CVE-A", "CVE-C", "CVE-D"});            // by score, unscored last
  CHECK_FALSE(decide(pol("minCVSS: 7.2\nlimits: {CRITICAL: 2}\n"), in).allowed);  // 7.2 is not below 7.2
  Verdict higher = decide(pol("minCVSS: 7.3\nlimits: {CRITICAL: 2}\n"), in);
  CHECK(higher.allowed);
  CHECK(higher.ignored_below_cvss == 2);
  CHECK(finding_score(fs[1]) == 6.9);
  CHECK(finding_score(fs[2]) == 7.2);
  CHECK_FALSE(finding_score(fs[3]));
}

TEST_CASE("verdict: secrets action and minSeverity", "[verdict][secrets]") {
  auto secrets =
      secrets_from_trivy_json(scangate::test::read_file(scangate::test::testdata("reports/trivy_secrets.json.golden")));
  REQUIRE(secrets.ok());
  // Independent: the golden holds one CRITICAL (aws-access-key-id) and one HIGH (mysecret).
  REQUIRE(secrets->size() == 2);
  DecisionInput in;
  in.secrets = *secrets;
  in.today = kToday;

  Verdict high = decide(pol("secrets: {action: deny, minSeverity: HIGH}\n"), in);
  CHECK_FALSE(high.allowed);
  CHECK(high.secrets_count == 2);
  REQUIRE(high.reasons.size() == 1);
  CHECK(high.reasons[0] == "2 secrets at HIGH or above; the policy denies secrets (secrets.action: deny)");
  CHECK(high.secrets.at(0).rule_id == "aws-access-key-id");  // most severe first

  Verdict crit = decide(Policy::default_policy(), in);
  CHECK_FALSE(crit.allowed);
  CHECK(crit.secrets_count == 1);

  Verdict warn = decide(pol("secrets: {action: warn, minSeverity: HIGH}\n"), in);
  CHECK(warn.allowed);
  CHECK_FALSE(warn.violated);
  CHECK(warn.warnings == std::vector<std::string>{"2 secrets at HIGH or above (secrets.action: warn)"});

  Verdict ignore = decide(pol("secrets: {action: ignore}\n"), in);
  CHECK(ignore.allowed);
  CHECK(ignore.secrets_count == 0);
  CHECK(ignore.warnings.empty());

  Verdict excepted = decide(
      pol("secrets: {minSeverity: LOW}\nexceptions:\n  - {id: \"aws-*\", expires: 2027-01-01, reason: test key}\n"),
      in);
  CHECK(excepted.secrets_count == 1);
  CHECK(excepted.secrets.at(0).rule_id == "mysecret");
  CHECK(excepted.applied_exceptions.at(0).matched == std::vector<std::string>{"aws-access-key-id"});
}

TEST_CASE("verdict: exempt namespaces and images skip the rules", "[verdict][exempt]") {
  Scenario s;
  Policy p = pol("exemptNamespaces: [kube-system, \"team-*-infra\"]\nexemptImages: [\"registry.k8s.io/*\"]\n");
  Verdict ks = decide(p, s.input("kube-system"));
  CHECK(ks.allowed);
  CHECK(ks.exempt);
  CHECK(ks.exempt_by == "exemptNamespaces 'kube-system'");
  CHECK(decide(p, s.input("team-a-infra")).exempt);
  CHECK_FALSE(decide(p, s.input("default")).allowed);
  CHECK_FALSE(decide(p, s.input("")).allowed);

  auto in = s.input("default");
  in.image = {"registry.k8s.io/pause", "registry.k8s.io/pause:3.9", ""};
  Verdict img = decide(p, in);
  CHECK(img.allowed);
  CHECK(img.exempt_by == "exemptImages 'registry.k8s.io/*'");
  CHECK(exemption(p, "", in.image));  // image exemptions hold in the pipeline too

  Policy by_digest = pol("exemptImages: [\"" + scangate::test::scenario_image_id() + "\"]\n");
  CHECK(decide(by_digest, s.input()).exempt);

  // An exempt image needs no scan: a pending scan does not deny it.
  auto pending = s.input("kube-system");
  pending.scan_state = ScanState::kPending;
  CHECK(decide(p, pending).allowed);
}

TEST_CASE("verdict: overrides, first match wins, limits merge", "[verdict][overrides]") {
  Scenario s;
  Policy p = pol(R"(limits: {CRITICAL: 0, HIGH: 100}
overrides:
  - namespaces: ["dev-*"]
    mode: warn
    limits: {CRITICAL: 3}
  - namespaces: [dev-sandbox, lab]
    limits: {CRITICAL: 100}
  - namespaces: [strict]
    limits: {HIGH: 0}
)");
  Verdict dev = decide(p, s.input("dev-sandbox"));
  CHECK(dev.override_index == 0);
  CHECK(dev.override_line == 5);
  CHECK(dev.mode == Mode::kWarn);
  CHECK(dev.count(Severity::kCritical).limit == 3);
  CHECK(dev.count(Severity::kHigh).limit == 100);  // merged, not replaced
  CHECK(dev.allowed);
  CHECK(dev.violated);
  REQUIRE_FALSE(dev.warnings.empty());
  CHECK(dev.warnings[0] == "policy violation (mode: warn): 8 CRITICAL vulnerabilities; the policy allows 3");

  Verdict lab = decide(p, s.input("lab"));
  CHECK(lab.override_index == 1);
  CHECK(lab.mode == Mode::kEnforce);
  CHECK(lab.allowed);

  Verdict strict = decide(p, s.input("strict"));
  CHECK(strict.reasons.size() == 2);
  CHECK_FALSE(strict.allowed);

  Verdict none = decide(p, s.input("prod"));
  CHECK(none.override_index == -1);
  CHECK_FALSE(none.allowed);
  CHECK(decide(p, s.input("")).override_index == -1);

  Policy other = pol(R"(ignoreUnfixed: false
overrides:
  - namespaces: [x]
    ignoreUnfixed: true
    minCVSS: 9
    secrets: {action: ignore, minSeverity: LOW}
)");
  EffectiveRules r = effective_rules(other, "x");
  CHECK(r.ignore_unfixed);
  CHECK(r.min_cvss == 9);
  CHECK(r.secrets.action == SecretAction::kIgnore);
  CHECK(r.secrets.min_severity == Severity::kLow);
  CHECK_FALSE(effective_rules(other, "y").ignore_unfixed);
}

TEST_CASE("verdict: modes enforce, warn and audit", "[verdict][mode]") {
  Scenario s;
  Verdict enforce = decide(pol("mode: enforce\n"), s.input());
  CHECK_FALSE(enforce.allowed);
  CHECK(enforce.warnings.empty());

  Verdict warn = decide(pol("mode: warn\n"), s.input());
  CHECK(warn.allowed);
  CHECK(warn.violated);
  CHECK(warn.reasons == enforce.reasons);
  CHECK(warn.warnings == std::vector<std::string>{"policy violation (mode: warn): " + enforce.reasons[0]});

  Verdict audit = decide(pol("mode: audit\n"), s.input());
  CHECK(audit.allowed);
  CHECK(audit.violated);
  CHECK(audit.reasons == enforce.reasons);
  CHECK(audit.warnings.empty());
}

TEST_CASE("verdict: scan pending and scan errors", "[verdict][scan]") {
  DecisionInput in;
  in.image = python_image();
  in.today = kToday;
  in.scan_state = ScanState::kPending;
  Verdict deny = decide(Policy::default_policy(), in);
  CHECK_FALSE(deny.allowed);
  CHECK(deny.reasons == std::vector<std::string>{"the scan did not finish in time and scan.onPending is deny"});
  Verdict allow = decide(pol("scan: {onPending: allow}\n"), in);
  CHECK(allow.allowed);
  CHECK(allow.warnings ==
        std::vector<std::string>{"the scan did not finish in time; admitted because scan.onPending is allow"});

  in.scan_state = ScanState::kError;
  in.scan_error = "registry returned 401";
  Verdict err = decide(Policy::default_policy(), in);
  CHECK_FALSE(err.allowed);
  CHECK(err.reasons == std::vector<std::string>{"the scan failed (registry returned 401) and scan.onError is deny"});
  CHECK(decide(pol("scan: {onError: allow}\n"), in).allowed);
  CHECK(decide(pol("scan: {onPending: allow}\n"), in).allowed == false);  // onPending says nothing about errors
  CHECK(decide(pol("mode: warn\n"), in).allowed);                         // warn mode never denies
}

TEST_CASE("verdict: maxAge decides when a verdict is stale", "[verdict][scan]") {
  Policy p = pol("scan: {maxAge: 30m}\n");
  CHECK_FALSE(needs_rescan(p, std::chrono::seconds(1799)));
  CHECK(needs_rescan(p, std::chrono::seconds(1800)));
  CHECK(needs_rescan(Policy::default_policy(), std::chrono::hours(24)));
  CHECK_FALSE(needs_rescan(Policy::default_policy(), std::chrono::hours(23)));
}

TEST_CASE("verdict: the listed findings are bounded and sorted", "[verdict]") {
  Scenario s;
  auto in = s.input();
  in.max_listed = 3;
  Verdict v = decide(pol("limits: {HIGH: 0}\n"), in);
  CHECK(v.count(Severity::kHigh).count == scenario_summary().at("HIGH"));
  CHECK(v.count(Severity::kHigh).top.size() == 3);
  CHECK(v.counted().size() == 3);  // only HIGH has a limit
  auto top = v.count(Severity::kHigh).top;
  CHECK(std::is_sorted(top.begin(), top.end(),
                       [](const CountedFinding& a, const CountedFinding& b) { return a.vuln_id < b.vuln_id; }));
}

TEST_CASE("verdict: decide is deterministic", "[verdict]") {
  // The same findings give the same verdict whatever their order and however often decided, and it
  // is the verdict the expected-findings TSV implies (counted here without decide()).
  Scenario s;
  Policy p =
      pol("limits: {CRITICAL: 0, HIGH: 3}\nexceptions:\n  - {id: \"CVE-2022-2*\", expires: 2027-01-31, reason: r}\n");
  const Verdict first = decide(p, s.input("ns"));

  int critical = 0, high = 0, excepted = 0;
  std::set<std::string> critical_left;
  for (const auto& r : scenario_rows()) {
    if (r.vuln_id.rfind("CVE-2022-2", 0) == 0) {
      excepted++;
      continue;
    }
    if (r.severity == "CRITICAL") {
      critical++;
      critical_left.insert(r.vuln_id);
    }
    if (r.severity == "HIGH") high++;
  }
  REQUIRE(excepted > 0);  // the exception matters for this scenario
  CHECK(first.count(Severity::kCritical).count == critical);
  CHECK(first.count(Severity::kHigh).count == high);
  CHECK(first.ignored_by_exception == excepted);
  CHECK(first.allowed == (critical == 0 && high <= 3));
  std::set<std::string> listed;
  for (const auto& f : first.count(Severity::kCritical).top) listed.insert(f.vuln_id);
  CHECK(listed == critical_left);

  CHECK(decide(p, s.input("ns")) == first);
  Scenario reversed = s;
  std::reverse(reversed.findings.begin(), reversed.findings.end());
  CHECK(decide(p, reversed.input("ns")) == first);
  Scenario rotated = s;
  std::rotate(rotated.findings.begin(), rotated.findings.begin() + rotated.findings.size() / 3, rotated.findings.end());
  CHECK(decide(p, rotated.input("ns")) == first);
}

TEST_CASE("verdict: without a valid date no exception applies", "[verdict][exceptions]") {
  Scenario s;
  Policy p = pol(exception_list(critical_ids(), "2027-01-31"));
  auto in = s.input();
  in.today = "";
  Verdict v = decide(p, in);
  CHECK_FALSE(v.allowed);
  CHECK(v.applied_exceptions.empty());
  CHECK(v.warnings == std::vector<std::string>{"no valid date to judge exceptions by (''); no exception was applied"});
}

TEST_CASE("counted_finding, decision_fields: decide() gives the same verdict on what they keep", "[verdict][cache]") {
  // Real reports: Trivy's goldens (fixed and unfixed findings of every severity, CVSS from
  // several sources, long descriptions) and its secrets golden.
  std::optional<std::vector<Finding>> findings{std::in_place};
  for (const char* name :
       {"trivy_alpine-39", "trivy_debian-buster", "trivy_distroless-python27", "trivy_ubuntu-1804"}) {
    auto part = findings_from_trivy_json(
        scangate::test::read_file(scangate::test::testdata(std::string("reports/") + name + ".json.golden")));
    REQUIRE(part.ok());
    findings->insert(findings->end(), part->begin(), part->end());
  }
  auto secrets =
      secrets_from_trivy_json(scangate::test::read_file(scangate::test::testdata("reports/trivy_secrets.json.golden")));
  REQUIRE(secrets.ok());
  REQUIRE(findings->size() == 17);
  std::vector<CountedFinding> slim;
  for (const auto& f : *findings) slim.push_back(counted_finding(f));
  std::vector<SecretFinding> slim_secrets;
  for (const auto& s : *secrets) slim_secrets.push_back(decision_fields(s));

  for (std::size_t i = 0; i < slim.size(); ++i) {
    const Finding& f = (*findings)[i];
    CHECK(slim[i].vuln_id == f.vuln_id);
    CHECK(slim[i].score == finding_score(f));
  }

  int distinct_scores = 0;
  {
    std::set<double> seen;
    for (const auto& f : *findings)
      if (auto s = finding_score(f)) seen.insert(*s);
    distinct_scores = static_cast<int>(seen.size());
  }
  CHECK(distinct_scores >= 5);  // the minCVSS thresholds below (5, 7.5) split the findings

  const std::string first_id = findings->front().vuln_id;
  for (const std::string& body :
       {std::string("limits: {CRITICAL: 0}\n"), std::string("limits: {HIGH: 3, MEDIUM: 10}\n"),
        std::string("limits: {}\nignoreUnfixed: true\n"), std::string("limits: {HIGH: 0}\nminCVSS: 7.5\n"),
        std::string("limits: {HIGH: 0}\nignoreUnfixed: true\nminCVSS: 5\n"),
        std::string("limits: {CRITICAL: 0, HIGH: 0}\nexceptions:\n  - id: " + first_id +
                    "\n    expires: 2099-01-01\n    reason: accepted\n"),
        std::string("limits: {}\nsecrets: {action: deny, minSeverity: HIGH}\n"),
        std::string("mode: warn\nlimits: {LOW: 0}\nsecrets: {action: warn, minSeverity: LOW}\n")}) {
    INFO(body);
    Policy p = pol(body);
    DecisionInput full, kept;
    full.findings = *findings;
    full.secrets = *secrets;
    kept.counted = slim;
    kept.secrets = slim_secrets;
    full.today = kept.today = kToday;
    CHECK(decide(p, full) == decide(p, kept));
  }
}

TEST_CASE("verdict: scan.requireAttestation admits only what the pipeline attested, per namespace", "[policy]") {
  const Policy p =
      pol("limits: {CRITICAL: 1000, HIGH: 1000, MEDIUM: 1000, LOW: 1000, UNKNOWN: 1000}\n"
          "overrides:\n"
          "  - namespaces: [prod-*]\n"
          "    scan: {requireAttestation: true}\n");
  CHECK_FALSE(p.scan.require_attestation);
  CHECK(p.overrides[0].require_attestation == true);
  Scenario sc;
  auto in = sc.input("prod-eu");
  in.today = kToday;

  SECTION("the CLI is never asked: it is what produces attestations") {
    in.attested.reset();
    CHECK(decide(p, in).allowed);
  }
  SECTION("scanned here: denied in the namespaces that require an attestation, with the reason") {
    in.attested = "";
    in.basis = "the SBOM attestation was rejected: bad_signature";
    auto v = decide(p, in);
    CHECK_FALSE(v.allowed);
    CHECK(v.attestation_missing);
    REQUIRE(v.reasons.size() == 1);
    CHECK_THAT(v.reasons[0], Catch::Contains("bad_signature") && Catch::Contains("scan.requireAttestation"));
    auto other = sc.input("dev");
    other.attested = "";
    CHECK(decide(p, other).allowed);
  }
  SECTION("attested by an SBOM or a vulnerability record: decided on the findings") {
    for (const char* a : {"sbom", "vuln"}) {
      in.attested = a;
      CHECK(decide(p, in).allowed);
    }
  }
  SECTION("not knowing is not having one") {
    in.attested = "";
    in.scan_state = ScanState::kPending;
    const Policy allow_pending =
        pol("scan: {onPending: allow, requireAttestation: true}\n"
            "limits: {CRITICAL: 1000, HIGH: 1000, MEDIUM: 1000, LOW: 1000, UNKNOWN: 1000}\n");
    auto v = decide(allow_pending, in);
    CHECK_FALSE(v.allowed);
    CHECK_THAT(v.reasons.back(), Catch::Contains("did not finish in time"));
  }
  SECTION("the key changes the revision only when set") {
    const Policy plain = pol("limits: {CRITICAL: 1000, HIGH: 1000, MEDIUM: 1000, LOW: 1000, UNKNOWN: 1000}\n");
    const Policy off =
        pol("limits: {CRITICAL: 1000, HIGH: 1000, MEDIUM: 1000, LOW: 1000, UNKNOWN: 1000}\n"
            "scan: {requireAttestation: false}\n");
    CHECK(plain.revision == off.revision);
    CHECK(plain.revision != p.revision);
  }
}
