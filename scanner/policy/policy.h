// The gate policy: one YAML file, read the same way by `scangate image --policy`,
// `scangate policy check|explain` and the admission webhook. Every key is documented in
// scanner/policy/README.md.
//
// Parsing is strict: unknown keys, wrong types, values outside their set, dates that are not
// dates and durations without a unit are errors that name the file, the line and the key, and
// say what is allowed. All errors of a file are reported together. The grammar is declared on
// scanner/core/yaml_schema.h in policy_parse.cpp; this file's other half (policy.cpp) is the
// model, its canonical JSON and its revision.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "scanner/core/duration.h"
#include "scanner/core/result.h"
#include "scanner/match/finding.h"

namespace scangate::policy {

inline constexpr std::string_view kApiVersion = "scangate.io/v1alpha1";
inline constexpr std::string_view kKind = "Policy";
inline constexpr size_t kMaxPolicyBytes = 1 << 20;

// enforce: a violation denies. warn: a violation is reported, never denies. audit: a violation is
// recorded in the verdict (for logs and metrics) and shown to nobody.
enum class Mode { kEnforce, kWarn, kAudit };
enum class SecretAction { kDeny, kWarn, kIgnore };
// What to do when there is no scan result to judge: deny, or allow with a warning.
enum class ScanFailureAction { kDeny, kAllow };

const char* to_string(Mode m);
const char* to_string(SecretAction a);
const char* to_string(ScanFailureAction a);

// Most findings allowed per severity; nullopt = unlimited.
struct Limits {
  std::array<std::optional<int>, 5> by_severity{};  // indexed by static_cast<int>(Severity)

  std::optional<int> get(Severity s) const { return by_severity[static_cast<size_t>(s)]; }
  void set(Severity s, std::optional<int> n) { by_severity[static_cast<size_t>(s)] = n; }
  bool empty() const;
  // The limits of `other` that are set replace ours (how an override changes limits).
  void merge(const Limits& other);
  bool operator==(const Limits&) const = default;
};

struct SecretRule {
  SecretAction action = SecretAction::kDeny;
  Severity min_severity = Severity::kCritical;
  bool operator==(const SecretRule&) const = default;
};

struct ScanRule {
  ScanFailureAction on_pending = ScanFailureAction::kDeny;
  ScanFailureAction on_error = ScanFailureAction::kDeny;
  int64_t max_age_seconds = 24 * 3600;
  // Admission only: an image is admitted only with a valid signed scan attestation from the
  // pipeline (scanner/attest); one with none is denied whatever its findings.
  bool require_attestation = false;
  bool operator==(const ScanRule&) const = default;
};

// Accepts a finding (by vulnerability id or secret rule id) until its expiry date. An exception
// stops applying ON its expiry date: it applies while today < expires.
struct Exception {
  std::string id;                       // exact id or glob ("GHSA-*")
  std::vector<std::string> images;      // optional: globs on the repository, or exact digests
  std::vector<std::string> namespaces;  // optional: globs; never match the CLI (no namespace)
  std::string expires;                  // YYYY-MM-DD
  std::string reason;
  int line = 0;  // 1-based line in the file; 0 when not from a file

  bool active_on(std::string_view today) const { return today < std::string_view(expires); }
  bool operator==(const Exception&) const = default;
};

// Per-namespace changes; the first override whose namespaces match wins. Unset fields keep the
// policy's value; limits merge per severity.
struct Override {
  std::vector<std::string> namespaces;  // globs, at least one
  std::optional<Mode> mode;
  Limits limits;
  std::optional<bool> ignore_unfixed;
  std::optional<double> min_cvss;
  std::optional<SecretAction> secrets_action;
  std::optional<Severity> secrets_min_severity;
  std::optional<bool> require_attestation;  // scan.requireAttestation
  int line = 0;
  bool operator==(const Override&) const = default;
};

struct Policy {
  std::string name = "built-in default policy";  // what messages call it: the file path
  std::string revision;                          // policy_revision(*this), set by parse / default

  Mode mode = Mode::kEnforce;
  Limits limits = critical_zero();  // used when the file has no `limits` key
  bool ignore_unfixed = false;
  double min_cvss = 0;
  SecretRule secrets;
  ScanRule scan;
  std::vector<std::string> exempt_namespaces;
  std::vector<std::string> exempt_images;
  std::vector<Exception> exceptions;
  std::vector<Override> overrides;

  static Limits critical_zero();
  // Used when no policy is given: CRITICAL limit 0, enforce, onPending/onError deny, maxAge 24h,
  // secrets at CRITICAL deny.
  static Policy default_policy();
};

// Parses and validates a policy document; `name` prefixes every error ("policy.yaml:7: ...").
// Several errors are joined by newlines in one Error of kind kFormat.
Result<Policy> parse_policy(std::string_view yaml, const std::string& name);
// Reads and parses a file (at most kMaxPolicyBytes); the path names it in errors.
Result<Policy> load_policy_file(const std::string& path);

// The policy's meaning as canonical JSON (sorted keys, no comments, no line numbers, no name):
// two files that differ only in comments, key order or layout have the same canonical form.
std::string canonical_json(const Policy& p);
// "sha256:<hex>" of canonical_json(): the revision that verdict caches key on. Editing a comment
// keeps the revision; changing any value changes it.
std::string policy_revision(const Policy& p);

// scan.maxAge in seconds. The grammar is scangate's one duration grammar (scanner/core/duration.h:
// Go's time.ParseDuration plus d): "24h", "30m", "90s", "7d", "1h30m", "1.5h". The policy takes
// whole seconds from 1s to 10 years; zero, negative and sub-second values are errors.
Result<int64_t> parse_duration(std::string_view s);
// Seconds back to the largest units: 86400 -> "1d", 5400 -> "1h30m".
std::string format_duration(int64_t seconds);

}  // namespace scangate::policy
