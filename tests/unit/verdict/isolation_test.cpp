// Isolation of the verdict engine's work (work_queue.h): one registry that never answers holds
// only its share of the look-up threads, work past the queue limits and requests naming too many
// images are decided at once by scan.onError, work whose deadline passed in the queue never runs,
// and ~Engine returns while a look-up blocks forever. Timing bounds are generous on purpose: the
// behaviour is asserted by what was (not) called and which policy path decided.
#include <catch2/catch.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "scanner/policy/policy.h"
#include "webhook/verdict/engine.h"
#include "webhook/verdict/work_queue.h"

using namespace scangate;
using namespace scangate::verdict;
using namespace std::chrono_literals;

namespace {

const char* kDigest = "sha256:1111111111111111111111111111111111111111111111111111111111111111";

// Answers at once, except for references on the host `slow`, which block until released (or a
// minute passes).
struct HostResolver : DigestResolver {
  std::string slow = "slow.example.com";
  std::string slow_prefix;  // when set, every host that starts with it is slow too
  std::mutex mu;
  std::condition_variable cv;
  bool released = false;
  std::atomic<int> slow_calls{0};
  std::atomic<int> calls{0};
  std::vector<std::string> seen;  // guarded by mu
  Result<std::string> resolve(const std::string& ref, const Deadline&) override {
    calls++;
    std::unique_lock<std::mutex> l(mu);
    seen.push_back(ref);
    if (ref.rfind(slow + "/", 0) == 0 || (!slow_prefix.empty() && ref.rfind(slow_prefix, 0) == 0)) {
      slow_calls++;
      cv.wait_for(l, 60s, [&] { return released; });
    }
    return std::string(kDigest);
  }
  void release() {
    {
      std::lock_guard<std::mutex> l(mu);
      released = true;
    }
    cv.notify_all();
  }
};

struct NullScanner : ImageScanner {
  std::atomic<int> calls{0};
  Result<ScanRecord> scan(const std::string& pinned, const Deadline&) override {
    calls++;
    ScanRecord r;
    r.meta.reference = pinned;
    return r;
  }
};

admission::AdmissionRequest request(const std::vector<std::string>& images) {
  admission::AdmissionRequest r;
  r.api_version = "admission.k8s.io/v1";
  r.uid = "u1";
  r.operation = "CREATE";
  r.namespace_ = "default";
  r.kind = {"", "v1", "Pod"};
  for (size_t i = 0; i < images.size(); ++i)
    r.images.push_back({"c" + std::to_string(i), images[i], admission::ContainerKind::kContainer});
  return r;
}

EngineOptions base_options() {
  EngineOptions o;
  o.safety_margin = 500ms;
  o.db_revision = [] { return std::string("db1"); };
  o.today = [] { return std::string("2026-11-27"); };
  return o;
}

struct Rig {
  // Declared before the engine: requests still answered while the engine goes away count here.
  std::atomic<int> answered{0};
  std::mutex rejected_mu;
  std::vector<std::string> rejected;
  std::shared_ptr<HostResolver> resolver = std::make_shared<HostResolver>();
  std::shared_ptr<NullScanner> scanner = std::make_shared<NullScanner>();
  std::shared_ptr<const PolicySnapshot> snap;
  std::unique_ptr<Engine> engine;

  explicit Rig(EngineOptions o, policy::Policy p = policy::Policy::default_policy()) {
    auto s = std::make_shared<PolicySnapshot>();
    s->policy = p;
    snap = s;
    EngineHooks h;
    h.rejected = [this](const std::string& what) {
      std::lock_guard<std::mutex> l(rejected_mu);
      rejected.push_back(what);
    };
    engine = std::make_unique<Engine>(
        std::move(o), scanner, resolver, nullptr, [this] { return snap; }, h);
  }
  ~Rig() {
    resolver->release();
    engine.reset();
  }
  // Starts a request and returns at once; its answer only counts.
  void start(const std::vector<std::string>& images, std::chrono::milliseconds timeout) {
    engine->decide(request(images), timeout, [this](admission::AdmissionDecision) { answered++; });
  }
  bool was_rejected(const std::string& what) {
    std::lock_guard<std::mutex> l(rejected_mu);
    return std::find(rejected.begin(), rejected.end(), what) != rejected.end();
  }
};

void wait_for(const std::function<bool()>& cond, std::chrono::milliseconds at_most = 10s) {
  auto until = std::chrono::steady_clock::now() + at_most;
  while (!cond() && std::chrono::steady_clock::now() < until) std::this_thread::sleep_for(5ms);
}

}  // namespace

TEST_CASE("a registry that never answers does not delay look-ups for another registry", "[verdict][isolation]") {
  Rig rig(base_options());  // the defaults: 32 look-up threads, 2 per registry
  // Four tags on the stalled registry: two run (and block), two wait for that registry's share.
  for (int i = 0; i < 4; ++i) rig.start({"slow.example.com/app:" + std::to_string(i)}, 20s);
  wait_for([&] { return rig.resolver->slow_calls == 2; });
  REQUIRE(rig.resolver->slow_calls == 2);

  auto d = rig.engine->decide_sync(request({"fast.example.com/app:1"}), 20s);
  CHECK(d.allowed);  // resolved and scanned: the fake image has no findings
  CHECK(d.message.empty());
  CHECK(rig.scanner->calls == 1);
  {
    std::lock_guard<std::mutex> l(rig.resolver->mu);
    CHECK_FALSE(rig.resolver->released);  // B was answered while A still blocks
  }
  CHECK(rig.resolver->slow_calls == 2);  // the stalled registry never had more than its share
}

TEST_CASE("look-ups past the queue limit are refused at once and decided by scan.onError", "[verdict][isolation]") {
  auto o = base_options();
  o.lookup_threads = 1;
  o.max_queued_lookups = 2;
  Rig rig(o);
  rig.start({"slow.example.com/app:1"}, 20s);
  wait_for([&] { return rig.resolver->slow_calls == 1; });  // the only thread blocks
  REQUIRE(rig.resolver->slow_calls == 1);
  rig.start({"slow.example.com/app:2", "other.example.com/app:3"}, 20s);  // both wait: the queue is full

  auto t0 = std::chrono::steady_clock::now();
  auto d = rig.engine->decide_sync(request({"fast.example.com/app:4"}), 20s);
  CHECK(std::chrono::steady_clock::now() - t0 < 10s);  // not at the 19.5 s deadline
  CHECK_FALSE(d.allowed);
  CHECK(d.message.find("overloaded") != std::string::npos);
  CHECK(d.message.find("scan.onError: deny") != std::string::npos);
  CHECK(d.message.find("scan.onPending") == std::string::npos);
  CHECK(rig.was_rejected("lookup_queue_full"));
  CHECK(rig.resolver->calls == 1);  // nothing but the blocked look-up reached the resolver
}

TEST_CASE("a registry's look-ups past its own queue limit are refused, other registries still queue",
          "[verdict][isolation]") {
  auto o = base_options();
  o.lookup_threads = 2;
  o.max_lookups_per_registry = 1;
  o.max_queued_lookups_per_registry = 1;
  Rig rig(o);
  rig.start({"slow.example.com/app:1"}, 20s);
  wait_for([&] { return rig.resolver->slow_calls == 1; });
  REQUIRE(rig.resolver->slow_calls == 1);
  rig.start({"slow.example.com/app:2"}, 20s);  // waits for the registry's one thread
  auto refused = rig.engine->decide_sync(request({"slow.example.com/app:3"}), 20s);
  CHECK_FALSE(refused.allowed);
  CHECK(refused.message.find("too many look-ups wait for registry slow.example.com") != std::string::npos);
  CHECK(rig.was_rejected("lookup_registry_busy"));
  auto other = rig.engine->decide_sync(request({"fast.example.com/app:1"}), 20s);
  CHECK(other.allowed);
}

TEST_CASE("a request naming more images than the webhook checks is decided by scan.onError", "[verdict][isolation]") {
  auto o = base_options();
  o.max_images_per_review = 3;
  SECTION("onError deny") {
    Rig rig(o);
    auto d = rig.engine->decide_sync(request({"a.example.com/a:1", "a.example.com/b:1", "a.example.com/c:1",
                                              "a.example.com/d:1", "a.example.com/a:1"}),
                                     20s);
    CHECK_FALSE(d.allowed);
    CHECK(d.code == 403);
    CHECK(d.message.find("the request names 4 images, more than the webhook checks (3)") != std::string::npos);
    CHECK(d.message.find("scan.onError: deny") != std::string::npos);
    CHECK(rig.resolver->calls == 0);
    CHECK(rig.was_rejected("too_many_images"));
    // Repeats count once: three distinct images are judged as usual.
    auto ok = rig.engine->decide_sync(
        request({"a.example.com/a:1", "a.example.com/b:1", "a.example.com/c:1", "a.example.com/a:1"}), 20s);
    CHECK(ok.allowed);
    CHECK(rig.resolver->calls == 3);
  }
  SECTION("onError allow") {
    auto p = policy::parse_policy("apiVersion: scangate.io/v1alpha1\nkind: Policy\nscan: {onError: allow}\n", "p.yaml");
    REQUIRE(p.ok());
    Rig rig(o, *p);
    auto d = rig.engine->decide_sync(
        request({"a.example.com/a:1", "a.example.com/b:1", "a.example.com/c:1", "a.example.com/d:1"}), 20s);
    CHECK(d.allowed);
    REQUIRE(d.warnings.size() == 1);
    CHECK(d.warnings[0].find("the request names 4 images, more than the webhook checks (3)") != std::string::npos);
    CHECK(rig.resolver->calls == 0);
  }
}

TEST_CASE("a look-up whose deadline passed while queued never calls the resolver", "[verdict][isolation]") {
  auto o = base_options();
  o.lookup_timeout = 0ms;  // the deadline is set when queued: it has passed when a thread takes it
  Rig rig(o);
  auto d = rig.engine->decide_sync(request({"fast.example.com/app:1"}), 20s);
  CHECK_FALSE(d.allowed);
  CHECK(d.message.find("did not start in time") != std::string::npos);
  CHECK(d.message.find("scan.onError: deny") != std::string::npos);
  CHECK(rig.resolver->calls == 0);
  CHECK(rig.was_rejected("lookup_expired"));
}

TEST_CASE("a scan whose deadline passed while queued never calls the scanner", "[verdict][isolation]") {
  auto o = base_options();
  o.scan_timeout = 0ms;
  Rig rig(o);
  auto d = rig.engine->decide_sync(request({"fast.example.com/app:1"}), 20s);
  CHECK_FALSE(d.allowed);
  CHECK(d.message.find("did not start in time") != std::string::npos);
  CHECK(rig.resolver->calls == 1);
  CHECK(rig.scanner->calls == 0);
  CHECK(rig.was_rejected("scan_expired"));
}

TEST_CASE("the engine goes away in bounded time while a look-up blocks forever", "[verdict][isolation]") {
  auto o = base_options();
  o.shutdown_grace = 200ms;
  Rig rig(o);
  rig.start({"slow.example.com/app:1"}, 20s);
  rig.start({"slow.example.com/app:2", "slow.example.com/app:3"}, 20s);  // one blocks, one queued
  wait_for([&] { return rig.resolver->slow_calls == 2; });
  REQUIRE(rig.resolver->slow_calls == 2);
  auto t0 = std::chrono::steady_clock::now();
  rig.engine.reset();
  CHECK(std::chrono::steady_clock::now() - t0 < 30s);  // the resolver blocks for 60 s
  CHECK(rig.answered == 0);                            // no request is answered during shutdown
  CHECK(rig.resolver->slow_calls == 2);                // the queued look-up was dropped
  // The look-ups left behind end now; they must not answer requests of the engine that is gone.
  rig.resolver->release();
  std::this_thread::sleep_for(100ms);
  CHECK(rig.answered == 0);
}

TEST_CASE("the work queue: per-key share, queue limits, expired jobs", "[verdict][isolation]") {
  WorkQueue q(WorkQueue::Limits{2, 2, 1, 0});
  std::mutex mu;
  std::condition_variable cv;
  bool go = false;
  std::atomic<int> ran{0}, expired{0};
  auto block = [&](const Deadline&) {
    std::unique_lock<std::mutex> l(mu);
    cv.wait_for(l, 60s, [&] { return go; });
    ran++;
  };
  auto count = [&](const Deadline&) { ran++; };
  auto on_expired = [&] { expired++; };
  CHECK(q.submit("a", Deadline::after(60s), block, on_expired) == WorkQueue::Refusal::kNone);
  wait_for([&] { return q.queued() == 0; });
  // Key "a" has its one running job: a second waits, while "b" behind it runs.
  CHECK(q.submit("a", Deadline::after(60s), count, on_expired) == WorkQueue::Refusal::kNone);
  CHECK(q.submit("b", Deadline::after(60s), count, on_expired) == WorkQueue::Refusal::kNone);
  wait_for([&] { return ran == 1; });
  CHECK(ran == 1);
  CHECK(q.queued() == 1);
  // An already-expired job is ended without running even though its key is busy.
  CHECK(q.submit("a", Deadline::after(-1s), count, on_expired) == WorkQueue::Refusal::kNone);
  wait_for([&] { return expired == 1; });
  CHECK(expired == 1);
  CHECK(q.submit("a", Deadline::after(60s), count, on_expired) == WorkQueue::Refusal::kNone);
  CHECK(q.submit("c", Deadline::after(60s), count, on_expired) == WorkQueue::Refusal::kFull);
  {
    std::lock_guard<std::mutex> l(mu);
    go = true;
  }
  cv.notify_all();
  wait_for([&] { return ran == 4; });
  CHECK(ran == 4);
  CHECK(expired == 1);
  CHECK(q.shutdown(10s));
  CHECK(q.submit("a", Deadline::after(60s), count, on_expired) == WorkQueue::Refusal::kStopped);
}

namespace {

// Scans that hold their worker until their deadline passes (or a minute), as a registry dripping
// one byte per minute would; counts the scans started.
struct StallingScanner : ImageScanner {
  std::atomic<int> calls{0};
  Result<ScanRecord> scan(const std::string&, const Deadline& deadline) override {
    calls++;
    auto until = std::chrono::steady_clock::now() + 60s;
    while (!deadline.expired() && std::chrono::steady_clock::now() < until) std::this_thread::sleep_for(5ms);
    return Error(ErrorKind::kLimit, "the scan deadline passed");
  }
};

std::string pinned(int i) {
  char hex[65];
  std::snprintf(hex, sizeof hex, "%064x", i + 1);
  return "a.example.com/app@sha256:" + std::string(hex);
}

}  // namespace

TEST_CASE("a scan stalled past scan_timeout ends as an error and frees its worker", "[verdict][isolation]") {
  auto o = base_options();
  o.scan_workers = 1;
  o.scan_timeout = 300ms;
  auto scanner = std::make_shared<StallingScanner>();
  auto snap = std::make_shared<const PolicySnapshot>(PolicySnapshot{policy::Policy::default_policy(), "r"});
  Engine engine(o, scanner, std::make_shared<HostResolver>(), nullptr, [&] { return snap; });
  auto t0 = std::chrono::steady_clock::now();
  auto d = engine.decide_sync(request({pinned(1)}), 20s);
  CHECK(std::chrono::steady_clock::now() - t0 < 10s);  // the scan's own deadline, not the request's 19.5 s
  CHECK_FALSE(d.allowed);
  CHECK(d.message.find("the scan deadline passed") != std::string::npos);
  CHECK(d.message.find("scan.onError: deny") != std::string::npos);
  // The one worker is free again: the next image's scan starts (and ends the same way).
  auto next = engine.decide_sync(request({pinned(2)}), 20s);
  CHECK(next.message.find("the scan deadline passed") != std::string::npos);
  CHECK(scanner->calls == 2);
}

TEST_CASE("one review naming thousands of digests never queues thousands of scans", "[verdict][isolation]") {
  auto o = base_options();
  o.scan_workers = 1;
  o.max_queued_scans = 4;
  o.scan_timeout = 2s;
  auto scanner = std::make_shared<StallingScanner>();
  auto snap = std::make_shared<const PolicySnapshot>(PolicySnapshot{policy::Policy::default_policy(), "r"});
  std::mutex mu;
  std::vector<std::string> rejected;
  EngineHooks h;
  h.rejected = [&](const std::string& what) {
    std::lock_guard<std::mutex> l(mu);
    rejected.push_back(what);
  };
  Engine engine(
      o, scanner, std::make_shared<HostResolver>(), nullptr, [&] { return snap; }, h);

  SECTION("10,000 digests: past max_images_per_review, decided at once by scan.onError") {
    std::vector<std::string> images;
    for (int i = 0; i < 10000; ++i) images.push_back(pinned(i));
    auto t0 = std::chrono::steady_clock::now();
    auto d = engine.decide_sync(request(images), 20s);
    CHECK(std::chrono::steady_clock::now() - t0 < 5s);
    CHECK_FALSE(d.allowed);
    CHECK(d.message.find("names 10000 images, more than the webhook checks (256)") != std::string::npos);
    CHECK(scanner->calls == 0);
    CHECK(engine.scans_started() == 0);
  }
  SECTION("200 digests (within the per-review limit): 1 running + 4 queued, the rest refused") {
    std::vector<std::string> images;
    for (int i = 0; i < 200; ++i) images.push_back(pinned(i));
    auto t0 = std::chrono::steady_clock::now();
    auto d = engine.decide_sync(request(images), 20s);
    CHECK(std::chrono::steady_clock::now() - t0 < 15s);
    CHECK_FALSE(d.allowed);
    CHECK(d.message.find("too many scans wait") != std::string::npos);
    CHECK(engine.scans_started() <= 5);
    CHECK(scanner->calls <= 5);
    std::lock_guard<std::mutex> l(mu);
    CHECK(std::count(rejected.begin(), rejected.end(), "scan_queue_full") >= 195);
  }
}

// Attacker review of issue 12: with 4 look-up threads, two stalled registries named in 8 reviews took
// every thread, and a fresh tag at a healthy registry waited until it was denied. With the default
// pool, it takes lookup_threads / max_lookups_per_registry stalled hosts at once.
TEST_CASE("with the default pool, several stalled registries leave look-ups at others unhindered",
          "[verdict][isolation]") {
  const EngineOptions defaults;
  const unsigned hosts = defaults.lookup_threads / defaults.max_lookups_per_registry - 1;
  REQUIRE(hosts >= 8);  // the README's figure is 16 hosts at once
  Rig rig(base_options());
  rig.resolver->slow_prefix = "stalled-";
  for (unsigned h = 0; h < hosts; ++h)
    for (int i = 0; i < 4; ++i)
      rig.start({"stalled-" + std::to_string(h) + ".example.com/app:" + std::to_string(i)}, 20s);
  const int running = static_cast<int>(hosts * defaults.max_lookups_per_registry);
  wait_for([&] { return rig.resolver->slow_calls == running; });
  REQUIRE(rig.resolver->slow_calls == running);  // each host holds its share, the rest of its tags wait

  auto d = rig.engine->decide_sync(request({"fast.example.com/app:1"}), 20s);
  CHECK(d.allowed);
  CHECK(d.message.empty());
  CHECK(rig.scanner->calls == 1);
  CHECK(rig.resolver->slow_calls == running);
}
