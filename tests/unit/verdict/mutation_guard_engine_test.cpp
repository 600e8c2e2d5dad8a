// A review names several containers: the verdict is the conjunction, so one violating image
// denies the whole object, whichever container (or init container) carries it. Kubernetes admits
// or rejects an object as a whole; the webhook gates "each new image of a Pod" (README) and its
// denial names each denied container (scanner/policy/README.md, render_admission_message()).
// Found by tests/mutation/run.sh: every other engine test sends one image per request.
#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>

#include "scanner/policy/policy.h"
#include "webhook/verdict/engine.h"

using namespace scangate;
using namespace scangate::verdict;
using namespace std::chrono_literals;

namespace {

const std::string kCleanDigest = "sha256:" + std::string(64, 'c');
const std::string kVulnDigest = "sha256:" + std::string(64, 'e');

// Images whose reference holds "vulnerable" carry one CRITICAL finding; the others none.
struct GuardScanner : ImageScanner {
  std::atomic<int> calls{0};
  Result<ScanRecord> scan(const std::string& pinned, const Deadline&) override {
    calls++;
    ScanRecord r;
    r.meta.reference = pinned;
    if (pinned.find(kVulnDigest) != std::string::npos) {
      Finding f;
      f.vuln_id = "CVE-2022-37434";
      f.pkg.name = "zlib";
      f.pkg.version = "1.2.12-r0";
      f.fixed_version = "1.2.12-r2";
      f.severity = Severity::kCritical;
      r.findings.push_back(f);
    }
    r.report_json = "{}";
    return r;
  }
};

struct GuardResolver : DigestResolver {
  Result<std::string> resolve(const std::string& ref, const Deadline&) override {
    return ref.find("vulnerable") != std::string::npos ? kVulnDigest : kCleanDigest;
  }
};

admission::AdmissionRequest pod(std::vector<admission::ContainerImage> images) {
  admission::AdmissionRequest r;
  r.api_version = "admission.k8s.io/v1";
  r.uid = "guard";
  r.operation = "CREATE";
  r.namespace_ = "default";
  r.kind = {"", "v1", "Pod"};
  r.images = std::move(images);
  return r;
}

struct GuardRig {
  std::shared_ptr<GuardScanner> scanner = std::make_shared<GuardScanner>();
  std::unique_ptr<Engine> engine;
  GuardRig() {
    auto snap = std::make_shared<PolicySnapshot>();
    snap->policy = policy::Policy::default_policy();  // CRITICAL limit 0
    snap->revision = snap->policy.revision;
    EngineOptions o;
    o.safety_margin = 100ms;
    o.db_revision = [] { return std::string("db1"); };
    o.today = [] { return std::string("2026-11-27"); };
    engine = std::make_unique<Engine>(
        o, scanner, std::make_shared<GuardResolver>(), [](const ScanRecord&) {}, [snap] { return snap; });
  }
};

using admission::ContainerKind;

}  // namespace

TEST_CASE("one violating image denies the pod whichever container carries it (mutation guard)", "[verdict][mutation]") {
  const admission::ContainerImage clean{"app", "registry.example.com/clean:1", ContainerKind::kContainer};
  const admission::ContainerImage vuln_sidecar{"sidecar", "registry.example.com/vulnerable:1",
                                               ContainerKind::kContainer};
  const admission::ContainerImage vuln_init{"migrate", "registry.example.com/vulnerable:1",
                                            ContainerKind::kInitContainer};

  GuardRig rig;
  // The clean image alone is allowed: the rig itself does not deny everything.
  CHECK(rig.engine->decide_sync(pod({clean}), 5s).allowed);

  for (const auto& images : std::vector<std::vector<admission::ContainerImage>>{
           {clean, vuln_sidecar}, {vuln_sidecar, clean}, {clean, vuln_init}}) {
    // Once scanned (first pass) and from the verdict cache (second pass).
    for (int pass = 0; pass < 2; ++pass) {
      CAPTURE(images.front().container, images.back().container, pass);
      auto d = rig.engine->decide_sync(pod(images), 5s);
      CHECK_FALSE(d.allowed);
      CHECK(d.code == 403);
      const std::string& bad = images.front().image == clean.image ? images.back().container : images.front().container;
      CHECK(d.message.find("container \"" + bad + "\"") != std::string::npos);
      CHECK(d.message.find("container \"app\"") == std::string::npos);  // the clean one is not blamed
      CHECK(d.message.find("CVE-2022-37434") != std::string::npos);
    }
  }
  CHECK(rig.scanner->calls == 2);  // one scan per distinct image
}
