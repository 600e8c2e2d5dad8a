// CycloneDX 1.5 JSON: one component per package, the image as metadata.component, and
// (optionally) a vulnerabilities section.
#include <nlohmann/json.hpp>
#include <openssl/evp.h>

#include <map>
#include <set>

#include "scanner/report/purl.h"
#include "scanner/report/report.h"

namespace scangate {

namespace {

using nlohmann::json;

json prop(const std::string& name, const std::string& value) { return json{{"name", name}, {"value", value}}; }

// A deterministic UUID-shaped serial from the content, so the same scan gives the same BOM.
std::string serial_for(const ReportInput& in) {
  std::string seed = in.meta.manifest_digest + in.meta.config_digest + in.meta.reference + in.created_at;
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(seed.data(), seed.size(), md, &len, EVP_sha256(), nullptr);
  static const char* hex = "0123456789abcdef";
  std::string h;
  for (int i = 0; i < 16; ++i) {
    unsigned char b = md[i];
    if (i == 6) b = static_cast<unsigned char>((b & 0x0f) | 0x40);
    if (i == 8) b = static_cast<unsigned char>((b & 0x3f) | 0x80);
    h += hex[b >> 4];
    h += hex[b & 15];
  }
  return "urn:uuid:" + h.substr(0, 8) + "-" + h.substr(8, 4) + "-" + h.substr(12, 4) + "-" + h.substr(16, 4) + "-" +
         h.substr(20, 12);
}

std::string image_purl(const ImageMetadata& m) {
  // pkg:oci/alpine@sha256%3A...?repository_url=docker.io/library/alpine; none without a repository
  // (an OCI layout with no name): a purl needs a name (tests/fuzz/cyclonedx_fuzz).
  if (m.manifest_digest.empty()) return "";
  std::string repo = m.repo_digest.substr(0, m.repo_digest.find('@'));
  std::string name = repo.substr(repo.rfind('/') + 1);
  if (name.empty()) return "";
  std::string purl = "pkg:oci/" + purl_encode(name) + "@" + purl_encode(m.manifest_digest);
  std::string q = "repository_url=" + purl_encode(repo);
  if (!m.architecture.empty()) q = "arch=" + purl_encode(m.architecture) + "&" + q;
  return purl + "?" + q;
}

const char* cdx_severity(Severity s) {
  switch (s) {
    case Severity::kCritical: return "critical";
    case Severity::kHigh: return "high";
    case Severity::kMedium: return "medium";
    case Severity::kLow: return "low";
    case Severity::kUnknown: return "unknown";
  }
  return "unknown";
}

}  // namespace

std::string write_cyclonedx(const ReportInput& in) {
  const auto& m = in.meta;
  json bom = {{"$schema", "http://cyclonedx.org/schema/bom-1.5.schema.json"},
              {"bomFormat", "CycloneDX"},
              {"specVersion", "1.5"},
              {"serialNumber", serial_for(in)},
              {"version", 1}};

  std::string root_ref = m.repo_digest.empty() ? m.reference : image_purl(m);
  if (root_ref.empty()) root_ref = m.reference;
  json root = {{"bom-ref", root_ref},
               {"type", in.artifact_type == "container_image" ? "container" : "application"},
               {"name", m.reference}};
  if (std::string purl = image_purl(m); !purl.empty()) root["purl"] = purl;
  json props = json::array();
  if (!m.config_digest.empty()) props.push_back(prop("scangate:ImageID", m.config_digest));
  for (const auto& d : m.diff_ids) props.push_back(prop("scangate:DiffID", d));
  if (!m.repo_digest.empty()) props.push_back(prop("scangate:RepoDigest", m.repo_digest));
  for (const auto& t : m.repo_tags) props.push_back(prop("scangate:RepoTag", t));
  if (!m.os.empty()) props.push_back(prop("scangate:OS", m.os));
  if (!m.architecture.empty())
    props.push_back(prop("scangate:Architecture", m.architecture + (m.variant.empty() ? "" : "/" + m.variant)));
  if (!m.created.empty()) props.push_back(prop("scangate:Created", m.created));
  root["properties"] = props;

  json metadata = {
      {"timestamp", in.created_at},
      {"tools",
       {{"components",
         json::array(
             {{{"type", "application"}, {"group", "scangate"}, {"name", "scangate"}, {"version", in.tool_version}}})}}},
      {"component", root}};
  bom["metadata"] = metadata;

  json components = json::array();
  json deps_of_root = json::array();
  std::map<std::string, std::string> ref_of_pkg;  // Package::key -> bom-ref
  std::set<std::string> used_refs;
  if (!in.inventory.os.empty()) {
    std::string os_ref = "os:" + in.inventory.os.family + "@" + in.inventory.os.name;
    components.push_back({{"bom-ref", os_ref},
                          {"type", "operating-system"},
                          {"name", in.inventory.os.family},
                          {"version", in.inventory.os.name}});
    deps_of_root.push_back(os_ref);
    used_refs.insert(os_ref);
  }
  for (const auto& p : in.inventory.packages) {
    std::string purl = make_purl(p, in.inventory.os);
    std::string ref = purl;
    for (int n = 2; used_refs.count(ref); ++n) ref = purl + "#" + std::to_string(n);  // same package in two paths
    used_refs.insert(ref);
    ref_of_pkg[p.key()] = ref;
    json c = {{"bom-ref", ref}, {"type", "library"}, {"name", p.name}, {"version", p.version}, {"purl", purl}};
    if (!p.licenses.empty()) {
      json lic = json::array();
      for (const auto& l : p.licenses) lic.push_back({{"license", {{"name", l}}}});
      c["licenses"] = lic;
    }
    json cp = json::array();
    cp.push_back(prop("scangate:PkgType", p.type));
    if (!p.src_name.empty() && p.src_name != p.name) cp.push_back(prop("scangate:SrcName", p.src_name));
    if (!p.src_version.empty() && p.src_version != p.version) cp.push_back(prop("scangate:SrcVersion", p.src_version));
    if (!p.file_path.empty()) cp.push_back(prop("scangate:FilePath", p.file_path));
    if (!p.layer.digest.empty()) cp.push_back(prop("scangate:LayerDigest", p.layer.digest));
    if (!p.layer.diff_id.empty()) cp.push_back(prop("scangate:LayerDiffID", p.layer.diff_id));
    c["properties"] = cp;
    components.push_back(c);
    deps_of_root.push_back(ref);
  }
  bom["components"] = components;
  bom["dependencies"] = json::array({{{"ref", root_ref}, {"dependsOn", deps_of_root}}});

  if (in.include_vulnerabilities) {
    // One entry per vulnerability id, affecting every package it was found in.
    std::map<std::string, json> vulns;
    std::vector<std::string> order;
    for (const auto& t : in.targets) {
      for (const auto& f : t.findings) {
        auto it = vulns.find(f.vuln_id);
        if (it == vulns.end()) {
          json v = {{"bom-ref", f.vuln_id}, {"id", f.vuln_id}};
          if (!f.data_source.empty()) v["source"] = {{"name", f.data_source}};
          json ratings = json::array();
          for (const auto& [src, score] : f.cvss) {
            if (score.v3_score) {
              ratings.push_back({{"source", {{"name", src}}},
                                 {"score", *score.v3_score},
                                 {"method", score.v3_vector.rfind("CVSS:3.0", 0) == 0 ? "CVSSv3" : "CVSSv31"},
                                 {"vector", score.v3_vector}});
            }
          }
          ratings.push_back({{"source", {{"name", f.severity_source.empty() ? "scangate" : f.severity_source}}},
                             {"severity", cdx_severity(f.severity)}});
          v["ratings"] = ratings;
          if (!f.description.empty()) v["description"] = f.description;
          if (!f.fixed_version.empty()) v["recommendation"] = "Upgrade " + f.pkg.name + " to " + f.fixed_version;
          if (!f.published.empty()) v["published"] = f.published;
          if (!f.last_modified.empty()) v["updated"] = f.last_modified;
          if (!f.references.empty()) {
            json adv = json::array();
            for (const auto& r : f.references) adv.push_back({{"url", r}});
            v["advisories"] = adv;
          }
          v["affects"] = json::array();
          it = vulns.emplace(f.vuln_id, v).first;
          order.push_back(f.vuln_id);
        }
        auto ref = ref_of_pkg.find(f.pkg.key());
        json affect = {
            {"ref", ref == ref_of_pkg.end() ? make_purl(f.pkg, in.inventory.os) : ref->second},
            {"versions", json::array({{{"version", f.pkg.version},
                                       {"status", f.status == "fixed" || f.status == "affected" || f.status.empty()
                                                      ? "affected"
                                                      : "unknown"}}})}};
        it->second["affects"].push_back(affect);
      }
    }
    json arr = json::array();
    for (const auto& id : order) arr.push_back(vulns[id]);
    bom["vulnerabilities"] = arr;
  }
  return bom.dump(2, ' ', false, json::error_handler_t::replace) + "\n";
}

}  // namespace scangate
