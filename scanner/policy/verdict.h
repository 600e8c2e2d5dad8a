// The one decision function of both gates. decide() is pure: no clock (today is an input), no
// disk, no network. `scangate image --policy`, `scangate policy explain` and the admission webhook
// all call it, so the pipeline and the cluster cannot disagree about the same image.
#pragma once

#include <array>
#include <chrono>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "scanner/core/inventory.h"
#include "scanner/match/finding.h"
#include "scanner/policy/image_name.h"
#include "scanner/policy/policy.h"

namespace scangate::policy {

enum class ScanState { kDone, kPending, kError };

struct CountedFinding {
  std::string vuln_id, pkg_name, installed_version, fixed_version;
  Severity severity = Severity::kUnknown;
  std::optional<double> score;  // the CVSS score minCVSS compares (see finding_score)
  bool operator==(const CountedFinding&) const = default;
};

struct CountedSecret {
  std::string rule_id, title, file_path;
  Severity severity = Severity::kUnknown;
  int line = 0;
  bool operator==(const CountedSecret&) const = default;
};

struct DecisionInput {
  ImageIdentity image;
  std::string namespace_name;               // empty for the CLI: namespace rules never match it
  std::span<const Finding> findings;        // not owned: the caller keeps them alive during decide()
  std::span<const CountedFinding> counted;  // more findings, already reduced to what decide() reads
                                            // (counted_finding()); long-lived caches keep these
  std::span<const SecretFinding> secrets;
  std::string today;  // YYYY-MM-DD (UTC), from the caller's clock; when it is
                      // not a date no exception applies (fail closed)
  ScanState scan_state = ScanState::kDone;
  std::string scan_error;  // what failed, with kError
  size_t max_listed = 20;  // findings kept per severity in the verdict
  // What the findings rest on (the webhook; nullopt for the CLI, which produces attestations):
  // "sbom" or "vuln" when a signed attestation of the pipeline decided, "" when the image was
  // scanned here because no valid one was found. scan.requireAttestation denies "".
  std::optional<std::string> attested;
  // The same in words for messages: "the pipeline's signed SBOM (...)" or why none was used.
  std::string basis;
};

struct SeverityCount {
  Severity severity = Severity::kUnknown;
  int count = 0;                    // findings left after ignoreUnfixed, minCVSS and exceptions
  std::optional<int> limit;         // nullopt = unlimited
  std::vector<CountedFinding> top;  // the first max_listed, highest score first
  bool exceeded() const { return limit && count > *limit; }
  bool operator==(const SeverityCount&) const = default;
};

// An exception that suppressed findings (applied), or that would have but has expired.
struct ExceptionUse {
  size_t index = 0;  // position in Policy::exceptions
  std::string id, expires, reason;
  int line = 0;
  std::vector<std::string> matched;  // distinct finding ids / secret rule ids, sorted
  int findings = 0;                  // how many findings (or secrets) it covered
  bool operator==(const ExceptionUse&) const = default;
};

struct Verdict {
  bool allowed = true;
  bool violated = false;       // a rule was broken, whatever the mode (warn and audit still say so)
  Mode mode = Mode::kEnforce;  // after overrides
  bool exempt = false;
  std::string exempt_by;    // "exemptNamespaces 'kube-system'", "exemptImages 'registry.k8s.io/*'"
  int override_index = -1;  // the override that applied, -1 = none
  int override_line = 0;
  std::string policy_name, policy_revision;
  ImageIdentity image;
  std::string namespace_name;
  ScanState scan_state = ScanState::kDone;
  std::string scan_error;
  std::optional<std::string> attested;  // DecisionInput::attested
  std::string basis;                    // DecisionInput::basis
  bool attestation_missing = false;     // denied (or warned) by scan.requireAttestation

  std::vector<std::string> reasons;   // one per broken rule, in words
  std::vector<std::string> warnings;  // for the user even when admitted (warn mode, expired exceptions, ...)

  std::array<SeverityCount, 5> counts;  // CRITICAL, HIGH, MEDIUM, LOW, UNKNOWN
  int ignored_unfixed = 0;
  int ignored_below_cvss = 0;
  int ignored_by_exception = 0;

  int secrets_count = 0;               // secrets at or above minSeverity, not excepted (0 when ignored)
  std::vector<CountedSecret> secrets;  // the first max_listed
  SecretAction secrets_action = SecretAction::kDeny;
  Severity secrets_min_severity = Severity::kCritical;

  std::vector<ExceptionUse> applied_exceptions;
  std::vector<ExceptionUse> expired_exceptions;

  const SeverityCount& count(Severity s) const;
  // The findings that count against a limit, highest severity first (what `counted` lists).
  std::vector<CountedFinding> counted() const;
  bool operator==(const Verdict&) const = default;
};

// The score minCVSS compares: NVD's v3 score, else NVD's v2 score, else the highest v3 score of
// any source, else the highest v2 score; nullopt when the finding has no score at all (it is
// then never ignored by minCVSS).
std::optional<double> finding_score(const Finding& f);

// What decide() reads of a finding (id, package name and version, fixed version, severity, the
// score minCVSS compares) and of a secret (rule id, title, path, severity, lines). Long-lived
// copies keep only these: the webhook's verdict cache holds the findings of every cached image,
// and a full finding, with its description and references, takes some 3 KB (a CountedFinding
// some 150 bytes). Keep in step with decide(): decide() on these gives the same verdict.
CountedFinding counted_finding(const Finding& f);
SecretFinding decision_fields(const SecretFinding& s);

// Why (namespace, image) is exempt, or nullopt. The webhook asks before it scans.
std::optional<std::string> exemption(const Policy& p, const std::string& namespace_name, const ImageIdentity& image);

// The values in force for a namespace after the first matching override; the override's index
// (or -1) in `override_index`.
struct EffectiveRules {
  Mode mode;
  Limits limits;
  bool ignore_unfixed;
  double min_cvss;
  SecretRule secrets;
  int override_index = -1;
  bool require_attestation = false;
};
EffectiveRules effective_rules(const Policy& p, const std::string& namespace_name);

// True when a verdict this old must be recomputed from a fresh scan (scan.maxAge).
bool needs_rescan(const Policy& p, std::chrono::seconds age);

Verdict decide(const Policy& p, const DecisionInput& in);

}  // namespace scangate::policy
