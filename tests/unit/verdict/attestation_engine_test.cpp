// The engine's side of signed scan attestations and digest pinning, with fake seams: the
// scan.requireAttestation regressions of the attacker review (a pending tag look-up, too many
// images, both under onPending/onError allow), the recheck that reads attestations again without
// a scan, and Engine::pin() resolving digests without scanning.
#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <future>
#include <thread>

#include "scanner/policy/policy.h"
#include "webhook/verdict/engine.h"

using namespace scangate;
using namespace scangate::verdict;
using namespace std::chrono_literals;

namespace {

const std::string kDigest = "sha256:1111111111111111111111111111111111111111111111111111111111111111";

struct Scanner : ImageScanner {
  std::atomic<int> scans{0}, rematches{0};
  std::string attested_on_rematch;  // what a rematch finds ("" none)
  Result<ScanRecord> scan(const std::string& pinned, const Deadline&) override {
    scans++;
    ScanRecord r;
    r.meta.reference = pinned;
    r.report_json = "{}";
    r.basis = "no attestation is attached";
    r.kept = KeptInventory::keep(r.meta, Inventory{});
    r.attestation_checked_at = std::chrono::system_clock::now();
    return r;
  }
  Result<ScanRecord> rematch(const ScanRecord& previous, const std::string&, const Deadline&) override {
    rematches++;
    ScanRecord r = previous;
    r.attested = attested_on_rematch;
    r.basis = attested_on_rematch.empty() ? previous.basis : "the pipeline's signed SBOM";
    r.attestation_checked_at = std::chrono::system_clock::now();
    return r;
  }
};

struct Resolver : DigestResolver {
  std::chrono::milliseconds delay{0};
  std::atomic<int> calls{0};
  Result<std::string> resolve(const std::string&, const Deadline&) override {
    calls++;
    std::this_thread::sleep_for(delay);
    return kDigest;
  }
};

policy::Policy policy_of(const std::string& body) {
  auto p = policy::parse_policy("apiVersion: scangate.io/v1alpha1\nkind: Policy\n" + body, "policy.yaml");
  REQUIRE(p.ok());
  return p.value();
}

admission::AdmissionRequest request(const std::vector<std::string>& images, const std::string& ns) {
  admission::AdmissionRequest r;
  r.api_version = "admission.k8s.io/v1";
  r.uid = "u1";
  r.operation = "CREATE";
  r.namespace_ = ns;
  r.kind = {"", "v1", "Pod"};
  for (size_t i = 0; i < images.size(); ++i)
    r.images.push_back({"c" + std::to_string(i), images[i], admission::ContainerKind::kContainer});
  return r;
}

struct Rig {
  std::shared_ptr<Scanner> scanner = std::make_shared<Scanner>();
  std::shared_ptr<Resolver> resolver = std::make_shared<Resolver>();
  std::shared_ptr<const PolicySnapshot> snap;
  std::unique_ptr<Engine> engine;
  Rig(const policy::Policy& p, bool attestations, std::chrono::seconds recheck = 60s, size_t max_images = 256) {
    auto s = std::make_shared<PolicySnapshot>();
    s->policy = p;
    s->revision = p.revision;
    snap = s;
    EngineOptions o;
    o.safety_margin = 100ms;
    o.attestations = attestations;
    o.attestation_recheck = recheck;
    o.max_images_per_review = max_images;
    o.db_revision = [] { return std::string("db1"); };
    o.today = [] { return std::string("2026-12-08"); };
    engine = std::make_unique<Engine>(
        o, scanner, resolver, [](const ScanRecord&) {}, [this] { return snap; });
  }
};

const char* kAllowingPolicy =
    "scan: {onPending: allow, onError: allow}\n"
    "overrides:\n  - namespaces: [prod]\n    scan: {requireAttestation: true}\n";

}  // namespace

TEST_CASE("requireAttestation: a tag look-up still pending is not an attestation, even with onPending allow",
          "[verdict][attest]") {
  for (bool keys : {true, false}) {
    Rig rig(policy_of(kAllowingPolicy), keys);
    rig.resolver->delay = 1500ms;
    auto prod = rig.engine->decide_sync(request({"registry.example/app:1"}, "prod"), 600ms);
    CHECK_FALSE(prod.allowed);
    CHECK_THAT(prod.message, Catch::Contains("no valid scan attestation"));
    auto dev = rig.engine->decide_sync(request({"registry.example/other:1"}, "dev"), 600ms);
    CHECK(dev.allowed);  // onPending: allow, no attestation required there
  }
}

TEST_CASE("requireAttestation: too many images are never admitted unchecked", "[verdict][attest]") {
  Rig rig(policy_of(kAllowingPolicy), true, 60s, 2);
  auto prod = rig.engine->decide_sync(request({"a.example/x:1", "a.example/y:1", "a.example/z:1"}, "prod"), 5s);
  CHECK_FALSE(prod.allowed);
  CHECK_THAT(prod.message, Catch::Contains("scan.requireAttestation"));
  auto dev = rig.engine->decide_sync(request({"a.example/x:1", "a.example/y:1", "a.example/z:1"}, "dev"), 5s);
  CHECK(dev.allowed);
}

TEST_CASE("requireAttestation: without --attestation-key every image is denied, saying why", "[verdict][attest]") {
  Rig rig(policy_of(kAllowingPolicy), false);
  auto prod = rig.engine->decide_sync(request({"registry.example/app:1"}, "prod"), 5s);
  CHECK_FALSE(prod.allowed);
  CHECK_THAT(prod.message, Catch::Contains("no --attestation-key"));
}

TEST_CASE("requireAttestation: an image scanned for want of an attestation is asked again without a scan",
          "[verdict][attest]") {
  Rig rig(policy_of(kAllowingPolicy), true, 0s);
  auto first = rig.engine->decide_sync(request({"registry.example/app:1"}, "prod"), 5s);
  CHECK_FALSE(first.allowed);
  CHECK(rig.scanner->scans == 1);
  std::this_thread::sleep_for(20ms);
  // Still none: the kept inventory is matched again (the scanner reads the attestations then), no scan.
  auto second = rig.engine->decide_sync(request({"registry.example/app:1"}, "prod"), 5s);
  CHECK_FALSE(second.allowed);
  CHECK(rig.scanner->scans == 1);
  CHECK(rig.scanner->rematches == 1);
  // The pipeline attests meanwhile: the next request is admitted, still without a scan.
  rig.scanner->attested_on_rematch = "sbom";
  std::this_thread::sleep_for(20ms);
  auto third = rig.engine->decide_sync(request({"registry.example/app:1"}, "prod"), 5s);
  CHECK(third.allowed);
  CHECK(rig.scanner->scans == 1);
  CHECK(rig.scanner->rematches == 2);
  // Attested now: no more rechecks.
  auto fourth = rig.engine->decide_sync(request({"registry.example/app:1"}, "prod"), 5s);
  CHECK(fourth.allowed);
  CHECK(rig.scanner->rematches == 2);
}

TEST_CASE("pin() resolves digests without scanning, and leaves out what it cannot resolve in time", "[verdict][pin]") {
  Rig rig(policy::Policy::default_policy(), false);
  std::promise<admission::AdmissionDecision> answer;
  auto got = answer.get_future();
  rig.engine->pin(request({"registry.example/app:1", "registry.example/app@" + kDigest}, "default"), 5s,
                  [&answer](admission::AdmissionDecision d) { answer.set_value(std::move(d)); });
  auto d = got.get();
  CHECK(d.allowed);
  CHECK(d.digests.at("registry.example/app:1") == kDigest);
  CHECK(d.digests.at("registry.example/app@" + kDigest) == kDigest);
  CHECK(rig.scanner->scans == 0);

  rig.resolver->delay = 1500ms;
  std::promise<admission::AdmissionDecision> late;
  auto late_got = late.get_future();
  rig.engine->pin(request({"registry.example/slow:1"}, "default"), 600ms,
                  [&late](admission::AdmissionDecision x) { late.set_value(std::move(x)); });
  auto l = late_got.get();
  CHECK(l.allowed);
  CHECK(l.digests.count("registry.example/slow:1") == 0);
  CHECK(rig.scanner->scans == 0);
}
