// write_sarif: the SARIF 2.1.0 shape (the properties the OASIS schema requires, and only
// property names it defines for the objects used), rules and results counted against the
// seed scenario, and GitHub's security-severity.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <cstdio>
#include <set>

#include "report_fixtures.h"
#include "scanner/report/report.h"

using nlohmann::json;
using namespace scangate;
using scangate::test::load_json;

namespace {

// Property names the SARIF 2.1.0 schema defines (it sets additionalProperties: false) for
// the objects the writer produces; a subset of each object's list in the spec.
const std::set<std::string> kLog = {"$schema", "version", "runs", "inlineExternalProperties", "properties"};
const std::set<std::string> kRun = {"tool",        "results",   "columnKind",         "properties",
                                    "invocations", "artifacts", "originalUriBaseIds", "automationDetails"};
const std::set<std::string> kDriver = {"name",  "version",  "semanticVersion", "informationUri",
                                       "rules", "fullName", "organization",    "properties"};
const std::set<std::string> kRule = {"id",      "name", "shortDescription", "fullDescription", "defaultConfiguration",
                                     "helpUri", "help", "properties",       "messageStrings",  "deprecatedIds",
                                     "guid"};
const std::set<std::string> kResult = {
    "ruleId",       "ruleIndex",           "rule",      "kind", "level", "message", "locations",
    "fingerprints", "partialFingerprints", "properties"};
const std::set<std::string> kLocation = {"id",          "physicalLocation", "logicalLocations", "message",
                                         "annotations", "relationships",    "properties"};
const std::set<std::string> kLevels = {"none", "note", "warning", "error"};

void keys_within(const json& obj, const std::set<std::string>& allowed, const std::string& what) {
  REQUIRE(obj.is_object());
  for (const auto& [k, v] : obj.items()) {
    INFO(what << " has property " << k);
    CHECK(allowed.count(k) == 1);
  }
}

// The structural rules of SARIF 2.1.0 for the parts the writer emits.
void check_sarif(const json& doc) {
  keys_within(doc, kLog, "sarifLog");
  REQUIRE(doc.at("version") == "2.1.0");
  REQUIRE(doc.at("runs").is_array());
  REQUIRE(doc["runs"].size() == 1);
  const json& run = doc["runs"][0];
  keys_within(run, kRun, "run");
  const json& driver = run.at("tool").at("driver");
  keys_within(driver, kDriver, "toolComponent");
  CHECK(driver.at("name") == "scangate");
  CHECK(driver.at("informationUri").get<std::string>().rfind("https://", 0) == 0);
  std::set<std::string> ids;
  for (const auto& r : driver.at("rules")) {
    keys_within(r, kRule, "reportingDescriptor");
    REQUIRE(r.at("id").is_string());
    CHECK(ids.insert(r["id"].get<std::string>()).second);  // one rule per id
    CHECK(!r.at("shortDescription").at("text").get<std::string>().empty());
    CHECK(!r.at("fullDescription").at("text").get<std::string>().empty());
    CHECK(kLevels.count(r.at("defaultConfiguration").at("level").get<std::string>()) == 1);
    const json& props = r.at("properties");
    CHECK(props.at("security-severity").is_string());
    double score = std::stod(props["security-severity"].get<std::string>());
    CHECK(score >= 0.0);
    CHECK(score <= 10.0);
    CHECK(props.at("tags").is_array());
  }
  for (const auto& res : run.at("results")) {
    keys_within(res, kResult, "result");
    CHECK(!res.at("message").at("text").get<std::string>().empty());
    CHECK(kLevels.count(res.at("level").get<std::string>()) == 1);
    std::size_t idx = res.at("ruleIndex").get<std::size_t>();
    REQUIRE(idx < driver["rules"].size());
    CHECK(driver["rules"][idx]["id"] == res.at("ruleId"));
    REQUIRE(res.at("locations").size() >= 1);
    for (const auto& loc : res["locations"]) {
      keys_within(loc, kLocation, "location");
      const json& pl = loc.at("physicalLocation");
      CHECK(!pl.at("artifactLocation").at("uri").get<std::string>().empty());
      CHECK(pl.at("region").at("startLine").get<int>() >= 1);
    }
  }
}

std::string one_decimal(double v) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%.1f", v);
  return buf;
}

const json& rule_by_id(const json& doc, const std::string& id) {
  for (const auto& r : doc["runs"][0]["tool"]["driver"]["rules"]) {
    if (r["id"] == id) return r;
  }
  throw std::runtime_error("no rule " + id);
}

}  // namespace

TEST_CASE("sarif: one rule per vulnerability id and one result per finding (seed scenario)", "[sarif]") {
  auto image = GENERATE(as<std::string>{}, "python-3.6.15-alpine3.14", "python-3.12.4-alpine3.20");
  INFO(image);
  auto findings = scangate::test::scenario_summary("findings(pkg,vuln)").at(image);
  auto unique = scangate::test::scenario_summary("unique_vuln_ids").at(image);
  ReportInput in = scangate::test::scenario_input(image, "3.x");
  in.tool_version = "0.1.0";
  json doc = json::parse(write_sarif(in));
  check_sarif(doc);
  CHECK(doc["runs"][0]["tool"]["driver"]["version"] == "0.1.0");
  CHECK(doc["runs"][0]["tool"]["driver"]["rules"].size() == static_cast<std::size_t>(unique[0]));
  CHECK(doc["runs"][0]["results"].size() == static_cast<std::size_t>(findings[0]));
  // Levels by severity: count the errors (CRITICAL + HIGH) the scenario expects.
  std::size_t errors = 0;
  for (const auto& r : doc["runs"][0]["results"]) errors += r["level"] == "error" ? 1 : 0;
  CHECK(errors == static_cast<std::size_t>(findings[1] + findings[2]));
  // The scenario has no CVSS vectors, so every rule gets its severity's documented fallback.
  const std::map<std::string, std::string> fallback = {
      {"CRITICAL", "9.5"}, {"HIGH", "8.0"}, {"MEDIUM", "5.5"}, {"LOW", "2.0"}, {"UNKNOWN", "0.0"}};
  for (const auto& row : scangate::test::scenario_rows(image)) {
    INFO(row.vuln_id);
    const json& rule = rule_by_id(doc, row.vuln_id);
    CHECK(rule["properties"]["security-severity"] == fallback.at(row.severity));
    CHECK(rule["properties"]["tags"] == json::array({"vulnerability", "security", row.severity}));
  }
}

TEST_CASE("sarif: security-severity is the CVSS score of the severity source, else NVD's", "[sarif]") {
  auto file = GENERATE(as<std::string>{}, "trivy_alpine-39.json.golden", "trivy_debian-buster.json.golden",
                       "trivy_ubuntu-1804.json.golden");
  INFO(file);
  json golden = load_json("reports/" + file);
  json doc = json::parse(write_sarif(scangate::test::input_from_golden(golden)));
  check_sarif(doc);
  for (const auto& v : golden["Results"][0]["Vulnerabilities"]) {
    std::string id = v["VulnerabilityID"];
    INFO(id);
    std::string src = v["SeveritySource"];
    const json& cvss = v["CVSS"];
    double expected = cvss.contains(src) && cvss[src].contains("V3Score") ? cvss[src]["V3Score"].get<double>()
                                                                          : cvss["nvd"]["V3Score"].get<double>();
    const json& rule = rule_by_id(doc, id);
    CHECK(rule["properties"]["security-severity"] == one_decimal(expected));
    CHECK(rule["helpUri"] == v["PrimaryURL"]);
    CHECK(rule["shortDescription"]["text"] == v.value("Title", id));  // the id when there is no title
  }
  // The result's message names the package, the installed and the fixed version.
  const json& res = doc["runs"][0]["results"][0];
  const json& g = golden["Results"][0]["Vulnerabilities"][0];
  std::string text = res["message"]["text"];
  CHECK(text.find("Package: " + g["PkgName"].get<std::string>() + "\n") != std::string::npos);
  CHECK(text.find("Installed Version: " + g["InstalledVersion"].get<std::string>()) != std::string::npos);
  CHECK(text.find("Vulnerability " + g["VulnerabilityID"].get<std::string>()) != std::string::npos);
  CHECK(text.find("Link: " + g["PrimaryURL"].get<std::string>()) != std::string::npos);
}

TEST_CASE("sarif: locations: the package's file, else the image reference as a URI reference", "[sarif]") {
  json golden = load_json("reports/trivy_alpine-310.json.golden");
  ReportInput in = scangate::test::input_from_golden(golden);
  json doc = json::parse(write_sarif(in));
  CHECK(doc["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] ==
        "lib/apk/db/installed");
  in.meta.reference = "alpine:3.10 image";
  for (auto& f : in.targets[0].findings) f.pkg.file_path.clear();
  doc = json::parse(write_sarif(in));
  // ':' in the first segment would read as a URI scheme, and a space is not allowed.
  CHECK(doc["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] ==
        "alpine%3A3.10%20image");
  CHECK(doc["runs"][0]["properties"]["imageName"] == "alpine:3.10 image");
}

TEST_CASE("sarif: secrets are results of their rule, with the lines they span", "[sarif]") {
  json golden = load_json("reports/trivy_secrets.json.golden");
  ReportInput in = scangate::test::input_from_golden(golden);
  json doc = json::parse(write_sarif(in));
  check_sarif(doc);
  const json& results = doc["runs"][0]["results"];
  const json& secrets = golden["Results"][0]["Secrets"];
  REQUIRE(results.size() == secrets.size());
  for (std::size_t i = 0; i < secrets.size(); ++i) {
    INFO(secrets[i]["RuleID"]);
    CHECK(results[i]["ruleId"] == secrets[i]["RuleID"]);
    const json& pl = results[i]["locations"][0]["physicalLocation"];
    CHECK(pl["artifactLocation"]["uri"] == golden["Results"][0]["Target"]);
    CHECK(pl["region"]["startLine"] == secrets[i]["StartLine"]);
    std::string text = results[i]["message"]["text"];
    CHECK(text.find(secrets[i]["Match"].get<std::string>()) != std::string::npos);
    CHECK(text.find("ghp_") == std::string::npos);  // context lines are never copied
  }
  CHECK(results[0]["level"] == "error");  // CRITICAL
  CHECK(rule_by_id(doc, "aws-access-key-id")["properties"]["tags"][0] == "secret");
}
