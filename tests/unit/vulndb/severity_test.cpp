// resolve_severity / resolve_nvd_severity against the scenario's severity basis and the CVSS table.
#include <catch2/catch.hpp>

#include <fstream>
#include <map>
#include <sstream>

#include "scanner/vulndb/nvd.h"
#include "scanner/vulndb/osv.h"
#include "scanner/vulndb/severity.h"
#include "support/test_support.h"

using namespace scangate::vulndb;
using scangate::test::testdata;

namespace {

std::vector<std::vector<std::string>> read_table(const std::string& path, char sep) {
  std::ifstream in(path);
  REQUIRE(in);
  std::vector<std::vector<std::string>> rows;
  std::string line;
  std::getline(in, line);  // header
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    std::vector<std::string> cols;
    std::stringstream ss(line);
    std::string col;
    while (std::getline(ss, col, sep)) cols.push_back(col);
    rows.push_back(cols);
  }
  return rows;
}

CvssMetric metric(std::string source, std::string type, double score, std::string sev = "") {
  CvssMetric m;
  m.source = std::move(source);
  m.type = std::move(type);
  m.score = score;
  m.base_severity = std::move(sev);
  return m;
}

}  // namespace

TEST_CASE("severity basis of every scenario CVE matches severity-basis.tsv exactly") {
  CollectingSink sink;
  auto page = scangate::test::read_file(testdata("scenario/nvd/nvdcve-2.0-scenario.json"));
  auto info = import_nvd_text(page, "nvdcve-2.0-scenario.json", sink);
  REQUIRE(info.ok());
  std::map<std::string, NvdMetrics> nvd;
  for (const auto& v : sink.vulnerabilities) nvd[v.vuln_id] = v.metrics;
  REQUIRE(nvd.size() == 64);

  auto rows = read_table(testdata("scenario/expected/severity-basis.tsv"), '\t');
  REQUIRE(rows.size() > 70);
  for (const auto& row : rows) {
    REQUIRE(row.size() == 3);
    SeverityInputs in;
    if (auto it = nvd.find(row[0]); it != nvd.end()) in.nvd = resolve_nvd_severity(it->second);
    ResolvedSeverity r = resolve_severity(in);
    INFO(row[0]);
    CHECK(to_string(r.severity) == row[1]);
    CHECK(r.basis == row[2]);
    CHECK(r.source == (row[1] == "UNKNOWN" ? "" : "nvd"));
  }
}

TEST_CASE("CVSS v3 scores map to the qualitative ratings in cvss-severity.csv") {
  auto rows = read_table(testdata("vulndb/cvss-severity.csv"), ',');
  int scored = 0, ghsa = 0;
  for (const auto& row : rows) {
    INFO(row[0]);
    const std::string& score = row[2];
    const std::string& sev = row[3];
    if (!score.empty()) {
      ++scored;
      auto s = severity_from_cvss3_score(std::stod(score));
      REQUIRE(s);
      CHECK(to_string(*s) == sev);
      // The same through the NVD rule when the record gives a score but no rating.
      NvdMetrics m;
      m.v31.push_back(metric("nvd@nist.gov", "Primary", std::stod(score)));
      CHECK(to_string(resolve_nvd_severity(m).severity) == sev);
    } else {
      // "HIGH(GHSA)", "MODERATE(GHSA)": the GHSA label, MODERATE meaning MEDIUM.
      ++ghsa;
      std::string label = sev.substr(0, sev.find('('));
      SeverityInputs in;
      in.ghsa = parse_severity_label(label);
      REQUIRE(in.ghsa);
      auto r = resolve_severity(in);
      CHECK(r.source == "ghsa");
      CHECK(to_string(r.severity) == (label == "MODERATE" ? std::string("MEDIUM") : label));
    }
  }
  CHECK(scored == 11);
  CHECK(ghsa == 3);
}

TEST_CASE("GHSA severities of the real OSV advisories resolve as cvss-severity.csv says") {
  // csv: CVE-2022-40897 HIGH(GHSA), CVE-2024-6345 HIGH(GHSA), CVE-2023-5752 MODERATE(GHSA).
  const std::map<std::string, std::string> expected{
      {"CVE-2022-40897", "HIGH"}, {"CVE-2024-6345", "HIGH"}, {"CVE-2023-5752", "MEDIUM"}};
  CollectingSink sink;
  REQUIRE(import_osv_path(testdata("vulndb/osv-pypi"), sink).ok());
  REQUIRE(sink.advisories.size() == 3);
  for (const auto& a : sink.advisories) {
    SeverityInputs in;
    in.ghsa = a.ghsa_severity;
    in.nvd = ResolvedSeverity{Severity::kLow, "nvd", "would lose"};  // GHSA comes before NVD
    auto r = resolve_severity(in);
    CHECK(to_string(r.severity) == expected.at(a.advisory.cve_id));
    CHECK(r.source == "ghsa");
  }
}

TEST_CASE("NVD rule: Primary over first entry, V31 over V30 over V2, V2 by score, no V4") {
  SECTION("Primary wins over an earlier Secondary") {
    NvdMetrics m;
    m.v31 = {metric("cna", "Secondary", 9.8, "CRITICAL"), metric("nvd@nist.gov", "Primary", 5.3, "MEDIUM")};
    auto r = resolve_nvd_severity(m);
    CHECK(r.severity == Severity::kMedium);
    CHECK(r.basis == "cvssMetricV31 nvd@nist.gov Primary 5.3");
  }
  SECTION("the first entry when no Primary") {
    NvdMetrics m;
    m.v31 = {metric("a", "Secondary", 4.1, "MEDIUM"), metric("b", "Secondary", 9.1, "CRITICAL")};
    CHECK(resolve_nvd_severity(m).basis == "cvssMetricV31 a Secondary 4.1");
  }
  SECTION("V30 when there is no V31, before V2") {
    NvdMetrics m;
    m.v30 = {metric("nvd@nist.gov", "Primary", 7.5, "HIGH")};
    m.v2 = {metric("nvd@nist.gov", "Primary", 2.0, "LOW")};
    auto r = resolve_nvd_severity(m);
    CHECK(r.severity == Severity::kHigh);
    CHECK(r.basis == "cvssMetricV30 nvd@nist.gov Primary 7.5");
  }
  SECTION("V2 by score: < 4 LOW, < 7 MEDIUM, else HIGH") {
    for (auto [score, sev] :
         {std::pair{3.9, Severity::kLow}, std::pair{4.0, Severity::kMedium}, std::pair{6.9, Severity::kMedium},
          std::pair{7.0, Severity::kHigh}, std::pair{10.0, Severity::kHigh}}) {
      NvdMetrics m;
      m.v2 = {metric("nvd@nist.gov", "Primary", score, "")};
      CHECK(resolve_nvd_severity(m).severity == sev);
    }
  }
  SECTION("a record with only CVSS v4.0 is UNKNOWN") {
    // CVE-2024-45490 in the scenario page carries no v3.x/v2 metric.
    CollectingSink sink;
    auto page = scangate::test::read_file(testdata("scenario/nvd/nvdcve-2.0-scenario.json"));
    REQUIRE(import_nvd_text(page, "page", sink).ok());
    for (const auto& v : sink.vulnerabilities)
      if (v.vuln_id == "CVE-2024-45490") {
        auto r = resolve_nvd_severity(v.metrics);
        CHECK(r.severity == Severity::kUnknown);
        CHECK(r.basis == "NVD record has no CVSS v3.x/v2 metric");
      }
  }
}

TEST_CASE("order: feed, then GHSA, then NVD, then the fallback (Debian urgency)") {
  ResolvedSeverity nvd{Severity::kCritical, "nvd", "cvssMetricV31 nvd@nist.gov Primary 9.8"};
  SeverityInputs in;
  in.feed = Severity::kLow;
  in.feed_source = "ubuntu";
  in.ghsa = Severity::kMedium;
  in.nvd = nvd;
  in.fallback = Severity::kHigh;
  in.fallback_source = "debian";
  CHECK(resolve_severity(in).severity == Severity::kLow);
  CHECK(resolve_severity(in).source == "ubuntu");
  in.feed.reset();
  CHECK(resolve_severity(in).source == "ghsa");
  in.ghsa.reset();
  CHECK(resolve_severity(in).source == "nvd");
  CHECK(resolve_severity(in).severity == Severity::kCritical);
  in.nvd = ResolvedSeverity{Severity::kUnknown, "", "NVD record has no CVSS v3.x/v2 metric"};
  CHECK(resolve_severity(in).severity == Severity::kHigh);
  CHECK(resolve_severity(in).source == "debian");
  in.fallback.reset();
  CHECK(resolve_severity(in).severity == Severity::kUnknown);
  CHECK(resolve_severity(in).basis == "NVD record has no CVSS v3.x/v2 metric");
  in.nvd.reset();
  CHECK(resolve_severity(in).basis == "no NVD record");
}

TEST_CASE("severity labels") {
  CHECK(parse_severity_label("moderate") == Severity::kMedium);
  CHECK(parse_severity_label("CRITICAL") == Severity::kCritical);
  CHECK_FALSE(parse_severity_label("NONE"));
  CHECK_FALSE(parse_severity_label(""));
  CHECK(format_score(4.0) == "4");
  CHECK(format_score(7.5) == "7.5");
}
