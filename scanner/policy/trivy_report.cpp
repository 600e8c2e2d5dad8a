#include "scanner/policy/trivy_report.h"

#include <nlohmann/json.hpp>

namespace scangate::policy {

namespace {

using json = nlohmann::json;

// Field access that reports the path of anything of the wrong type.
class Reader {
 public:
  std::optional<Error> error;

  std::string str(const json& obj, const char* key, const std::string& path, bool required = false) {
    auto it = obj.find(key);
    if (it == obj.end() || it->is_null()) {
      if (required) fail(path + "." + key, "is missing");
      return {};
    }
    if (!it->is_string()) {
      fail(path + "." + key, "should be a string");
      return {};
    }
    return it->get<std::string>();
  }

  std::optional<double> num(const json& obj, const char* key, const std::string& path) {
    auto it = obj.find(key);
    if (it == obj.end() || it->is_null()) return std::nullopt;
    if (!it->is_number()) {
      fail(path + "." + key, "should be a number");
      return std::nullopt;
    }
    return it->get<double>();
  }

  int integer(const json& obj, const char* key, const std::string& path) {
    auto n = num(obj, key, path);
    if (!n) return 0;
    if (*n < -1e9 || *n > 1e9) {
      fail(path + "." + key, "is out of range");
      return 0;
    }
    return static_cast<int>(*n);
  }

  // An optional array/object member; nullptr when absent, an error when of the wrong type.
  const json* member(const json& obj, const char* key, const std::string& path, bool array) {
    auto it = obj.find(key);
    if (it == obj.end() || it->is_null()) return nullptr;
    if (array ? !it->is_array() : !it->is_object()) {
      fail(path + "." + key, array ? "should be a list" : "should be an object");
      return nullptr;
    }
    return &*it;
  }

  std::vector<std::string> strings(const json& obj, const char* key, const std::string& path) {
    std::vector<std::string> out;
    const json* a = member(obj, key, path, true);
    if (!a) return out;
    for (size_t i = 0; i < a->size(); ++i) {
      if (!(*a)[i].is_string()) {
        fail(path + "." + key + "[" + std::to_string(i) + "]", "should be a string");
        return out;
      }
      out.push_back((*a)[i].get<std::string>());
    }
    return out;
  }

  void fail(const std::string& path, const std::string& what) {
    if (!error) error = Error(ErrorKind::kFormat, "report field " + path + " " + what);
  }
};

std::string type_from_purl(const std::string& purl) {
  if (purl.rfind("pkg:", 0) != 0) return {};
  size_t slash = purl.find('/', 4);
  return slash == std::string::npos ? std::string() : purl.substr(4, slash - 4);
}

std::string type_from_result(const std::string& t) {
  if (t == "alpine" || t == "wolfi" || t == "chainguard") return "apk";
  if (t == "debian" || t == "ubuntu") return "deb";
  if (t == "python-pkg" || t == "pip" || t == "pipenv" || t == "poetry") return "pypi";
  if (t == "node-pkg" || t == "npm" || t == "yarn" || t == "pnpm") return "npm";
  return t;
}

LayerRef layer_of(Reader& r, const json& obj, const std::string& path) {
  LayerRef l;
  if (const json* lj = r.member(obj, "Layer", path, false)) {
    l.digest = r.str(*lj, "Digest", path + ".Layer");
    l.diff_id = r.str(*lj, "DiffID", path + ".Layer");
  }
  return l;
}

Finding read_vuln(Reader& r, const json& v, const std::string& path, const std::string& result_type) {
  Finding f;
  if (!v.is_object()) {
    r.fail(path, "should be an object");
    return f;
  }
  f.vuln_id = r.str(v, "VulnerabilityID", path, true);
  f.pkg.name = r.str(v, "PkgName", path, true);
  f.pkg.version = r.str(v, "InstalledVersion", path);
  f.pkg.src_name = f.pkg.name;
  f.pkg.src_version = f.pkg.version;
  f.pkg.file_path = r.str(v, "PkgPath", path);
  if (const json* id = r.member(v, "PkgIdentifier", path, false))
    f.pkg.type = type_from_purl(r.str(*id, "PURL", path + ".PkgIdentifier"));
  if (f.pkg.type.empty()) f.pkg.type = type_from_result(result_type);
  f.pkg.layer = layer_of(r, v, path);
  f.fixed_version = r.str(v, "FixedVersion", path);
  f.status = r.str(v, "Status", path);
  std::string sev = r.str(v, "Severity", path, true);
  if (!r.error) {
    auto s = parse_severity(sev);
    if (!s)
      r.fail(path + ".Severity", "'" + sev.substr(0, 40) + "' is not CRITICAL, HIGH, MEDIUM, LOW or UNKNOWN");
    else
      f.severity = *s;
  }
  f.severity_source = r.str(v, "SeveritySource", path);
  f.primary_url = r.str(v, "PrimaryURL", path);
  if (const json* ds = r.member(v, "DataSource", path, false)) f.data_source = r.str(*ds, "ID", path + ".DataSource");
  f.title = r.str(v, "Title", path);
  f.description = r.str(v, "Description", path);
  if (const json* cv = r.member(v, "CVSS", path, false)) {
    for (auto it = cv->begin(); it != cv->end(); ++it) {
      std::string cpath = path + ".CVSS." + it.key();
      if (!it->is_object()) {
        r.fail(cpath, "should be an object");
        break;
      }
      CvssScore s;
      s.v2_vector = r.str(*it, "V2Vector", cpath);
      s.v3_vector = r.str(*it, "V3Vector", cpath);
      s.v2_score = r.num(*it, "V2Score", cpath);
      s.v3_score = r.num(*it, "V3Score", cpath);
      f.cvss[it.key()] = s;
    }
  }
  f.references = r.strings(v, "References", path);
  f.published = r.str(v, "PublishedDate", path);
  f.last_modified = r.str(v, "LastModifiedDate", path);
  return f;
}

SecretFinding read_secret(Reader& r, const json& s, const std::string& path, const std::string& target) {
  SecretFinding out;
  if (!s.is_object()) {
    r.fail(path, "should be an object");
    return out;
  }
  out.rule_id = r.str(s, "RuleID", path, true);
  out.category = r.str(s, "Category", path);
  out.severity = r.str(s, "Severity", path);
  out.title = r.str(s, "Title", path);
  out.file_path = target;
  out.start_line = r.integer(s, "StartLine", path);
  out.end_line = r.integer(s, "EndLine", path);
  out.match = r.str(s, "Match", path);
  if (const json* code = r.member(s, "Code", path, false))
    if (const json* lines = r.member(*code, "Lines", path + ".Code", true))
      for (size_t i = 0; i < lines->size() && !r.error; ++i) {
        const json& l = (*lines)[i];
        std::string lpath = path + ".Code.Lines[" + std::to_string(i) + "]";
        if (!l.is_object()) {
          r.fail(lpath, "should be an object");
          break;
        }
        out.code_lines.emplace_back(r.integer(l, "Number", lpath), r.str(l, "Content", lpath));
      }
  out.layer = layer_of(r, s, path);
  return out;
}

}  // namespace

ImageIdentity SavedReport::image() const {
  ImageIdentity id;
  id.reference = artifact_name;
  if (!repo_digests.empty()) {
    if (auto at = repo_digests[0].find('@'); at != std::string::npos) id.digest = repo_digests[0].substr(at + 1);
  }
  if (artifact_type.empty() || artifact_type == "container_image") {
    const std::string& src = !reference.empty()      ? reference
                             : !repo_tags.empty()    ? repo_tags[0]
                             : !repo_digests.empty() ? repo_digests[0]
                                                     : artifact_name;
    id.repository = normalize_repository(src);
  }
  return id;
}

Result<SavedReport> read_trivy_report(std::string_view text) {
  json doc;
  try {
    doc = json::parse(text);
  } catch (const json::parse_error& e) {
    return Error(ErrorKind::kFormat, "the report is not JSON (at byte " + std::to_string(e.byte) +
                                         "); pass a report written with --format json");
  }
  if (!doc.is_object())
    return Error(ErrorKind::kFormat, "the report is not a JSON object; pass a report written with --format json");
  auto sv = doc.find("SchemaVersion");
  if (sv == doc.end() || !sv->is_number_integer() || sv->get<int64_t>() != 2)
    return Error(ErrorKind::kFormat,
                 "the report has no SchemaVersion 2; only Trivy-format JSON reports (--format json) are read");

  Reader r;
  SavedReport rep;
  rep.artifact_name = r.str(doc, "ArtifactName", "");
  rep.artifact_type = r.str(doc, "ArtifactType", "");
  if (const json* md = r.member(doc, "Metadata", "", false)) {
    rep.reference = r.str(*md, "Reference", ".Metadata");
    rep.image_id = r.str(*md, "ImageID", ".Metadata");
    rep.repo_tags = r.strings(*md, "RepoTags", ".Metadata");
    rep.repo_digests = r.strings(*md, "RepoDigests", ".Metadata");
  }
  if (const json* results = r.member(doc, "Results", "", true)) {
    for (size_t i = 0; i < results->size() && !r.error; ++i) {
      const json& res = (*results)[i];
      std::string rpath = "Results[" + std::to_string(i) + "]";
      if (!res.is_object()) {
        r.fail(rpath, "should be an object");
        break;
      }
      std::string target = r.str(res, "Target", rpath);
      std::string type = r.str(res, "Type", rpath);
      if (const json* vulns = r.member(res, "Vulnerabilities", rpath, true))
        for (size_t j = 0; j < vulns->size() && !r.error; ++j)
          rep.findings.push_back(
              read_vuln(r, (*vulns)[j], rpath + ".Vulnerabilities[" + std::to_string(j) + "]", type));
      if (const json* secrets = r.member(res, "Secrets", rpath, true))
        for (size_t j = 0; j < secrets->size() && !r.error; ++j)
          rep.secrets.push_back(read_secret(r, (*secrets)[j], rpath + ".Secrets[" + std::to_string(j) + "]", target));
    }
  }
  if (r.error) {
    Error e = *r.error;
    // Paths of top-level fields start with '.'; drop it for readability.
    const std::string marker = "report field .";
    if (e.message.rfind(marker, 0) == 0) e.message = "report field " + e.message.substr(marker.size());
    return e;
  }
  return rep;
}

Result<std::vector<Finding>> findings_from_trivy_json(std::string_view json_text) {
  auto r = read_trivy_report(json_text);
  if (!r.ok()) return r.error();
  return std::move(r.value().findings);
}

Result<std::vector<SecretFinding>> secrets_from_trivy_json(std::string_view json_text) {
  auto r = read_trivy_report(json_text);
  if (!r.ok()) return r.error();
  return std::move(r.value().secrets);
}

}  // namespace scangate::policy
