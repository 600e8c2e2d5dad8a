// A vulnerability that applies to an installed package: what the reports, the policy
// and the webhook consume. Shaped after Trivy's DetectedVulnerability.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "scanner/core/inventory.h"
#include "scanner/vulndb/severity.h"

namespace scangate {

// One severity scale for the DB, the matcher, reports and policy; to_string() comes from vulndb.
using Severity = vulndb::Severity;
// Case-insensitive "CRITICAL" ... "UNKNOWN" (also GHSA's "MODERATE"); nullopt otherwise.
std::optional<Severity> parse_severity(std::string_view s);

struct CvssScore {
  std::string v2_vector, v3_vector;
  std::optional<double> v2_score, v3_score;
};

struct Finding {
  std::string vuln_id;
  Package pkg;                // the installed package (name, version, layer, purl inputs)
  std::string fixed_version;  // empty when no fix
  std::string status;         // fixed | affected | will_not_fix | fix_deferred
  Severity severity = Severity::kUnknown;
  std::string severity_source;  // "nvd", "alpine", "debian", "ghsa", ...
  std::string data_source;      // "alpine", "debian", "osv", ... (which feed matched)
  std::string primary_url;
  std::string title;
  std::string description;
  std::map<std::string, CvssScore> cvss;  // keyed by source ("nvd", "cisa-adp", ...)
  std::vector<std::string> references;
  std::string published, last_modified;  // RFC 3339, may be empty
};

// Findings grouped the way reports present them: one target per OS / language.
struct ScanTarget {
  std::string target;  // "docker.io/library/alpine:3.20 (alpine 3.20.3)", "Python", "Node.js"
  std::string klass;   // "os-pkgs" | "lang-pkgs" | "secret"
  std::string type;    // "alpine", "debian", "python-pkg", "node-pkg"
  std::vector<Package> packages;
  std::vector<Finding> findings;
};

}  // namespace scangate
