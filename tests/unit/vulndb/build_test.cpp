// build_db over the whole seed scenario (secdb v3.10..v3.20 + the NVD page).
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <tuple>

#include "scanner/vulndb/build.h"
#include "scanner/vulndb/vuln_db.h"
#include "support/test_support.h"

using namespace scangate::vulndb;
using scangate::test::read_file;
using scangate::test::testdata;
namespace fs = std::filesystem;

namespace {

const std::vector<std::string> kSecdb = {"v3.10-main.json", "v3.14-main.json", "v3.15-main.json", "v3.18-main.json",
                                         "v3.20-main.json"};

BuildOptions scenario_options(const std::string& out) {
  BuildOptions o;
  o.output = out;
  for (const auto& f : kSecdb) o.alpine_secdb.push_back(testdata("scenario/secdb/" + f));
  o.nvd.push_back(testdata("scenario/nvd/nvdcve-2.0-scenario.json"));
  o.clock = [] { return std::chrono::system_clock::from_time_t(1767225600); };
  return o;
}

std::vector<std::vector<std::string>> read_tsv(const std::string& path) {
  std::ifstream in(path);
  std::vector<std::vector<std::string>> rows;
  std::string line;
  std::getline(in, line);
  while (std::getline(in, line)) {
    std::vector<std::string> cols;
    std::stringstream ss(line);
    std::string c;
    while (std::getline(ss, c, '\t')) cols.push_back(c);
    if (!cols.empty()) rows.push_back(cols);
  }
  return rows;
}

}  // namespace

TEST_CASE("the scenario DB holds exactly what a trivial walk of the feeds counts") {
  std::string dir = scangate::test::make_temp_dir("sg-build");
  std::vector<std::string> progress;
  auto opts = scenario_options(dir + "/db.sqlite");
  opts.progress = [&](std::string_view m) { progress.emplace_back(m); };
  auto info = build_db(opts);
  REQUIRE(info.ok());
  CHECK_FALSE(progress.empty());

  // Independent count: distinct (release, package, fixed, id) with key != "0".
  std::set<std::tuple<std::string, std::string, std::string, std::string>> rows;
  std::map<std::string, std::set<std::string>> packages;  // release -> packages
  for (const auto& f : kSecdb) {
    auto j = nlohmann::json::parse(read_file(testdata("scenario/secdb/" + f)));
    std::string rel = j["distroversion"].get<std::string>().substr(1);
    for (const auto& p : j["packages"])
      for (const auto& [fixed, ids] : p["pkg"]["secfixes"].items())
        for (const auto& id : ids)
          if (fixed != "0") {
            rows.insert({rel, p["pkg"]["name"], fixed, id});
            packages[rel].insert(p["pkg"]["name"]);
          }
  }
  auto nvd = nlohmann::json::parse(read_file(testdata("scenario/nvd/nvdcve-2.0-scenario.json")));
  CHECK(info->advisories == rows.size());
  CHECK(info->advisories_by_ecosystem.at("alpine") == rows.size());
  CHECK(info->vulnerabilities == nvd["vulnerabilities"].size());
  REQUIRE(info->sources.size() == 6);
  CHECK(info->sources[0].kind == "alpine-secdb");
  CHECK(info->sources[5].kind == "nvd");
  CHECK(info->sources[5].stats.vulnerabilities == 64);

  // Read everything back through the look-up API and compare row by row.
  auto db = VulnDb::open(opts.output);
  REQUIRE(db.ok());
  std::set<std::tuple<std::string, std::string, std::string, std::string>> back;
  for (const auto& [rel, pkgs] : packages)
    for (const auto& p : pkgs) {
      auto list = db.value()->advisories("alpine", rel, p);
      REQUIRE(list.ok());
      for (const auto& a : list.value()) back.insert({a.release, a.package, a.fixed_version, a.vuln_id});
    }
  CHECK(back == rows);
  fs::remove_all(dir);
}

TEST_CASE("every expected scenario finding has its advisory, fixed version and severity in the DB") {
  std::string dir = scangate::test::make_temp_dir("sg-build");
  auto opts = scenario_options(dir + "/db.sqlite");
  REQUIRE(build_db(opts).ok());
  auto db = VulnDb::open(opts.output);
  REQUIRE(db.ok());
  std::size_t checked = 0;
  for (const char* image : {"python-3.6.15-alpine3.14", "python-3.12.4-alpine3.20", "alpine-3.10.9", "alpine-3.15.11",
                            "alpine-3.18.9", "alpine-3.20.3"}) {
    // "...alpine3.14" / "alpine-3.10.9" -> major.minor
    std::string name = image;
    std::string version = name.substr(name.find("alpine") + 6);
    if (version.front() == '-') version.erase(0, 1);
    std::string release = version.substr(0, version.find('.', version.find('.') + 1));
    for (const auto& row : read_tsv(testdata(std::string("scenario/expected/") + image + ".tsv"))) {
      // image pkg installed origin vuln_id fixed_version severity
      INFO(image << " " << row[3] << " " << row[4]);
      auto list = db.value()->advisories("alpine", release, row[3]);
      REQUIRE(list.ok());
      bool found = false;
      for (const auto& a : list.value())
        if (a.vuln_id == row[4] && a.fixed_version == row[5]) {
          found = true;
          CHECK(to_string(a.severity) == row[6]);
        }
      CHECK(found);
      ++checked;
    }
  }
  CHECK(checked == 47 + 82 + 1 + 0 + 2 + 56);
  fs::remove_all(dir);
}

TEST_CASE("advisory severities follow severity-basis.tsv") {
  std::string dir = scangate::test::make_temp_dir("sg-build");
  auto opts = scenario_options(dir + "/db.sqlite");
  REQUIRE(build_db(opts).ok());
  auto db = VulnDb::open(opts.output);
  REQUIRE(db.ok());
  std::map<std::string, std::pair<std::string, std::string>> basis;
  for (const auto& row : read_tsv(testdata("scenario/expected/severity-basis.tsv"))) basis[row[0]] = {row[1], row[2]};
  std::size_t checked = 0;
  for (const char* rel : {"3.14", "3.20"})
    for (const char* pkg : {"busybox", "expat", "openssl", "zlib", "musl", "sqlite", "xz"}) {
      auto list = db.value()->advisories("alpine", rel, pkg);
      REQUIRE(list.ok());
      for (const auto& a : list.value()) {
        auto it = basis.find(a.vuln_id);
        if (it == basis.end()) continue;
        INFO(a.vuln_id);
        CHECK(to_string(a.severity) == it->second.first);
        CHECK(a.severity_basis == it->second.second);
        ++checked;
      }
    }
  CHECK(checked > 50);
  fs::remove_all(dir);
}

TEST_CASE("build_db refuses to run without output or sources, and names a missing source") {
  BuildOptions o;
  CHECK_FALSE(build_db(o).ok());
  std::string dir = scangate::test::make_temp_dir("sg-build");
  o.output = dir + "/db.sqlite";
  auto none = build_db(o);
  REQUIRE_FALSE(none.ok());
  CHECK(none.error().message.find("no sources") != std::string::npos);
  o.alpine_secdb = {dir + "/missing.json"};
  auto missing = build_db(o);
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.error().message.find("missing.json") != std::string::npos);
  CHECK_FALSE(fs::exists(o.output));
  CHECK(std::distance(fs::directory_iterator(dir), fs::directory_iterator()) == 0);
  fs::remove_all(dir);
}

TEST_CASE("default update sources cover the upstream feeds") {
  auto s = default_update_sources();
  CHECK(s.alpine_secdb.size() == 26);  // (3.10..3.21 + edge) x (main, community)
  CHECK(s.alpine_secdb.front() == "https://secdb.alpinelinux.org/v3.10/main.json");
  CHECK(s.alpine_secdb.back() == "https://secdb.alpinelinux.org/edge/community.json");
  CHECK(s.debian_tracker == std::vector<std::string>{"https://security-tracker.debian.org/tracker/data/json"});
  CHECK(s.osv.size() == 4);
  CHECK(s.nvd == std::vector<std::string>{"https://services.nvd.nist.gov/rest/json/cves/2.0"});
}
