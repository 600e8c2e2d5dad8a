#include "scanner/policy/trivy_report.h"

#include <catch2/catch.hpp>
#include <map>
#include <nlohmann/json.hpp>

#include "support/test_support.h"

using namespace scangate;
using namespace scangate::policy;
using json = nlohmann::json;

namespace {

std::string golden(const std::string& name) { return test::read_file(test::testdata("reports/" + name)); }

// Counts per severity label, walking the JSON independently of the reader.
std::map<std::string, int> walk_counts(const std::string& text) {
  std::map<std::string, int> out;
  json doc = json::parse(text);
  for (const auto& r : doc.value("Results", json::array()))
    for (const auto& v : r.value("Vulnerabilities", json::array())) out[v.at("Severity").get<std::string>()]++;
  return out;
}

}  // namespace

TEST_CASE("trivy_report: alpine-310 golden gives the findings the JSON holds", "[trivy_report]") {
  std::string text = golden("trivy_alpine-310.json.golden");
  auto fs = findings_from_trivy_json(text);
  REQUIRE(fs.ok());
  std::map<std::string, int> got;
  for (const auto& f : *fs) got[vulndb::to_string(f.severity)]++;
  CHECK(got == walk_counts(text));

  json doc = json::parse(text);
  const auto& vulns = doc["Results"][0]["Vulnerabilities"];
  REQUIRE(fs->size() == vulns.size());
  for (size_t i = 0; i < vulns.size(); ++i) {
    const Finding& f = (*fs)[i];
    CHECK(f.vuln_id == vulns[i]["VulnerabilityID"]);
    CHECK(f.pkg.name == vulns[i]["PkgName"]);
    CHECK(f.pkg.version == vulns[i]["InstalledVersion"]);
    CHECK(f.fixed_version == vulns[i].value("FixedVersion", ""));
    CHECK(f.pkg.type == "apk");
    if (vulns[i].contains("CVSS") && vulns[i]["CVSS"].contains("nvd") && vulns[i]["CVSS"]["nvd"].contains("V3Score")) {
      REQUIRE(f.cvss.count("nvd"));
      CHECK(f.cvss.at("nvd").v3_score == vulns[i]["CVSS"]["nvd"]["V3Score"].get<double>());
    }
  }
  CHECK((*fs)[0].vuln_id == "CVE-2019-1549");
  CHECK((*fs)[0].cvss.at("nvd").v3_score == 5.3);
  CHECK((*fs)[0].cvss.at("nvd").v2_score == 5.0);
  CHECK((*fs)[0].cvss.at("redhat").v3_score == 4.8);
  CHECK((*fs)[0].data_source == "alpine");
}

TEST_CASE("trivy_report: every golden report reads with the counts its JSON holds", "[trivy_report]") {
  for (const char* name :
       {"trivy_alpine-310.json.golden", "trivy_alpine-39.json.golden", "trivy_debian-buster.json.golden",
        "trivy_debian-buster-ignore-unfixed.json.golden", "trivy_distroless-python27.json.golden",
        "trivy_ubuntu-1804.json.golden", "trivy_secrets.json.golden"}) {
    INFO(name);
    std::string text = golden(name);
    auto rep = read_trivy_report(text);
    REQUIRE(rep.ok());
    std::map<std::string, int> got;
    for (const auto& f : rep->findings) got[vulndb::to_string(f.severity)]++;
    CHECK(got == walk_counts(text));
  }
}

TEST_CASE("trivy_report: secrets and the image identity", "[trivy_report]") {
  auto rep = read_trivy_report(golden("trivy_secrets.json.golden"));
  REQUIRE(rep.ok());
  REQUIRE(rep->secrets.size() == 2);
  CHECK(rep->secrets[0].rule_id == "aws-access-key-id");
  CHECK(rep->secrets[0].severity == "CRITICAL");
  CHECK(rep->secrets[0].file_path == "deploy.sh");
  CHECK(rep->secrets[0].start_line == 3);
  CHECK(rep->secrets[1].rule_id == "mysecret");
  CHECK(rep->secrets[1].severity == "HIGH");
  CHECK(rep->image().repository.empty());  // a repository scan, not an image

  auto alpine = read_trivy_report(golden("trivy_alpine-310.json.golden"));
  REQUIRE(alpine.ok());
  ImageIdentity id = alpine->image();
  CHECK(id.repository == "ghcr.io/aquasecurity/trivy-test-images");
  CHECK(id.reference == "testdata/fixtures/images/alpine-310.tar.gz");
  CHECK(id.digest.empty());
}

TEST_CASE("trivy_report: bad reports are errors that say where", "[trivy_report][errors]") {
  auto not_json = read_trivy_report("{\"SchemaVersion\": 2, ");
  REQUIRE_FALSE(not_json.ok());
  CHECK(not_json.error().message.find("not JSON") != std::string::npos);
  CHECK_FALSE(read_trivy_report("[]").ok());
  auto v1 = read_trivy_report(R"({"SchemaVersion": 1, "Results": []})");
  REQUIRE_FALSE(v1.ok());
  CHECK(v1.error().message.find("SchemaVersion 2") != std::string::npos);
  auto bad_sev = read_trivy_report(
      R"({"SchemaVersion": 2, "Results": [{"Target": "t", "Vulnerabilities": [
          {"VulnerabilityID": "CVE-1", "PkgName": "p", "Severity": "SEVERE"}]}]})");
  REQUIRE_FALSE(bad_sev.ok());
  CHECK(bad_sev.error().message ==
        "report field Results[0].Vulnerabilities[0].Severity 'SEVERE' is not CRITICAL, HIGH, MEDIUM, LOW or UNKNOWN");
  auto bad_id = read_trivy_report(
      R"({"SchemaVersion": 2, "Results": [{"Vulnerabilities": [{"VulnerabilityID": 5, "PkgName": "p", "Severity": "LOW"}]}]})");
  REQUIRE_FALSE(bad_id.ok());
  CHECK(bad_id.error().message == "report field Results[0].Vulnerabilities[0].VulnerabilityID should be a string");
  auto bad_md = read_trivy_report(R"({"SchemaVersion": 2, "Metadata": {"RepoDigests": "x"}})");
  REQUIRE_FALSE(bad_md.ok());
  CHECK(bad_md.error().message == "report field Metadata.RepoDigests should be a list");
  auto bad_cvss = read_trivy_report(
      R"({"SchemaVersion": 2, "Results": [{"Vulnerabilities": [{"VulnerabilityID": "C", "PkgName": "p",
          "Severity": "LOW", "CVSS": {"nvd": {"V3Score": "9.8"}}}]}]})");
  REQUIRE_FALSE(bad_cvss.ok());
  CHECK(bad_cvss.error().message.find("CVSS.nvd.V3Score should be a number") != std::string::npos);
  auto empty = read_trivy_report(R"({"SchemaVersion": 2})");
  REQUIRE(empty.ok());
  CHECK(empty->findings.empty());
}
