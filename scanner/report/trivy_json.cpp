// Trivy-compatible JSON (SchemaVersion 2): the shape CSPM backends (data_type TR) and
// DefectDojo's "Trivy Scan" importer parse. Key names, nesting and JSON types follow
// Trivy's own reports (../shared/testdata/reports/*.golden); empty members are omitted
// the way Go's `omitempty` omits them.
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <map>
#include <tuple>

#include "scanner/report/purl.h"
#include "scanner/report/report.h"

namespace scangate {

namespace {

// ordered_json keeps Trivy's member order, so the report reads like Trivy's.
using ojson = nlohmann::ordered_json;

void put_if(ojson& obj, const char* key, const std::string& value) {
  if (!value.empty()) obj[key] = value;
}

// Go prints a float64 that holds an integer without a fraction ("V2Score": 5); do the same.
ojson score_value(double v) {
  if (std::isfinite(v) && v == std::floor(v) && std::fabs(v) < 1e15) return static_cast<std::int64_t>(v);
  return v;
}

ojson layer_json(const LayerRef& l) {
  ojson o = ojson::object();
  put_if(o, "Digest", l.digest);
  put_if(o, "DiffID", l.diff_id);
  return o;
}

// Trivy's DataSource for the feed that matched. Unknown feeds keep their id as the name.
ojson data_source_json(const std::string& id, const Package& pkg) {
  ojson o;
  if (id == "alpine") {
    o = {{"ID", "alpine"}, {"Name", "Alpine Secdb"}, {"URL", "https://secdb.alpinelinux.org/"}};
  } else if (id == "debian") {
    o = {{"ID", "debian"},
         {"Name", "Debian Security Tracker"},
         {"URL", "https://salsa.debian.org/security-tracker-team/security-tracker"}};
  } else if (id == "ubuntu") {
    o = {{"ID", "ubuntu"}, {"Name", "Ubuntu CVE Tracker"}, {"URL", "https://git.launchpad.net/ubuntu-cve-tracker"}};
  } else if (id == "nvd") {
    o = {{"ID", "nvd"}, {"Name", "National Vulnerability Database"}, {"URL", "https://nvd.nist.gov/"}};
  } else if (id == "osv") {
    o = {{"ID", "osv"}, {"Name", "OSV"}, {"URL", "https://osv.dev/"}};
  } else if (id == "ghsa") {
    // As Trivy names it: one GitHub advisory database per ecosystem.
    std::string eco = pkg.type == "pypi" ? "pip" : pkg.type;
    o = {{"ID", "ghsa"}, {"Name", "GitHub Security Advisory " + eco}};
    if (!eco.empty()) o["URL"] = "https://github.com/advisories?query=type%3Areviewed+ecosystem%3A" + eco;
  } else {
    o = {{"ID", id}, {"Name", id}};
  }
  return o;
}

bool is_os_type(const std::string& type) { return type == "apk" || type == "deb"; }

ojson vulnerability_json(const Finding& f, const OSInfo& os) {
  ojson v;
  v["VulnerabilityID"] = f.vuln_id;
  v["PkgID"] = f.pkg.name + "@" + f.pkg.version;
  v["PkgName"] = f.pkg.name;
  if (!is_os_type(f.pkg.type) && !f.pkg.file_path.empty()) v["PkgPath"] = f.pkg.file_path;
  v["PkgIdentifier"] = {{"PURL", make_purl(f.pkg, os)}};
  v["InstalledVersion"] = f.pkg.version;
  put_if(v, "FixedVersion", f.fixed_version);
  put_if(v, "Status", f.status);
  ojson layer = layer_json(f.pkg.layer);
  if (!layer.empty()) v["Layer"] = layer;
  put_if(v, "SeveritySource", f.severity_source);
  put_if(v, "PrimaryURL", f.primary_url);
  if (!f.data_source.empty()) v["DataSource"] = data_source_json(f.data_source, f.pkg);
  put_if(v, "Title", f.title);
  put_if(v, "Description", f.description);
  v["Severity"] = to_string(f.severity);
  ojson cvss = ojson::object();
  for (const auto& [source, s] : f.cvss) {  // std::map: sources in a stable order
    ojson c = ojson::object();
    put_if(c, "V2Vector", s.v2_vector);
    put_if(c, "V3Vector", s.v3_vector);
    if (s.v2_score) c["V2Score"] = score_value(*s.v2_score);
    if (s.v3_score) c["V3Score"] = score_value(*s.v3_score);
    if (!c.empty()) cvss[source] = c;
  }
  if (!cvss.empty()) v["CVSS"] = cvss;
  if (!f.references.empty()) v["References"] = f.references;
  put_if(v, "PublishedDate", f.published);
  put_if(v, "LastModifiedDate", f.last_modified);
  return v;
}

// The secret analyzer hands over masked text only; nothing else of a secret is printed.
ojson secret_json(const SecretFinding& s) {
  ojson o;
  o["RuleID"] = s.rule_id;
  o["Category"] = s.category;
  auto sev = parse_severity(s.severity);
  o["Severity"] = to_string(sev.value_or(Severity::kUnknown));
  o["Title"] = s.title;
  o["StartLine"] = s.start_line;
  o["EndLine"] = s.end_line;
  ojson lines = ojson::array();
  int first_cause = -1, last_cause = -1;
  for (const auto& [number, content] : s.code_lines) {
    if (number >= s.start_line && number <= s.end_line) {
      if (first_cause < 0) first_cause = number;
      last_cause = number;
    }
  }
  for (const auto& [number, content] : s.code_lines) {
    bool cause = number >= s.start_line && number <= s.end_line;
    ojson line;
    line["Number"] = number;
    line["Content"] = content;
    line["IsCause"] = cause;
    line["Annotation"] = "";
    line["Truncated"] = false;
    if (!content.empty()) line["Highlighted"] = content;  // no colour codes
    line["FirstCause"] = cause && number == first_cause;
    line["LastCause"] = cause && number == last_cause;
    lines.push_back(line);
  }
  o["Code"] = {{"Lines", lines}};
  o["Match"] = s.match;
  ojson layer = layer_json(s.layer);
  if (!layer.empty()) o["Layer"] = layer;
  return o;
}

ojson metadata_json(const ReportInput& in) {
  const ImageMetadata& m = in.meta;
  ojson md = ojson::object();
  if (!in.inventory.os.empty()) md["OS"] = {{"Family", in.inventory.os.family}, {"Name", in.inventory.os.name}};
  put_if(md, "ImageID", m.config_digest);
  if (!m.diff_ids.empty()) md["DiffIDs"] = m.diff_ids;
  if (!m.repo_tags.empty()) md["RepoTags"] = m.repo_tags;
  if (!m.repo_digest.empty()) md["RepoDigests"] = ojson::array({m.repo_digest});
  put_if(md, "Reference", m.normalized);
  if (!m.config_json.empty()) {
    // The config comes from the registry: embed it only when it is a JSON object.
    ojson cfg = ojson::parse(m.config_json, nullptr, /*allow_exceptions=*/false);
    if (cfg.is_object()) md["ImageConfig"] = std::move(cfg);
  }
  if (!m.layer_digests.empty()) {
    ojson layers = ojson::array();
    for (std::size_t i = 0; i < m.layer_digests.size(); ++i) {
      LayerRef l{m.layer_digests[i], i < m.diff_ids.size() ? m.diff_ids[i] : std::string(), static_cast<int>(i)};
      layers.push_back(layer_json(l));
    }
    md["Layers"] = layers;
  }
  return md;
}

}  // namespace

std::string write_trivy_json(const ReportInput& in) {
  ojson doc;
  doc["SchemaVersion"] = 2;
  put_if(doc, "CreatedAt", in.created_at);
  doc["ArtifactName"] = in.meta.reference;
  doc["ArtifactType"] = in.artifact_type;
  ojson md = metadata_json(in);
  if (!md.empty()) doc["Metadata"] = md;

  ojson results = ojson::array();
  for (const auto& t : in.targets) {
    ojson r;
    r["Target"] = t.target;
    r["Class"] = t.klass;
    put_if(r, "Type", t.type);
    std::vector<const Finding*> findings;
    for (const auto& f : t.findings) findings.push_back(&f);
    std::stable_sort(findings.begin(), findings.end(), [](const Finding* a, const Finding* b) {
      return std::tie(a->pkg.name, a->pkg.version, a->pkg.file_path, a->vuln_id) <
             std::tie(b->pkg.name, b->pkg.version, b->pkg.file_path, b->vuln_id);
    });
    if (!findings.empty()) {  // Trivy omits the key for a target without vulnerabilities
      ojson vulns = ojson::array();
      for (const Finding* f : findings) vulns.push_back(vulnerability_json(*f, in.inventory.os));
      r["Vulnerabilities"] = vulns;
    }
    results.push_back(r);
  }

  // Secrets: one result per file, files in path order, secrets by line.
  std::map<std::string, std::vector<const SecretFinding*>> by_file;
  for (const auto& s : in.inventory.secrets) by_file[s.file_path].push_back(&s);
  for (auto& [path, secrets] : by_file) {
    std::stable_sort(secrets.begin(), secrets.end(), [](const SecretFinding* a, const SecretFinding* b) {
      return std::tie(a->start_line, a->end_line, a->rule_id) < std::tie(b->start_line, b->end_line, b->rule_id);
    });
    ojson arr = ojson::array();
    for (const SecretFinding* s : secrets) arr.push_back(secret_json(*s));
    results.push_back({{"Target", path}, {"Class", "secret"}, {"Secrets", arr}});
  }
  doc["Results"] = results;
  // Feed text is untrusted: replace invalid UTF-8 instead of throwing.
  return doc.dump(2, ' ', false, nlohmann::detail::error_handler_t::replace) + "\n";
}

}  // namespace scangate
