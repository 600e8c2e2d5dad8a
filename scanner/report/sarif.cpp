// SARIF 2.1.0 for code-scanning dashboards (GitHub, GitLab, Azure DevOps): one rule per
// vulnerability id or secret rule, one result per finding.
//
// security-severity (GitHub's ranking property) is the finding's CVSS base score as a
// string: v3 of the severity source, else NVD's v3, else any v3, then the same for v2.
// Without any score it falls back to a value inside the band of the finding's severity on
// GitHub's scale: CRITICAL 9.5, HIGH 8.0, MEDIUM 5.5, LOW 2.0, UNKNOWN 0.0.
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <functional>
#include <map>
#include <optional>
#include <string_view>
#include <tuple>

#include "scanner/report/report.h"

namespace scangate {

namespace {

using ojson = nlohmann::ordered_json;

constexpr const char* kSchema = "https://json.schemastore.org/sarif-2.1.0.json";
// TODO(lead): replace with the project's public home once it has one.
constexpr const char* kInformationUri = "https://github.com/scangate/scangate";

const char* level_for(Severity s) {
  switch (s) {
    case Severity::kCritical:
    case Severity::kHigh: return "error";
    case Severity::kMedium: return "warning";
    case Severity::kLow:
    case Severity::kUnknown: return "note";
  }
  return "note";
}

double fallback_score(Severity s) {
  switch (s) {
    case Severity::kCritical: return 9.5;
    case Severity::kHigh: return 8.0;
    case Severity::kMedium: return 5.5;
    case Severity::kLow: return 2.0;
    case Severity::kUnknown: return 0.0;
  }
  return 0.0;
}

std::string score_text(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f", v);
  return buf;
}

std::string security_severity(const Finding& f) {
  auto pick = [&](auto member) -> std::optional<double> {
    for (const char* src : {f.severity_source.c_str(), "nvd"}) {
      auto it = f.cvss.find(src);
      if (it != f.cvss.end() && it->second.*member) return it->second.*member;
    }
    for (const auto& [src, s] : f.cvss) {
      if (s.*member) return s.*member;
    }
    return std::nullopt;
  };
  if (auto v3 = pick(&CvssScore::v3_score)) return score_text(*v3);
  if (auto v2 = pick(&CvssScore::v2_score)) return score_text(*v2);
  return score_text(fallback_score(f.severity));
}

// A URI reference for artifactLocation.uri: percent-encode what RFC 3986 does not allow
// in a path, and a ':' in the first segment (it would read as a scheme).
std::string uri_ref(const std::string& s) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  bool first_segment = true;
  for (unsigned char c : s) {
    bool keep = std::isalnum(c) ||
                std::string_view("-._~!$&'()*+,;=@/").find(static_cast<char>(c)) != std::string_view::npos ||
                (c == ':' && !first_segment);
    if (c == '/') first_segment = false;
    if (keep) {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

ojson location(const std::string& uri, int start_line, int end_line, const std::string& message) {
  ojson region = {{"startLine", std::max(start_line, 1)}};
  if (end_line >= start_line && end_line > 1) region["endLine"] = end_line;
  return {{"physicalLocation", {{"artifactLocation", {{"uri", uri_ref(uri)}}}, {"region", region}}},
          {"message", {{"text", message}}}};
}

class RuleSet {
 public:
  // Returns the rule's index, adding it on first sight.
  std::size_t index(const std::string& id, const std::function<ojson()>& make) {
    auto it = index_.find(id);
    if (it != index_.end()) return it->second;
    rules_.push_back(make());
    return index_[id] = rules_.size() - 1;
  }
  const ojson& rules() const { return rules_; }

 private:
  std::map<std::string, std::size_t> index_;
  ojson rules_ = ojson::array();
};

ojson vulnerability_rule(const Finding& f, const std::string& kind) {
  std::string title = f.title.empty() ? f.vuln_id : f.title;
  std::string full = f.description.empty() ? title : f.description;
  // A rule is shared by every package the id was found in: no package here.
  std::string help = "Vulnerability " + f.vuln_id + "\nSeverity: " + to_string(f.severity) +
                     (f.primary_url.empty() ? "" : "\nLink: " + f.primary_url);
  ojson r = {{"id", f.vuln_id},
             {"name", kind},
             {"shortDescription", {{"text", title}}},
             {"fullDescription", {{"text", full}}},
             {"defaultConfiguration", {{"level", level_for(f.severity)}}}};
  if (!f.primary_url.empty()) r["helpUri"] = f.primary_url;
  r["help"] = {{"text", help}};
  r["properties"] = {{"precision", "very-high"},
                     {"security-severity", security_severity(f)},
                     {"tags", {"vulnerability", "security", to_string(f.severity)}}};
  return r;
}

std::string finding_message(const Finding& f) {
  std::string m = "Package: " + f.pkg.name + "\nInstalled Version: " + f.pkg.version + "\nVulnerability " + f.vuln_id +
                  "\nSeverity: " + to_string(f.severity) +
                  "\nFixed Version: " + (f.fixed_version.empty() ? "(none)" : f.fixed_version);
  if (!f.primary_url.empty()) m += "\nLink: " + f.primary_url;
  return m;
}

}  // namespace

std::string write_sarif(const ReportInput& in) {
  RuleSet rules;
  ojson results = ojson::array();
  const std::string& image = in.meta.reference;

  for (const auto& t : in.targets) {
    std::string kind = t.klass == "os-pkgs" ? "OsPackageVulnerability" : "LanguageSpecificPackageVulnerability";
    std::vector<const Finding*> findings;
    for (const auto& f : t.findings) findings.push_back(&f);
    std::stable_sort(findings.begin(), findings.end(), [](const Finding* a, const Finding* b) {
      return std::tie(a->pkg.name, a->pkg.version, a->pkg.file_path, a->vuln_id) <
             std::tie(b->pkg.name, b->pkg.version, b->pkg.file_path, b->vuln_id);
    });
    for (const Finding* fp : findings) {
      const Finding& f = *fp;
      std::size_t idx = rules.index(f.vuln_id, [&] { return vulnerability_rule(f, kind); });
      std::string uri = f.pkg.file_path.empty() ? image : f.pkg.file_path;
      std::string where = image + ": " + f.pkg.name + "@" + f.pkg.version;
      results.push_back({{"ruleId", f.vuln_id},
                         {"ruleIndex", idx},
                         {"level", level_for(f.severity)},
                         {"message", {{"text", finding_message(f)}}},
                         {"locations", ojson::array({location(uri, 1, 1, where)})}});
    }
  }

  std::vector<const SecretFinding*> secrets;
  for (const auto& s : in.inventory.secrets) secrets.push_back(&s);
  std::stable_sort(secrets.begin(), secrets.end(), [](const SecretFinding* a, const SecretFinding* b) {
    return std::tie(a->file_path, a->start_line, a->end_line, a->rule_id) <
           std::tie(b->file_path, b->start_line, b->end_line, b->rule_id);
  });
  for (const SecretFinding* sp : secrets) {
    const SecretFinding& s = *sp;
    Severity sev = parse_severity(s.severity).value_or(Severity::kUnknown);
    std::size_t idx = rules.index(s.rule_id, [&] {
      std::string title = s.title.empty() ? s.rule_id : s.title;
      return ojson{{"id", s.rule_id},
                   {"name", "Secret"},
                   {"shortDescription", {{"text", title}}},
                   {"fullDescription", {{"text", title + " (" + s.category + ")"}}},
                   {"defaultConfiguration", {{"level", level_for(sev)}}},
                   {"properties",
                    {{"precision", "very-high"},
                     {"security-severity", score_text(fallback_score(sev))},
                     {"tags", {"secret", "security", to_string(sev)}}}}};
    });
    // Only the masked match is shown; nothing else of the secret.
    std::string text = "Artifact: " + s.file_path + "\nType: " + s.category + "\nSecret " + s.title +
                       "\nSeverity: " + to_string(sev) + "\nMatch: " + s.match;
    results.push_back({{"ruleId", s.rule_id},
                       {"ruleIndex", idx},
                       {"level", level_for(sev)},
                       {"message", {{"text", text}}},
                       {"locations", ojson::array({location(s.file_path, s.start_line, s.end_line, s.file_path)})}});
  }

  ojson driver = {{"name", "scangate"}};
  if (!in.tool_version.empty()) driver["version"] = in.tool_version;
  driver["informationUri"] = kInformationUri;
  driver["rules"] = rules.rules();

  ojson run = {{"tool", {{"driver", driver}}}, {"results", results}, {"columnKind", "utf16CodeUnits"}};
  if (!image.empty()) {
    run["properties"] = {{"imageName", image}};
    if (!in.meta.repo_digest.empty()) run["properties"]["repoDigests"] = ojson::array({in.meta.repo_digest});
    if (!in.meta.config_digest.empty()) run["properties"]["imageID"] = in.meta.config_digest;
  }
  // `version` first, so that consumers can sniff it.
  ojson doc = {{"version", "2.1.0"}, {"$schema", kSchema}, {"runs", ojson::array({run})}};
  return doc.dump(2, ' ', false, nlohmann::detail::error_handler_t::replace) + "\n";
}

}  // namespace scangate
