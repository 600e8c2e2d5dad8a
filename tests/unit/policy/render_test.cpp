#include "scanner/policy/render.h"

#include <catch2/catch.hpp>

#include "scenario_input.h"

using namespace scangate;
using namespace scangate::policy;

namespace {

const std::string kHead = "apiVersion: scangate.io/v1alpha1\nkind: Policy\n";

Policy pol(const std::string& body) {
  auto r = parse_policy(kHead + body, "policy.yaml");
  if (!r.ok()) FAIL(r.error().message);
  return r.value();
}

struct Fixture {
  std::vector<Finding> findings = scangate::test::scenario_findings();
  Verdict verdict(const Policy& p, const std::string& ns = "", size_t max_listed = 20) const {
    DecisionInput in;
    in.image = {"docker.io/library/python", "python:3.6-alpine", scangate::test::scenario_image_id()};
    in.namespace_name = ns;
    in.findings = findings;
    in.today = "2026-06-15";
    in.max_listed = max_listed;
    return decide(p, in);
  }
};

bool valid_utf8(const std::string& s) {
  size_t i = 0;
  while (i < s.size()) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    size_t n = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
    if (n == 0 || i + n > s.size()) return false;
    for (size_t k = 1; k < n; ++k)
      if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) return false;
    i += n;
  }
  return true;
}

}  // namespace

// The format of issue 6: one line per failing container.
TEST_CASE("render: the admission line for the seed scenario", "[render][admission]") {
  Fixture fx;
  Verdict v = fx.verdict(Policy::default_policy());
  std::string line = render_admission_line("app", v);
  INFO(line);
  const std::string head =
      "container \"app\" image python:3.6-alpine (sha256:409b6e4e…) has 8 CRITICAL vulnerabilities (policy allows 0): ";
  CHECK(line.rfind(head, 0) == 0);
  CHECK(line.find("CVE-2022-37434 zlib 1.2.11-r3→1.2.12-r2") != std::string::npos);
  CHECK(line.find("CVE-2022-22822 expat 2.4.1-r0→2.4.3-r0") != std::string::npos);
  // The full list ends its sentence before the advice.
  const std::string tail = "1.2.12-r2. Rebuild on a patched base image, or add a policy exception.";
  CHECK(line.size() > tail.size());
  CHECK(line.substr(line.size() - tail.size()) == tail);
  CHECK(line.find('\n') == std::string::npos);
  // All 8 fit in the default bound, so nothing is elided.
  CHECK(line.substr(head.size()).find("…") == std::string::npos);
}

TEST_CASE("render: the admission line is bounded and elides ids, keeping the advice", "[render][admission]") {
  Fixture fx;
  Verdict v = fx.verdict(Policy::default_policy());
  for (size_t max : {size_t{160}, size_t{220}, size_t{300}}) {
    std::string line = render_admission_line("app", v, max);
    INFO(line);
    CHECK(line.size() <= max);
    CHECK(valid_utf8(line));
    CHECK(line.find("has 8 CRITICAL vulnerabilities (policy allows 0): ") != std::string::npos);
    CHECK(line.find("…") != std::string::npos);
    CHECK(line.find("Rebuild on a patched base image") != std::string::npos);
  }
  // Fewer findings listed than counted (max_listed) also ends the list with an ellipsis.
  Verdict few = fx.verdict(Policy::default_policy(), "", 2);
  CHECK(render_admission_line("app", few).find(", … Rebuild") != std::string::npos);
  // Tiny bounds still hold.
  CHECK(render_admission_line("app", v, 40).size() <= 40);
  CHECK(valid_utf8(render_admission_line("app", v, 40)));
}

TEST_CASE("render: several exceeded severities and allowed verdicts", "[render][admission]") {
  Fixture fx;
  Verdict v = fx.verdict(pol("limits: {CRITICAL: 0, HIGH: 5}\n"));
  std::string line = render_admission_line("web", v);
  CHECK(line.find("has 8 CRITICAL vulnerabilities (policy allows 0) and 29 HIGH (policy allows 5): ") !=
        std::string::npos);
  CHECK(render_admission_line("app", fx.verdict(pol("limits: {}\n"))).empty());
  CHECK(render_admission_line("app", fx.verdict(pol("mode: warn\n"))).empty());
}

TEST_CASE("render: scan pending and failed scans", "[render][admission]") {
  DecisionInput in;
  in.image = {"docker.io/library/python", "python:3.6-alpine", ""};
  in.today = "2026-06-15";
  in.scan_state = ScanState::kPending;
  std::string pending = render_admission_line("app", decide(Policy::default_policy(), in));
  CHECK(pending ==
        "container \"app\" image python:3.6-alpine was not scanned in time (policy scan.onPending: deny). Retry "
        "shortly: the scan continues in the background.");
  in.scan_state = ScanState::kError;
  in.scan_error = "manifest unknown";
  std::string failed = render_admission_line("app", decide(Policy::default_policy(), in));
  CHECK(failed.find("could not be scanned: manifest unknown (policy scan.onError: deny)") != std::string::npos);
}

TEST_CASE("render: the admission message joins denied containers within a bound", "[render][admission]") {
  Fixture fx;
  Verdict denied = fx.verdict(Policy::default_policy());
  Verdict allowed = fx.verdict(pol("limits: {}\n"));
  std::string msg = render_admission_message({{"app", &denied}, {"sidecar", &allowed}, {"init", &denied}});
  CHECK(msg.find("container \"app\"") == 0);
  CHECK(msg.find("container \"sidecar\"") == std::string::npos);
  CHECK(msg.find("\ncontainer \"init\"") != std::string::npos);

  std::vector<ContainerVerdict> many;
  for (int i = 0; i < 50; ++i) many.push_back({"c" + std::to_string(i), &denied});
  std::string big = render_admission_message(many, 2048);
  CHECK(big.size() <= 2048);
  CHECK(valid_utf8(big));
  CHECK(big.find("more containers denied") != std::string::npos);
}

TEST_CASE("render: admission warnings carry expired exceptions and warn-mode violations", "[render][admission]") {
  Fixture fx;
  Verdict v = fx.verdict(pol("mode: warn\nexceptions:\n  - {id: CVE-2022-37434, expires: 2026-01-01, reason: r}\n"));
  auto w = admission_warnings("app", v);
  REQUIRE(w.size() == 2);
  CHECK(w[0].rfind("container \"app\" image python:3.6-alpine (sha256:409b6e4e…): policy violation (mode: warn)", 0) ==
        0);
  CHECK(w[1].find("exception 'CVE-2022-37434' (policy.yaml:5) expired on 2026-01-01 and no longer applies") !=
        std::string::npos);
  for (const auto& s : admission_warnings("app", v, 60)) {
    CHECK(s.size() <= 60);
    CHECK(valid_utf8(s));
  }
}

TEST_CASE("render: CLI text", "[render][text]") {
  Fixture fx;
  Verdict v =
      fx.verdict(pol("exceptions:\n  - {id: CVE-2022-37434, expires: 2026-01-01, reason: old}\n"
                     "  - {id: CVE-2022-22822, expires: 2027-01-01, reason: \"expat path unused\"}\n"));
  std::string t = render_text(v);
  INFO(t);
  CHECK(t.find("policy: policy.yaml (sha256:") == 0);
  CHECK(t.find("verdict: DENIED\n") != std::string::npos);
  CHECK(t.find("  CRITICAL       7  0      exceeded\n") != std::string::npos);
  CHECK(t.find("  HIGH          29  -") != std::string::npos);
  CHECK(t.find("  - 7 CRITICAL vulnerabilities; the policy allows 0\n") != std::string::npos);
  CHECK(t.find("CVE-2022-37434 zlib 1.2.11-r3 → 1.2.12-r2") == std::string::npos);  // items use the compact form
  CHECK(t.find("CVE-2022-37434 zlib 1.2.11-r3→1.2.12-r2") != std::string::npos);
  CHECK(t.find("exceptions applied:\n  - CVE-2022-22822 (line 5, expires 2027-01-01): 1 finding; expat path unused") !=
        std::string::npos);
  CHECK(t.find("warning: exception 'CVE-2022-37434' (policy.yaml:4) expired on 2026-01-01 and no longer applies\n") !=
        std::string::npos);

  Verdict exempt = fx.verdict(pol("exemptImages: [\"docker.io/library/*\"]\n"));
  CHECK(render_text(exempt).find("verdict: ALLOWED (exempt by exemptImages 'docker.io/library/*')") !=
        std::string::npos);
  CHECK(render_text(fx.verdict(pol("mode: warn\n"))).find("verdict: ALLOWED with violations (mode: warn)") !=
        std::string::npos);
  CHECK(render_text(fx.verdict(pol("limits: {}\n"))).find("verdict: ALLOWED\n") != std::string::npos);
}

TEST_CASE("render: truncate_utf8 never splits a character", "[render]") {
  std::string s = "ab→cd→ef";
  CHECK(truncate_utf8(s, 100) == s);
  for (size_t n = 3; n < s.size(); ++n) {
    std::string t = truncate_utf8(s, n);
    CHECK(t.size() <= n);
    CHECK(valid_utf8(t));
  }
  CHECK(truncate_utf8(s, 2).empty());
}
