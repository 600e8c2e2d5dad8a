// Feed values are validated before they reach the DB (issue 12: `db build` stored 100 MB names and
// ids, and CVSS scores of 1e308 and -5; a negative score escaped minCVSS). Each test takes a real
// feed sample, adds copies carrying hostile values, builds a DB from it and checks that exactly the
// hostile records were skipped, counted and named, and that the genuine ones are still there.
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <set>

#include "scanner/vulndb/build.h"
#include "scanner/vulndb/debian_tracker.h"
#include "scanner/vulndb/validate.h"
#include "scanner/vulndb/vuln_db.h"
#include "support/test_support.h"

using namespace scangate::vulndb;
using scangate::test::read_file;
using scangate::test::testdata;
using Json = nlohmann::json;

namespace {

void write(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
  REQUIRE(out.good());
}

struct Built {
  DbInfo info;
  std::vector<std::string> warnings;
  std::vector<std::string> progress;
};

Built build(const std::string& out, const std::function<void(BuildOptions&)>& sources) {
  BuildOptions o;
  o.output = out;
  sources(o);
  Built b;
  o.progress = [&](std::string_view m) { b.progress.emplace_back(m); };
  o.warn = [&](std::string_view m) { b.warnings.emplace_back(m); };
  o.clock = [] { return std::chrono::system_clock::from_time_t(1767225600); };
  auto info = build_db(o);
  REQUIRE(info.ok());
  b.info = *info;
  return b;
}

bool any_contains(const std::vector<std::string>& lines, const std::string& a, const std::string& b = "") {
  for (const auto& l : lines)
    if (l.find(a) != std::string::npos && l.find(b) != std::string::npos) return true;
  return false;
}

std::size_t longest(const std::vector<std::string>& lines) {
  std::size_t n = 0;
  for (const auto& l : lines) n = std::max(n, l.size());
  return n;
}

const std::string kHuge(4u << 20, 'A');  // a 4 MiB name/id (the review used 100 MB)

}  // namespace

TEST_CASE("NVD: a CVSS score outside 0..10, a huge id or description and a bad vector are skipped, not stored",
          "[validate][nvd]") {
  std::string dir = scangate::test::make_temp_dir("sg-validate");
  Json page = Json::parse(read_file(testdata("vulndb/nvd/nvd-api2-single-entry.json")));
  const Json good = page["vulnerabilities"][0];
  REQUIRE(good["cve"]["id"] == "CVE-2022-1576");
  REQUIRE(good["cve"]["metrics"]["cvssMetricV31"][0]["cvssData"]["baseScore"].is_number());
  auto variant = [&](const std::string& id, const std::function<void(Json&)>& edit) {
    Json v = good;
    v["cve"]["id"] = id;
    edit(v["cve"]);
    page["vulnerabilities"].push_back(v);
  };
  auto score = [](double s) { return [s](Json& c) { c["metrics"]["cvssMetricV31"][0]["cvssData"]["baseScore"] = s; }; };
  variant("CVE-2022-90001", score(-5));
  variant("CVE-2022-90002", score(1e308));
  variant("CVE-2022-90003", score(10.5));
  variant("CVE-2022-90004", [](Json& c) { c["descriptions"][0]["value"] = std::string(200000, 'd'); });
  variant("CVE-2022-90005", [](Json& c) {
    c["metrics"]["cvssMetricV31"][0]["cvssData"]["vectorString"] = "CVSS:3.1/AV:N\n2026-01-01 INFO forged";
  });
  variant("CVE-2022-" + kHuge, [](Json&) {});
  variant("CVE-2022-9\x1b[31m", [](Json&) {});
  // Boundaries that are valid: 0 and 10.
  variant("CVE-2022-90010", score(10));
  variant("CVE-2022-90011", score(0));
  page["totalResults"] = page["vulnerabilities"].size();
  page["resultsPerPage"] = page["vulnerabilities"].size();
  write(dir + "/nvd.json", page.dump());

  Built b = build(dir + "/db.sqlite", [&](BuildOptions& o) { o.nvd.push_back(dir + "/nvd.json"); });
  REQUIRE(b.info.sources.size() == 1);
  CHECK(b.info.sources[0].stats.invalid == 7);
  CHECK(b.info.sources[0].stats.vulnerabilities == 3);
  CHECK(b.info.vulnerabilities == 3);

  auto db = VulnDb::open(dir + "/db.sqlite");
  REQUIRE(db.ok());
  for (const char* id : {"CVE-2022-1576", "CVE-2022-90010", "CVE-2022-90011"}) {
    INFO(id);
    auto d = (*db)->detail(id);
    REQUIRE(d.ok());
    CHECK(d->has_value());
  }
  auto ten = (*db)->detail("CVE-2022-90010");
  REQUIRE(ten.ok());
  REQUIRE(ten->has_value());
  REQUIRE_FALSE((*ten)->cvss.empty());
  CHECK((*ten)->cvss[0].score == 10);
  for (const char* id : {"CVE-2022-90001", "CVE-2022-90002", "CVE-2022-90003", "CVE-2022-90004", "CVE-2022-90005"}) {
    INFO(id);
    auto d = (*db)->detail(id);
    REQUIRE(d.ok());
    CHECK_FALSE(d->has_value());
  }

  // Each skipped record is named with the feed; values are escaped and cut short.
  const std::string feed = dir + "/nvd.json";
  CHECK(b.warnings.size() == 7);
  CHECK(
      any_contains(b.warnings, feed + ": skipped invalid record \"CVE-2022-90001\"", "baseScore -5 is outside 0..10"));
  CHECK(any_contains(b.warnings, "\"CVE-2022-90002\"", "baseScore 1e+308 is outside 0..10"));
  CHECK(any_contains(b.warnings, "\"CVE-2022-90003\"", "baseScore 10.5 is outside 0..10"));
  CHECK(any_contains(b.warnings, "\"CVE-2022-90004\"", "description is 200000 bytes"));
  CHECK(any_contains(b.warnings, "\"CVE-2022-90005\"", "vectorString"));
  CHECK(any_contains(b.warnings, "\"CVE-2022-AAAA", "...(" + std::to_string(kHuge.size() + 9) + " bytes)"));
  CHECK(any_contains(b.warnings, "\"CVE-2022-9\\x1b[31m\""));
  CHECK(longest(b.warnings) < 400);
  for (const auto& w : b.warnings) CHECK(w.find('\n') == std::string::npos);
}

TEST_CASE("alpine secdb: a huge package name, id or fixed version is skipped, the rest imported",
          "[validate][alpine]") {
  std::string dir = scangate::test::make_temp_dir("sg-validate");
  const std::string sample = testdata("vulndb/alpine-secdb/v3.15-main.subset.json");
  Json j = Json::parse(read_file(sample));
  Built base = build(dir + "/base.sqlite", [&](BuildOptions& o) { o.alpine_secdb.push_back(sample); });
  REQUIRE(base.info.advisories > 0);
  CHECK(base.warnings.empty());

  Json pkg = j["packages"][0];
  REQUIRE(pkg["pkg"]["name"] == "apk-tools");
  auto add = [&](const std::string& name, const std::string& fixed, const std::string& id) {
    Json p = pkg;
    p["pkg"]["name"] = name;
    p["pkg"]["secfixes"] = Json{{fixed, Json::array({id})}};
    j["packages"].push_back(p);
  };
  add(kHuge, "1.0-r0", "CVE-2021-30139");                               // 4 MiB package name
  add("apk-tools-x", "1.0-r0", "CVE-2021-" + kHuge);                    // 4 MiB id
  add("apk-tools-y", std::string(300, '9') + "-r0", "CVE-2021-36159");  // 300-byte version
  add("apk-tools-z", "1.0-r0", "CVE-2021-36159");                       // genuine: stored
  write(dir + "/secdb.json", j.dump());

  Built b = build(dir + "/db.sqlite", [&](BuildOptions& o) { o.alpine_secdb.push_back(dir + "/secdb.json"); });
  REQUIRE(b.info.sources.size() == 1);
  CHECK(b.info.sources[0].stats.invalid == 3);
  CHECK(b.info.advisories == base.info.advisories + 1);
  CHECK(b.info.sources[0].stats.advisories == base.info.sources[0].stats.advisories + 1);
  auto db = VulnDb::open(dir + "/db.sqlite");
  REQUIRE(db.ok());
  auto z = (*db)->advisories("alpine", "3.15", "apk-tools-z");
  REQUIRE(z.ok());
  CHECK(z->size() == 1);
  for (const std::string& name : {kHuge, std::string("apk-tools-x"), std::string("apk-tools-y")}) {
    auto a = (*db)->advisories("alpine", "3.15", name);
    REQUIRE(a.ok());
    CHECK(a->empty());
  }
  CHECK(b.warnings.size() == 3);
  CHECK(any_contains(b.warnings, dir + "/secdb.json: skipped invalid record \"CVE-2021-30139\"",
                     "package is " + std::to_string(kHuge.size()) + " bytes (at most 256)"));
  CHECK(any_contains(b.warnings, "\"CVE-2021-AAAA", "id is " + std::to_string(kHuge.size() + 9) + " bytes"));
  CHECK(any_contains(b.warnings, "\"CVE-2021-36159\"", "fixed version is 303 bytes"));
  CHECK(longest(b.warnings) < 400);
}

TEST_CASE("OSV: a control character in an id, a huge package name or range version is skipped", "[validate][osv]") {
  std::string dir = scangate::test::make_temp_dir("sg-validate");
  const std::string sample = testdata("vulndb/osv-pypi/GHSA-cx63-2mw6-8hw5.json");
  Json good = Json::parse(read_file(sample));
  REQUIRE(good["affected"][0]["package"]["ecosystem"] == "PyPI");
  REQUIRE(good["affected"][0]["ranges"][0]["events"].size() >= 1);
  std::string feed = dir + "/osv";
  std::filesystem::create_directories(feed);
  write(feed + "/good.json", good.dump());
  auto variant = [&](const std::string& file, const std::string& id, const std::function<void(Json&)>& edit) {
    Json v = good;
    v["id"] = id;
    v["aliases"] = Json::array();
    edit(v);
    write(feed + "/" + file, v.dump());
  };
  variant("ctl.json", "GHSA-0000-0000-000\n", [](Json&) {});
  variant("pkg.json", "GHSA-1111-1111-1111",
          [](Json& v) { v["affected"][0]["package"]["name"] = std::string(1u << 20, 'p'); });
  variant("ver.json", "GHSA-2222-2222-2222", [](Json& v) {
    v["affected"][0]["ranges"][0]["events"][0] = Json{{"introduced", std::string(5000, '1')}};
  });
  variant("ok.json", "GHSA-3333-3333-3333", [](Json&) {});

  Built b = build(dir + "/db.sqlite", [&](BuildOptions& o) { o.osv.push_back(feed); });
  REQUIRE(b.info.sources.size() == 1);
  auto db = VulnDb::open(dir + "/db.sqlite");
  REQUIRE(db.ok());
  for (const char* id : {"GHSA-cx63-2mw6-8hw5", "GHSA-3333-3333-3333"}) {
    auto d = (*db)->detail(id);
    REQUIRE(d.ok());
    CHECK(d->has_value());
  }
  // The id with a line break is refused in both records (advisory and description).
  auto ctl = (*db)->detail("GHSA-0000-0000-000\n");
  REQUIRE(ctl.ok());
  CHECK_FALSE(ctl->has_value());
  // A bad package name or range version refuses the advisory (what matching reads); the
  // description record of the same id is valid on its own and may stay.
  auto adv = (*db)->advisories("pypi", "", std::string(1u << 20, 'p'));
  REQUIRE(adv.ok());
  CHECK(adv->empty());
  auto setuptools = (*db)->advisories("pypi", "", "setuptools");
  REQUIRE(setuptools.ok());
  std::set<std::string> ids;
  for (const auto& a : *setuptools) ids.insert(a.vuln_id);
  CHECK(ids == std::set<std::string>{"GHSA-cx63-2mw6-8hw5", "GHSA-3333-3333-3333"});
  CHECK(b.info.sources[0].stats.invalid >= 3);
  CHECK(any_contains(b.warnings, "\"GHSA-0000-0000-000\\x0a\"", "id has a space, a control"));
  CHECK(any_contains(b.warnings, "\"GHSA-1111-1111-1111\"", "package is 1048576 bytes"));
  CHECK(any_contains(b.warnings, "\"GHSA-2222-2222-2222\"", "range event version is 5000 bytes"));
  CHECK(longest(b.warnings) < 400);
}

TEST_CASE("Debian tracker: a huge package name is skipped, the rest imported", "[validate][debian]") {
  std::string dir = scangate::test::make_temp_dir("sg-validate");
  const std::string sample = testdata("vulndb/debian-tracker/vunnel-debian-tracker-sample.json");
  Json j = Json::parse(read_file(sample));
  Built base = build(dir + "/base.sqlite", [&](BuildOptions& o) { o.debian_tracker.push_back(sample); });
  REQUIRE(base.info.advisories > 0);
  REQUIRE(j.contains("prototypejs"));
  j[kHuge] = j["prototypejs"];
  write(dir + "/tracker.json", j.dump());
  Built b = build(dir + "/db.sqlite", [&](BuildOptions& o) { o.debian_tracker.push_back(dir + "/tracker.json"); });
  // Independent count: the rows the copied package would have added, imported on their own.
  CollectingSink only;
  REQUIRE(import_debian_tracker_text(Json{{"prototypejs", j["prototypejs"]}}.dump(), "proto.json", only).ok());
  const std::size_t proto = only.advisories.size();
  REQUIRE(proto > 0);
  CHECK(b.info.advisories == base.info.advisories);
  CHECK(b.info.sources[0].stats.invalid == proto);
  CHECK(any_contains(b.warnings, dir + "/tracker.json: skipped invalid record \"CVE-2008-7220\"",
                     "package is " + std::to_string(kHuge.size()) + " bytes"));
  CHECK(b.warnings.size() <= 21);  // at most 20 lines, then one summary line
}

TEST_CASE("validation limits: CVSS 0..10 and finite, id and name lengths at the boundary", "[validate]") {
  VulnerabilityRecord v;
  v.vuln_id = "CVE-2024-1";
  CvssMetric m;
  m.version = "3.1";
  m.vector = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H";
  for (double ok : {0.0, 0.1, 5.0, 9.9, 10.0}) {
    m.score = ok;
    v.metrics.v31 = {m};
    CHECK_FALSE(invalid_reason(v).has_value());
  }
  for (double bad : {-5.0, -0.1, 10.01, 1e308, std::numeric_limits<double>::infinity(),
                     -std::numeric_limits<double>::infinity(), std::numeric_limits<double>::quiet_NaN()}) {
    m.score = bad;
    v.metrics.v2 = {m};
    v.metrics.v31.clear();
    INFO(bad);
    CHECK(invalid_reason(v).has_value());
  }
  v.metrics = {};
  v.vuln_id = std::string(FeedLimits::kId, 'C');
  CHECK_FALSE(invalid_reason(v).has_value());
  v.vuln_id += 'C';
  CHECK(invalid_reason(v).has_value());
  v.vuln_id = "";
  CHECK(invalid_reason(v).has_value());

  AdvisoryRecord a;
  a.advisory.vuln_id = "CVE-2024-1";
  a.advisory.ecosystem = "alpine";
  a.advisory.package = std::string(FeedLimits::kPackage, 'p');
  CHECK_FALSE(invalid_reason(a).has_value());
  a.advisory.package += 'p';
  CHECK(invalid_reason(a).has_value());
  a.advisory.package = "zlib";
  a.advisory.fixed_version = "1.2.12-r2\r";
  CHECK(invalid_reason(a).has_value());

  CHECK(printable_excerpt("a\"b\\c\x01") == "\"a\\x22b\\x5cc\\x01\"");
  CHECK(printable_excerpt(std::string(100, 'x'), 8) == "\"xxxxxxxx...(100 bytes)\"");
}
