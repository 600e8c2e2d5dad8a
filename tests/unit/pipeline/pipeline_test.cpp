// The scan pipeline end to end on a root filesystem built from the seed scenario's python:3.6
// image (its apk database and Alpine 3.14.3), matched against the scenario DB built from the real
// feeds. Expected findings come from ../shared/testdata/scenario/expected (computed by an
// independent implementation): 47 findings, 8 CRITICAL, 29 HIGH, 8 MEDIUM, 2 UNKNOWN.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <thread>

#include "scanner/layers/memory_blob.h"
#include "scanner/pipeline/pipeline.h"
#include "scanner/scan/scan.h"
#include "scanner/vulndb/build.h"
#include "scanner/vulndb/vuln_db.h"
#include "support/test_support.h"
#include "unit/layers/tar_builder.h"

using namespace scangate;
using scangate::test::read_file;
using scangate::test::testdata;
using Json = nlohmann::json;
using namespace std::chrono_literals;

namespace {

const std::string kPat = "ghp_" + std::string("Z1y2X3w4V5u6T7s8R9q0P1o2N3m4L5k6J7i8");  // CRITICAL (github-pat)

void write(const std::string& path, const std::string& content) {
  std::filesystem::create_directories(std::filesystem::path(path).parent_path());
  std::ofstream(path, std::ios::binary) << content;
}

const std::string& scenario_db() {
  static const std::string path = [] {
    std::string dir = scangate::test::make_temp_dir("sg-pipeline-db");
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

// The python:3.6.15-alpine3.14 image as an unpacked root filesystem, with a GitHub token in
// /app/.env when `with_secret`.
std::string python36_rootfs(bool with_secret) {
  std::string dir = scangate::test::make_temp_dir("sg-pipeline-rootfs");
  write(dir + "/etc/os-release", "NAME=\"Alpine Linux\"\nID=alpine\nVERSION_ID=3.14.3\n");
  write(dir + "/lib/apk/db/installed", read_file(testdata("scenario/installed/python-3.6.15-alpine3.14.installed")));
  if (with_secret) write(dir + "/app/.env", "GITHUB_TOKEN=" + kPat + "\n");
  return dir;
}

using Row = std::tuple<std::string, std::string, std::string, std::string>;  // pkg, installed, id, severity

std::set<Row> expected_rows() {
  std::set<Row> rows;
  std::istringstream in(read_file(testdata("scenario/expected/python-3.6.15-alpine3.14.tsv")));
  std::string line;
  std::getline(in, line);
  while (std::getline(in, line)) {
    std::vector<std::string> f;
    std::stringstream ss(line);
    std::string x;
    while (std::getline(ss, x, '\t')) f.push_back(x);
    if (f.size() == 7) rows.emplace(f[1], f[2], f[4], f[6]);
  }
  return rows;
}

std::set<Row> rows_of(const std::vector<Finding>& findings) {
  std::set<Row> rows;
  for (const auto& f : findings) rows.emplace(f.pkg.name, f.pkg.version, f.vuln_id, to_string(f.severity));
  return rows;
}

pipeline::Options rootfs_options(const std::string& dir) {
  pipeline::Options o;
  o.rootfs = dir;
  o.db_path = scenario_db();
  o.today = "2026-11-27";
  return o;
}

}  // namespace

TEST_CASE("pipeline: a root filesystem is walked, analyzed, matched and counted", "[pipeline]") {
  auto dir = python36_rootfs(/*with_secret=*/true);
  auto o = rootfs_options(dir);
  std::vector<std::string> progress;
  o.hooks.progress = [&](const std::string& m) { progress.push_back(m); };
  auto r = pipeline::run(o);
  REQUIRE(r.ok());
  CHECK(r->meta.reference == dir);
  CHECK(r->inventory.os.family == "alpine");
  CHECK(r->inventory.os.name == "3.14.3");
  CHECK(rows_of(r->findings) == expected_rows());
  CHECK(r->findings.size() == 47);
  CHECK(r->reported.size() == 47);  // no filters
  CHECK(r->gate.reported_vulnerabilities.at(Severity::kCritical) == 8);
  CHECK(r->gate.reported_vulnerabilities.at(Severity::kHigh) == 29);
  CHECK(r->gate.reported_vulnerabilities.at(Severity::kMedium) == 8);
  CHECK(r->gate.reported_vulnerabilities.at(Severity::kUnknown) == 2);
  CHECK(r->gate.reported_vulnerabilities.count(Severity::kLow) == 0);
  CHECK(r->gate.reported_vulnerability_count() == 47);
  REQUIRE(r->inventory.secrets.size() == 1);
  CHECK(r->inventory.secrets[0].rule_id == "github-pat");
  CHECK(r->inventory.secrets[0].file_path == "app/.env");
  CHECK(r->gate.reported_secrets == 1);
  CHECK_FALSE(r->gate.policy.has_value());
  CHECK_FALSE(progress.empty());
  std::filesystem::remove_all(dir);
}

TEST_CASE("pipeline: the report filters shape what is reported, the policy sees every finding", "[pipeline]") {
  auto dir = python36_rootfs(/*with_secret=*/true);
  write(dir + "/ignore", "CVE-2022-37434\nCVE-2022-25315 exp:2000-01-01\n");
  auto o = rootfs_options(dir);
  o.severities = {Severity::kCritical};
  o.ignore_file = dir + "/ignore";
  o.policy = policy::Policy::default_policy();  // CRITICAL limit 0; secrets at CRITICAL deny
  o.deny_exit_code = 3;
  std::vector<std::string> notes;
  o.hooks.note = [&](const std::string& n) { notes.push_back(n); };
  auto r = pipeline::run(o);
  REQUIRE(r.ok());
  CHECK(r->findings.size() == 47);
  // 8 CRITICAL less the ignored zlib CVE; the expired entry no longer applies.
  CHECK(r->reported.size() == 7);
  for (const auto& f : r->reported) {
    CHECK(f.severity == Severity::kCritical);
    CHECK(f.vuln_id != "CVE-2022-37434");
  }
  CHECK(rows_of(r->reported).count({"expat", "2.4.1-r0", "CVE-2022-25315", "CRITICAL"}) == 1);
  REQUIRE(notes.size() == 1);
  CHECK(notes[0] == "ignore entry CVE-2022-25315 (" + dir + "/ignore:2) expired on 2000-01-01 and no longer applies");
  CHECK(r->gate.reported_secrets == 1);
  REQUIRE(r->gate.policy.has_value());
  CHECK_FALSE(r->gate.policy->verdict.allowed);
  CHECK(r->gate.policy->exit_code == 3);
  // The policy counted all 8 CRITICAL: the ignore file is the report's, not the policy's.
  CHECK(r->gate.policy->verdict.count(Severity::kCritical).count == 8);

  // The report on demand lists what is reported.
  pipeline::ReportInfo info;
  info.artifact_type = "filesystem";
  info.created_at = "2026-11-27T00:00:00Z";
  info.tool_version = "test";
  Json rep = Json::parse(r->report(pipeline::ReportFormat::kJson, info));
  CHECK(rep["ArtifactType"] == "filesystem");
  size_t vulns = 0, secrets = 0;
  for (const auto& res : rep["Results"]) {
    vulns += res.value("Vulnerabilities", Json::array()).size();
    secrets += res.value("Secrets", Json::array()).size();
  }
  CHECK(vulns == 7);
  CHECK(secrets == 1);
  CHECK(r->report(pipeline::ReportFormat::kTable, info).find("CVE-2022-25315") != std::string::npos);
  std::filesystem::remove_all(dir);
}

TEST_CASE("pipeline: a policy that allows passes, the severity filter also picks which secrets count", "[pipeline]") {
  auto dir = python36_rootfs(/*with_secret=*/true);
  auto p = policy::parse_policy(
      "apiVersion: scangate.io/v1alpha1\nkind: Policy\nlimits: {critical: 100}\nsecrets: {action: ignore}\n",
      "allow.yaml");
  REQUIRE(p.ok());
  auto o = rootfs_options(dir);
  o.policy = *p;
  o.severities = {Severity::kLow};
  auto r = pipeline::run(o);
  REQUIRE(r.ok());
  REQUIRE(r->gate.policy.has_value());
  CHECK(r->gate.policy->verdict.allowed);
  CHECK(r->gate.policy->exit_code == 0);
  CHECK(r->gate.reported_secrets == 0);  // the token is CRITICAL, not LOW
  CHECK(r->reported.empty());            // the scenario has no LOW finding
  std::filesystem::remove_all(dir);
}

TEST_CASE("pipeline: scanners select the work, a given store replaces the DB file", "[pipeline]") {
  auto dir = python36_rootfs(/*with_secret=*/true);
  auto o = rootfs_options(dir);
  o.scanners.vuln = false;
  o.db_path = dir + "/no-such.db";  // never opened without the vuln scanner
  auto pkg_only = pipeline::run(o);
  REQUIRE(pkg_only.ok());
  CHECK(pkg_only->findings.empty());
  CHECK_FALSE(pkg_only->inventory.packages.empty());
  CHECK(pkg_only->inventory.secrets.size() == 1);

  o = rootfs_options(dir);
  o.scanners.secret = false;
  o.db_path.clear();
  auto db = vulndb::VulnDb::open(scenario_db());
  REQUIRE(db.ok());
  o.store = std::shared_ptr<const vulndb::VulnStore>(std::move(db).value());
  auto no_secrets = pipeline::run(o);
  REQUIRE(no_secrets.ok());
  CHECK(no_secrets->inventory.secrets.empty());
  CHECK(no_secrets->findings.size() == 47);
  std::filesystem::remove_all(dir);
}

TEST_CASE("pipeline: each failure names its stage", "[pipeline]") {
  auto dir = python36_rootfs(/*with_secret=*/false);
  struct Case {
    std::string what;
    std::function<void(pipeline::Options&)> set;
    pipeline::Stage stage;
    std::string in_message;
  };
  write(dir + "/bad-ignore", "CVE-1 exp:2024-13-40\n");
  write(dir + "/bad-policy.yaml", "apiVersion: scangate.io/v1alpha1\nkind: Policy\nlimits: {critical: -1}\n");
  std::vector<Case> cases = {
      {"missing rootfs", [&](pipeline::Options& o) { o.rootfs = dir + "/nope"; }, pipeline::Stage::kScan,
       dir + "/nope"},
      {"missing secret config", [&](pipeline::Options& o) { o.secret_config_file = dir + "/nope.yaml"; },
       pipeline::Stage::kSecretConfig, "nope.yaml"},
      {"missing DB", [&](pipeline::Options& o) { o.db_path = dir + "/missing.db"; }, pipeline::Stage::kVulnStore,
       dir + "/missing.db"},
      {"bad ignore file", [&](pipeline::Options& o) { o.ignore_file = dir + "/bad-ignore"; },
       pipeline::Stage::kIgnoreFile, dir + "/bad-ignore:1"},
      {"bad policy", [&](pipeline::Options& o) { o.policy_file = dir + "/bad-policy.yaml"; }, pipeline::Stage::kPolicy,
       "bad-policy.yaml"},
      {"bad image reference",
       [&](pipeline::Options& o) {
         o.rootfs.clear();
         o.source.reference = "Not A Reference!";
       },
       pipeline::Stage::kSource, ""},
  };
  for (const auto& c : cases) {
    CAPTURE(c.what);
    auto o = rootfs_options(dir);
    c.set(o);
    pipeline::Stage stage = pipeline::Stage::kMatch;
    auto r = pipeline::run(o, &stage);
    REQUIRE_FALSE(r.ok());
    CHECK(stage == c.stage);
    CAPTURE(r.error().message);
    CHECK(r.error().message.find(c.in_message) != std::string::npos);
  }
  std::filesystem::remove_all(dir);
}

TEST_CASE("pipeline: a deadline already past stops it before any work", "[pipeline][deadline]") {
  auto dir = python36_rootfs(/*with_secret=*/false);
  auto o = rootfs_options(dir);
  o.deadline = Deadline::at(Deadline::Clock::now() - 1s);
  bool progressed = false;
  o.hooks.progress = [&](const std::string&) { progressed = true; };
  pipeline::Stage stage = pipeline::Stage::kMatch;
  auto r = pipeline::run(o, &stage);
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().kind == ErrorKind::kLimit);
  CHECK(r.error().message.find("deadline") != std::string::npos);
  CHECK(stage == pipeline::Stage::kSource);
  CHECK_FALSE(progressed);
  std::filesystem::remove_all(dir);
}

namespace {

// Two layers; opening the first takes `delay` (a slow registry).
struct SlowSource : ImageSource {
  std::chrono::milliseconds delay{0};
  std::string tar = test::build_tar({test::file("etc/os-release", "ID=alpine\nVERSION_ID=3.20.3\n")});
  int opened = 0;
  Result<ResolvedImage> resolve() override {
    ResolvedImage r;
    r.meta.reference = "registry.example/app:1";
    r.meta.normalized = "registry.example/app:1";
    r.layers.resize(2);
    r.layers[0].digest = "sha256:aaaa";
    r.layers[1].digest = "sha256:bbbb";
    return r;
  }
  Result<std::unique_ptr<BlobStream>> open_layer(const LayerDescriptor&) override {
    if (opened++ == 0) std::this_thread::sleep_for(delay);
    return std::unique_ptr<BlobStream>(std::make_unique<MemoryBlob>(tar));
  }
};

}  // namespace

TEST_CASE("scan: the deadline is checked between layers", "[pipeline][deadline]") {
  auto analyzers = AnalyzerRegistry::builtin();
  SlowSource fast;
  ScanOptions o;
  o.deadline = Deadline::after(10s);
  auto ok = scan_image(fast, analyzers, o);
  REQUIRE(ok.ok());
  CHECK(fast.opened == 2);
  CHECK(ok->inventory.os.name == "3.20.3");

  SlowSource slow;
  slow.delay = 300ms;
  o.deadline = Deadline::after(100ms);
  auto late = scan_image(slow, analyzers, o);
  REQUIRE_FALSE(late.ok());
  CHECK(late.error().kind == ErrorKind::kLimit);
  CHECK(late.error().message.find("layer 2/2") != std::string::npos);
  CHECK(slow.opened == 1);  // the second layer was never fetched
}
