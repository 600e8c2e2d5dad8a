// The seed scenario as policy input: findings of python:3.6.15-alpine3.14 built from the
// expected-findings TSV (computed independently of scangate), and the same findings written as a
// Trivy-format JSON report, so the CLI path (a saved report) and the webhook path (findings in
// memory) can be compared.
#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "scanner/match/finding.h"
#include "support/test_support.h"

namespace scangate::test {

struct ScenarioRow {
  std::string image, pkg, installed, origin, vuln_id, fixed_version, severity;
};

inline std::vector<ScenarioRow> scenario_rows(const std::string& image = "python-3.6.15-alpine3.14") {
  std::istringstream in(read_file(testdata("scenario/expected/" + image + ".tsv")));
  std::string line;
  std::vector<ScenarioRow> rows;
  bool header = true;
  while (std::getline(in, line)) {
    if (header) {
      header = false;
      continue;
    }
    if (line.empty()) continue;
    std::vector<std::string> c;
    std::istringstream ls(line);
    std::string cell;
    while (std::getline(ls, cell, '\t')) c.push_back(cell);
    c.resize(7);
    rows.push_back({c[0], c[1], c[2], c[3], c[4], c[5], c[6]});
  }
  return rows;
}

inline std::vector<Finding> scenario_findings(const std::string& image = "python-3.6.15-alpine3.14") {
  std::vector<Finding> out;
  for (const auto& r : scenario_rows(image)) {
    Finding f;
    f.vuln_id = r.vuln_id;
    f.pkg.type = "apk";
    f.pkg.name = r.pkg;
    f.pkg.version = r.installed;
    f.pkg.src_name = r.pkg;  // a Trivy report does not carry the origin
    f.pkg.src_version = r.installed;
    f.fixed_version = r.fixed_version;
    f.status = r.fixed_version.empty() ? "affected" : "fixed";
    f.severity = parse_severity(r.severity).value();
    out.push_back(f);
  }
  return out;
}

// The per-severity counts of summary.tsv ("findings(pkg,vuln)" rows): CRITICAL..UNKNOWN.
inline std::map<std::string, int> scenario_summary(const std::string& image = "python-3.6.15-alpine3.14") {
  std::istringstream in(read_file(testdata("scenario/expected/summary.tsv")));
  std::string line;
  std::vector<std::string> header;
  std::map<std::string, int> out;
  while (std::getline(in, line)) {
    std::vector<std::string> c;
    std::istringstream ls(line);
    std::string cell;
    while (std::getline(ls, cell, '\t')) c.push_back(cell);
    if (header.empty()) {
      header = c;
      continue;
    }
    if (c.size() == header.size() && c[0] == image && c[1] == "findings(pkg,vuln)")
      for (size_t i = 2; i < c.size(); ++i) out[header[i]] = std::stoi(c[i]);
  }
  return out;
}

// The image ID recorded in the scenario's package list header (docker-library/repo-info).
inline std::string scenario_image_id() {
  std::string text = read_file(testdata("images/python-3.6.15-alpine3.14.apk-packages.txt"));
  auto at = text.find("Image ID ");
  if (at == std::string::npos) return {};
  return text.substr(at + 9, 71);
}

// The scenario as a Trivy SchemaVersion 2 report, the shape `scangate image --format json` writes.
inline std::string scenario_report_json(const std::string& reference, const std::string& digest) {
  nlohmann::json vulns = nlohmann::json::array();
  for (const auto& r : scenario_rows()) {
    nlohmann::json v = {{"VulnerabilityID", r.vuln_id},
                        {"PkgName", r.pkg},
                        {"PkgIdentifier", {{"PURL", "pkg:apk/alpine/" + r.pkg + "@" + r.installed}}},
                        {"InstalledVersion", r.installed},
                        {"Status", r.fixed_version.empty() ? "affected" : "fixed"},
                        {"Severity", r.severity}};
    if (!r.fixed_version.empty()) v["FixedVersion"] = r.fixed_version;
    vulns.push_back(v);
  }
  nlohmann::json doc = {
      {"SchemaVersion", 2},
      {"ArtifactName", reference},
      {"ArtifactType", "container_image"},
      {"Metadata", {{"RepoDigests", {"docker.io/library/python@" + digest}}}},
      {"Results",
       {{{"Target", reference + " (alpine 3.14.3)"},
         {"Class", "os-pkgs"},
         {"Type", "alpine"},
         {"Vulnerabilities", vulns}}}},
  };
  return doc.dump(2);
}

}  // namespace scangate::test
