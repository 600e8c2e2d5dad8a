// The exit code of `scangate image|rootfs`: the gate's code (--exit-code N, default 1 with a
// policy) wins over an upload failure (4, or 0 with --upload-soft-fail), which is the exit code
// only when the gate passed. First the rules on their own, then `scangate rootfs` end to end on a
// directory holding a GitHub token (a CRITICAL secret), with a CSPM endpoint that refuses
// connections.
#include <catch2/catch.hpp>

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include "scanner/cli/commands.h"
#include "scanner/cli/scan_flags.h"
#include "support/test_support.h"

using namespace scangate;
using namespace scangate::cli;

namespace {

const std::string kPat = "ghp_" + std::string("Z1y2X3w4V5u6T7s8R9q0P1o2N3m4L5k6J7i8");

ScanSettings settings_for(const std::vector<std::string>& argv) {
  auto args = parse_args(argv, scan_and_upload_flags());
  REQUIRE(args.ok());
  auto s = parse_scan_settings(*args);
  REQUIRE(s.ok());
  return s.value();
}

pipeline::GateResult policy_gate(bool allowed, int exit_code) {
  pipeline::GateResult g;
  g.policy = policy::GateOutcome{};
  g.policy->verdict.allowed = allowed;
  g.policy->exit_code = exit_code;
  return g;
}

struct Ran {
  int code = -1;
  std::string out, err;
};

Ran rootfs(std::vector<std::string> argv) {
  std::ostringstream out, err;
  Ran r;
  // Through run(), as main() calls it: log events (progress, upload outcome) go to Io::err.
  argv.insert(argv.begin(), "rootfs");
  r.code = run(argv, Io{out, err});
  r.out = out.str();
  r.err = err.str();
  return r;
}

// A loopback port nobody listens on: bound, then closed.
int closed_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  REQUIRE(fd >= 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
  socklen_t len = sizeof a;
  REQUIRE(::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0);
  ::close(fd);
  return ntohs(a.sin_port);
}

struct Dirs {
  std::string root = scangate::test::make_temp_dir("sg-exit");
  std::string secret = root + "/with-secret";
  std::string clean = root + "/clean";
  Dirs() {
    std::filesystem::create_directories(secret + "/app");
    std::filesystem::create_directories(clean + "/app");
    std::ofstream(secret + "/app/.env") << "GITHUB_TOKEN=" << kPat << "\n";
    std::ofstream(clean + "/app/.env") << "GREETING=hello\n";
    std::ofstream(root + "/policy.yaml") << "apiVersion: scangate.io/v1alpha1\nkind: Policy\n";  // secrets deny
    std::ofstream(root + "/token") << "exit-code-test-token\n";
  }
  ~Dirs() { std::filesystem::remove_all(root); }
  // --upload to an endpoint that refuses connections, quickly.
  std::vector<std::string> failing_upload() const {
    return {"--upload",
            "--cspm-url",
            "http://127.0.0.1:" + std::to_string(closed_port()),
            "--token-file",
            root + "/token",
            "--spool-dir",
            root + "/spool",
            "--upload-retries",
            "1",
            "--upload-max-time",
            "10"};
  }
};

std::vector<std::string> cat(std::vector<std::string> a, const std::vector<std::string>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

}  // namespace

TEST_CASE("exit code: a failed gate wins over a failed upload, the upload decides only after a pass",
          "[cli][exit-code]") {
  CHECK(scan_exit_code(kExitOk, kExitOk) == kExitOk);
  CHECK(scan_exit_code(kExitOk, kExitUploadFailed) == kExitUploadFailed);
  CHECK(scan_exit_code(3, kExitUploadFailed) == 3);
  CHECK(scan_exit_code(1, kExitUploadFailed) == 1);
  CHECK(scan_exit_code(3, kExitOk) == 3);
}

TEST_CASE("exit code: --exit-code N is the code of a violation, with or without a policy", "[cli][exit-code]") {
  for (int n : {3, 1}) {
    CAPTURE(n);
    auto s = settings_for({"--exit-code", std::to_string(n), "--policy", "p.yaml", "dir"});
    CHECK(pipeline_options(s, Io{std::cout, std::cerr}).deny_exit_code == n);
    CHECK(gate_exit_code(s, policy_gate(false, n)) == n);
    CHECK(gate_exit_code(s, policy_gate(true, 0)) == kExitOk);

    auto sev = settings_for({"--exit-code", std::to_string(n), "dir"});
    pipeline::GateResult secrets;
    secrets.reported_secrets = 1;
    CHECK(gate_exit_code(sev, secrets) == n);
    pipeline::GateResult vulns;
    vulns.reported_vulnerabilities[Severity::kCritical] = 2;
    CHECK(gate_exit_code(sev, vulns) == n);
    CHECK(gate_exit_code(sev, pipeline::GateResult{}) == kExitOk);
  }
  // A policy without --exit-code denies with 1; without --exit-code the severity gate is off.
  auto s = settings_for({"--policy", "p.yaml", "dir"});
  CHECK(pipeline_options(s, Io{std::cout, std::cerr}).deny_exit_code == 1);
  auto none = settings_for({"dir"});
  pipeline::GateResult secrets;
  secrets.reported_secrets = 1;
  CHECK(gate_exit_code(none, secrets) == kExitOk);
}

TEST_CASE("scangate rootfs: --exit-code N on a secret exits N, by the severity gate and by the policy",
          "[cli][exit-code]") {
  Dirs d;
  for (int n : {3, 1}) {
    CAPTURE(n);
    auto r = rootfs({"--scanners", "secret", "--exit-code", std::to_string(n), d.secret});
    CAPTURE(r.err);
    CHECK(r.code == n);
    CHECK(r.err.find("gate failed: 1 secrets found in the image") != std::string::npos);
    CHECK(r.out.find("github-pat") != std::string::npos);

    auto p = rootfs({"--scanners", "secret", "--quiet", "--policy", d.root + "/policy.yaml", "--exit-code",
                     std::to_string(n), d.secret});
    CAPTURE(p.err);
    CHECK(p.code == n);
  }
  auto p = rootfs({"--scanners", "secret", "--quiet", "--policy", d.root + "/policy.yaml", d.secret});
  CHECK(p.code == 1);
  auto clean = rootfs({"--scanners", "secret", "--quiet", "--exit-code", "3", d.clean});
  CHECK(clean.code == kExitOk);
  auto report_only = rootfs({"--scanners", "secret", "--quiet", d.secret});
  CHECK(report_only.code == kExitOk);
}

TEST_CASE("scangate rootfs --upload: a failed upload alone is 4 (0 with --upload-soft-fail), a failed gate wins",
          "[cli][exit-code][upload]") {
  Dirs d;
  auto upload_only =
      rootfs(cat(cat({"--scanners", "secret", "--quiet", "--exit-code", "3"}, d.failing_upload()), {d.clean}));
  CAPTURE(upload_only.err);
  CHECK(upload_only.code == kExitUploadFailed);

  auto soft =
      rootfs(cat(cat({"--scanners", "secret", "--quiet", "--exit-code", "3", "--upload-soft-fail"}, d.failing_upload()),
                 {d.clean}));
  CAPTURE(soft.err);
  CHECK(soft.code == kExitOk);
  CHECK(soft.err.find("--upload-soft-fail") != std::string::npos);

  for (int n : {3, 1}) {
    CAPTURE(n);
    auto both = rootfs(cat(
        cat({"--scanners", "secret", "--quiet", "--exit-code", std::to_string(n)}, d.failing_upload()), {d.secret}));
    CAPTURE(both.err);
    CHECK(both.code == n);  // the gate's reason, not the upload's
    CHECK(both.out.find("github-pat") != std::string::npos);

    auto policy = rootfs(cat(
        cat({"--scanners", "secret", "--quiet", "--policy", d.root + "/policy.yaml", "--exit-code", std::to_string(n)},
            d.failing_upload()),
        {d.secret}));
    CAPTURE(policy.err);
    CHECK(policy.code == n);
  }
}

TEST_CASE("scangate rootfs --upload: a violation and a failed upload are both reported, the gate's code wins",
          "[cli][exit-code][upload]") {
  Dirs d;
  for (int n : {3, 1}) {
    CAPTURE(n);
    auto both =
        rootfs(cat(cat({"--scanners", "secret", "--exit-code", std::to_string(n)}, d.failing_upload()), {d.secret}));
    CAPTURE(both.err);
    CHECK(both.code == n);
    CHECK(both.err.find("gate failed: 1 secrets found in the image") != std::string::npos);
    CHECK(both.err.find("level=error component=upload") != std::string::npos);
  }
  // The upload failure alone: its own code (4), reported the same way, and no gate line.
  auto alone = rootfs(cat(cat({"--scanners", "secret", "--exit-code", "3"}, d.failing_upload()), {d.clean}));
  CAPTURE(alone.err);
  CHECK(alone.code == kExitUploadFailed);
  CHECK(alone.err.find("level=error component=upload") != std::string::npos);
  CHECK(alone.err.find("gate failed") == std::string::npos);
}
