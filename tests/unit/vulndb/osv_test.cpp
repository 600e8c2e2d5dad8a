// OSV importer over real GitHub advisory database records (PyPI, npm).
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include <filesystem>
#include <set>

#include "scanner/vulndb/osv.h"
#include "support/test_support.h"
#include "zip_writer.h"

using namespace scangate::vulndb;
using scangate::test::read_file;
using scangate::test::testdata;

namespace {

const std::vector<std::string> kSamples = {
    "vulndb/osv-pypi/GHSA-r9hx-vwmv-q579.json", "vulndb/osv-pypi/GHSA-cx63-2mw6-8hw5.json",
    "vulndb/osv-pypi/GHSA-mq26-g339-26xf.json", "vulndb/osv-npm/GHSA-xvch-5gv4-984h.json"};

OsvRange range(std::string type, std::vector<std::pair<OsvEvent::Type, std::string>> events) {
  OsvRange r;
  r.type = std::move(type);
  for (auto& [t, v] : events) r.events.push_back(OsvEvent{t, v});
  return r;
}

scangate::Result<ImportStats> import_json(const nlohmann::json& j, CollectingSink& sink) {
  return import_osv_record_text(j.dump(), "GHSA.json", sink);
}

using T = OsvEvent::Type;

}  // namespace

TEST_CASE("setuptools GHSA-r9hx-vwmv-q579 as published") {
  CollectingSink sink;
  auto stats = import_osv_path(testdata(kSamples[0]), sink);
  REQUIRE(stats.ok());
  REQUIRE(sink.advisories.size() == 1);
  const auto& rec = sink.advisories[0];
  const Advisory& a = rec.advisory;
  CHECK(a.vuln_id == "GHSA-r9hx-vwmv-q579");
  CHECK(a.ecosystem == "pypi");
  CHECK(a.release.empty());
  CHECK(a.package == "setuptools");
  CHECK(a.kind == AdvisoryKind::kOsv);
  CHECK(a.cve_id == "CVE-2022-40897");
  CHECK(a.ranges == std::vector<OsvRange>{range("ECOSYSTEM", {{T::kIntroduced, "0"}, {T::kFixed, "65.5.1"}})});
  CHECK(a.versions.empty());
  CHECK(rec.ghsa_severity == Severity::kHigh);
  REQUIRE(sink.vulnerabilities.size() == 1);
  const auto& v = sink.vulnerabilities[0];
  CHECK(v.title == "pypa/setuptools vulnerable to Regular Expression Denial of Service (ReDoS)");
  CHECK(v.aliases == std::vector<std::string>{"CVE-2022-40897"});
  CHECK(v.published == "2022-12-23T00:30:23Z");
  CHECK(v.last_modified == "2022-12-27T14:51:05Z");
  CHECK(v.references.size() == 10);
  CHECK(v.references[0].url == "https://nvd.nist.gov/vuln/detail/CVE-2022-40897");
}

TEST_CASE("minimist: two affected entries of one package become one advisory with both ranges") {
  CollectingSink sink;
  REQUIRE(import_osv_path(testdata(kSamples[3]), sink).ok());
  REQUIRE(sink.advisories.size() == 1);
  const Advisory& a = sink.advisories[0].advisory;
  CHECK(a.ecosystem == "npm");
  CHECK(a.package == "minimist");
  CHECK(a.ranges == std::vector<OsvRange>{range("ECOSYSTEM", {{T::kIntroduced, "1.0.0"}, {T::kFixed, "1.2.6"}}),
                                          range("ECOSYSTEM", {{T::kIntroduced, "0"}, {T::kFixed, "0.2.4"}})});
  CHECK(sink.advisories[0].ghsa_severity == Severity::kCritical);
}

TEST_CASE("a folder and an all.zip export give the same rows as the single files") {
  CollectingSink singles;
  for (const auto& s : kSamples) REQUIRE(import_osv_path(testdata(s), singles).ok());
  REQUIRE(singles.advisories.size() == 4);

  std::string dir = scangate::test::make_temp_dir("sg-osv");
  std::vector<std::pair<std::string, std::string>> entries;
  for (const auto& s : kSamples) {
    std::string data = read_file(testdata(s));
    entries.emplace_back(std::filesystem::path(s).filename().string(), data);
    std::filesystem::copy_file(testdata(s), dir + "/" + std::filesystem::path(s).filename().string());
  }
  std::string zip = dir + "/all.zip";
  scangate::test::write_zip(zip, entries);

  auto key = [](const CollectingSink& s) {
    std::set<std::pair<std::string, std::size_t>> out;
    for (const auto& r : s.advisories) out.insert({r.advisory.vuln_id, r.advisory.ranges.size()});
    return out;
  };
  CollectingSink from_dir;
  REQUIRE(import_osv_path(dir, from_dir).ok());  // the .zip in it is not a .json: ignored
  CHECK(key(from_dir) == key(singles));
  CollectingSink from_zip;
  auto stats = import_osv_path(zip, from_zip);
  REQUIRE(stats.ok());
  CHECK(key(from_zip) == key(singles));
  CHECK(stats->vulnerabilities == 4);

  // A truncated member names the archive, the member and the byte.
  std::string text = read_file(testdata(kSamples[1]));
  scangate::test::write_zip(dir + "/bad.zip", {{"ok.json", read_file(testdata(kSamples[0]))},
                                               {"GHSA-cx63-2mw6-8hw5.json", text.substr(0, 200)}});
  CollectingSink bad;
  auto r = import_osv_path(dir + "/bad.zip", bad, {}, "https://mirror/PyPI/all.zip");
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().message.rfind("https://mirror/PyPI/all.zip:GHSA-cx63-2mw6-8hw5.json: byte 20", 0) == 0);
  std::filesystem::remove_all(dir);
}

TEST_CASE("OSV ecosystems: names normalised, OS releases mapped, others skipped, unknown rejected") {
  auto j = nlohmann::json::parse(read_file(testdata(kSamples[0])));
  CollectingSink sink;
  SECTION("PEP 503 names") {
    j["affected"][0]["package"]["name"] = "Set_Up.Tools";
    REQUIRE(import_json(j, sink).ok());
    CHECK(sink.advisories.at(0).advisory.package == "set-up-tools");
  }
  SECTION("Alpine:v3.18") {
    j["affected"][0]["package"] = {{"ecosystem", "Alpine:v3.18"}, {"name", "busybox"}};
    REQUIRE(import_json(j, sink).ok());
    CHECK(sink.advisories.at(0).advisory.ecosystem == "alpine");
    CHECK(sink.advisories.at(0).advisory.release == "3.18");
  }
  SECTION("Debian:12") {
    j["affected"][0]["package"] = {{"ecosystem", "Debian:12"}, {"name", "openssl"}};
    REQUIRE(import_json(j, sink).ok());
    CHECK(sink.advisories.at(0).advisory.ecosystem == "debian");
    CHECK(sink.advisories.at(0).advisory.release == "12");
  }
  SECTION("a schema ecosystem we do not match is skipped") {
    j["affected"][0]["package"]["ecosystem"] = "Go";
    auto r = import_json(j, sink);
    REQUIRE(r.ok());
    CHECK(sink.advisories.empty());
    CHECK(r->skipped == 1);
    CHECK(sink.vulnerabilities.size() == 1);  // the description is still useful
  }
  SECTION("an ecosystem the schema does not define fails") {
    j["affected"][0]["package"]["ecosystem"] = "PyPy";
    auto r = import_json(j, sink);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().message == "GHSA.json: affected[0].package.ecosystem: unknown OSV ecosystem \"PyPy\"");
  }
  SECTION("last_affected events and explicit versions are kept in order") {
    j["affected"][0]["ranges"][0]["type"] = "SEMVER";
    j["affected"][0]["ranges"][0]["events"] = {{{"introduced", "1.0"}}, {{"last_affected", "1.4"}}};
    j["affected"][0]["versions"] = {"1.0", "1.4"};
    REQUIRE(import_json(j, sink).ok());
    const Advisory& a = sink.advisories.at(0).advisory;
    CHECK(a.ranges == std::vector<OsvRange>{range("SEMVER", {{T::kIntroduced, "1.0"}, {T::kLastAffected, "1.4"}})});
    CHECK(a.versions == std::vector<std::string>{"1.0", "1.4"});
  }
  SECTION("GIT ranges are not stored") {
    j["affected"][0]["ranges"][0]["type"] = "GIT";
    auto r = import_json(j, sink);
    REQUIRE(r.ok());
    CHECK(sink.advisories.empty());
  }
  SECTION("withdrawn records are skipped") {
    j["withdrawn"] = "2023-01-01T00:00:00Z";
    REQUIRE(import_json(j, sink).ok());
    CHECK(sink.advisories.empty());
    CHECK(sink.vulnerabilities.empty());
  }
  SECTION("wrong types name the path") {
    j["affected"][0]["ranges"][0]["events"][1]["fixed"] = 65;
    auto r = import_json(j, sink);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().message == "GHSA.json: affected[0].ranges[0].events[1].fixed: expected string, got number");
  }
  SECTION("a record without an id") {
    j.erase("id");
    auto r = import_json(j, sink);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().message == "GHSA.json: id: missing");
  }
}
