#include "scanner/policy/ignore_file.h"
#include "scanner/policy/policy.h"

#include <catch2/catch.hpp>
#include <cstdio>
#include <fstream>
#include <string>

#include "support/test_support.h"

using namespace scangate;
using namespace scangate::policy;

namespace {

// The example of issue 5, verbatim.
const char* kIssueExample = R"(apiVersion: scangate.io/v1alpha1
kind: Policy
mode: enforce                 # enforce | warn | audit
limits:                       # most findings allowed per severity; a missing key = unlimited
  CRITICAL: 0                 # the critical-severity policy (this is the default when no policy is given)
ignoreUnfixed: false
minCVSS: 0                    # optional: ignore findings scored below this
secrets: {action: deny, minSeverity: HIGH}   # deny | warn | ignore
scan: {onPending: deny, onError: deny, maxAge: 24h}
exemptNamespaces: [kube-system]
exemptImages: ["registry.k8s.io/*"]
exceptions:
  - id: CVE-2022-37434        # or a glob such as GHSA-*
    images: ["*/legacy/*"]    # optional: glob on the normalised repository, or an exact digest
    namespaces: [legacy]      # optional
    expires: 2027-01-31       # required
    reason: "inflate path unused; tracked in SEC-123"   # required
overrides:                    # per-namespace changes, first match wins
  - namespaces: ["dev-*"]
    mode: warn
    limits: {CRITICAL: 3}
)";

const std::string kHead = "apiVersion: scangate.io/v1alpha1\nkind: Policy\n";

// Parses kHead + body and returns the error message (fails the test if it parses).
std::string error_of(const std::string& body) {
  auto r = parse_policy(kHead + body, "policy.yaml");
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().kind == ErrorKind::kFormat);
  return r.error().message;
}

Policy parsed(const std::string& body) {
  auto r = parse_policy(kHead + body, "policy.yaml");
  if (!r.ok()) FAIL(r.error().message);
  return r.value();
}

}  // namespace

TEST_CASE("policy: the issue's example parses into every field", "[policy]") {
  auto r = parse_policy(kIssueExample, "policy.yaml");
  REQUIRE(r.ok());
  const Policy& p = *r;
  CHECK(p.name == "policy.yaml");
  CHECK(p.mode == Mode::kEnforce);
  CHECK(p.limits.get(Severity::kCritical) == 0);
  CHECK_FALSE(p.limits.get(Severity::kHigh));
  CHECK_FALSE(p.ignore_unfixed);
  CHECK(p.min_cvss == 0);
  CHECK(p.secrets.action == SecretAction::kDeny);
  CHECK(p.secrets.min_severity == Severity::kHigh);
  CHECK(p.scan.on_pending == ScanFailureAction::kDeny);
  CHECK(p.scan.on_error == ScanFailureAction::kDeny);
  CHECK(p.scan.max_age_seconds == 24 * 3600);
  CHECK(p.exempt_namespaces == std::vector<std::string>{"kube-system"});
  CHECK(p.exempt_images == std::vector<std::string>{"registry.k8s.io/*"});
  REQUIRE(p.exceptions.size() == 1);
  const Exception& x = p.exceptions[0];
  CHECK(x.id == "CVE-2022-37434");
  CHECK(x.images == std::vector<std::string>{"*/legacy/*"});
  CHECK(x.namespaces == std::vector<std::string>{"legacy"});
  CHECK(x.expires == "2027-01-31");
  CHECK(x.reason == "inflate path unused; tracked in SEC-123");
  CHECK(x.line == 13);
  REQUIRE(p.overrides.size() == 1);
  const Override& o = p.overrides[0];
  CHECK(o.namespaces == std::vector<std::string>{"dev-*"});
  CHECK(o.mode == Mode::kWarn);
  CHECK(o.limits.get(Severity::kCritical) == 3);
  CHECK_FALSE(o.limits.get(Severity::kHigh));
  CHECK(o.line == 19);
  CHECK(p.revision.rfind("sha256:", 0) == 0);
  CHECK(p.revision.size() == 7 + 64);
}

TEST_CASE("policy: the default policy is the critical-severity policy", "[policy]") {
  Policy d = Policy::default_policy();
  CHECK(d.mode == Mode::kEnforce);
  CHECK(d.limits.get(Severity::kCritical) == 0);
  for (auto s : {Severity::kHigh, Severity::kMedium, Severity::kLow, Severity::kUnknown}) CHECK_FALSE(d.limits.get(s));
  CHECK(d.scan.on_pending == ScanFailureAction::kDeny);
  CHECK(d.scan.on_error == ScanFailureAction::kDeny);
  CHECK(d.scan.max_age_seconds == 86400);
  CHECK(d.secrets.action == SecretAction::kDeny);
  CHECK(d.secrets.min_severity == Severity::kCritical);
  CHECK_FALSE(d.revision.empty());

  // A file with only the header means the same thing, so it has the same revision.
  Policy minimal = parsed("");
  CHECK(minimal.revision == d.revision);
}

TEST_CASE("policy: limits absent keep CRITICAL 0, an empty map means unlimited", "[policy][limits]") {
  CHECK(parsed("mode: warn\n").limits.get(Severity::kCritical) == 0);
  CHECK(parsed("limits: {}\n").limits.empty());
  Policy p = parsed("limits:\n  critical: 1\n  High: 10\n  MEDIUM: 100\n  LOW: 1000\n  UNKNOWN: 0\n");
  CHECK(p.limits.get(Severity::kCritical) == 1);
  CHECK(p.limits.get(Severity::kHigh) == 10);
  CHECK(p.limits.get(Severity::kMedium) == 100);
  CHECK(p.limits.get(Severity::kLow) == 1000);
  CHECK(p.limits.get(Severity::kUnknown) == 0);
}

TEST_CASE("policy: revision follows meaning, not bytes", "[policy][revision]") {
  Policy a = parsed("limits: {CRITICAL: 0, HIGH: 5}\nmode: warn\n");
  Policy b = parsed("# a comment\nmode:    warn   # trailing\nlimits:\n  HIGH: 5\n  CRITICAL: 0\n");
  Policy c = parsed("limits: {CRITICAL: 0, HIGH: 6}\nmode: warn\n");
  CHECK(a.revision == b.revision);
  CHECK(a.revision != c.revision);
  CHECK(canonical_json(a) == canonical_json(b));
  CHECK(policy_revision(a) == a.revision);
  // An exception's reason is part of the meaning too.
  std::string ex = "exceptions:\n  - {id: CVE-1, expires: 2027-01-01, reason: ";
  CHECK(parsed(ex + "a}\n").revision != parsed(ex + "b}\n").revision);
}

TEST_CASE("policy: every key of a full file", "[policy]") {
  Policy p = parsed(R"(mode: audit
ignoreUnfixed: true
minCVSS: 7.5
secrets:
  action: warn
  minSeverity: medium
scan:
  onPending: allow
  onError: allow
  maxAge: 1h30m
exemptNamespaces: [kube-system, "kube-*"]
exemptImages:
  - registry.k8s.io/*
  - sha256:409b6e4ea0f8e21d7cad593d6c06a428bb670859f0549f859d2f7c9a12d8a200
exceptions:
  - id: GHSA-*
    expires: 2030-12-31
    reason: npm advisories reviewed weekly
  - id: CVE-2022-37434
    images: ["sha256:409b6e4ea0f8e21d7cad593d6c06a428bb670859f0549f859d2f7c9a12d8a200"]
    expires: 2028-02-29
    reason: leap day
overrides:
  - namespaces: [prod]
    limits: {HIGH: 0}
    ignoreUnfixed: false
    minCVSS: 0
    secrets: {action: deny}
)");
  CHECK(p.mode == Mode::kAudit);
  CHECK(p.ignore_unfixed);
  CHECK(p.min_cvss == 7.5);
  CHECK(p.secrets.action == SecretAction::kWarn);
  CHECK(p.secrets.min_severity == Severity::kMedium);
  CHECK(p.scan.on_pending == ScanFailureAction::kAllow);
  CHECK(p.scan.on_error == ScanFailureAction::kAllow);
  CHECK(p.scan.max_age_seconds == 5400);
  CHECK(p.exempt_namespaces.size() == 2);
  CHECK(p.exempt_images.size() == 2);
  REQUIRE(p.exceptions.size() == 2);
  CHECK(p.exceptions[1].expires == "2028-02-29");
  CHECK(p.exceptions[1].line == 21);
  REQUIRE(p.overrides.size() == 1);
  CHECK(p.overrides[0].limits.get(Severity::kHigh) == 0);
  CHECK(p.overrides[0].ignore_unfixed == false);
  CHECK(p.overrides[0].min_cvss == 0.0);
  CHECK(p.overrides[0].secrets_action == SecretAction::kDeny);
  CHECK_FALSE(p.overrides[0].secrets_min_severity);
  CHECK_FALSE(p.overrides[0].mode);
}

TEST_CASE("policy: malformed YAML is an error with its line", "[policy][errors]") {
  std::string e = error_of("limits: {CRITICAL: 0\nmode: warn\n");
  CHECK(e.rfind("policy.yaml:", 0) == 0);
  CHECK(e.find("not valid YAML") != std::string::npos);
  auto r = parse_policy("apiVersion: scangate.io/v1alpha1\nkind: Policy\nexemptImages: [a, b\n", "p.yaml");
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().message.find("p.yaml:") == 0);
  auto tab = parse_policy("apiVersion: scangate.io/v1alpha1\nkind: Policy\nmode: warn\n  bad: indent\n", "p.yaml");
  REQUIRE_FALSE(tab.ok());
  CHECK(tab.error().message.find("p.yaml:4:") == 0);
}

TEST_CASE("policy: unknown keys are errors, not silently ignored", "[policy][errors]") {
  CHECK(error_of("mode: warn\nlimts: {CRITICAL: 0}\n") ==
        "policy.yaml:4: key 'limts': unknown key; allowed: apiVersion, kind, mode, limits, ignoreUnfixed, minCVSS, "
        "secrets, scan, exemptNamespaces, exemptImages, exceptions, overrides");
  CHECK(error_of("limits:\n  CRITICAL: 0\n  CRTICAL: 1\n") ==
        "policy.yaml:5: key 'limits.CRTICAL': unknown severity; allowed: CRITICAL, HIGH, MEDIUM, LOW, UNKNOWN");
  CHECK(error_of("scan:\n  onPending: deny\n  timeout: 10s\n") ==
        "policy.yaml:5: key 'scan.timeout': unknown key; allowed: onPending, onError, maxAge, requireAttestation");
  CHECK(error_of("secrets: {action: deny, level: HIGH}\n") ==
        "policy.yaml:3: key 'secrets.level': unknown key; allowed: action, minSeverity");
  CHECK(error_of("exceptions:\n  - id: CVE-1\n    expires: 2027-01-01\n    reason: r\n    note: x\n") ==
        "policy.yaml:7: key 'exceptions[0].note': unknown key; allowed: id, images, namespaces, expires, reason");
  std::string o = error_of("overrides:\n  - namespaces: [dev]\n    exemptImages: [x]\n");
  CHECK(o.find("policy.yaml:5: key 'overrides[0].exemptImages': unknown key; allowed: namespaces, mode, limits, "
               "ignoreUnfixed, minCVSS, secrets") != std::string::npos);
}

TEST_CASE("policy: wrong types name the key, the line and what is allowed", "[policy][errors]") {
  CHECK(error_of("ignoreUnfixed: yes\n") ==
        "policy.yaml:3: key 'ignoreUnfixed': 'yes' is not a boolean; allowed: true, false");
  CHECK(error_of("limits:\n  CRITICAL: many\n") ==
        "policy.yaml:4: key 'limits.CRITICAL': 'many' is not allowed; expected a whole number from 0 to 1000000");
  CHECK(error_of("limits:\n  CRITICAL: -1\n").find("'limits.CRITICAL'") != std::string::npos);
  CHECK(error_of("limits: [CRITICAL]\n") == "policy.yaml:3: key 'limits': expected a map of keys, got a list");
  CHECK(error_of("limits:\n").find("key 'limits': expected a map of keys, got no value") != std::string::npos);
  CHECK(error_of("minCVSS: 11\n") ==
        "policy.yaml:3: key 'minCVSS': '11' is not allowed; expected a number from 0 to 10");
  CHECK(error_of("minCVSS: high\n").find("key 'minCVSS'") != std::string::npos);
  CHECK(error_of("mode: block\n") ==
        "policy.yaml:3: key 'mode': 'block' is not allowed; allowed: enforce, warn, audit");
  CHECK(error_of("mode: [warn]\n") == "policy.yaml:3: key 'mode': expected a single value, got a list");
  CHECK(error_of("secrets: {action: block}\n") ==
        "policy.yaml:3: key 'secrets.action': 'block' is not allowed; allowed: deny, warn, ignore");
  CHECK(error_of("secrets: {minSeverity: SEVERE}\n") ==
        "policy.yaml:3: key 'secrets.minSeverity': 'SEVERE' is not a severity; allowed: CRITICAL, HIGH, MEDIUM, LOW, "
        "UNKNOWN");
  CHECK(error_of("scan: {onError: warn}\n") ==
        "policy.yaml:3: key 'scan.onError': 'warn' is not allowed; allowed: deny, allow");
  CHECK(error_of("exemptNamespaces: kube-system\n")
            .find("policy.yaml:3: key 'exemptNamespaces': expected a list, got a single value") == 0);
  CHECK(error_of("exemptNamespaces:\n  - kube-system\n  - {a: b}\n") ==
        "policy.yaml:5: key 'exemptNamespaces[1]': expected a single value, got a map");
  CHECK(error_of("exemptImages: [\"sha256:abc\"]\n").find("key 'exemptImages[0]': 'sha256:abc' is not a digest") !=
        std::string::npos);
  CHECK(error_of("exceptions: {id: CVE-1}\n").find("key 'exceptions': expected a list, got a map") !=
        std::string::npos);
  CHECK(error_of("exceptions:\n  - CVE-1\n") ==
        "policy.yaml:4: key 'exceptions[0]': expected a map of keys, got a single value");
  CHECK(error_of("apiVersion2: x\n").find("unknown key") != std::string::npos);
}

TEST_CASE("policy: dates must be real dates, exceptions need expires and reason", "[policy][errors][dates]") {
  const std::string ex = "exceptions:\n  - id: CVE-2022-37434\n    reason: r\n    expires: ";
  CHECK(error_of(ex + "2027-02-30\n") ==
        "policy.yaml:6: key 'exceptions[0].expires': '2027-02-30' is not a date; write a real date as YYYY-MM-DD");
  CHECK(error_of(ex + "2027-1-31\n").find("'2027-1-31' is not a date") != std::string::npos);
  CHECK(error_of(ex + "tomorrow\n").find("policy.yaml:6: key 'exceptions[0].expires'") == 0);
  CHECK(error_of(ex + "2027-13-01\n").find("is not a date") != std::string::npos);
  CHECK(error_of(ex + "2026-02-29\n").find("is not a date") != std::string::npos);  // not a leap year
  CHECK(parsed(ex + "2028-02-29\n").exceptions[0].expires == "2028-02-29");
  CHECK(error_of(ex + "\n").find("key 'exceptions[0].expires': expected a single value, got no value") !=
        std::string::npos);

  CHECK(error_of("exceptions:\n  - id: CVE-1\n    reason: r\n") ==
        "policy.yaml:4: key 'exceptions[0].expires': missing; every exception needs an expiry date (YYYY-MM-DD)");
  CHECK(error_of("exceptions:\n  - id: CVE-1\n    expires: 2027-01-01\n") ==
        "policy.yaml:4: key 'exceptions[0].reason': missing; every exception needs a reason (e.g. a ticket)");
  CHECK(error_of("exceptions:\n  - expires: 2027-01-01\n    reason: r\n").find("key 'exceptions[0].id': missing") !=
        std::string::npos);
  CHECK(error_of("exceptions:\n  - id: CVE-1\n    expires: 2027-01-01\n    reason: \"\"\n")
            .find("key 'exceptions[0].reason': is empty") != std::string::npos);
}

TEST_CASE("policy: durations", "[policy][duration]") {
  CHECK(*parse_duration("24h") == 86400);
  CHECK(*parse_duration("30m") == 1800);
  CHECK(*parse_duration("90s") == 90);
  CHECK(*parse_duration("7d") == 7 * 86400);
  CHECK(*parse_duration("1h30m") == 5400);
  CHECK_FALSE(parse_duration("24").ok());
  CHECK_FALSE(parse_duration("24x").ok());
  CHECK_FALSE(parse_duration("0s").ok());
  CHECK_FALSE(parse_duration("").ok());
  CHECK_FALSE(parse_duration("h").ok());
  CHECK_FALSE(parse_duration("-1h").ok());
  CHECK_FALSE(parse_duration("99999999999d").ok());
  CHECK(format_duration(86400) == "1d");
  CHECK(format_duration(5400) == "1h30m");
  CHECK(format_duration(90) == "1m30s");
  CHECK(error_of("scan: {maxAge: 24}\n").find("key 'scan.maxAge': '24' is not a duration (missing unit after 24") !=
        std::string::npos);
}

TEST_CASE("policy: apiVersion and kind are checked", "[policy][errors]") {
  auto r = parse_policy("apiVersion: scangate.io/v2\nkind: Policy\n", "p.yaml");
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().message ==
        "p.yaml:1: key 'apiVersion': 'scangate.io/v2' is not supported; allowed: scangate.io/v1alpha1");
  r = parse_policy("apiVersion: scangate.io/v1alpha1\nkind: ConfigMap\n", "p.yaml");
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().message == "p.yaml:2: key 'kind': 'ConfigMap' is not allowed; allowed: Policy");
  r = parse_policy("mode: warn\n", "p.yaml");
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().message.find("p.yaml:1: key 'apiVersion': missing") != std::string::npos);
  CHECK(r.error().message.find("p.yaml:1: key 'kind': missing") != std::string::npos);
}

TEST_CASE("policy: odd documents are errors, never crashes", "[policy][errors]") {
  auto empty = parse_policy("", "p.yaml");
  REQUIRE_FALSE(empty.ok());
  CHECK(empty.error().message.find("p.yaml:1: the policy is empty") == 0);
  CHECK_FALSE(parse_policy("# only a comment\n", "p.yaml").ok());
  auto list = parse_policy("- a\n- b\n", "p.yaml");
  REQUIRE_FALSE(list.ok());
  CHECK(list.error().message == "p.yaml:1: the policy must be a map of keys, got a list");
  auto two = parse_policy(kHead + "---\n" + kHead, "p.yaml");
  REQUIRE_FALSE(two.ok());
  CHECK(two.error().message.find("p.yaml:4: a second YAML document") == 0);
  CHECK(error_of("mode: warn\nmode: enforce\n") == "policy.yaml:4: key 'mode': appears twice; give each key once");
  CHECK(error_of("? [a, b]\n: c\n").find("a key must be a plain name") != std::string::npos);

  std::string deep(5000, '[');
  CHECK_FALSE(parse_policy(kHead + "exemptImages: " + deep + "\n", "p.yaml").ok());
  std::string binary("\x00\xff\xfe{{:::\x01\n- ]", 14);
  CHECK_FALSE(parse_policy(binary, "p.yaml").ok());
  std::string big(kMaxPolicyBytes + 1, '#');
  auto large = parse_policy(big, "p.yaml");
  REQUIRE_FALSE(large.ok());
  CHECK(large.error().kind == ErrorKind::kLimit);
}

TEST_CASE("policy: all errors of a file are reported together", "[policy][errors]") {
  std::string e = error_of("mode: block\nignoreUnfixed: 1\nlimits: {CRTICAL: 0}\n");
  CHECK(e.find("policy.yaml:3: key 'mode'") != std::string::npos);
  CHECK(e.find("policy.yaml:4: key 'ignoreUnfixed'") != std::string::npos);
  CHECK(e.find("policy.yaml:5: key 'limits.CRTICAL'") != std::string::npos);
}

TEST_CASE("policy: overrides need namespaces and a change", "[policy][errors]") {
  CHECK(error_of("overrides:\n  - mode: warn\n") ==
        "policy.yaml:4: key 'overrides[0].namespaces': missing; an override needs the namespaces it applies to");
  CHECK(error_of("overrides:\n  - namespaces: [dev]\n") ==
        "policy.yaml:4: key 'overrides[0]': changes nothing; give at least one of mode, limits, ignoreUnfixed, "
        "minCVSS, secrets, scan");
  CHECK(error_of("overrides:\n  - namespaces: []\n    mode: warn\n").find("is empty") != std::string::npos);
}

TEST_CASE("policy: load_policy_file reads a file and names it in errors", "[policy]") {
  std::string dir = scangate::test::make_temp_dir("sg-policy");
  std::string good = dir + "/policy.yaml";
  std::ofstream(good) << kIssueExample;
  auto p = load_policy_file(good);
  REQUIRE(p.ok());
  CHECK(p->name == good);
  CHECK(p->revision == parse_policy(kIssueExample, "other-name").value().revision);

  std::string bad = dir + "/bad.yaml";
  std::ofstream(bad) << kHead << "mode: block\n";
  auto b = load_policy_file(bad);
  REQUIRE_FALSE(b.ok());
  CHECK(b.error().message.find(bad + ":3: key 'mode'") == 0);

  auto missing = load_policy_file(dir + "/nope.yaml");
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.error().kind == ErrorKind::kNotFound);
  std::remove(good.c_str());
  std::remove(bad.c_str());
  std::remove(dir.c_str());
}

TEST_CASE("policy: maxAge follows the one duration grammar (Go's plus d)", "[policy][duration]") {
  // Newly accepted: Go's fractions and compound forms, with d.
  CHECK(parsed("scan: {maxAge: 1.5h}\n").scan.max_age_seconds == 5400);
  CHECK(parsed("scan: {maxAge: 1d12h}\n").scan.max_age_seconds == 36 * 3600);
  CHECK(parsed("scan: {maxAge: .5m}\n").scan.max_age_seconds == 30);
  CHECK(parsed("scan: {maxAge: 1500000ms}\n").scan.max_age_seconds == 1500);
  CHECK(parsed("scan: {maxAge: 3650d}\n").scan.max_age_seconds == 3650 * 86400);
  CHECK(*parse_duration("+2h") == 7200);
  // The grammar's refusals, worded with the reason and the units.
  CHECK(error_of("scan: {maxAge: 7x}\n") ==
        "policy.yaml:3: key 'scan.maxAge': '7x' is not a duration (unknown unit \"x\"; use ns, us, ms, s, m, h or d)");
  CHECK(error_of("scan: {maxAge: 1w}\n").find("unknown unit \"w\"") != std::string::npos);
  // What the grammar allows but a maxAge cannot be: zero, negative, sub-second, over ten years.
  for (const char* bad : {"0", "0s", "-1h", "500ms", "1.5s", "3651d"}) {
    INFO(bad);
    CHECK(error_of(std::string("scan: {maxAge: ") + bad + "}\n") ==
          "policy.yaml:3: key 'scan.maxAge': '" + std::string(bad) +
              "' is not allowed; expected whole seconds from 1s to 3650d (10 years)");
    CHECK_FALSE(parse_duration(bad).ok());
  }
}

TEST_CASE("policy: a value that is not UTF-8 is an error with its line, not a crash", "[policy][errors]") {
  auto r = parse_policy(std::string(kHead) + "exemptNamespaces: [\"\xff\"]\n", "policy.yaml");
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().kind == ErrorKind::kFormat);
  CHECK(r.error().message.find("policy.yaml:") != std::string::npos);
  CHECK(r.error().message.find("UTF-8") != std::string::npos);
}

TEST_CASE("policy: found by fuzzing, a lone ',' is a YAML error, not a hang", "[policy][fuzz-regression]") {
  // yaml-cpp 0.7's LoadAll never ends on these (jbeder/yaml-cpp#1040): the loader stops at a
  // document that starts where the previous one did.
  for (const char* text : {",", "apiVersion: scangate.io/v1alpha1\nkind: Policy\n---\n,", ",\n,\n"}) {
    auto r = parse_policy(text, "policy.yaml");
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().kind == ErrorKind::kFormat);
  }
}

TEST_CASE("ignore file: found by fuzzing, a line of only a form feed or vertical tab is no entry",
          "[policy][fuzz-regression]") {
  auto r = parse_ignore_file("CVE-2024-1\n\f\n\v\n", ".trivyignore");
  REQUIRE(r.ok());
  REQUIRE(r->entries.size() == 1);
  CHECK(r->entries[0].id == "CVE-2024-1");
}
