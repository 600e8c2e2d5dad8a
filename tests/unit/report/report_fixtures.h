// Builders that turn real public data (Trivy's golden reports, the seed scenario's apk
// databases and expected findings) into ReportInput values, so the writers' output can be
// compared with an expectation that scangate did not produce.
#pragma once

#include <nlohmann/json.hpp>

#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "scanner/report/report.h"
#include "support/test_support.h"

namespace scangate::test {

inline nlohmann::json load_json(const std::string& rel) { return nlohmann::json::parse(read_file(testdata(rel))); }

// The value of a purl qualifier ("arch") or "" when absent.
inline std::string purl_qualifier(const std::string& purl, const std::string& key) {
  auto q = purl.find('?');
  if (q == std::string::npos) return "";
  std::string rest = purl.substr(q + 1);
  std::stringstream ss(rest);
  std::string kv;
  while (std::getline(ss, kv, '&')) {
    if (kv.rfind(key + "=", 0) == 0) return kv.substr(key.size() + 1);
  }
  return "";
}

inline std::string str(const nlohmann::json& o, const char* key) {
  auto it = o.find(key);
  return it != o.end() && it->is_string() ? it->get<std::string>() : std::string();
}

// A Finding holding the values of one vulnerability of a Trivy golden report.
inline Finding finding_from_golden(const nlohmann::json& v, const std::string& os_type) {
  Finding f;
  f.vuln_id = v.at("VulnerabilityID").get<std::string>();
  f.pkg.type = (os_type == "alpine") ? "apk" : "deb";
  f.pkg.name = v.at("PkgName").get<std::string>();
  f.pkg.version = v.at("InstalledVersion").get<std::string>();
  f.pkg.src_name = f.pkg.name;
  f.pkg.src_version = f.pkg.version;
  f.pkg.arch = purl_qualifier(v.at("PkgIdentifier").at("PURL").get<std::string>(), "arch");
  f.pkg.file_path = os_type == "alpine" ? "lib/apk/db/installed" : "var/lib/dpkg/status";
  if (v.contains("Layer")) {
    f.pkg.layer.digest = str(v["Layer"], "Digest");
    f.pkg.layer.diff_id = str(v["Layer"], "DiffID");
  }
  f.fixed_version = str(v, "FixedVersion");
  f.status = str(v, "Status");
  f.severity = parse_severity(v.at("Severity").get<std::string>()).value();
  f.severity_source = str(v, "SeveritySource");
  if (v.contains("DataSource")) f.data_source = str(v["DataSource"], "ID");
  f.primary_url = str(v, "PrimaryURL");
  f.title = str(v, "Title");
  f.description = str(v, "Description");
  if (v.contains("CVSS")) {
    for (const auto& [src, c] : v["CVSS"].items()) {
      CvssScore s;
      s.v2_vector = str(c, "V2Vector");
      s.v3_vector = str(c, "V3Vector");
      if (c.contains("V2Score")) s.v2_score = c["V2Score"].get<double>();
      if (c.contains("V3Score")) s.v3_score = c["V3Score"].get<double>();
      f.cvss[src] = s;
    }
  }
  if (v.contains("References")) f.references = v["References"].get<std::vector<std::string>>();
  f.published = str(v, "PublishedDate");
  f.last_modified = str(v, "LastModifiedDate");
  return f;
}

// The whole input a Trivy golden report was made from (as far as the report shows it).
inline ReportInput input_from_golden(const nlohmann::json& doc) {
  ReportInput in;
  in.created_at = str(doc, "CreatedAt");
  in.artifact_type = str(doc, "ArtifactType");
  in.meta.reference = str(doc, "ArtifactName");
  if (doc.contains("Metadata")) {
    const auto& m = doc["Metadata"];
    if (m.contains("OS")) {
      in.inventory.os.family = str(m["OS"], "Family");
      in.inventory.os.name = str(m["OS"], "Name");
    }
    in.meta.config_digest = str(m, "ImageID");
    in.meta.normalized = str(m, "Reference");
    if (m.contains("DiffIDs")) in.meta.diff_ids = m["DiffIDs"].get<std::vector<std::string>>();
    if (m.contains("RepoTags")) in.meta.repo_tags = m["RepoTags"].get<std::vector<std::string>>();
    if (m.contains("ImageConfig")) in.meta.config_json = m["ImageConfig"].dump();
    if (m.contains("Layers")) {
      for (const auto& l : m["Layers"]) in.meta.layer_digests.push_back(str(l, "Digest"));
    }
  }
  std::set<std::string> seen;
  for (const auto& r : doc.at("Results")) {
    if (str(r, "Class") == "secret") {
      for (const auto& s : r.at("Secrets")) {
        SecretFinding sf;
        sf.file_path = str(r, "Target");
        sf.rule_id = str(s, "RuleID");
        sf.category = str(s, "Category");
        sf.severity = str(s, "Severity");
        sf.title = str(s, "Title");
        sf.start_line = s.at("StartLine").get<int>();
        sf.end_line = s.at("EndLine").get<int>();
        sf.match = str(s, "Match");
        for (const auto& l : s.at("Code").at("Lines")) {
          sf.code_lines.emplace_back(l.at("Number").get<int>(), l.at("Content").get<std::string>());
        }
        in.inventory.secrets.push_back(sf);
      }
      continue;
    }
    ScanTarget t{str(r, "Target"), str(r, "Class"), str(r, "Type"), {}, {}};
    for (const auto& v : r.value("Vulnerabilities", nlohmann::json::array())) {
      Finding f = finding_from_golden(v, t.type);
      if (seen.insert(f.pkg.key()).second) {
        t.packages.push_back(f.pkg);
        in.inventory.packages.push_back(f.pkg);
      }
      t.findings.push_back(f);
    }
    in.targets.push_back(t);
  }
  return in;
}

// Packages of a scenario apk database (P:/V:/A:/o: records separated by blank lines).
inline std::vector<Package> scenario_packages(const std::string& image) {
  std::vector<Package> out;
  std::istringstream in(read_file(testdata("scenario/installed/" + image + ".installed")));
  std::string line;
  Package p;
  auto flush = [&] {
    if (!p.name.empty()) out.push_back(p);
    p = Package{};
  };
  while (std::getline(in, line)) {
    if (line.empty()) {
      flush();
      continue;
    }
    if (line.size() < 2 || line[1] != ':') continue;
    std::string v = line.substr(2);
    switch (line[0]) {
      case 'P':
        p.type = "apk";
        p.name = v;
        p.file_path = "lib/apk/db/installed";
        break;
      case 'V': p.version = v; break;
      case 'A': p.arch = v; break;
      case 'o': p.src_name = v; break;
      default: break;
    }
  }
  flush();
  return out;
}

struct ScenarioRow {
  std::string pkg, installed, origin, vuln_id, fixed_version, severity;
};

// scenario/expected/<image>.tsv: the findings an independent implementation computed.
inline std::vector<ScenarioRow> scenario_rows(const std::string& image) {
  std::vector<ScenarioRow> rows;
  std::istringstream in(read_file(testdata("scenario/expected/" + image + ".tsv")));
  std::string line;
  std::getline(in, line);  // header
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    std::vector<std::string> col;
    std::stringstream ss(line);
    std::string c;
    while (std::getline(ss, c, '\t')) col.push_back(c);
    col.resize(7);
    rows.push_back({col[1], col[2], col[3], col[4], col[5], col[6]});
  }
  return rows;
}

// summary.tsv: {image, kind} -> counts {total, CRITICAL, HIGH, MEDIUM, LOW, UNKNOWN}.
inline std::map<std::string, std::vector<int>> scenario_summary(const std::string& kind) {
  std::map<std::string, std::vector<int>> out;
  std::istringstream in(read_file(testdata("scenario/expected/summary.tsv")));
  std::string line;
  std::getline(in, line);
  while (std::getline(in, line)) {
    std::vector<std::string> col;
    std::stringstream ss(line);
    std::string c;
    while (std::getline(ss, c, '\t')) col.push_back(c);
    if (col.size() < 8 || col[1] != kind) continue;
    out[col[0]] = {std::stoi(col[2]), std::stoi(col[3]), std::stoi(col[4]),
                   std::stoi(col[5]), std::stoi(col[6]), std::stoi(col[7])};
  }
  return out;
}

// A ReportInput for a seed-scenario image: its real package list and the expected findings.
inline ReportInput scenario_input(const std::string& image, const std::string& alpine_version) {
  ReportInput in;
  in.meta.reference = "registry.local/" + image;
  in.inventory.os = {"alpine", alpine_version, "", ""};
  in.inventory.packages = scenario_packages(image);
  ScanTarget t{in.meta.reference + " (alpine " + alpine_version + ")", "os-pkgs", "alpine", in.inventory.packages, {}};
  for (const auto& r : scenario_rows(image)) {
    Finding f;
    f.vuln_id = r.vuln_id;
    f.fixed_version = r.fixed_version;
    f.status = "fixed";
    f.severity = parse_severity(r.severity).value();
    f.data_source = "alpine";
    for (const auto& p : in.inventory.packages) {
      if (p.name == r.pkg && p.version == r.installed) f.pkg = p;
    }
    if (f.pkg.name.empty()) throw std::runtime_error("scenario package not in the apk database: " + r.pkg);
    t.findings.push_back(f);
  }
  in.targets.push_back(t);
  return in;
}

}  // namespace scangate::test
