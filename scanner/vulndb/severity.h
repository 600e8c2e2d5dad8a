// Severity levels and the one rule that picks an advisory's severity from its sources.
// resolve_severity() is pure: the DB writer calls it once per row at build time.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace scangate::vulndb {

enum class Severity { kUnknown = 0, kLow, kMedium, kHigh, kCritical };

// "UNKNOWN", "LOW", "MEDIUM", "HIGH", "CRITICAL".
const char* to_string(Severity s);
// Case-insensitive label as feeds print it; "MODERATE" (GHSA) is MEDIUM, "IMPORTANT" is HIGH.
// Anything else (including "NONE" and "") is nullopt.
std::optional<Severity> parse_severity_label(std::string_view label);
// CVSS v3.x qualitative scale: 0.0 -> nullopt (NONE), <4 LOW, <7 MEDIUM, <9 HIGH, else CRITICAL.
std::optional<Severity> severity_from_cvss3_score(double score);
// CVSS v2 as NVD maps it: <4 LOW, <7 MEDIUM, else HIGH.
Severity severity_from_cvss2_score(double score);

// One entry of an NVD API 2.0 `metrics.cvssMetricV31|V30|V2` array.
struct CvssMetric {
  std::string source;         // "nvd@nist.gov", a CNA's UUID, ...
  std::string type;           // "Primary" | "Secondary"
  std::string version;        // "3.1", "3.0", "2.0"
  std::string vector;         // vectorString
  double score = 0;           // baseScore
  std::string base_severity;  // as published (v3: cvssData.baseSeverity; v2: baseSeverity)
};

struct NvdMetrics {
  std::vector<CvssMetric> v31, v30, v2;  // in feed order
};

struct ResolvedSeverity {
  Severity severity = Severity::kUnknown;
  std::string source;  // "nvd", "ghsa", "debian", an OSV feed name; "" when UNKNOWN
  // How it was chosen, e.g. "cvssMetricV31 nvd@nist.gov Primary 7.5", "no NVD record",
  // "NVD record has no CVSS v3.x/v2 metric", "ghsa database_specific.severity HIGH".
  std::string basis;
};

// NVD part of the rule: cvssMetricV31 (the Primary entry if there is one, else the first), then
// cvssMetricV30 the same way, then cvssMetricV2 by score; CVSS v4.0 is never used.
// Returns UNKNOWN with basis "NVD record has no CVSS v3.x/v2 metric" when nothing applies.
ResolvedSeverity resolve_nvd_severity(const NvdMetrics& metrics);

struct SeverityInputs {
  std::optional<Severity> feed;         // the advisory feed's own severity
  std::string feed_source;              // e.g. "ubuntu", "osv"
  std::optional<Severity> ghsa;         // GHSA database_specific.severity
  std::optional<ResolvedSeverity> nvd;  // resolve_nvd_severity() of the CVE's NVD record; nullopt = no record
  std::optional<Severity> fallback;     // used only when NVD gives none (Debian urgency)
  std::string fallback_source;          // e.g. "debian"
};

// feed -> ghsa -> NVD -> fallback -> UNKNOWN.
ResolvedSeverity resolve_severity(const SeverityInputs& in);

// "%g"-style score text as the NVD prints it: 7.5 -> "7.5", 4.0 -> "4".
std::string format_score(double score);

}  // namespace scangate::vulndb
