// NVD importer over real API 2.0 pages, vuln-list-nvd single records and an NVD 1.1 item.
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include <filesystem>
#include <map>

#include "scanner/vulndb/nvd.h"
#include "support/test_support.h"

using namespace scangate::vulndb;
using scangate::test::read_file;
using scangate::test::testdata;

namespace {

std::map<std::string, VulnerabilityRecord> by_id(const CollectingSink& s) {
  std::map<std::string, VulnerabilityRecord> out;
  for (const auto& v : s.vulnerabilities) out[v.vuln_id] = v;
  return out;
}

}  // namespace

TEST_CASE("every NVD page imports all its records") {
  struct Row {
    const char* file;
    std::size_t records;
  };
  auto row = GENERATE(Row{"vulndb/nvd/nvd-api2-full-page.json", 38}, Row{"vulndb/nvd/nvd-api2-single-entry.json", 1},
                      Row{"scenario/nvd/nvdcve-2.0-scenario.json", 64});
  INFO(row.file);
  auto j = nlohmann::json::parse(read_file(testdata(row.file)));
  REQUIRE(j["vulnerabilities"].size() == row.records);
  CollectingSink sink;
  auto info = import_nvd_text(read_file(testdata(row.file)), row.file, sink);
  REQUIRE(info.ok());
  CHECK(info->is_page);
  CHECK(info->records == row.records);
  CHECK(info->total_results == j["totalResults"].get<std::size_t>());
  REQUIRE(sink.vulnerabilities.size() == row.records);
  for (std::size_t i = 0; i < row.records; ++i) {
    const auto& cve = j["vulnerabilities"][i]["cve"];
    const auto& v = sink.vulnerabilities[i];
    CHECK(v.vuln_id == cve["id"].get<std::string>());
    CHECK(v.published == cve["published"].get<std::string>());
    CHECK(v.last_modified == cve["lastModified"].get<std::string>());
    CHECK(v.references.size() == cve.value("references", nlohmann::json::array()).size());
    auto metrics = cve.value("metrics", nlohmann::json::object());
    CHECK(v.metrics.v31.size() == metrics.value("cvssMetricV31", nlohmann::json::array()).size());
    CHECK(v.metrics.v30.size() == metrics.value("cvssMetricV30", nlohmann::json::array()).size());
    CHECK(v.metrics.v2.size() == metrics.value("cvssMetricV2", nlohmann::json::array()).size());
  }
}

TEST_CASE("NVD record fields, read by hand") {
  CollectingSink sink;
  REQUIRE(import_nvd_text(read_file(testdata("vulndb/nvd/nvd-api2-single-entry.json")), "single", sink).ok());
  const auto& v = sink.vulnerabilities.at(0);
  CHECK(v.vuln_id == "CVE-2022-1576");
  // The English description, not the Spanish one next to it.
  CHECK(v.description.rfind("The WP Maintenance Mode & Coming Soon WordPress plugin before 2.4.5", 0) == 0);
  REQUIRE(v.metrics.v31.size() == 1);
  CHECK(v.metrics.v31[0].source == "nvd@nist.gov");
  CHECK(v.metrics.v31[0].type == "Primary");
  CHECK(v.metrics.v31[0].score == 6.5);
  CHECK(v.metrics.v31[0].base_severity == "MEDIUM");
  CHECK(v.metrics.v31[0].vector == "CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:U/C:N/I:H/A:N");
  REQUIRE(v.metrics.v2.size() == 1);

  CollectingSink scen;
  REQUIRE(import_nvd_text(read_file(testdata("scenario/nvd/nvdcve-2.0-scenario.json")), "page", scen).ok());
  auto all = by_id(scen);
  const auto& zlib = all.at("CVE-2018-25032");
  CHECK(zlib.description.rfind("zlib before 1.2.12 allows memory corruption", 0) == 0);
  CHECK(zlib.metrics.v31.at(0).score == 7.5);
  CHECK(zlib.metrics.v2.at(0).score == 5.0);
  CHECK(zlib.metrics.v2.at(0).base_severity == "MEDIUM");  // v2's rating sits outside cvssData
  CHECK(zlib.references.at(0).url == "https://www.openwall.com/lists/oss-security/2022/03/24/1");
}

TEST_CASE("vuln-list-nvd bare records equal the same records inside the page") {
  CollectingSink page;
  REQUIRE(import_nvd_text(read_file(testdata("scenario/nvd/nvdcve-2.0-scenario.json")), "page", page).ok());
  auto in_page = by_id(page);
  CollectingSink dir;
  auto stats = import_nvd_path(testdata("scenario/nvd/api2-records"), dir);
  REQUIRE(stats.ok());
  CHECK(stats->vulnerabilities == 30);
  CHECK(stats->files == 30);
  for (const auto& v : dir.vulnerabilities) {
    INFO(v.vuln_id);
    REQUIRE(in_page.count(v.vuln_id));
    const auto& p = in_page.at(v.vuln_id);
    CHECK(v.description == p.description);
    CHECK(v.published == p.published);
    CHECK(v.metrics.v31.size() == p.metrics.v31.size());
    for (std::size_t i = 0; i < v.metrics.v31.size() && i < p.metrics.v31.size(); ++i) {
      CHECK(v.metrics.v31[i].source == p.metrics.v31[i].source);
      CHECK(v.metrics.v31[i].score == p.metrics.v31[i].score);
    }
  }
}

TEST_CASE("an NVD JSON 1.1 item (vuln-list) is read too") {
  CollectingSink sink;
  auto r = import_nvd_path(testdata("vulndb/nvd/CVE-2022-28391.json"), sink);
  REQUIRE(r.ok());
  const auto& v = sink.vulnerabilities.at(0);
  CHECK(v.vuln_id == "CVE-2022-28391");
  // cvss-severity.csv: 8.8 HIGH CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:U/C:H/I:H/A:H
  REQUIRE(v.metrics.v31.size() == 1);
  CHECK(v.metrics.v31[0].score == 8.8);
  CHECK(v.metrics.v31[0].vector == "CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:U/C:H/I:H/A:H");
  CHECK(resolve_nvd_severity(v.metrics).severity == Severity::kHigh);
  CHECK(v.description.rfind("BusyBox through 1.35.0", 0) == 0);
}

TEST_CASE("malformed NVD pages name file and position") {
  std::string text = read_file(testdata("vulndb/nvd/nvd-api2-full-page.json"));
  CollectingSink sink;
  SECTION("truncated") {
    auto r = import_nvd_text(text.substr(0, text.size() / 2), "page-0.json", sink);
    REQUIRE_FALSE(r.ok());
    INFO(r.error().message);
    CHECK(r.error().message.rfind("page-0.json: byte ", 0) == 0);
    std::size_t byte = std::stoul(r.error().message.substr(std::string("page-0.json: byte ").size()));
    CHECK(byte >= text.size() / 2);
    CHECK(byte <= text.size() / 2 + 1);
  }
  SECTION("a score that is a string") {
    auto j = nlohmann::json::parse(text);
    j["vulnerabilities"][0]["cve"]["metrics"]["cvssMetricV31"][0]["cvssData"]["baseScore"] = "7.5";
    auto r = import_nvd_text(j.dump(), "page-0.json", sink);
    REQUIRE_FALSE(r.ok());
    CHECK(
        r.error().message ==
        "page-0.json: vulnerabilities[0].cve.metrics.cvssMetricV31[0].cvssData.baseScore: expected number, got string");
  }
  SECTION("not an NVD document") {
    auto r = import_nvd_text("{\"hello\": 1}", "x.json", sink);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().message.rfind("x.json: not an NVD CVE API 2.0 page", 0) == 0);
  }
}
