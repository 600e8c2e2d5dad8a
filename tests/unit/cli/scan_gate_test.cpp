// `scangate rootfs` as a gate on the seed scenario's python:3.6 root filesystem (Alpine 3.14.3,
// its apk database) against the scenario DB: the expected findings (../shared/testdata/scenario/
// expected, computed independently) are 8 CRITICAL, 29 HIGH, 8 MEDIUM, 2 UNKNOWN and no LOW.
// - --exit-code N is the code of a violation at the --severity levels, and 0 without one;
// - a package DB over the per-file cap is an incomplete scan: exit 2 naming the file and the cap,
//   never a pass (issue 12: it used to report 0 packages and exit 0).
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "scanner/cli/commands.h"
#include "scanner/vulndb/build.h"
#include "support/test_support.h"

using namespace scangate;
using namespace scangate::cli;
namespace stdfs = std::filesystem;

namespace {

struct Ran {
  int code = -1;
  std::string out, err;
};

Ran run_cli(std::vector<std::string> argv) {
  std::ostringstream out, err;
  Ran r;
  r.code = run(argv, Io{out, err});
  r.out = out.str();
  r.err = err.str();
  return r;
}

void write(const std::string& path, const std::string& content) {
  stdfs::create_directories(stdfs::path(path).parent_path());
  std::ofstream(path, std::ios::binary) << content;
}

const std::string& scenario_db() {
  static const std::string path = [] {
    std::string dir = test::make_temp_dir("sg-cli-gate-db");
    vulndb::BuildOptions o;
    o.output = dir + "/db.sqlite";
    o.alpine_secdb.push_back(test::testdata("scenario/secdb/v3.14-main.json"));
    o.nvd.push_back(test::testdata("scenario/nvd/nvdcve-2.0-scenario.json"));
    auto info = vulndb::build_db(o);
    if (!info.ok()) FAIL(info.error().message);
    return o.output;
  }();
  return path;
}

std::string python36_rootfs(const std::string& extra_db_line = "") {
  std::string dir = test::make_temp_dir("sg-cli-gate-rootfs");
  write(dir + "/etc/os-release", "NAME=\"Alpine Linux\"\nID=alpine\nVERSION_ID=3.14.3\n");
  write(dir + "/lib/apk/db/installed",
        test::read_file(test::testdata("scenario/installed/python-3.6.15-alpine3.14.installed")) + extra_db_line);
  return dir;
}

std::vector<std::string> gate(const std::string& dir, std::vector<std::string> flags) {
  std::vector<std::string> argv = {"rootfs", "--quiet", "--scanners", "vuln", "--db", scenario_db()};
  argv.insert(argv.end(), flags.begin(), flags.end());
  argv.push_back(dir);
  return argv;
}

}  // namespace

TEST_CASE("scangate rootfs --exit-code N: N with a finding at the --severity levels, 0 without", "[cli][exit-code]") {
  const std::string dir = python36_rootfs();
  for (int n : {3, 1, 42}) {
    CAPTURE(n);
    auto crit = run_cli(gate(dir, {"--severity", "CRITICAL", "--exit-code", std::to_string(n)}));
    CAPTURE(crit.err);
    CHECK(crit.code == n);
    CHECK(crit.out.find("CRITICAL") != std::string::npos);
    // The scenario has no LOW finding: nothing at that level remains, the gate passes.
    auto low = run_cli(gate(dir, {"--severity", "LOW", "--exit-code", std::to_string(n)}));
    CAPTURE(low.err);
    CHECK(low.code == kExitOk);
  }
  // Without --exit-code the gate only reports.
  CHECK(run_cli(gate(dir, {"--severity", "CRITICAL"})).code == kExitOk);
  stdfs::remove_all(dir);
}

TEST_CASE("scangate rootfs: a package DB over the per-file cap fails the scan (exit 2), never a pass",
          "[cli][incomplete]") {
  // The python:3.6 apk database plus one 33 MiB line: over the 32 MiB (33554432-byte) cap.
  const std::string dir = python36_rootfs("X:" + std::string(33u << 20, 'a') + "\n");
  for (const auto& flags : std::vector<std::vector<std::string>>{
           {"--exit-code", "1"},
           {"--exit-code", "3", "--severity", "CRITICAL"},
           {"--format", "json"},
       }) {
    CAPTURE(flags);
    auto r = run_cli(gate(dir, flags));
    CAPTURE(r.err);
    CHECK(r.code == kExitError);
    CHECK(r.err.find("lib/apk/db/installed") != std::string::npos);
    CHECK(r.err.find("33554432") != std::string::npos);
    CHECK(r.out.empty());  // no report of an incomplete scan
  }
  // A policy does not say ALLOWED either.
  const std::string policy_dir = test::make_temp_dir("sg-cli-gate-policy");
  write(policy_dir + "/policy.yaml", "apiVersion: scangate.io/v1alpha1\nkind: Policy\n");
  auto p = run_cli(gate(dir, {"--policy", policy_dir + "/policy.yaml"}));
  CAPTURE(p.err);
  CHECK(p.code == kExitError);
  CHECK(p.err.find("ALLOWED") == std::string::npos);
  CHECK(p.err.find("lib/apk/db/installed") != std::string::npos);
  stdfs::remove_all(dir);
  stdfs::remove_all(policy_dir);
}
