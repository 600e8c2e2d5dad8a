// What the vulnerability DB stores and hands to the matcher.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "scanner/vulndb/severity.h"

namespace scangate::vulndb {

// Where an advisory came from; decides how the matcher reads it.
enum class AdvisoryKind {
  kAlpineSecdb,    // fixed_version is the secdb key; installed < fixed -> affected
  kDebianTracker,  // fixed_version + status
  kOsv,            // ranges + versions
};
const char* to_string(AdvisoryKind k);  // "alpine-secdb", "debian-tracker", "osv"
std::optional<AdvisoryKind> parse_advisory_kind(std::string_view s);

enum class FixStatus {
  kFixed,        // affected when installed < fixed_version
  kAffected,     // no fix in this release: every version is affected
  kWillNotFix,   // Debian "ignored"
  kFixDeferred,  // Debian "postponed"
};
const char* to_string(FixStatus s);  // "fixed", "affected", "will_not_fix", "fix_deferred"
std::optional<FixStatus> parse_fix_status(std::string_view s);

// One OSV range event, in feed order.
struct OsvEvent {
  enum class Type { kIntroduced, kFixed, kLastAffected, kLimit };
  Type type = Type::kIntroduced;
  std::string version;
  bool operator==(const OsvEvent&) const = default;
};
const char* to_string(OsvEvent::Type t);  // "introduced", "fixed", "last_affected", "limit"

struct OsvRange {
  std::string type;  // "ECOSYSTEM" | "SEMVER" (GIT ranges are not stored)
  std::vector<OsvEvent> events;
  bool operator==(const OsvRange&) const = default;
};

struct Advisory {
  std::string vuln_id;    // as the feed names it: "CVE-2022-37434", "GHSA-...", "ALPINE-13661"
  std::string ecosystem;  // "alpine", "debian", "pypi", "npm"
  std::string release;    // "3.20", "12", "unstable"; "" for language ecosystems
  std::string package;    // source package (apk origin, dpkg Source); normalised name for pypi
  AdvisoryKind kind = AdvisoryKind::kAlpineSecdb;
  FixStatus status = FixStatus::kFixed;
  std::string fixed_version;                // alpine: the secdb key; debian: set when status is kFixed
  std::vector<OsvRange> ranges;             // OSV only
  std::vector<std::string> versions;        // OSV explicit affected versions
  std::string cve_id;                       // the CVE this advisory is about (id or alias); "" if none
  std::optional<Severity> vendor_severity;  // the feed's own (Debian urgency, OSV label)
  Severity severity = Severity::kUnknown;   // resolved (see resolve_severity)
  std::string severity_source;              // "nvd", "ghsa", "debian", ... ("" when UNKNOWN)
  std::string severity_basis;
};

struct VulnReference {
  std::string url;
  std::string source;  // NVD reference source / OSV reference type
  bool operator==(const VulnReference&) const = default;
};

struct VulnDetail {
  std::string vuln_id;
  std::string title;        // OSV summary; empty for NVD-only records
  std::string description;  // NVD English description, else OSV details
  Severity severity = Severity::kUnknown;
  std::string severity_source;
  std::string severity_basis;
  std::vector<CvssMetric> cvss;  // NVD v3.1, v3.0, v2 metrics in that order
  std::vector<VulnReference> references;
  std::vector<std::string> aliases;
  std::string published;  // as the feed prints it
  std::string last_modified;
  std::string primary_url;
  std::string cve_id;
};

}  // namespace scangate::vulndb
