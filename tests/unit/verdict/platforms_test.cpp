// Multi-arch images: an image index is judged by the image of every platform the cluster runs
// (EngineOptions::platforms; by default every linux entry), each scanned and cached by its own
// manifest digest; one violating platform denies the image and the message names it. The fake
// scanner lists a 2-platform index (plus a windows entry and an attestation, never judged by
// default) whose amd64 image is clean and whose arm64/v8 image carries the seed scenario's
// findings (8 CRITICAL, from the expected TSV).
#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "scanner/image/platform.h"
#include "scanner/policy/policy.h"
#include "unit/policy/scenario_input.h"
#include "webhook/verdict/engine.h"

using namespace scangate;
using namespace scangate::verdict;
using namespace std::chrono_literals;

namespace {

std::string digest_of(char c) { return "sha256:" + std::string(64, c); }

const std::string kIndex = digest_of('1');   // linux/amd64 -> kAmd, linux/arm64/v8 -> kArm, ...
const std::string kIndex2 = digest_of('2');  // linux/amd64 -> kAmd2, linux/arm64/v8 -> kArm (shared)
const std::string kAmd = digest_of('a');
const std::string kArm = digest_of('b');
const std::string kWin = digest_of('c');
const std::string kAtt = digest_of('d');
const std::string kAmd2 = digest_of('e');
const std::string kSingle = digest_of('f');  // not an index

std::string digest_in(const std::string& pinned) { return pinned.substr(pinned.rfind('@') + 1); }

struct IndexScanner : ImageScanner {
  std::mutex mu;
  std::vector<std::string> scanned;   // digests, in order
  std::map<std::string, int> listed;  // images() calls per digest
  std::set<std::string> failing;      // digests whose scan fails
  std::chrono::milliseconds delay{0};

  Result<std::vector<PlatformImage>> images(const std::string& pinned, const Deadline&) override {
    const std::string d = digest_in(pinned);
    {
      std::lock_guard<std::mutex> l(mu);
      listed[d]++;
    }
    if (d == kIndex)
      return std::vector<PlatformImage>{
          {"linux/amd64", kAmd}, {"linux/arm64/v8", kArm}, {"windows/amd64", kWin}, {"unknown/unknown", kAtt}};
    if (d == kIndex2) return std::vector<PlatformImage>{{"linux/arm64/v8", kArm}, {"linux/amd64", kAmd2}};
    return std::vector<PlatformImage>{{"", d}};
  }

  Result<ScanRecord> scan(const std::string& pinned, const Deadline&) override {
    const std::string d = digest_in(pinned);
    std::this_thread::sleep_for(delay);
    {
      std::lock_guard<std::mutex> l(mu);
      scanned.push_back(d);
      if (failing.count(d)) return Error(ErrorKind::kNetwork, "blob download reset");
    }
    ScanRecord r;
    r.meta.reference = pinned;
    if (d == kArm || d == kWin) r.findings = test::scenario_findings();
    r.report_json = "{\"ArtifactName\":\"" + pinned + "\"}";
    return r;
  }
  std::multiset<std::string> scans() {
    std::lock_guard<std::mutex> l(mu);
    return {scanned.begin(), scanned.end()};
  }
};

struct Resolver : DigestResolver {
  Result<std::string> resolve(const std::string& ref, const Deadline&) override {
    if (ref.find("/multi2:") != std::string::npos) return kIndex2;
    if (ref.find("/multi:") != std::string::npos) return kIndex;
    return kSingle;
  }
};

admission::AdmissionRequest request(const std::string& image, bool dry_run = false) {
  admission::AdmissionRequest r;
  r.api_version = "admission.k8s.io/v1";
  r.uid = "u1";
  r.operation = "CREATE";
  r.namespace_ = "default";
  r.kind = {"", "v1", "Pod"};
  r.dry_run = dry_run;
  r.images.push_back({"app", image, admission::ContainerKind::kContainer});
  return r;
}

std::vector<Platform> platforms(std::initializer_list<const char*> list) {
  std::vector<Platform> out;
  for (const char* t : list) {
    auto p = parse_platform(t);
    REQUIRE(p.ok());
    out.push_back(*p);
  }
  return out;
}

struct Rig {
  std::shared_ptr<IndexScanner> scanner = std::make_shared<IndexScanner>();
  std::mutex uploads_mu;
  std::vector<std::string> uploads;  // the uploaded reports
  std::shared_ptr<const PolicySnapshot> snap;
  std::unique_ptr<Engine> engine;

  explicit Rig(std::vector<Platform> wanted = {}, policy::Policy p = policy::Policy::default_policy()) {
    auto s = std::make_shared<PolicySnapshot>();
    s->policy = p;
    s->revision = p.revision;
    snap = s;
    EngineOptions o;
    o.safety_margin = 100ms;
    o.platforms = std::move(wanted);
    o.db_revision = [] { return std::string("db1"); };
    o.today = [] { return std::string("2026-11-27"); };
    engine = std::make_unique<Engine>(
        o, scanner, std::make_shared<Resolver>(),
        [this](const ScanRecord& r) {
          std::lock_guard<std::mutex> l(uploads_mu);
          uploads.push_back(r.report_json);
        },
        [this] { return snap; });
  }
  std::multiset<std::string> uploaded() {
    std::lock_guard<std::mutex> l(uploads_mu);
    return {uploads.begin(), uploads.end()};
  }
};

std::string report_of(const std::string& digest) {
  return "{\"ArtifactName\":\"registry.example.com/multi@" + digest + "\"}";
}

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

}  // namespace

TEST_CASE("platforms_to_check: every linux entry by default, else every entry a wanted platform matches",
          "[verdict][platforms]") {
  std::vector<Platform> offered = {{"linux", "amd64", ""},     {"linux", "arm64", "v8"}, {"windows", "amd64", ""},
                                   {"unknown", "unknown", ""}, {"linux", "arm", "v6"},   {"linux", "arm", "v7"}};
  CHECK(platforms_to_check(offered, {}) == std::vector<size_t>{0, 1, 4, 5});
  CHECK(platforms_to_check(offered, platforms({"linux/amd64"})) == std::vector<size_t>{0});
  // linux/arm64 and linux/arm64/v8 both mean the arm64 entry; listed twice it is chosen once.
  CHECK(platforms_to_check(offered, platforms({"linux/arm64", "linux/arm64/v8"})) == std::vector<size_t>{1, 4, 5});
  // A wanted variant chooses it and the lower ones a CPU of that level runs; a wanted architecture
  // without one chooses every variant; arm64 also chooses 32-bit arm (containerd's fallback).
  CHECK(platforms_to_check(offered, platforms({"linux/arm/v7"})) == std::vector<size_t>{4, 5});
  CHECK(platforms_to_check(offered, platforms({"linux/arm"})) == std::vector<size_t>{4, 5});
  CHECK(platforms_to_check(offered, platforms({"linux/arm/v6", "linux/amd64"})) == std::vector<size_t>{0, 4});
  // Absent platforms choose nothing; attestations are never chosen, even when asked for.
  CHECK(platforms_to_check(offered, platforms({"linux/s390x"})).empty());
  CHECK(platforms_to_check(offered, {{"unknown", "unknown", ""}}).empty());
  CHECK(platforms_to_check({}, {}).empty());
}

// Attacker review of issue 12: with --platforms linux/amd64, an index of a vulnerable linux/amd64/v3
// image first and a clean linux/amd64 image was judged by the clean one only, while containerd on
// an x86-64-v3 node pulls the v3 image.
TEST_CASE("platforms_to_check: linux/amd64 judges every amd64 variant of the index", "[verdict][platforms]") {
  std::vector<Platform> offered = {{"linux", "amd64", "v3"}, {"linux", "amd64", ""}, {"linux", "arm64", "v8"}};
  CHECK(platforms_to_check(offered, platforms({"linux/amd64"})) == std::vector<size_t>{0, 1});
  CHECK(platforms_to_check(offered, platforms({"linux/amd64/v3"})) == std::vector<size_t>{0, 1});
  CHECK(platforms_to_check(offered, platforms({"linux/amd64/v2"})) == std::vector<size_t>{1});
}

// Second attacker review: entries without an os (containerd takes them for its own os), without an
// architecture, and the fallbacks a node uses when the index lacks its platform (amd64 -> 386,
// arm64 -> arm) were left out, and their vulnerable images admitted.
TEST_CASE("platforms_to_check: a missing os or architecture, and containerd's fallback platforms, are judged",
          "[verdict][platforms]") {
  std::vector<Platform> offered = {{"linux", "amd64", ""},  {"", "arm64", ""},      {"linux", "", ""},
                                   {"linux", "386", ""},    {"linux", "arm", "v5"}, {"Linux", "AArch64", "V8"},
                                   {"windows", "amd64", ""}};
  CHECK(platforms_to_check(offered, {}) == std::vector<size_t>{0, 1, 2, 3, 4, 5});
  CHECK(platforms_to_check(offered, platforms({"linux/amd64"})) == std::vector<size_t>{0, 2, 3});
  CHECK(platforms_to_check(offered, platforms({"linux/arm64"})) == std::vector<size_t>{1, 2, 4, 5});
  CHECK(platforms_to_check(offered, platforms({"linux/s390x"})) == std::vector<size_t>{2});
  CHECK(platform_may_run(Platform{"linux", "arm", "v7"}, Platform{"linux", "arm", "v6"}));
  CHECK_FALSE(platform_may_run(Platform{"linux", "arm", "v6"}, Platform{"linux", "arm", "v7"}));
  CHECK_FALSE(platform_may_run(Platform{"linux", "386", ""}, Platform{"linux", "amd64", ""}));
}

TEST_CASE("an index with a clean amd64 and a vulnerable arm64 image is denied, naming the platform",
          "[verdict][platforms]") {
  Rig rig;
  auto d = rig.engine->decide_sync(request("registry.example.com/multi:1"), 5s);
  CHECK_FALSE(d.allowed);
  CHECK(d.code == 403);
  CHECK(contains(d.message, "container \"app\" image registry.example.com/multi:1 (linux/arm64/v8)"));
  CHECK(contains(d.message, "8 CRITICAL"));
  CHECK_FALSE(contains(d.message, "linux/amd64"));  // the clean platform is not what denies
  CHECK(d.cache_miss);
  // Each linux platform's image was scanned once; windows and the attestation were not.
  CHECK(rig.scanner->scans() == std::multiset<std::string>{kAmd, kArm});
  // Each platform's report was uploaded once.
  CHECK(rig.uploaded() == std::multiset<std::string>{report_of(kAmd), report_of(kArm)});

  // The retry is decided from the cache: no listing, no scan, no upload again.
  auto again = rig.engine->decide_sync(request("registry.example.com/multi:1"), 5s);
  CHECK_FALSE(again.allowed);
  CHECK_FALSE(again.cache_miss);
  CHECK(again.message == d.message);
  CHECK(rig.scanner->listed[kIndex] == 1);
  CHECK(rig.scanner->scans().size() == 2);
  CHECK(rig.uploaded().size() == 2);
}

TEST_CASE("platforms linux/amd64 judges the index by its amd64 image only", "[verdict][platforms]") {
  Rig rig(platforms({"linux/amd64"}));
  auto d = rig.engine->decide_sync(request("registry.example.com/multi:1"), 5s);
  CHECK(d.allowed);
  CHECK(d.message.empty());
  CHECK(rig.scanner->scans() == std::multiset<std::string>{kAmd});
  CHECK(rig.uploaded() == std::multiset<std::string>{report_of(kAmd)});
}

TEST_CASE("platforms linux/arm64 picks the arm64/v8 image and denies", "[verdict][platforms]") {
  Rig rig(platforms({"linux/arm64"}));
  auto d = rig.engine->decide_sync(request("registry.example.com/multi:1"), 5s);
  CHECK_FALSE(d.allowed);
  CHECK(contains(d.message, "(linux/arm64/v8)"));
  CHECK(rig.scanner->scans() == std::multiset<std::string>{kArm});
}

TEST_CASE("a configured platform the index lacks is skipped, and an index with none of them is an error",
          "[verdict][platforms]") {
  SECTION("one of two present: judged by it") {
    Rig rig(platforms({"linux/amd64", "linux/s390x"}));
    auto d = rig.engine->decide_sync(request("registry.example.com/multi:1"), 5s);
    CHECK(d.allowed);
    CHECK(rig.scanner->scans() == std::multiset<std::string>{kAmd});
  }
  SECTION("none present: scan.onError (deny by default)") {
    Rig rig(platforms({"linux/s390x"}));
    auto d = rig.engine->decide_sync(request("registry.example.com/multi:1"), 5s);
    CHECK_FALSE(d.allowed);
    CHECK(contains(d.message, "has no image for the platforms the webhook checks (linux/s390x)"));
    CHECK(contains(d.message, "it lists linux/amd64, linux/arm64/v8, windows/amd64"));
    CHECK(contains(d.message, "scan.onError: deny"));
    CHECK(rig.scanner->scans().empty());
  }
  SECTION("none present: scan.onError allow admits") {
    auto p = policy::parse_policy("apiVersion: scangate.io/v1alpha1\nkind: Policy\nscan: {onError: allow}\n", "p.yaml");
    REQUIRE(p.ok());
    Rig rig(platforms({"linux/s390x"}), *p);
    CHECK(rig.engine->decide_sync(request("registry.example.com/multi:1"), 5s).allowed);
  }
}

TEST_CASE("a scan error on one platform fails the whole image (scan.onError)", "[verdict][platforms]") {
  Rig rig(platforms({"linux/amd64"}));
  rig.scanner->failing.insert(kAmd);
  auto d = rig.engine->decide_sync(request("registry.example.com/multi:1"), 5s);
  CHECK_FALSE(d.allowed);
  CHECK(contains(d.message, "image registry.example.com/multi:1 (linux/amd64)"));
  CHECK(contains(d.message, "could not be scanned: blob download reset"));
  CHECK(rig.uploaded().empty());
}

TEST_CASE("platform images are cached by their own digest: another index sharing one is not rescanned",
          "[verdict][platforms]") {
  Rig rig;
  CHECK_FALSE(rig.engine->decide_sync(request("registry.example.com/multi:1"), 5s).allowed);
  auto d = rig.engine->decide_sync(request("registry.example.com/multi2:1"), 5s);
  CHECK_FALSE(d.allowed);
  CHECK(contains(d.message, "image registry.example.com/multi2:1 (linux/arm64/v8)"));
  // kArm was scanned once for both indexes; only multi2's own amd64 image is new.
  CHECK(rig.scanner->scans() == std::multiset<std::string>{kAmd, kArm, kAmd2});
  CHECK(rig.uploaded().size() == 3);
}

TEST_CASE("concurrent requests for an unscanned index list it once and scan each platform once",
          "[verdict][platforms]") {
  Rig rig;
  rig.scanner->delay = 200ms;
  std::vector<std::thread> threads;
  std::atomic<int> denied{0};
  for (int i = 0; i < 8; ++i)
    threads.emplace_back([&] {
      auto d = rig.engine->decide_sync(request("registry.example.com/multi:1"), 5s);
      if (!d.allowed && d.message.find("(linux/arm64/v8)") != std::string::npos) denied++;
    });
  for (auto& t : threads) t.join();
  CHECK(denied == 8);
  CHECK(rig.scanner->listed[kIndex] == 1);
  CHECK(rig.scanner->scans() == std::multiset<std::string>{kAmd, kArm});
  CHECK(rig.uploaded().size() == 2);
}

TEST_CASE("a platform image still scanning at the deadline is pending, named with its platform",
          "[verdict][platforms]") {
  Rig rig;
  rig.scanner->delay = 1500ms;
  auto d = rig.engine->decide_sync(request("registry.example.com/multi:1"), 600ms);
  CHECK_FALSE(d.allowed);
  CHECK(contains(d.message, "(linux/amd64)"));
  CHECK(contains(d.message, "was not scanned in time"));
}

TEST_CASE("an image that is not an index is judged as before, with no platform in the message",
          "[verdict][platforms]") {
  Rig rig(platforms({"linux/arm64"}));  // the setting only concerns indexes
  auto d = rig.engine->decide_sync(request("registry.example.com/single:1"), 5s);
  CHECK(d.allowed);
  CHECK(rig.scanner->scans() == std::multiset<std::string>{kSingle});
  CHECK(rig.scanner->listed[kSingle] == 1);
}

TEST_CASE("a dry run of an index uploads no platform's report, a real request then uploads each once",
          "[verdict][platforms]") {
  Rig rig;
  CHECK_FALSE(rig.engine->decide_sync(request("registry.example.com/multi:1", /*dry_run=*/true), 5s).allowed);
  CHECK_FALSE(rig.engine->decide_sync(request("registry.example.com/multi:1", /*dry_run=*/true), 5s).allowed);
  CHECK(rig.uploaded().empty());
  rig.engine->decide_sync(request("registry.example.com/multi:1"), 5s);
  rig.engine->decide_sync(request("registry.example.com/multi:1"), 5s);
  CHECK(rig.uploaded() == std::multiset<std::string>{report_of(kAmd), report_of(kArm)});
}
