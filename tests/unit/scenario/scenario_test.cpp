// The seed scenario (../shared/testdata/scenario): build the DB from the real Alpine secdb files
// and the NVD page, scan each of the six images, and compare the findings with the expected
// TSVs, which an independent implementation computed.
#include <catch2/catch.hpp>

#include <filesystem>
#include <set>
#include <sstream>
#include <tuple>

#include "scanner/analyze/analyzer.h"
#include "scanner/layers/memory_blob.h"
#include "scanner/match/matcher.h"
#include "scanner/scan/scan.h"
#include "scanner/vulndb/build.h"
#include "scanner/vulndb/vuln_db.h"
#include "support/test_support.h"

using namespace scangate;
using scangate::test::read_file;
using scangate::test::testdata;

namespace {

using Row =
    std::tuple<std::string, std::string, std::string, std::string, std::string>;  // pkg, installed, id, fixed, severity

std::set<Row> expected_rows(const std::string& image) {
  std::set<Row> rows;
  std::istringstream in(read_file(testdata("scenario/expected/" + image + ".tsv")));
  std::string line;
  std::getline(in, line);  // header: image pkg installed origin vuln_id fixed_version severity
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    std::vector<std::string> f;
    std::stringstream ss(line);
    std::string x;
    while (std::getline(ss, x, '\t')) f.push_back(x);
    REQUIRE(f.size() == 7);
    rows.emplace(f[1], f[2], f[4], f[5], f[6]);
  }
  return rows;
}

const std::string& scenario_db() {
  static std::string path = [] {
    std::string dir = scangate::test::make_temp_dir("sg-scenario");
    vulndb::BuildOptions o;
    o.output = dir + "/db.sqlite";
    for (const char* v : {"3.10", "3.14", "3.15", "3.18", "3.20"})
      o.alpine_secdb.push_back(testdata(std::string("scenario/secdb/v") + v + "-main.json"));
    o.nvd.push_back(testdata("scenario/nvd/nvdcve-2.0-scenario.json"));
    auto info = vulndb::build_db(o);
    if (!info.ok()) FAIL(info.error().message);
    return o.output;
  }();
  return path;
}

std::set<Row> findings_for(const Inventory& inv) {
  auto db = vulndb::VulnDb::open(scenario_db());
  REQUIRE(db.ok());
  auto out = match_inventory(inv, **db);
  REQUIRE(out.ok());
  std::set<Row> rows;
  for (const auto& f : out->findings)
    rows.emplace(f.pkg.name, f.pkg.version, f.vuln_id, f.fixed_version, to_string(f.severity));
  return rows;
}

Inventory inventory_of_rootfs_tarball(const std::string& version) {
  std::string bytes = read_file(testdata("rootfs/alpine-minirootfs-" + version + "-x86_64.tar.gz"));
  MemoryBlob blob(std::move(bytes));
  auto analyzers = AnalyzerRegistry::builtin();
  auto layer = walk_layer(
      blob, LayerRef{"", "", 0}, [&](std::string_view p, uint64_t) { return analyzers.any_required(p); }, WalkLimits{});
  REQUIRE(layer.ok());
  std::vector<LayerContents> layers;
  layers.push_back(std::move(layer.value()));
  std::vector<std::string> warnings;
  auto inv = analyze_layers(layers, analyzers, warnings);
  REQUIRE(inv.ok());
  return inv.value();
}

Inventory inventory_of_installed(const std::string& file, const std::string& alpine_version) {
  auto analyzers = AnalyzerRegistry::builtin();
  std::string content = read_file(testdata("scenario/installed/" + file));
  Inventory inv;
  inv.os.family = "alpine";
  inv.os.name = alpine_version;
  for (const auto& a : analyzers.all()) {
    if (!a->required("lib/apk/db/installed")) continue;
    auto r = a->analyze(AnalysisInput{"lib/apk/db/installed", content});
    REQUIRE(r.ok());
    inv.packages = r->packages;
  }
  REQUIRE(!inv.packages.empty());
  return inv;
}

}  // namespace

TEST_CASE("scenario: the four real Alpine minirootfs images", "[scenario]") {
  for (std::string v : {"3.10.9", "3.15.11", "3.18.9", "3.20.3"}) {
    CAPTURE(v);
    Inventory inv = inventory_of_rootfs_tarball(v);
    CHECK(inv.os.family == "alpine");
    CHECK(inv.os.name == v);
    auto expected = expected_rows("alpine-" + v);
    auto got = findings_for(inv);
    CHECK(got == expected);
    if (got != expected) {
      for (const auto& r : expected)
        if (!got.count(r))
          UNSCOPED_INFO("missing: " << std::get<0>(r) << " " << std::get<2>(r) << " " << std::get<4>(r));
      for (const auto& r : got)
        if (!expected.count(r))
          UNSCOPED_INFO("extra: " << std::get<0>(r) << " " << std::get<2>(r) << " " << std::get<4>(r));
    }
  }
}

TEST_CASE("scenario: the reconstructed python images", "[scenario]") {
  struct Case {
    std::string image, file, version;
    size_t total;
  };
  for (const auto& c : {Case{"python-3.6.15-alpine3.14", "python-3.6.15-alpine3.14.installed", "3.14.3", 47},
                        Case{"python-3.12.4-alpine3.20", "python-3.12.4-alpine3.20.installed", "3.20.3", 82}}) {
    CAPTURE(c.image);
    auto expected = expected_rows(c.image);
    REQUIRE(expected.size() == c.total);  // the README's table
    auto got = findings_for(inventory_of_installed(c.file, c.version));
    CHECK(got == expected);
    if (got != expected) {
      for (const auto& r : expected)
        if (!got.count(r))
          UNSCOPED_INFO("missing: " << std::get<0>(r) << " " << std::get<2>(r) << " " << std::get<4>(r));
      for (const auto& r : got)
        if (!expected.count(r))
          UNSCOPED_INFO("extra: " << std::get<0>(r) << " " << std::get<2>(r) << " " << std::get<4>(r));
    }
  }
}

TEST_CASE("scenario: the critical gate fails the old image on zlib and expat, passes the control", "[scenario]") {
  auto old = findings_for(inventory_of_installed("python-3.6.15-alpine3.14.installed", "3.14.3"));
  std::set<std::string> critical;
  for (const auto& r : old)
    if (std::get<4>(r) == "CRITICAL") critical.insert(std::get<2>(r));
  CHECK(critical == std::set<std::string>{"CVE-2022-37434", "CVE-2022-22822", "CVE-2022-22823", "CVE-2022-22824",
                                          "CVE-2022-23852", "CVE-2022-25235", "CVE-2022-25236", "CVE-2022-25315"});
  CHECK(findings_for(inventory_of_rootfs_tarball("3.15.11")).empty());
}
