// write_trivy_json against Trivy's own reports (../shared/testdata/reports/*.golden):
// the input is rebuilt from each golden report, and the output must carry the same keys,
// JSON types and values, except for the members scangate does not produce (listed below).
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <random>
#include <set>

#include "report_fixtures.h"
#include "scanner/report/report.h"

using nlohmann::json;
using namespace scangate;
using scangate::test::input_from_golden;
using scangate::test::load_json;

namespace {

// Members of Trivy's reports that scangate does not produce (Trivy-internal identities,
// vendor data its DB does not keep, the layer size).
const std::set<std::string> kNotProduced = {
    "Trivy", "ReportID",    "ArtifactID", "Size",           "EOSL",                 // top level / Metadata
    "UID",   "Fingerprint", "CweIDs",     "VendorSeverity", "VendorIDs", "Offset",  // per finding
};

// The JSON type as Go's encoding/json and a schema see it: integers and floats are "number".
std::string type_of(const json& j) {
  if (j.is_number()) return "number";
  return j.type_name();
}

// Every key `out` has exists in `golden` with the same JSON type, recursively; arrays are
// compared element by element (elements past the golden's end against its first element).
void check_types(const json& out, const json& golden, const std::string& path) {
  INFO(path);
  REQUIRE(type_of(out) == type_of(golden));
  if (out.is_object()) {
    for (const auto& [k, v] : out.items()) {
      INFO(path + "." + k);
      REQUIRE(golden.contains(k));
      check_types(v, golden[k], path + "." + k);
    }
  } else if (out.is_array() && !golden.empty()) {
    for (std::size_t i = 0; i < out.size(); ++i) {
      check_types(out[i], golden[std::min(i, golden.size() - 1)], path + "[" + std::to_string(i) + "]");
    }
  }
}

// Every key of `golden` (except kNotProduced) exists in `out` with an equal value.
void check_values(const json& out, const json& golden, const std::string& path) {
  INFO(path);
  if (golden.is_object()) {
    REQUIRE(out.is_object());
    for (const auto& [k, v] : golden.items()) {
      if (kNotProduced.count(k)) continue;
      INFO(path + "." + k);
      REQUIRE(out.contains(k));
      check_values(out[k], v, path + "." + k);
    }
  } else if (golden.is_array()) {
    REQUIRE(out.is_array());
    REQUIRE(out.size() == golden.size());
    for (std::size_t i = 0; i < golden.size(); ++i)
      check_values(out[i], golden[i], path + "[" + std::to_string(i) + "]");
  } else {
    CHECK(out == golden);  // nlohmann compares 5 and 5.0 as equal, as JSON does
  }
}

json run(const ReportInput& in) { return json::parse(write_trivy_json(in)); }

json first_vulnerability(const json& doc) { return doc.at("Results").at(0).at("Vulnerabilities").at(0); }

}  // namespace

TEST_CASE("trivy json: reproduces Trivy's golden reports key for key and value for value", "[trivy_json]") {
  auto file =
      GENERATE(as<std::string>{}, "trivy_alpine-310.json.golden", "trivy_alpine-39.json.golden",
               "trivy_debian-buster.json.golden", "trivy_debian-buster-ignore-unfixed.json.golden",
               "trivy_ubuntu-1804.json.golden", "trivy_distroless-python27.json.golden", "trivy_secrets.json.golden");
  INFO(file);
  json golden = load_json("reports/" + file);
  json out = run(input_from_golden(golden));
  check_types(out, golden, "$");
  check_values(out, golden, "$");
}

TEST_CASE("trivy json: the compact CSPM example parses the same way", "[trivy_json]") {
  // compact_example_alpine310.json is what a CSPM backend documents; its Description is cut,
  // so only keys and types are compared.
  json golden = load_json("reports/compact_example_alpine310.json");
  json out = run(input_from_golden(load_json("reports/trivy_alpine-310.json.golden")));
  json v = first_vulnerability(out);
  json g = first_vulnerability(golden);
  check_types(v, g, "$.vuln");
  // Its ImageConfig is a shortened copy of the image config: compare the rest.
  json md = out.at("Metadata");
  CHECK(md.at("ImageConfig").is_object());
  md.erase("ImageConfig");
  check_types(md, golden.at("Metadata"), "$.Metadata");
}

TEST_CASE("trivy json: every member the issue lists is present when the finding has a value", "[trivy_json]") {
  json golden = load_json("reports/trivy_alpine-310.json.golden");
  json out = run(input_from_golden(golden));
  for (const char* k : {"SchemaVersion", "CreatedAt", "ArtifactName", "ArtifactType", "Metadata", "Results"}) {
    INFO(k);
    CHECK(out.contains(k));
  }
  CHECK(out["SchemaVersion"] == 2);
  CHECK(out["ArtifactType"] == "container_image");
  for (const char* k : {"OS", "ImageID", "DiffIDs", "RepoTags", "ImageConfig"}) {
    INFO(k);
    CHECK(out["Metadata"].contains(k));
  }
  const json& r = out["Results"][0];
  for (const char* k : {"Target", "Class", "Type", "Vulnerabilities"}) {
    INFO(k);
    CHECK(r.contains(k));
  }
  CHECK(r["Class"] == "os-pkgs");
  json v = first_vulnerability(out);
  for (const char* k :
       {"VulnerabilityID", "PkgID", "PkgName", "InstalledVersion", "FixedVersion", "Status", "Layer", "SeveritySource",
        "PrimaryURL", "Title", "Description", "Severity", "CVSS", "References", "PublishedDate", "LastModifiedDate"}) {
    INFO(k);
    CHECK(v.contains(k));
  }
  // The first finding of the golden report, member by member.
  json g = first_vulnerability(golden);
  CHECK(v["PkgID"] == "libcrypto1.1@1.1.1c-r0");
  CHECK(v["PkgIdentifier"]["PURL"] == g["PkgIdentifier"]["PURL"]);
  CHECK(v["DataSource"] == g["DataSource"]);
  CHECK(v["CVSS"]["nvd"]["V2Score"].is_number());
  CHECK(v["CVSS"]["nvd"]["V3Score"] == 5.3);
  // Go prints the float64 5 as `5`; so does the writer.
  CHECK(write_trivy_json(input_from_golden(golden)).find("\"V2Score\": 5,") != std::string::npos);
}

TEST_CASE("trivy json: empty members are omitted as Trivy omits them", "[trivy_json]") {
  ReportInput in;
  in.meta.reference = "alpine:3.20";
  in.inventory.os = {"alpine", "3.20.3", "", ""};
  Finding f;
  f.vuln_id = "CVE-2024-0001";
  f.pkg = {"apk", "musl", "1.2.5-r0", "musl", "1.2.5-r0", "x86_64", {}, "lib/apk/db/installed", {}};
  f.status = "affected";
  f.severity = Severity::kHigh;
  in.targets.push_back({"alpine:3.20 (alpine 3.20.3)", "os-pkgs", "alpine", {f.pkg}, {f}});
  in.targets.push_back({"Python", "lang-pkgs", "python-pkg", {}, {}});
  json out = run(in);

  json v = first_vulnerability(out);
  for (const char* k : {"FixedVersion", "Layer", "SeveritySource", "PrimaryURL", "DataSource", "Title", "Description",
                        "CVSS", "References", "PublishedDate", "LastModifiedDate", "PkgPath"}) {
    INFO(k);
    CHECK_FALSE(v.contains(k));
  }
  CHECK(v["PkgIdentifier"]["PURL"] == "pkg:apk/alpine/musl@1.2.5-r0?arch=x86_64&distro=3.20.3");
  CHECK(v["Severity"] == "HIGH");
  // A target without findings keeps its Target/Class/Type but has no Vulnerabilities key.
  const json& empty = out["Results"][1];
  CHECK(empty == json{{"Target", "Python"}, {"Class", "lang-pkgs"}, {"Type", "python-pkg"}});
  CHECK_FALSE(out.contains("CreatedAt"));
  CHECK(out["Metadata"] == json{{"OS", {{"Family", "alpine"}, {"Name", "3.20.3"}}}});

  // A layer with only a DiffID (rootfs scans have no blob digest) keeps only that member.
  in.targets[0].findings[0].pkg.layer.diff_id = "sha256:abc";
  CHECK(first_vulnerability(run(in))["Layer"] == json{{"DiffID", "sha256:abc"}});
}

TEST_CASE("trivy json: image metadata: RepoDigests, Layers, and ImageConfig only when it is an object",
          "[trivy_json]") {
  ReportInput in;
  in.meta.reference = "alpine:3.20";
  in.meta.repo_digest = "docker.io/library/alpine@sha256:beefdead";
  in.meta.diff_ids = {"sha256:d1", "sha256:d2"};
  in.meta.layer_digests = {"sha256:l1", "sha256:l2"};
  in.meta.config_json = R"({"architecture":"amd64","os":"linux"})";
  json md = run(in)["Metadata"];
  CHECK(md["RepoDigests"] == json::array({"docker.io/library/alpine@sha256:beefdead"}));
  CHECK(md["ImageConfig"] == json{{"architecture", "amd64"}, {"os", "linux"}});
  CHECK(md["Layers"] == json::parse(R"([{"Digest":"sha256:l1","DiffID":"sha256:d1"},
                                         {"Digest":"sha256:l2","DiffID":"sha256:d2"}])"));

  for (const char* bad : {"", "{not json", "[1,2]", "\"text\"", "{\"a\":1} trailing"}) {
    INFO(bad);
    in.meta.config_json = bad;
    CHECK_FALSE(run(in)["Metadata"].contains("ImageConfig"));
  }
}

TEST_CASE("trivy json: language packages carry PkgPath, their purl and the GHSA data source", "[trivy_json]") {
  ReportInput in;
  in.meta.reference = "python:3.12";
  Finding f;
  f.vuln_id = "GHSA-mq26-g339-26xf";
  f.pkg = {"pypi", "pip", "21.2.4", "",
           "",     "",    {},       "usr/local/lib/python3.9/site-packages/pip-21.2.4.dist-info/METADATA",
           {}};
  f.fixed_version = "23.3";
  f.status = "fixed";
  f.severity = Severity::kMedium;
  f.data_source = "ghsa";
  in.targets.push_back({"Python", "lang-pkgs", "python-pkg", {f.pkg}, {f}});
  json v = first_vulnerability(run(in));
  CHECK(v["PkgPath"] == f.pkg.file_path);
  CHECK(v["PkgIdentifier"]["PURL"] == "pkg:pypi/pip@21.2.4");
  CHECK(v["DataSource"]["ID"] == "ghsa");
  CHECK(v["DataSource"]["Name"] == "GitHub Security Advisory pip");
}

TEST_CASE("trivy json: secrets are grouped per file, in path and line order, masked text only", "[trivy_json]") {
  ReportInput in;
  in.meta.reference = "app:1";
  auto secret = [](std::string path, int line, std::string rule) {
    SecretFinding s;
    s.rule_id = std::move(rule);
    s.category = "AWS";
    s.severity = "critical";
    s.title = "AWS Access Key ID";
    s.file_path = std::move(path);
    s.start_line = s.end_line = line;
    s.match = "AWS_ACCESS_KEY_ID=********************";
    s.code_lines = {{line, s.match}};
    return s;
  };
  in.inventory.secrets = {secret("srv/b.env", 9, "aws-access-key-id"), secret("app/a.sh", 4, "aws-access-key-id"),
                          secret("srv/b.env", 2, "aws-secret-access-key")};
  in.inventory.secrets[0].layer = {"sha256:blob", "sha256:diff", 1};
  json out = run(in);
  REQUIRE(out["Results"].size() == 2);
  CHECK(out["Results"][0]["Target"] == "app/a.sh");
  CHECK(out["Results"][0]["Class"] == "secret");
  CHECK_FALSE(out["Results"][0].contains("Type"));
  const json& b = out["Results"][1];
  CHECK(b["Target"] == "srv/b.env");
  REQUIRE(b["Secrets"].size() == 2);
  CHECK(b["Secrets"][0]["StartLine"] == 2);
  CHECK(b["Secrets"][1]["StartLine"] == 9);
  CHECK(b["Secrets"][1]["Severity"] == "CRITICAL");
  CHECK(b["Secrets"][1]["Layer"] == json{{"Digest", "sha256:blob"}, {"DiffID", "sha256:diff"}});
  CHECK(b["Secrets"][0]["Code"]["Lines"][0]["IsCause"] == true);
  // Types against Trivy's secret report.
  json golden = load_json("reports/trivy_secrets.json.golden");
  json g = golden["Results"][0]["Secrets"][0];
  g["Layer"] = {{"Digest", ""}, {"DiffID", ""}};  // Trivy's SecretFinding.Layer (absent from a repo scan)
  check_types(b["Secrets"][1], g, "$.secret");
}

TEST_CASE("trivy json: deterministic whatever the input order - bad UTF-8 in feed text does not throw",
          "[trivy_json]") {
  ReportInput in = input_from_golden(load_json("reports/trivy_ubuntu-1804.json.golden"));
  std::string first = write_trivy_json(in);
  std::mt19937 rng(7);  // fixed seed: the test is reproducible
  for (int i = 0; i < 5; ++i) {
    std::shuffle(in.targets[0].findings.begin(), in.targets[0].findings.end(), rng);
    CHECK(write_trivy_json(in) == first);
  }
  in.targets[0].findings[0].title = std::string("bad \xC3\x28 utf8 \xFF");
  std::string out;
  REQUIRE_NOTHROW(out = write_trivy_json(in));
  CHECK_NOTHROW(json::parse(out));
}
