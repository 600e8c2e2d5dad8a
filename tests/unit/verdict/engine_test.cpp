// The verdict engine with its seams substituted: no sockets, a scanner that takes as long as the
// test says. Covers the list: deny and allow, scans slower than the deadline answered per
// onPending with the retry a cache hit, single-flight, dryRun without upload.
#include <catch2/catch.hpp>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <chrono>
#include <fstream>
#include <sstream>
#include <thread>

#include "scanner/policy/policy.h"
#include "support/test_support.h"
#include "webhook/verdict/engine.h"

using namespace scangate;
using namespace scangate::verdict;
using namespace std::chrono_literals;

namespace {

// Findings of the seed scenario's old image, from the expected TSV (independent of the matcher).
std::vector<Finding> scenario_findings() {
  std::vector<Finding> out;
  std::istringstream in(test::read_file(test::testdata("scenario/expected/python-3.6.15-alpine3.14.tsv")));
  std::string line;
  std::getline(in, line);
  while (std::getline(in, line)) {
    std::vector<std::string> f;
    std::stringstream ss(line);
    std::string x;
    while (std::getline(ss, x, '\t')) f.push_back(x);
    if (f.size() != 7) continue;
    Finding fd;
    fd.pkg.type = "apk";
    fd.pkg.name = f[1];
    fd.pkg.version = f[2];
    fd.pkg.src_name = f[3];
    fd.vuln_id = f[4];
    fd.fixed_version = f[5];
    fd.status = "fixed";
    fd.severity = parse_severity(f[6]).value_or(Severity::kUnknown);
    out.push_back(fd);
  }
  return out;
}

struct FakeScanner : ImageScanner {
  std::chrono::milliseconds delay{0};
  std::atomic<int> calls{0};
  bool fail = false;
  Result<ScanRecord> scan(const std::string& pinned, const Deadline&) override {
    calls++;
    std::this_thread::sleep_for(delay);
    if (fail) return Error(ErrorKind::kNetwork, "registry unreachable");
    ScanRecord r;
    r.meta.reference = pinned;
    if (pinned.find("python") != std::string::npos) r.findings = scenario_findings();
    r.report_json = "{}";
    return r;
  }
};

struct FakeResolver : DigestResolver {
  std::atomic<int> calls{0};
  Result<std::string> resolve(const std::string& ref, const Deadline&) override {
    calls++;
    if (ref.find("python") != std::string::npos)
      return std::string("sha256:409b6e4e0000000000000000000000000000000000000000000000000000aaaa");
    if (ref.find("missing") != std::string::npos) return Error(ErrorKind::kNotFound, "image " + ref + " not found");
    return std::string("sha256:1111111111111111111111111111111111111111111111111111111111111111");
  }
};

admission::AdmissionRequest request(const std::string& image, bool dry_run = false, const std::string& ns = "default") {
  admission::AdmissionRequest r;
  r.api_version = "admission.k8s.io/v1";
  r.uid = "u1";
  r.operation = "CREATE";
  r.namespace_ = ns;
  r.kind = {"", "v1", "Pod"};
  r.dry_run = dry_run;
  r.images.push_back({"app", image, admission::ContainerKind::kContainer});
  return r;
}

struct Rig {
  std::shared_ptr<FakeScanner> scanner = std::make_shared<FakeScanner>();
  std::shared_ptr<FakeResolver> resolver = std::make_shared<FakeResolver>();
  std::atomic<int> uploads{0};
  std::atomic<int> empty_uploads{0};  // a report handed to the sink without its text
  std::shared_ptr<const PolicySnapshot> snap;
  std::unique_ptr<Engine> engine;

  explicit Rig(std::chrono::milliseconds delay = 0ms, policy::Policy p = policy::Policy::default_policy()) {
    scanner->delay = delay;
    auto s = std::make_shared<PolicySnapshot>();
    s->policy = p;
    s->revision = p.revision;
    snap = s;
    EngineOptions o;
    o.safety_margin = 100ms;
    o.db_revision = [] { return std::string("db1"); };
    o.today = [] { return std::string("2026-11-27"); };
    engine = std::make_unique<Engine>(
        o, scanner, resolver,
        [this](const ScanRecord& r) {
          uploads++;
          if (r.report_json.empty()) empty_uploads++;
        },
        [this] { return snap; });
  }
};

}  // namespace

TEST_CASE("a vulnerable image is denied with the container, counts and CVEs, a clean one is allowed", "[verdict]") {
  Rig rig;
  auto d = rig.engine->decide_sync(request("python:3.6-alpine"), 5s);
  CHECK_FALSE(d.allowed);
  CHECK(d.code == 403);
  CHECK(d.message.find("container \"app\"") != std::string::npos);
  CHECK(d.message.find("8 CRITICAL") != std::string::npos);
  CHECK(d.message.find("CVE-2022-37434") != std::string::npos);
  CHECK(d.cache_miss);
  auto ok = rig.engine->decide_sync(request("alpine:3.15.11"), 5s);
  CHECK(ok.allowed);
  CHECK(rig.uploads == 2);  // one report per scan
}

TEST_CASE("a scan slower than the deadline is answered in time per onPending, the retry is a hit", "[verdict]") {
  Rig rig(1500ms);
  auto t0 = std::chrono::steady_clock::now();
  auto d = rig.engine->decide_sync(request("python:3.6-alpine"), 600ms);
  auto took = std::chrono::steady_clock::now() - t0;
  CHECK(took < 600ms);     // the API server's own timeout never decides
  CHECK_FALSE(d.allowed);  // default onPending: deny
  CHECK(d.message.find("scan.onPending") != std::string::npos);
  // The scan goes on; once it lands, the controller's retry is a cache hit with no new scan.
  std::this_thread::sleep_for(1500ms);
  auto again = rig.engine->decide_sync(request("python:3.6-alpine"), 600ms);
  CHECK_FALSE(again.cache_miss);
  CHECK(rig.scanner->calls == 1);
  CHECK(again.message.find("CVE-2022-37434") != std::string::npos);
}

TEST_CASE("onPending allow admits while the scan runs", "[verdict]") {
  auto p = policy::parse_policy("apiVersion: scangate.io/v1alpha1\nkind: Policy\nscan: {onPending: allow}\n", "p.yaml");
  REQUIRE(p.ok());
  Rig rig(1000ms, *p);
  auto d = rig.engine->decide_sync(request("python:3.6-alpine"), 500ms);
  CHECK(d.allowed);
}

TEST_CASE("ten concurrent requests for one unscanned image cause one scan", "[verdict]") {
  Rig rig(300ms);
  std::vector<std::thread> threads;
  std::atomic<int> denied{0};
  for (int i = 0; i < 10; ++i) {
    threads.emplace_back([&] {
      auto d = rig.engine->decide_sync(request("python:3.6-alpine"), 5s);
      if (!d.allowed) denied++;
    });
  }
  for (auto& t : threads) t.join();
  CHECK(rig.scanner->calls == 1);
  CHECK(rig.engine->scans_started() == 1);
  CHECK(denied == 10);
  CHECK(rig.uploads == 1);
}

TEST_CASE("dryRun is decided the same way but uploads nothing", "[verdict]") {
  Rig rig;
  auto d = rig.engine->decide_sync(request("python:3.6-alpine", /*dry_run=*/true), 5s);
  CHECK_FALSE(d.allowed);
  CHECK(rig.uploads == 0);
  // A real request later delivers the report once; further requests do not repeat it.
  rig.engine->decide_sync(request("python:3.6-alpine"), 5s);
  rig.engine->decide_sync(request("python:3.6-alpine"), 5s);
  CHECK(rig.uploads == 1);
  CHECK(rig.empty_uploads == 0);  // the cached record kept its report until it was uploaded
  CHECK(rig.scanner->calls == 1);
}

TEST_CASE("a dry run decided from the cache uploads nothing either", "[verdict]") {
  // The second dry run is a cache hit on a record never uploaded: the hit path must not upload.
  Rig rig;
  CHECK_FALSE(rig.engine->decide_sync(request("python:3.6-alpine", /*dry_run=*/true), 5s).allowed);
  auto hit = rig.engine->decide_sync(request("python:3.6-alpine", /*dry_run=*/true), 5s);
  CHECK_FALSE(hit.allowed);
  CHECK_FALSE(hit.cache_miss);
  CHECK(rig.scanner->calls == 1);
  CHECK(rig.uploads == 0);
  // The record kept its report for the first real request.
  rig.engine->decide_sync(request("python:3.6-alpine"), 5s);
  CHECK(rig.uploads == 1);
  CHECK(rig.empty_uploads == 0);
}

TEST_CASE("a real request that joins a dry run's scan uploads its report once", "[verdict]") {
  Rig rig(300ms);
  std::thread dry([&] { rig.engine->decide_sync(request("python:3.6-alpine", /*dry_run=*/true), 5s); });
  while (rig.scanner->calls == 0) std::this_thread::sleep_for(1ms);  // the dry run's scan is running
  auto d = rig.engine->decide_sync(request("python:3.6-alpine"), 5s);
  dry.join();
  CHECK_FALSE(d.allowed);
  CHECK(rig.scanner->calls == 1);
  CHECK(rig.uploads == 1);
  CHECK(rig.empty_uploads == 0);
  rig.engine->decide_sync(request("python:3.6-alpine"), 5s);
  CHECK(rig.uploads == 1);
}

TEST_CASE("a registry or scan error applies onError", "[verdict]") {
  Rig rig;
  auto d = rig.engine->decide_sync(request("registry.example.com/missing:1"), 5s);
  CHECK_FALSE(d.allowed);
  CHECK(d.message.find("not found") != std::string::npos);
  rig.scanner->fail = true;
  auto e = rig.engine->decide_sync(request("alpine:3.20"), 5s);
  CHECK_FALSE(e.allowed);
  CHECK(e.message.find("registry unreachable") != std::string::npos);
}

TEST_CASE("exempt namespaces are admitted without a scan, digest-pinned images skip resolution", "[verdict]") {
  auto p = policy::parse_policy("apiVersion: scangate.io/v1alpha1\nkind: Policy\nexemptNamespaces: [kube-system]\n",
                                "p.yaml");
  REQUIRE(p.ok());
  Rig rig(0ms, *p);
  auto d = rig.engine->decide_sync(request("python:3.6-alpine", false, "kube-system"), 5s);
  CHECK(d.allowed);
  CHECK(rig.scanner->calls == 0);
  auto pinned = rig.engine->decide_sync(
      request("alpine@sha256:2222222222222222222222222222222222222222222222222222222222222222"), 5s);
  CHECK(pinned.allowed);
  CHECK(rig.resolver->calls == 0);
}

namespace {

// A registry that takes the HEAD and never answers, until the test lets it go (or 20 s pass).
struct StalledResolver : DigestResolver {
  std::mutex mu;
  std::condition_variable cv;
  bool released = false;
  std::atomic<int> calls{0};
  std::atomic<bool> bounded{false};  // the engine passed a real deadline
  Result<std::string> resolve(const std::string&, const Deadline& deadline) override {
    calls++;
    bounded = deadline.bounded();
    std::unique_lock<std::mutex> l(mu);
    cv.wait_for(l, 20s, [&] { return released; });
    return std::string("sha256:1111111111111111111111111111111111111111111111111111111111111111");
  }
  void release() {
    {
      std::lock_guard<std::mutex> l(mu);
      released = true;
    }
    cv.notify_all();
  }
};

struct StalledRig {
  std::shared_ptr<FakeScanner> scanner = std::make_shared<FakeScanner>();
  std::shared_ptr<StalledResolver> resolver = std::make_shared<StalledResolver>();
  std::shared_ptr<const PolicySnapshot> snap;
  std::unique_ptr<Engine> engine;

  explicit StalledRig(policy::Policy p = policy::Policy::default_policy()) {
    auto s = std::make_shared<PolicySnapshot>();
    s->policy = p;
    s->revision = p.revision;
    snap = s;
    EngineOptions o;
    o.safety_margin = 1000ms;  // the deadline is 1 s before the timeout: room for a busy machine
    o.db_revision = [] { return std::string("db1"); };
    o.today = [] { return std::string("2026-11-27"); };
    engine = std::make_unique<Engine>(o, scanner, resolver, nullptr, [this] { return snap; });
  }
  ~StalledRig() {
    resolver->release();  // the engine waits for look-ups it started
    engine.reset();
  }
};

}  // namespace

TEST_CASE("a tag look-up that never answers is answered by the deadline, per onPending (deny by default)",
          "[verdict][deadline]") {
  StalledRig rig;
  auto t0 = std::chrono::steady_clock::now();
  auto d = rig.engine->decide_sync(request("registry.example.com/app:1.0"), 2500ms);
  auto took = std::chrono::steady_clock::now() - t0;
  CHECK(took < 2500ms);  // before the API server's own timeout
  CHECK_FALSE(d.allowed);
  CHECK(d.code == 403);
  CHECK(d.message.find("scan.onPending") != std::string::npos);
  CHECK(rig.resolver->calls == 1);
  CHECK(rig.resolver->bounded);
  CHECK(rig.scanner->calls == 0);

  // A second request for the same tag while the look-up still hangs joins it: no second HEAD.
  auto again = rig.engine->decide_sync(request("registry.example.com/app:1.0"), 2500ms);
  CHECK_FALSE(again.allowed);
  CHECK(rig.resolver->calls == 1);

  // Once the registry answers, the digest is cached and scanned: the retry is decided by the scan.
  rig.resolver->release();
  auto later = rig.engine->decide_sync(request("registry.example.com/app:1.0"), 5s);
  for (int i = 0; i < 50 && rig.scanner->calls == 0; ++i) {
    std::this_thread::sleep_for(100ms);
    later = rig.engine->decide_sync(request("registry.example.com/app:1.0"), 5s);
  }
  CHECK(later.allowed);  // the fake image has no findings
  CHECK(rig.scanner->calls == 1);
}

TEST_CASE("a stalled tag look-up is admitted when the policy says scan.onPending: allow", "[verdict][deadline]") {
  auto p = policy::parse_policy("apiVersion: scangate.io/v1alpha1\nkind: Policy\nscan: {onPending: allow}\n", "p.yaml");
  REQUIRE(p.ok());
  StalledRig rig(*p);
  auto t0 = std::chrono::steady_clock::now();
  auto d = rig.engine->decide_sync(request("registry.example.com/app:1.0"), 2500ms);
  CHECK(std::chrono::steady_clock::now() - t0 < 2500ms);
  CHECK(d.allowed);
  bool warned = false;
  for (const auto& w : d.warnings) warned = warned || w.find("scan.onPending is allow") != std::string::npos;
  CHECK(warned);
}

TEST_CASE("decide() does not block its caller on a stalled look-up, the answer comes by the deadline",
          "[verdict][deadline]") {
  StalledRig rig;
  std::mutex mu;
  std::condition_variable cv;
  std::optional<admission::AdmissionDecision> answer;
  std::thread::id answered_on;
  rig.engine->decide(request("registry.example.com/app:1.0"), 2500ms, [&](admission::AdmissionDecision d) {
    std::lock_guard<std::mutex> l(mu);
    answer = std::move(d);
    answered_on = std::this_thread::get_id();
    cv.notify_all();
  });
  {
    std::lock_guard<std::mutex> l(mu);
    CHECK_FALSE(answer.has_value());  // decide() returned while the look-up still hangs
  }
  std::unique_lock<std::mutex> l(mu);
  CHECK(cv.wait_for(l, 2500ms, [&] { return answer.has_value(); }));
  REQUIRE(answer.has_value());
  CHECK_FALSE(answer->allowed);
  CHECK(answered_on != std::this_thread::get_id());
}

TEST_CASE("the scanner gets a bounded deadline of its own", "[verdict][deadline]") {
  struct DeadlineScanner : ImageScanner {
    std::atomic<bool> bounded{false};
    Result<ScanRecord> scan(const std::string& pinned, const Deadline& deadline) override {
      bounded = deadline.bounded() && !deadline.expired();
      ScanRecord r;
      r.meta.reference = pinned;
      return r;
    }
  };
  auto scanner = std::make_shared<DeadlineScanner>();
  auto snap = std::make_shared<PolicySnapshot>();
  snap->policy = policy::Policy::default_policy();
  std::shared_ptr<const PolicySnapshot> current = snap;
  Engine engine(EngineOptions{}, scanner, std::make_shared<FakeResolver>(), nullptr, [&] { return current; });
  auto d = engine.decide_sync(request("alpine:3.20"), 5s);
  CHECK(d.allowed);
  CHECK(scanner->bounded);
}
