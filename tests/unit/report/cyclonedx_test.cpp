// write_cyclonedx: CycloneDX 1.5 shape over the seed scenario's real package database and
// expected findings; purls and the vulnerabilities section's references.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <set>
#include <string_view>

#include "report_fixtures.h"
#include "scanner/report/report.h"

using nlohmann::json;
using namespace scangate;

namespace {

constexpr const char* kImage = "python-3.6.15-alpine3.14";

ReportInput scenario() {
  ReportInput in = scangate::test::scenario_input(kImage, "3.14.3");
  in.meta.repo_digest = "registry.local/python-3.6.15-alpine3.14@sha256:0123abcd";
  in.meta.manifest_digest = "sha256:0123abcd";
  in.created_at = "2024-06-12T22:54:11Z";
  in.tool_version = "0.1.0";
  return in;
}

// RFC 4122 version-4 UUID as a URN (CycloneDX's serialNumber pattern), checked by hand.
bool is_uuid_urn(const std::string& s) {
  const std::string prefix = "urn:uuid:";
  if (s.rfind(prefix, 0) != 0) return false;
  std::string u = s.substr(prefix.size());
  if (u.size() != 36) return false;
  for (std::size_t i = 0; i < u.size(); ++i) {
    bool dash = i == 8 || i == 13 || i == 18 || i == 23;
    if (dash != (u[i] == '-')) return false;
    if (!dash && std::string_view("0123456789abcdef").find(u[i]) == std::string_view::npos) return false;
  }
  return u[14] == '4' && std::string_view("89ab").find(u[19]) != std::string_view::npos;
}

std::set<std::string> bom_refs(const json& bom) {
  std::set<std::string> refs;
  refs.insert(bom["metadata"]["component"]["bom-ref"].get<std::string>());
  for (const auto& c : bom["components"]) refs.insert(c["bom-ref"].get<std::string>());
  return refs;
}

}  // namespace

TEST_CASE("cyclonedx: 1.5 document with one library component per installed package", "[cyclonedx]") {
  ReportInput in = scenario();
  json bom = json::parse(write_cyclonedx(in));
  CHECK(bom["bomFormat"] == "CycloneDX");
  CHECK(bom["specVersion"] == "1.5");
  CHECK(bom["version"] == 1);
  CHECK(is_uuid_urn(bom["serialNumber"].get<std::string>()));
  CHECK(bom["metadata"]["timestamp"] == "2024-06-12T22:54:11Z");
  CHECK(bom["metadata"]["component"]["type"] == "container");

  auto packages = scangate::test::scenario_packages(kImage);
  REQUIRE(packages.size() == 33);  // P: records in the scenario's apk database
  std::size_t libraries = 0;
  std::set<std::string> refs;
  for (const auto& c : bom["components"]) {
    CHECK(refs.insert(c["bom-ref"].get<std::string>()).second);  // bom-refs are unique
    if (c["type"] == "library") ++libraries;
  }
  CHECK(libraries == packages.size());
  CHECK(bom["components"].size() == packages.size() + 1);  // + the operating system
  CHECK(bom["components"][0]["type"] == "operating-system");
  CHECK(bom["components"][0]["name"] == "alpine");

  // Purls exact for hand-chosen packages of this database.
  std::set<std::string> purls;
  for (const auto& c : bom["components"]) {
    if (c.contains("purl")) purls.insert(c["purl"].get<std::string>());
  }
  CHECK(purls.count("pkg:apk/alpine/musl@1.2.2-r3?arch=x86_64&distro=3.14.3") == 1);
  CHECK(purls.count("pkg:apk/alpine/zlib@1.2.11-r3?arch=x86_64&distro=3.14.3") == 1);

  // Same input, same document (serial number included).
  CHECK(write_cyclonedx(in) == write_cyclonedx(in));
}

TEST_CASE("cyclonedx: vulnerabilities section: one per id, affects refs point to components", "[cyclonedx]") {
  ReportInput in = scenario();
  json bom = json::parse(write_cyclonedx(in));
  auto unique = scangate::test::scenario_summary("unique_vuln_ids").at(kImage);
  auto findings = scangate::test::scenario_summary("findings(pkg,vuln)").at(kImage);
  REQUIRE(bom.contains("vulnerabilities"));
  CHECK(bom["vulnerabilities"].size() == static_cast<std::size_t>(unique[0]));
  auto refs = bom_refs(bom);
  std::size_t affects = 0;
  for (const auto& v : bom["vulnerabilities"]) {
    INFO(v["id"]);
    REQUIRE(!v["affects"].empty());
    for (const auto& a : v["affects"]) {
      CHECK(refs.count(a["ref"].get<std::string>()) == 1);
      ++affects;
    }
  }
  CHECK(affects == static_cast<std::size_t>(findings[0]));
  // The expat CVE the scenario gates on is CRITICAL in the section's rating.
  bool found = false;
  for (const auto& v : bom["vulnerabilities"]) {
    if (v["id"] != "CVE-2022-22822") continue;
    found = true;
    CHECK(v["ratings"].back()["severity"] == "critical");
  }
  CHECK(found);
  for (const auto& d : bom["dependencies"]) CHECK(refs.count(d["ref"].get<std::string>()) == 1);

  in.include_vulnerabilities = false;
  CHECK_FALSE(json::parse(write_cyclonedx(in)).contains("vulnerabilities"));
}

TEST_CASE("cyclonedx: CVSS ratings carry the golden report's scores and vectors", "[cyclonedx]") {
  json golden = scangate::test::load_json("reports/trivy_alpine-310.json.golden");
  json bom = json::parse(write_cyclonedx(scangate::test::input_from_golden(golden)));
  const json& g = golden["Results"][0]["Vulnerabilities"][0];
  const json* v = nullptr;
  for (const auto& x : bom["vulnerabilities"]) {
    if (x["id"] == g["VulnerabilityID"]) v = &x;
  }
  REQUIRE(v);
  bool nvd = false, redhat = false;
  for (const auto& r : (*v)["ratings"]) {
    if (!r.contains("score")) continue;
    std::string src = r["source"]["name"];
    CHECK(r["score"] == g["CVSS"][src]["V3Score"]);
    CHECK(r["vector"] == g["CVSS"][src]["V3Vector"]);
    // CycloneDX names the method by CVSS version: 3.1 -> CVSSv31, 3.0 -> CVSSv3.
    std::string vec = g["CVSS"][src]["V3Vector"];
    CHECK(r["method"] == (vec.rfind("CVSS:3.1", 0) == 0 ? "CVSSv31" : "CVSSv3"));
    nvd = nvd || src == "nvd";
    redhat = redhat || src == "redhat";
  }
  CHECK(nvd);
  CHECK(redhat);
  CHECK((*v)["description"] == g["Description"]);
  // Both affected packages (libcrypto1.1 and libssl1.1) are listed.
  CHECK((*v)["affects"].size() == 2);
}
