// The pipeline gate through the loopback registry: `--severity CRITICAL --exit-code 1` fails the
// outdated python:3.6 image on zlib CVE-2022-37434 and passes the alpine 3.15.11 control.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <set>

#include "it_support.h"
#include "support/process.h"
#include "support/test_support.h"

using scangate::test::fixture_env;
using scangate::test::run_process;
using scangate::test::testdata;
using Json = nlohmann::json;

using scangate::it::scenario_db;

TEST_CASE("gate: the outdated image fails on CRITICAL, naming zlib CVE-2022-37434", "[registry][gate]") {
  auto env = fixture_env();
  auto r = run_process({SCANGATE_CLI, "image", "--db", scenario_db(), "--severity", "CRITICAL", "--exit-code", "1",
                        env.at("REGISTRY") + "/" + env.at("IMAGE_PYTHON_3_6")});
  CAPTURE(r.err);
  CHECK(r.exit_code == 1);
  CHECK(r.out.find("CVE-2022-37434") != std::string::npos);
  CHECK(r.out.find("zlib") != std::string::npos);
  CHECK(r.err.find("gate failed") != std::string::npos);
}

TEST_CASE("gate: the patched control passes", "[registry][gate]") {
  auto env = fixture_env();
  auto r = run_process({SCANGATE_CLI, "image", "--db", scenario_db(), "--severity", "CRITICAL", "--exit-code", "1",
                        env.at("REGISTRY") + "/alpine:3.15.11"});
  CAPTURE(r.err);
  CHECK(r.exit_code == 0);
}

TEST_CASE("gate: JSON report of the outdated image has the scenario's 47 findings", "[registry][gate]") {
  auto env = fixture_env();
  std::string dir = scangate::test::make_temp_dir("sg-json");
  auto r = run_process({SCANGATE_CLI, "image", "--db", scenario_db(), "--format", "json", "--output",
                        dir + "/report.json", "--quiet", env.at("REGISTRY") + "/" + env.at("IMAGE_PYTHON_3_6")});
  CAPTURE(r.err);
  REQUIRE(r.exit_code == 0);  // no --exit-code: report only
  Json rep = Json::parse(scangate::test::read_file(dir + "/report.json"));
  CHECK(rep["SchemaVersion"] == 2);
  CHECK(rep["ArtifactType"] == "container_image");
  CHECK(rep["Metadata"]["OS"]["Family"] == "alpine");
  CHECK(rep["Metadata"]["OS"]["Name"] == "3.14.3");
  CHECK(rep["Metadata"]["ImageID"] == env.at("CONFIG_DIGEST_PYTHON_3_6"));
  size_t total = 0;
  std::map<std::string, int> by_sev;
  for (const auto& res : rep["Results"]) {
    if (res["Class"] != "os-pkgs") continue;
    CHECK(res["Type"] == "alpine");
    for (const auto& v : res.value("Vulnerabilities", Json::array())) {
      ++total;
      by_sev[v["Severity"].get<std::string>()]++;
      CHECK(v["Layer"]["Digest"].get<std::string>().rfind("sha256:", 0) == 0);
    }
  }
  // scenario/README.md: 47 findings: 8 CRITICAL, 29 HIGH, 8 MEDIUM, 0 LOW, 2 UNKNOWN.
  CHECK(total == 47);
  CHECK(by_sev["CRITICAL"] == 8);
  CHECK(by_sev["HIGH"] == 29);
  CHECK(by_sev["MEDIUM"] == 8);
  CHECK(by_sev["UNKNOWN"] == 2);
  std::filesystem::remove_all(dir);
}

TEST_CASE("gate: --ignorefile and --ignore-unfixed take findings out of the gate", "[registry][gate]") {
  auto env = fixture_env();
  std::string dir = scangate::test::make_temp_dir("sg-ignore");
  {
    std::ofstream f(dir + "/.trivyignore");
    f << "# accepted until the rebuild\nCVE-2022-37434 exp:2999-01-01\nCVE-2022-22822\nCVE-2022-22823\n"
         "CVE-2022-22824\nCVE-2022-23852\nCVE-2022-25235\nCVE-2022-25236\n"
         "CVE-2022-25315 exp:2000-01-01\n";
  }
  std::string ref = env.at("REGISTRY") + "/" + env.at("IMAGE_PYTHON_3_6");
  auto r = run_process({SCANGATE_CLI, "image", "--db", scenario_db(), "--severity", "CRITICAL", "--exit-code", "1",
                        "--ignorefile", dir + "/.trivyignore", ref});
  // The expired entry no longer applies: CVE-2022-25315 still fails the gate.
  CHECK(r.exit_code == 1);
  CHECK(r.out.find("CVE-2022-25315") != std::string::npos);
  CHECK(r.out.find("CVE-2022-37434") == std::string::npos);
  CHECK(r.err.find("expired") != std::string::npos);
  {
    std::ofstream f(dir + "/bad");
    f << "CVE-1 exp:2024-13-40\n";
  }
  auto bad = run_process({SCANGATE_CLI, "image", "--db", scenario_db(), "--ignorefile", dir + "/bad", ref});
  CHECK(bad.exit_code == 2);
  CHECK(bad.err.find(dir + "/bad:1") != std::string::npos);
  std::filesystem::remove_all(dir);
}

TEST_CASE("gate: a missing, empty or foreign DB is an error, never a pass", "[registry][gate]") {
  auto env = fixture_env();
  std::string dir = scangate::test::make_temp_dir("sg-nodb");
  std::ofstream(dir + "/empty.db").close();
  {
    std::ofstream f(dir + "/junk.db");
    f << "this is not sqlite";
  }
  std::string ref = env.at("REGISTRY") + "/alpine:3.15.11";
  for (const std::string& db : {dir + "/missing.db", dir + "/empty.db", dir + "/junk.db"}) {
    CAPTURE(db);
    auto r = run_process({SCANGATE_CLI, "image", "--db", db, "--severity", "CRITICAL", "--exit-code", "1", ref});
    CHECK(r.exit_code == 2);
    CHECK(r.err.find(db) != std::string::npos);
  }
  std::filesystem::remove_all(dir);
}
