// One policy for both gates: for the same image and the same policy file, `scangate image
// --policy`, `scangate policy explain` on the saved report, and the running webhook must reach
// the same verdict. The expectations come from the scenario's expected findings
// (../shared/testdata/scenario/expected), not from what the code prints.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <thread>

#include "it_support.h"
#include "support/process.h"
#include "support/test_support.h"

using scangate::it::metric_sum;
using scangate::it::metrics_text;
using scangate::it::pod_review;
using scangate::it::post;
using scangate::it::scenario_db;
using scangate::it::start_webhook;
using scangate::test::fixture_env;
using scangate::test::run_process;
using scangate::test::testdata;
using Json = nlohmann::json;

namespace {

// The scenario's expected findings of the outdated python:3.6 image at one severity.
std::vector<std::string> expected_ids(const std::string& severity) {
  std::istringstream in(scangate::test::read_file(testdata("scenario/expected/python-3.6.15-alpine3.14.tsv")));
  std::string line;
  std::getline(in, line);  // header: image pkg installed origin vuln_id fixed_version severity
  std::vector<std::string> ids;
  while (std::getline(in, line)) {
    std::vector<std::string> cols;
    std::istringstream row(line);
    for (std::string c; std::getline(row, c, '\t');) cols.push_back(c);
    if (cols.size() == 7 && cols[6] == severity) ids.push_back(cols[4]);
  }
  return ids;
}

struct Case {
  std::string dir;
  std::string policy;  // path
  explicit Case(const std::string& yaml) : dir(scangate::test::make_temp_dir("sg-policy-cli")) {
    policy = dir + "/policy.yaml";
    std::ofstream(policy) << yaml;
  }
  ~Case() { std::filesystem::remove_all(dir); }
};

const std::string kHeader = "apiVersion: scangate.io/v1alpha1\nkind: Policy\n";

}  // namespace

TEST_CASE("policy check: a good file passes, a bad one names each line and key", "[policy]") {
  Case good(kHeader +
            "mode: warn\nlimits: {CRITICAL: 0, HIGH: 10}\nexemptNamespaces: [kube-system]\n"
            "exceptions:\n  - id: GHSA-*\n    expires: 2099-01-31\n    reason: SEC-1\n");
  auto ok = run_process({SCANGATE_CLI, "policy", "check", good.policy});
  CAPTURE(ok.err);
  CHECK(ok.exit_code == 0);

  Case bad(kHeader + "mode: strict\nlimitz: {}\nminCVSS: high\nexceptions:\n  - id: CVE-1\n    expires: 2027-02-30\n");
  auto r = run_process({SCANGATE_CLI, "policy", "check", bad.policy});
  CAPTURE(r.err);
  CHECK(r.exit_code == 2);
  // Every error of the file, each with its line, key and what is allowed.
  CHECK(r.err.find(bad.policy + ":3: key 'mode'") != std::string::npos);
  CHECK(r.err.find("enforce, warn, audit") != std::string::npos);
  CHECK(r.err.find(bad.policy + ":4: key 'limitz': unknown key") != std::string::npos);
  CHECK(r.err.find(bad.policy + ":5: key 'minCVSS'") != std::string::npos);
  CHECK(r.err.find(bad.policy + ":8: key 'exceptions[0].expires'") != std::string::npos);
  CHECK(r.err.find("reason") != std::string::npos);

  Case broken(kHeader + "limits: {CRITICAL: 0\n");
  auto y = run_process({SCANGATE_CLI, "policy", "check", broken.policy});
  CHECK(y.exit_code == 2);
  CHECK(y.err.find(broken.policy + ":") != std::string::npos);

  // A bad policy never lets a scan pass: the gate refuses to run with it.
  auto env = fixture_env();
  auto gate = run_process({SCANGATE_CLI, "image", "--quiet", "--db", scenario_db(), "--policy", bad.policy,
                           env.at("REGISTRY") + "/alpine:3.15.11"});
  CHECK(gate.exit_code == 2);
  CHECK(gate.err.find("limitz") != std::string::npos);
}

namespace {

// Replaces the file the way a ConfigMap update does (a new inode), so the webhook's watcher sees it.
void swap_file(const std::string& path, const std::string& text) {
  std::ofstream(path + ".new") << text;
  std::filesystem::rename(path + ".new", path);
}

// Waits until the webhook's policy reload counter for `result` exceeds `before`.
bool wait_reloads(scangate::it::Webhook& w, const std::string& result, double before) {
  const std::string name = "scangate_policy_reloads_total{result=\"" + result + "\"}";
  for (auto until = std::chrono::steady_clock::now() + std::chrono::seconds(30);
       std::chrono::steady_clock::now() < until;) {
    if (metric_sum(metrics_text(w), name) > before) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  return false;
}

std::string join_warnings(const Json& response) {
  std::string out;
  for (const auto& x : response["response"].value("warnings", Json::array())) out += x.get<std::string>() + "\n";
  return out;
}

}  // namespace

TEST_CASE("policy: the pipeline gate, policy explain and the webhook agree on the same image and policy",
          "[registry][policy][webhook]") {
  auto env = fixture_env();
  const std::string image = env.at("REGISTRY") + "/" + env.at("IMAGE_PYTHON_3_6");
  const auto critical = expected_ids("CRITICAL");
  const auto high = expected_ids("HIGH");
  REQUIRE(critical.size() == 8);  // the scenario README's figure
  REQUIRE(!high.empty());

  std::string dir = scangate::test::make_temp_dir("sg-policy-agree");
  const std::string policy = dir + "/policy.yaml";
  swap_file(policy, kHeader + "limits: {CRITICAL: 0}\n");
  auto w = start_webhook(env, {"--policy", policy});

  // The saved report `policy explain` reads: the same scan the pipeline uploads.
  auto saved = run_process({SCANGATE_CLI, "image", "--quiet", "--db", scenario_db(), "--format", "json", "--output",
                            dir + "/report.json", image});
  REQUIRE(saved.exit_code == 0);

  struct Expect {
    std::string name, yaml, ns;
    bool allowed;
    std::string cli_says;      // in the CLI's verdict text
    std::string webhook_says;  // in the denial message or the warnings
  };
  const std::string all_critical_excepted = [&] {
    std::string y = "exceptions:\n";
    for (const auto& id : critical) y += "  - id: " + id + "\n    expires: 2099-12-31\n    reason: \"SEC-1 tracked\"\n";
    return y;
  }();
  const std::vector<Expect> cases = {
      {"the critical-severity policy denies", "limits: {CRITICAL: 0}\n", "default", false, "8 CRITICAL",
       "CVE-2022-37434"},
      {"exceptions for every CRITICAL id allow", all_critical_excepted, "default", true, "ALLOWED", ""},
      {"an expired exception no longer applies and is reported",
       "exceptions:\n  - id: CVE-2022-37434\n    expires: 2020-01-31\n    reason: \"old waiver\"\n", "default", false,
       "expired", "expired"},
      {"a glob exception scoped to another namespace does not apply here",
       "exceptions:\n  - id: CVE-2022-*\n    namespaces: [legacy]\n    expires: 2099-12-31\n    reason: r\n", "default",
       false, "8 CRITICAL", "CVE-2022-37434"},
      {"the same exception applies in its namespace",
       "exceptions:\n  - id: CVE-2022-*\n    namespaces: [legacy]\n    expires: 2099-12-31\n    reason: r\n", "legacy",
       true, "ALLOWED", ""},
      {"warn mode admits and reports the violation", "mode: warn\nlimits: {CRITICAL: 0}\n", "default", true,
       "8 CRITICAL", "CRITICAL"},
      {"an override for dev-* raises the limit there",
       "limits: {CRITICAL: 0}\noverrides:\n  - namespaces: [\"dev-*\"]\n    limits: {CRITICAL: 8}\n", "dev-team", true,
       "ALLOWED", ""},
      {"the override does not reach other namespaces",
       "limits: {CRITICAL: 0}\noverrides:\n  - namespaces: [\"dev-*\"]\n    limits: {CRITICAL: 8}\n", "prod", false,
       "8 CRITICAL", "CVE-2022-37434"},
      {"a HIGH limit one below the count denies",
       "limits: {CRITICAL: 8, HIGH: " + std::to_string(high.size() - 1) + "}\n", "default", false,
       std::to_string(high.size()) + " HIGH", "HIGH"},
      {"a HIGH limit at the count allows", "limits: {CRITICAL: 8, HIGH: " + std::to_string(high.size()) + "}\n",
       "default", true, "ALLOWED", ""},
      {"an exempt namespace is admitted", "exemptNamespaces: [kube-system]\n", "kube-system", true, "ALLOWED", ""},
      {"an exempt image is admitted", "exemptImages: [\"*/python\"]\n", "default", true, "ALLOWED", ""},
  };

  int uid = 0;
  for (const auto& c : cases) {
    INFO(c.name);
    double reloads = metric_sum(metrics_text(*w), "scangate_policy_reloads_total{result=\"ok\"}");
    swap_file(policy, kHeader + c.yaml);
    REQUIRE(wait_reloads(*w, "ok", reloads));

    // The pipeline gate scans and decides; namespace-scoped rules never match it (it has no
    // namespace), so it is compared only where the namespace is the default one.
    if (c.ns == "default") {
      auto gate = run_process({SCANGATE_CLI, "image", "--quiet", "--db", scenario_db(), "--policy", policy, image});
      CAPTURE(gate.err);
      CHECK(gate.exit_code == (c.allowed ? 0 : 1));
      CHECK(gate.err.find(c.cli_says) != std::string::npos);
    }
    // policy explain on the saved report, judged as the webhook judges that namespace.
    auto explain =
        run_process({SCANGATE_CLI, "policy", "explain", "--policy", policy, "--namespace", c.ns, dir + "/report.json"});
    CAPTURE(explain.out, explain.err);
    CHECK(explain.exit_code == (c.allowed ? 0 : 1));
    CHECK((explain.out + explain.err).find(c.cli_says) != std::string::npos);

    Json r = post(*w, pod_review("agree-" + std::to_string(++uid), image, c.ns));
    CAPTURE(r.dump());
    CHECK(r["response"]["allowed"] == c.allowed);
    const Json status = r["response"].value("status", Json::object());
    std::string said = status.value("message", "") + "\n" + join_warnings(r);
    CHECK(said.find(c.webhook_says) != std::string::npos);
  }

  // A bad edit keeps the last good policy (here: HIGH at the count, allowed) and is counted.
  double errors = metric_sum(metrics_text(*w), "scangate_policy_reloads_total{result=\"error\"}");
  swap_file(policy, kHeader + "limits: {CRITICAL: zero}\n");
  REQUIRE(wait_reloads(*w, "error", errors));
  Json still = post(*w, pod_review("agree-bad-edit", image, "default"));
  CHECK(still["response"]["allowed"] == true);  // exemptImages from the last good policy
  CHECK(w->log().find("keeping the last good policy") != std::string::npos);
  // The webhook scanned the image once for all of it: the verdict cache holds the scan, the policy
  // is applied per request.
  CHECK(metric_sum(metrics_text(*w), "scangate_scans_total") == 1);
  std::filesystem::remove_all(dir);
}
