// Report writers: Trivy-compatible JSON, a table for people, SARIF 2.1.0, CycloneDX 1.5.
#pragma once

#include <string>
#include <vector>

#include "scanner/core/inventory.h"
#include "scanner/match/finding.h"

namespace scangate {

struct ReportInput {
  ImageMetadata meta;
  Inventory inventory;
  std::vector<ScanTarget> targets;                // packages and findings grouped per OS / language
  std::string artifact_type = "container_image";  // or "filesystem"
  std::string created_at;                         // RFC 3339, from the injected clock
  std::string tool_version;
  bool include_vulnerabilities = true;  // CycloneDX: emit the vulnerabilities section
};

std::string write_cyclonedx(const ReportInput& in);
std::string write_trivy_json(const ReportInput& in);
std::string write_table(const ReportInput& in);
std::string write_sarif(const ReportInput& in);

}  // namespace scangate
