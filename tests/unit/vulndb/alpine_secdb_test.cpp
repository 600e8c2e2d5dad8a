// Alpine secdb importer over the real secdb samples (JSON and YAML).
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include <set>
#include <tuple>

#include "scanner/vulndb/alpine_secdb.h"
#include "support/test_support.h"

using namespace scangate::vulndb;
using scangate::test::read_file;
using scangate::test::testdata;

namespace {

using Tuple = std::tuple<std::string, std::string, std::string, std::string>;  // release, pkg, fixed, id

// A trivial walk of the published format: every (package, key != "0", id).
std::multiset<Tuple> expected_tuples(const std::string& path, std::size_t* zero_ids) {
  auto j = nlohmann::json::parse(read_file(path));
  std::string release = j["distroversion"].get<std::string>().substr(1);
  std::multiset<Tuple> out;
  for (const auto& p : j["packages"]) {
    if (!p["pkg"].contains("secfixes")) continue;
    for (const auto& [fixed, ids] : p["pkg"]["secfixes"].items())
      for (const auto& id : ids) {
        if (fixed == "0")
          ++*zero_ids;
        else
          out.insert({release, p["pkg"]["name"].get<std::string>(), fixed, id.get<std::string>()});
      }
  }
  return out;
}

std::multiset<Tuple> imported_tuples(const CollectingSink& sink) {
  std::multiset<Tuple> out;
  for (const auto& r : sink.advisories)
    out.insert({r.advisory.release, r.advisory.package, r.advisory.fixed_version, r.advisory.vuln_id});
  return out;
}

const AdvisoryRecord* find(const CollectingSink& sink, const std::string& pkg, const std::string& id) {
  for (const auto& r : sink.advisories)
    if (r.advisory.package == pkg && r.advisory.vuln_id == id) return &r;
  return nullptr;
}

}  // namespace

TEST_CASE("every real secdb JSON sample imports exactly its non-\"0\" secfixes") {
  auto file =
      GENERATE(as<std::string>{}, "scenario/secdb/v3.10-main.json", "scenario/secdb/v3.14-main.json",
               "scenario/secdb/v3.15-main.json", "scenario/secdb/v3.18-main.json", "scenario/secdb/v3.20-main.json",
               "vulndb/alpine-secdb/v3.15-main.subset.json", "vulndb/alpine-secdb/v3.20-main.subset.json",
               "vulndb/alpine-secdb/claircore-v3_15_main_truncated.json");
  INFO(file);
  std::size_t zero_ids = 0;
  auto expected = expected_tuples(testdata(file), &zero_ids);
  CollectingSink sink;
  auto stats = import_alpine_secdb_file(testdata(file), sink);
  REQUIRE(stats.ok());
  CHECK(imported_tuples(sink) == expected);
  CHECK(stats->advisories == expected.size());
  CHECK(stats->skipped == zero_ids);
  for (const auto& r : sink.advisories) {
    CHECK(r.advisory.ecosystem == "alpine");
    CHECK(r.advisory.kind == AdvisoryKind::kAlpineSecdb);
    CHECK(r.advisory.status == FixStatus::kFixed);
    CHECK(r.advisory.fixed_version != "0");
  }
}

TEST_CASE("known secdb entries, read by hand from the files") {
  CollectingSink sink;
  REQUIRE(import_alpine_secdb_file(testdata("scenario/secdb/v3.14-main.json"), sink).ok());
  // "apk-tools": {"2.12.5-r0": ["CVE-2021-30139"], "2.12.6-r0": ["CVE-2021-36159"]}
  const auto* a = find(sink, "apk-tools", "CVE-2021-36159");
  REQUIRE(a);
  CHECK(a->advisory.release == "3.14");
  CHECK(a->advisory.fixed_version == "2.12.6-r0");
  CHECK(a->advisory.cve_id == "CVE-2021-36159");
  REQUIRE(find(sink, "apk-tools", "CVE-2021-30139"));
  CHECK(find(sink, "apk-tools", "CVE-2021-30139")->advisory.fixed_version == "2.12.5-r0");
  // busybox "0": ["CVE-2021-42373", "CVE-2021-42376", "CVE-2021-42377"] -- never stored.
  for (const char* id : {"CVE-2021-42373", "CVE-2021-42376", "CVE-2021-42377"}) CHECK_FALSE(find(sink, "busybox", id));
  REQUIRE(find(sink, "busybox", "CVE-2021-42374"));
  CHECK(find(sink, "busybox", "CVE-2021-42374")->advisory.fixed_version == "1.33.1-r4");
  // A non-CVE id keeps its id and has no CVE for NVD.
  const auto* alp = find(sink, "busybox", "ALPINE-13661");
  REQUIRE(alp);
  CHECK(alp->advisory.cve_id.empty());
}

TEST_CASE("claircore's secdb copy: bash 4.4.12-r1 fixes CVE-2016-0634") {
  CollectingSink sink;
  REQUIRE(import_alpine_secdb_file(testdata("vulndb/alpine-secdb/claircore-v3_15_main_truncated.json"), sink).ok());
  const auto* a = find(sink, "bash", "CVE-2016-0634");
  REQUIRE(a);
  CHECK(a->advisory.release == "3.15");
  CHECK(a->advisory.fixed_version == "4.4.12-r1");
}

TEST_CASE("the older YAML secdb format imports the same way") {
  CollectingSink sink;
  auto stats = import_alpine_secdb_file(testdata("vulndb/alpine-secdb/vunnel/v3.15-main.yaml"), sink);
  REQUIRE(stats.ok());
  // zlib: 1.2.12-r0: [CVE-2018-25032]; 1.2.12-r2: [CVE-2022-37434]
  const auto* a = find(sink, "zlib", "CVE-2022-37434");
  REQUIRE(a);
  CHECK(a->advisory.release == "3.15");
  CHECK(a->advisory.fixed_version == "1.2.12-r2");
  REQUIRE(find(sink, "zlib", "CVE-2018-25032"));
  CHECK(find(sink, "zlib", "CVE-2018-25032")->advisory.fixed_version == "1.2.12-r0");
  // zsh 5.4.2-r1 carries two ids.
  CHECK(find(sink, "zsh", "CVE-2018-1083"));
  CHECK(find(sink, "zsh", "CVE-2018-1071"));
  CollectingSink community;
  REQUIRE(import_alpine_secdb_file(testdata("vulndb/alpine-secdb/vunnel/v3.15-community.yaml"), community).ok());
  CHECK_FALSE(community.advisories.empty());
}

TEST_CASE("a truncated secdb fails with the file and the byte") {
  const std::string path = testdata("scenario/secdb/v3.20-main.json");
  std::string text = read_file(path);
  for (std::size_t cut : {std::size_t{0}, std::size_t{1}, text.size() / 3, text.size() / 2, text.size() - 2}) {
    CollectingSink sink;
    auto r = import_alpine_secdb_text(text.substr(0, cut), "v3.20/main.json", sink);
    REQUIRE_FALSE(r.ok());
    INFO(r.error().message);
    CHECK(r.error().kind == scangate::ErrorKind::kFormat);
    CHECK(r.error().message.rfind("v3.20/main.json: byte ", 0) == 0);
    // The position is where the input ran out.
    std::size_t byte = std::stoul(r.error().message.substr(std::string("v3.20/main.json: byte ").size()));
    CHECK(byte >= cut);
    CHECK(byte <= cut + 1);
  }
}

TEST_CASE("wrong types are reported with their JSON path") {
  auto j = nlohmann::json::parse(read_file(testdata("scenario/secdb/v3.14-main.json")));
  REQUIRE(j["packages"].size() > 3);
  CollectingSink sink;
  SECTION("secfixes as an array") {
    j["packages"][3]["pkg"]["secfixes"] = nlohmann::json::array();
    auto r = import_alpine_secdb_text(j.dump(), "main.json", sink);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().message == "main.json: packages[3].pkg.secfixes: expected object, got array");
  }
  SECTION("an id that is a number") {
    auto& sf = j["packages"][0]["pkg"]["secfixes"];
    std::string key = sf.begin().key();
    sf[key][0] = 42;
    auto r = import_alpine_secdb_text(j.dump(), "main.json", sink);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().message == "main.json: packages[0].pkg.secfixes[\"" + key + "\"][0]: expected string, got number");
  }
  SECTION("packages not an array") {
    j["packages"] = "none";
    auto r = import_alpine_secdb_text(j.dump(), "main.json", sink);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().message == "main.json: packages: expected array, got string");
  }
  SECTION("a distroversion that is no release") {
    j["distroversion"] = "vX";
    auto r = import_alpine_secdb_text(j.dump(), "main.json", sink);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().message.find("main.json: distroversion") == 0);
  }
}

TEST_CASE("a missing file is NotFound naming it") {
  CollectingSink sink;
  auto r = import_alpine_secdb_file("/nonexistent/main.json", sink);
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().kind == scangate::ErrorKind::kNotFound);
  CHECK(r.error().message.find("/nonexistent/main.json") != std::string::npos);
}
