// The cache-safety rule of --pod-pull-secrets (docs/ARCHITECTURE.md, "Whose credentials pull an
// image"), on the engine with its seams substituted: a scope's tag look-up is not another scope's,
// and a digest read only with one pod's Secret decides for another pod only after that pod reached
// the image itself.
#include <catch2/catch.hpp>

#include <atomic>
#include <map>
#include <mutex>
#include <set>

#include "scanner/policy/policy.h"
#include "webhook/verdict/engine.h"

using namespace scangate;
using namespace scangate::verdict;
using namespace std::chrono_literals;

namespace {

constexpr const char* kDigest = "sha256:2222222222222222222222222222222222222222222222222222222222222222";

// A private registry: only namespace "team-a" (its pull secret) reaches it; the webhook's own
// credentials do not. Vulnerable content, so a verdict that leaks says "CRITICAL".
struct PrivateRegistry : ImageScanner, DigestResolver {
  std::mutex mu;
  std::multiset<std::string> asked;  // scope of each look-up
  std::atomic<int> scans{0};
  bool own_reaches = false;  // the webhook's own credentials reach it too

  bool reaches(const PullContext& who) { return own_reaches || who.namespace_ == "team-a"; }

  Result<std::string> resolve(const std::string&, const Deadline&) override {
    if (!own_reaches) return Error(ErrorKind::kAuth, "authentication required");
    return std::string(kDigest);
  }
  Result<Resolution> resolve_as(const std::string& ref, const PullContext& who, const Deadline&) override {
    {
      std::lock_guard<std::mutex> l(mu);
      asked.insert(who.scope());
    }
    (void)ref;
    if (!reaches(who)) return Error(ErrorKind::kAuth, "no credential of the pod or the webhook reached it");
    return Resolution{kDigest, own_reaches};
  }
  Result<ScanRecord> scan(const std::string& pinned, const Deadline& d) override {
    return scan_as(pinned, PullContext{}, d);
  }
  Result<ScanRecord> scan_as(const std::string& pinned, const PullContext& who, const Deadline&) override {
    if (!reaches(who)) return Error(ErrorKind::kAuth, "authentication required");
    scans++;
    ScanRecord r;
    r.meta.reference = pinned;
    Finding f;
    f.pkg.type = "apk";
    f.pkg.name = "apk-tools";
    f.pkg.version = "2.10.6-r0";
    f.vuln_id = "CVE-2021-36159";
    f.fixed_version = "2.10.7-r0";
    f.status = "fixed";
    f.severity = Severity::kCritical;
    r.findings.push_back(f);
    r.report_json = "{}";
    r.shared_reach = own_reaches;
    return r;
  }
};

admission::AdmissionRequest pod(const std::string& ns, const std::string& image,
                                std::vector<std::string> secrets = {}) {
  admission::AdmissionRequest r;
  r.api_version = "admission.k8s.io/v1";
  r.uid = "u";
  r.operation = "CREATE";
  r.namespace_ = ns;
  r.kind = {"", "v1", "Pod"};
  r.images.push_back({"app", image, admission::ContainerKind::kContainer});
  r.image_pull_secrets = std::move(secrets);
  return r;
}

struct Rig {
  std::shared_ptr<PrivateRegistry> reg = std::make_shared<PrivateRegistry>();
  std::shared_ptr<const PolicySnapshot> snap;
  std::unique_ptr<Engine> engine;
  explicit Rig(bool pull_secrets = true) {
    auto s = std::make_shared<PolicySnapshot>();
    s->policy = policy::Policy::default_policy();
    snap = s;
    EngineOptions o;
    o.safety_margin = 100ms;
    o.pull_secrets = pull_secrets;
    o.db_revision = [] { return std::string("db1"); };
    o.today = [] { return std::string("2026-12-07"); };
    engine = std::make_unique<Engine>(o, reg, reg, nullptr, [this] { return snap; });
  }
};

}  // namespace

TEST_CASE("pull scope: a pod that cannot reach an image gets no other tenant's verdict", "[verdict][pullscope]") {
  Rig rig;
  auto a = rig.engine->decide_sync(pod("team-a", "private.example/app:1", {"regcred"}), 5s);
  CHECK_FALSE(a.allowed);
  CHECK(a.message.find("CRITICAL") != std::string::npos);
  CHECK(rig.reg->scans == 1);

  for (const std::string& image :
       {std::string("private.example/app:1"), std::string("private.example/app@") + kDigest}) {
    auto b = rig.engine->decide_sync(pod("team-b", image), 5s);
    INFO(b.message);
    CHECK_FALSE(b.allowed);
    CHECK(b.message.find("could not be scanned") != std::string::npos);
    CHECK(b.message.find("CRITICAL") == std::string::npos);
    CHECK(b.message.find("CVE-") == std::string::npos);
  }
  CHECK(rig.reg->scans == 1);
  // team-b's look-ups were its own (the pinned one too), never team-a's cached answer.
  std::lock_guard<std::mutex> l(rig.reg->mu);
  CHECK(rig.reg->asked.size() == 3);
}

TEST_CASE("pull scope: the tag look-up of one scope is cached for that scope only", "[verdict][pullscope]") {
  Rig rig;
  rig.engine->decide_sync(pod("team-a", "private.example/app:1", {"regcred"}), 5s);
  rig.engine->decide_sync(pod("team-a", "private.example/app:1", {"regcred"}), 5s);  // tag cache hit
  rig.engine->decide_sync(pod("team-a", "private.example/app:1", {"other"}), 5s);    // another scope
  std::lock_guard<std::mutex> l(rig.reg->mu);
  CHECK(rig.reg->asked.size() == 2);
}

TEST_CASE("pull scope: what the webhook's own credentials read decides for every pod without a look-up",
          "[verdict][pullscope]") {
  Rig rig;
  rig.reg->own_reaches = true;
  const std::string pinned = std::string("public.example/app@") + kDigest;
  auto a = rig.engine->decide_sync(pod("team-a", pinned), 5s);
  CHECK(a.message.find("CRITICAL") != std::string::npos);
  const size_t asked_before = [&] {
    std::lock_guard<std::mutex> l(rig.reg->mu);
    return rig.reg->asked.size();
  }();
  auto b = rig.engine->decide_sync(pod("team-b", pinned), 5s);
  CHECK(b.message.find("CRITICAL") != std::string::npos);
  std::lock_guard<std::mutex> l(rig.reg->mu);
  CHECK(rig.reg->asked.size() == asked_before);  // a cache hit: no proof needed
  CHECK(rig.reg->scans == 1);
}

TEST_CASE("pull scope: without --pod-pull-secrets every pod is one scope, as before", "[verdict][pullscope]") {
  Rig rig(false);
  rig.reg->own_reaches = true;
  rig.engine->decide_sync(pod("team-a", "public.example/app:1", {"regcred"}), 5s);
  rig.engine->decide_sync(pod("team-b", "public.example/app:1"), 5s);
  std::lock_guard<std::mutex> l(rig.reg->mu);
  REQUIRE(rig.reg->asked.size() == 1);
  CHECK(rig.reg->asked.count("") == 1);
}
