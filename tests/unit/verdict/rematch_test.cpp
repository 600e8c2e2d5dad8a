// A DB reload re-decides cached images from their kept inventory, with no pull: the engine with a
// fake scanner whose "DB" is a table the test switches (scan() and rematch() counted apart), the
// verdict cache's digest index and content age, and RegistryImageScanner::rematch() on the real
// matcher and report writer with an in-memory DB.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <atomic>
#include <chrono>
#include <map>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

#include "scanner/policy/policy.h"
#include "scanner/vulndb/vuln_store.h"
#include "webhook/verdict/engine.h"
#include "webhook/verdict/registry_scanner.h"
#include "webhook/verdict/scan_cache.h"

using namespace scangate;
using namespace scangate::verdict;
using namespace std::chrono_literals;

namespace {

const std::string kDigest = "sha256:3333333333333333333333333333333333333333333333333333333333333333";
const std::string kIndex = "sha256:4444444444444444444444444444444444444444444444444444444444444444";
const std::string kAmd64 = "sha256:5555555555555555555555555555555555555555555555555555555555555555";
const std::string kArm64 = "sha256:6666666666666666666666666666666666666666666666666666666666666666";

// The fake DB of one revision: package name -> the CRITICAL vulnerability it has.
using FakeDb = std::map<std::string, std::string>;

// Every image holds the packages "zlib" and "busybox"; what is vulnerable is what the DB in force
// says. scan() reads "the image" (counted), rematch() only matches the kept packages again.
struct DbScanner : ImageScanner {
  std::mutex mu;
  FakeDb db;  // guarded by mu: the DB in force
  std::atomic<int> scans{0}, rematches{0}, images_calls{0};
  std::chrono::milliseconds rematch_delay{0};
  bool keep = true;            // scan() keeps the inventory
  bool rematch_fails = false;  // rematch() returns an error (not "unsupported")
  std::atomic<bool> rematch_deadline_bounded{false};
  std::vector<std::string> rematched;  // pinned references, guarded by mu

  void set_db(FakeDb d) {
    std::lock_guard<std::mutex> l(mu);
    db = std::move(d);
  }

  ScanRecord decide(const ImageMetadata& meta, const Inventory& inv) {
    FakeDb now;
    {
      std::lock_guard<std::mutex> l(mu);
      now = db;
    }
    ScanRecord r;
    r.meta = meta;
    std::string report = "{\"findings\":[";
    for (const auto& p : inv.packages) {
      auto it = now.find(p.name);
      if (it == now.end()) continue;
      Finding f;
      f.pkg = p;
      f.vuln_id = it->second;
      f.severity = Severity::kCritical;
      f.status = "fixed";
      f.fixed_version = "99";
      r.findings.push_back(f);
      report += "\"" + it->second + "\",";
    }
    r.report_json = report + "]}";
    r.secrets = inv.secrets;
    return r;
  }

  Result<ScanRecord> scan(const std::string& pinned, const Deadline&) override {
    scans++;
    ImageMetadata meta;
    meta.reference = pinned;
    meta.manifest_digest = pinned.substr(pinned.find('@') + 1);
    Inventory inv;
    inv.os = {"alpine", "3.14.3", "", ""};
    for (const char* n : {"zlib", "busybox"}) {
      Package p;
      p.type = "apk";
      p.name = n;
      p.version = "1.0";
      inv.packages.push_back(p);
    }
    ScanRecord r = decide(meta, inv);
    r.scanned_at = std::chrono::system_clock::now();
    if (keep) r.kept = KeptInventory::keep(meta, inv);
    return r;
  }

  Result<ScanRecord> rematch(const ScanRecord& previous, const std::string& pinned, const Deadline& d) override {
    rematches++;
    rematch_deadline_bounded = d.bounded() && !d.expired();
    {
      std::lock_guard<std::mutex> l(mu);
      rematched.push_back(pinned);
    }
    std::this_thread::sleep_for(rematch_delay);
    if (rematch_fails) return Error(ErrorKind::kIo, "the DB could not be read");
    if (!previous.kept) return Error(ErrorKind::kInternal, "the engine asked to rematch a record without inventory");
    ScanRecord r = decide(previous.kept->meta, previous.kept->inventory);
    r.scanned_at = previous.scanned_at;
    r.kept = previous.kept;
    return r;
  }

  Result<std::vector<PlatformImage>> images(const std::string& pinned, const Deadline& d) override {
    images_calls++;
    if (pinned.find(kIndex) != std::string::npos)
      return std::vector<PlatformImage>{{"linux/amd64", kAmd64}, {"linux/arm64/v8", kArm64}};
    return ImageScanner::images(pinned, d);
  }
};

struct NoResolver : DigestResolver {
  Result<std::string> resolve(const std::string& ref, const Deadline&) override {
    return Error(ErrorKind::kNotFound, "no tags in this test: " + ref);
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

const std::string kImage = "registry.example.com/app@" + kDigest;

template <class S = DbScanner>
struct Rig {
  std::shared_ptr<S> scanner = std::make_shared<S>();
  std::mutex mu;
  std::string revision = "db1";              // guarded by mu
  std::vector<std::string> uploads;          // report texts, guarded by mu
  std::vector<std::string> rematch_results;  // rematch_done results, guarded by mu
  std::shared_ptr<const PolicySnapshot> snap;
  std::unique_ptr<Engine> engine;

  explicit Rig(policy::Policy p = policy::Policy::default_policy()) {
    auto s = std::make_shared<PolicySnapshot>();
    s->policy = p;
    s->revision = p.revision;
    snap = s;
    EngineOptions o;
    o.safety_margin = 100ms;
    o.db_revision = [this] {
      std::lock_guard<std::mutex> l(mu);
      return revision;
    };
    o.today = [] { return std::string("2026-11-27"); };
    EngineHooks h;
    h.rematch_done = [this](const std::string& result, double) {
      std::lock_guard<std::mutex> l(mu);
      rematch_results.push_back(result);
    };
    engine = std::make_unique<Engine>(
        o, scanner, std::make_shared<NoResolver>(),
        [this](const ScanRecord& r) {
          std::lock_guard<std::mutex> l(mu);
          uploads.push_back(r.report_json);
        },
        [this] { return snap; }, h);
  }
  // The DB reload: the scanner's DB and the revision the engine keys on change together.
  void reload(const std::string& rev, FakeDb db) {
    scanner->set_db(std::move(db));
    std::lock_guard<std::mutex> l(mu);
    revision = rev;
  }
  std::vector<std::string> uploaded() {
    std::lock_guard<std::mutex> l(mu);
    return uploads;
  }
  std::vector<std::string> rematch_hooks() {
    std::lock_guard<std::mutex> l(mu);
    return rematch_results;
  }
};

}  // namespace

TEST_CASE("after a DB reload a cached image is decided again from its kept inventory, not scanned", "[rematch]") {
  Rig rig;
  auto before = rig.engine->decide_sync(request(kImage), 5s);
  CHECK(before.allowed);  // db1 knows nothing about zlib or busybox
  CHECK(rig.scanner->scans == 1);
  REQUIRE(rig.uploaded().size() == 1);
  CHECK(rig.uploaded()[0] == "{\"findings\":[]}");

  rig.reload("db2", {{"zlib", "CVE-2022-37434"}});
  auto after = rig.engine->decide_sync(request(kImage), 5s);
  CHECK_FALSE(after.allowed);
  CHECK(after.code == 403);
  CHECK(after.message.find("1 CRITICAL") != std::string::npos);
  CHECK(after.message.find("CVE-2022-37434") != std::string::npos);
  CHECK(after.cache_miss);
  CHECK(rig.scanner->scans == 1);  // nothing was pulled again
  CHECK(rig.scanner->rematches == 1);
  CHECK(rig.scanner->images_calls == 1);  // nor was the manifest read again
  CHECK(rig.scanner->rematch_deadline_bounded);
  CHECK(rig.engine->scans_started() == 1);
  CHECK(rig.engine->rematches_started() == 1);
  CHECK(rig.rematch_hooks() == std::vector<std::string>{"ok"});
  // Today's report went to the sink, once for (digest, db2).
  REQUIRE(rig.uploaded().size() == 2);
  CHECK(rig.uploaded()[1] == "{\"findings\":[\"CVE-2022-37434\",]}");

  // The next requests under db2 are hits: no rematch, no upload.
  auto hit = rig.engine->decide_sync(request(kImage), 5s);
  CHECK_FALSE(hit.allowed);
  CHECK_FALSE(hit.cache_miss);
  CHECK(rig.scanner->rematches == 1);
  CHECK(rig.uploaded().size() == 2);

  // A third DB: matched again from the same kept inventory (the rematched record kept it).
  rig.reload("db3", {{"busybox", "CVE-2021-42374"}});
  auto third = rig.engine->decide_sync(request(kImage), 5s);
  CHECK_FALSE(third.allowed);
  CHECK(third.message.find("CVE-2021-42374") != std::string::npos);
  CHECK(third.message.find("CVE-2022-37434") == std::string::npos);
  CHECK(rig.scanner->scans == 1);
  CHECK(rig.scanner->rematches == 2);
  CHECK(rig.uploaded().size() == 3);

  // Back to a revision already decided: a hit on its entry, nothing runs.
  rig.reload("db2", {{"zlib", "CVE-2022-37434"}});
  auto back = rig.engine->decide_sync(request(kImage), 5s);
  CHECK(back.message.find("CVE-2022-37434") != std::string::npos);
  CHECK_FALSE(back.cache_miss);
  CHECK(rig.scanner->rematches == 2);
  CHECK(rig.uploaded().size() == 3);
}

TEST_CASE("concurrent requests after a reload share one rematch and one upload", "[rematch]") {
  Rig rig;
  REQUIRE(rig.engine->decide_sync(request(kImage), 5s).allowed);
  rig.scanner->rematch_delay = 300ms;
  rig.reload("db2", {{"zlib", "CVE-2022-37434"}});
  std::atomic<int> denied{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 12; ++i)
    threads.emplace_back([&] {
      if (!rig.engine->decide_sync(request(kImage), 5s).allowed) denied++;
    });
  for (auto& t : threads) t.join();
  CHECK(denied == 12);
  CHECK(rig.scanner->rematches == 1);
  CHECK(rig.scanner->scans == 1);
  CHECK(rig.uploaded().size() == 2);
}

TEST_CASE("a rematch slower than the deadline is answered per onPending, the retry is a hit", "[rematch][deadline]") {
  Rig rig;
  REQUIRE(rig.engine->decide_sync(request(kImage), 5s).allowed);
  rig.scanner->rematch_delay = 1500ms;
  rig.reload("db2", {{"zlib", "CVE-2022-37434"}});
  auto t0 = std::chrono::steady_clock::now();
  auto pending = rig.engine->decide_sync(request(kImage), 600ms);
  CHECK(std::chrono::steady_clock::now() - t0 < 600ms);
  CHECK_FALSE(pending.allowed);  // default onPending: deny
  CHECK(pending.message.find("scan.onPending") != std::string::npos);
  CHECK(pending.message.find("CVE-2022-37434") == std::string::npos);
  // The rematch goes on; once it lands the retry is decided from it, with no second run.
  for (int i = 0; i < 40 && rig.uploaded().size() < 2; ++i) std::this_thread::sleep_for(100ms);
  auto again = rig.engine->decide_sync(request(kImage), 600ms);
  CHECK_FALSE(again.cache_miss);
  CHECK(again.message.find("CVE-2022-37434") != std::string::npos);
  CHECK(rig.scanner->rematches == 1);
  CHECK(rig.scanner->scans == 1);
  CHECK(rig.uploaded().size() == 2);
}

TEST_CASE("onPending allow admits while a rematch runs", "[rematch][deadline]") {
  auto p = policy::parse_policy("apiVersion: scangate.io/v1alpha1\nkind: Policy\nscan: {onPending: allow}\n", "p.yaml");
  REQUIRE(p.ok());
  Rig rig(*p);
  REQUIRE(rig.engine->decide_sync(request(kImage), 5s).allowed);
  rig.scanner->rematch_delay = 1000ms;
  rig.reload("db2", {{"zlib", "CVE-2022-37434"}});
  auto d = rig.engine->decide_sync(request(kImage), 500ms);
  CHECK(d.allowed);
  CHECK(rig.scanner->scans == 1);
}

TEST_CASE("a dry run after a reload rematches without uploading, and the first real request uploads once",
          "[rematch]") {
  Rig rig;
  REQUIRE(rig.engine->decide_sync(request(kImage), 5s).allowed);
  rig.reload("db2", {{"zlib", "CVE-2022-37434"}});
  CHECK_FALSE(rig.engine->decide_sync(request(kImage, /*dry_run=*/true), 5s).allowed);
  CHECK(rig.uploaded().size() == 1);
  CHECK_FALSE(rig.engine->decide_sync(request(kImage), 5s).allowed);
  CHECK_FALSE(rig.engine->decide_sync(request(kImage), 5s).allowed);
  REQUIRE(rig.uploaded().size() == 2);
  CHECK(rig.uploaded()[1] == "{\"findings\":[\"CVE-2022-37434\",]}");
  CHECK(rig.scanner->rematches == 1);
  CHECK(rig.scanner->scans == 1);
}

TEST_CASE("a record whose content is older than scan.maxAge is scanned again, not rematched", "[rematch]") {
  auto p = policy::parse_policy("apiVersion: scangate.io/v1alpha1\nkind: Policy\nscan: {maxAge: 1s}\n", "p.yaml");
  REQUIRE(p.ok());
  Rig rig(*p);
  REQUIRE(rig.engine->decide_sync(request(kImage), 5s).allowed);
  std::this_thread::sleep_for(1300ms);
  rig.reload("db2", {{"zlib", "CVE-2022-37434"}});
  auto d = rig.engine->decide_sync(request(kImage), 5s);
  CHECK_FALSE(d.allowed);
  CHECK(rig.scanner->scans == 2);
  CHECK(rig.scanner->rematches == 0);
}

TEST_CASE("a rematched record is as old as its scan: scan.maxAge still asks for a rescan", "[rematch]") {
  auto p = policy::parse_policy("apiVersion: scangate.io/v1alpha1\nkind: Policy\nscan: {maxAge: 2s}\n", "p.yaml");
  REQUIRE(p.ok());
  Rig rig(*p);
  REQUIRE(rig.engine->decide_sync(request(kImage), 5s).allowed);
  std::this_thread::sleep_for(1200ms);
  rig.reload("db2", {{"zlib", "CVE-2022-37434"}});
  CHECK_FALSE(rig.engine->decide_sync(request(kImage), 5s).allowed);
  CHECK(rig.scanner->rematches == 1);
  CHECK(rig.scanner->scans == 1);
  // 2.4 s after the scan, 1.2 s after the rematch: the content is too old, the image is read again
  // (the stale record decides while the rescan runs, the rescan's record afterwards).
  std::this_thread::sleep_for(1200ms);
  rig.engine->decide_sync(request(kImage), 5s);
  for (int i = 0; i < 50 && rig.scanner->scans < 2; ++i) std::this_thread::sleep_for(20ms);
  CHECK(rig.scanner->scans == 2);
  CHECK(rig.scanner->rematches == 1);
}

TEST_CASE("a record that kept no inventory is scanned again after a reload", "[rematch]") {
  Rig rig;
  rig.scanner->keep = false;
  REQUIRE(rig.engine->decide_sync(request(kImage), 5s).allowed);
  rig.reload("db2", {{"zlib", "CVE-2022-37434"}});
  CHECK_FALSE(rig.engine->decide_sync(request(kImage), 5s).allowed);
  CHECK(rig.scanner->scans == 2);
  CHECK(rig.scanner->rematches == 0);
  CHECK(rig.engine->rematches_started() == 0);
}

TEST_CASE("a failing rematch is counted and the image is scanned in the same flight", "[rematch]") {
  Rig rig;
  REQUIRE(rig.engine->decide_sync(request(kImage), 5s).allowed);
  rig.scanner->rematch_fails = true;
  rig.reload("db2", {{"zlib", "CVE-2022-37434"}});
  auto d = rig.engine->decide_sync(request(kImage), 5s);
  CHECK_FALSE(d.allowed);
  CHECK(d.message.find("CVE-2022-37434") != std::string::npos);
  CHECK(rig.scanner->rematches == 1);
  CHECK(rig.scanner->scans == 2);
  CHECK(rig.rematch_hooks() == std::vector<std::string>{"error"});
  CHECK(rig.uploaded().size() == 2);
}

TEST_CASE("a scanner without rematch scans after a reload, as before", "[rematch]") {
  // Keeps an inventory but leaves rematch() to the default ("not supported").
  struct PlainScanner : ImageScanner {
    std::atomic<int> scans{0};
    Result<ScanRecord> scan(const std::string& pinned, const Deadline&) override {
      scans++;
      ScanRecord r;
      r.meta.reference = pinned;
      r.kept = KeptInventory::keep(r.meta, Inventory{});
      return r;
    }
  };
  auto scanner = std::make_shared<PlainScanner>();
  std::string rev = "db1";
  std::mutex mu;
  std::vector<std::string> hooks_heard;
  auto snap = std::make_shared<PolicySnapshot>();
  snap->policy = policy::Policy::default_policy();
  std::shared_ptr<const PolicySnapshot> current = snap;
  EngineOptions o;
  o.db_revision = [&] {
    std::lock_guard<std::mutex> l(mu);
    return rev;
  };
  EngineHooks h;
  h.rematch_done = [&](const std::string& r, double) {
    std::lock_guard<std::mutex> l(mu);
    hooks_heard.push_back(r);
  };
  Engine engine(
      o, scanner, std::make_shared<NoResolver>(), nullptr, [&] { return current; }, h);
  CHECK(engine.decide_sync(request(kImage), 5s).allowed);
  {
    std::lock_guard<std::mutex> l(mu);
    rev = "db2";
  }
  CHECK(engine.decide_sync(request(kImage), 5s).allowed);
  CHECK(scanner->scans == 2);
  std::lock_guard<std::mutex> l(mu);
  CHECK(hooks_heard.empty());  // "not supported" is no rematch
}

TEST_CASE("an index's platform images are each rematched after a reload", "[rematch][platforms]") {
  Rig rig;
  const std::string index = "registry.example.com/app@" + kIndex;
  REQUIRE(rig.engine->decide_sync(request(index), 5s).allowed);
  CHECK(rig.scanner->scans == 2);  // amd64 and arm64
  CHECK(rig.uploaded().size() == 2);
  const int listed = rig.scanner->images_calls;  // the index, then each platform's image
  rig.reload("db2", {{"zlib", "CVE-2022-37434"}});
  auto d = rig.engine->decide_sync(request(index), 5s);
  CHECK_FALSE(d.allowed);
  CHECK(d.message.find("linux/amd64") != std::string::npos);
  CHECK(d.message.find("linux/arm64/v8") != std::string::npos);
  CHECK(rig.scanner->scans == 2);
  CHECK(rig.scanner->rematches == 2);
  CHECK(rig.scanner->images_calls == listed);  // no manifest read: the index's listing is cached
  CHECK(rig.uploaded().size() == 4);
  std::set<std::string> rematched;
  {
    std::lock_guard<std::mutex> l(rig.scanner->mu);
    rematched.insert(rig.scanner->rematched.begin(), rig.scanner->rematched.end());
  }
  CHECK(rematched == std::set<std::string>{"registry.example.com/app@" + kAmd64, "registry.example.com/app@" + kArm64});
}

// --- The verdict cache's part: latest record of a digest, content age, slim form.

namespace {

struct TestClock {
  std::chrono::steady_clock::time_point t = std::chrono::steady_clock::time_point() + 1h;
  std::function<std::chrono::steady_clock::time_point()> fn() {
    return [this] { return t; };
  }
};

std::shared_ptr<const ScanRecord> record_with_inventory() {
  ScanRecord r;
  r.meta.reference = "registry.example.com/app@" + kDigest;
  r.meta.config_json = "{\"architecture\":\"amd64\"}";
  r.report_json = "{\"big\":\"report\"}";
  Finding f;
  f.vuln_id = "CVE-2022-37434";
  f.severity = Severity::kCritical;
  f.pkg.name = "zlib";
  r.findings.push_back(f);
  Inventory inv;
  inv.os = {"alpine", "3.14.3", "Alpine Linux v3.14", ""};
  Package p;
  p.type = "apk";
  p.name = "zlib";
  p.version = "1.2.11-r3";
  p.layer = {"sha256:aaaa", "sha256:bbbb", 2};
  inv.packages.push_back(p);
  SecretFinding s;
  s.rule_id = "aws-access-key-id";
  s.file_path = "app/.env";
  s.start_line = s.end_line = 3;
  s.match = "AWS_ACCESS_KEY_ID=********************";
  s.code_lines = {{3, "AWS_ACCESS_KEY_ID=********************"}};
  inv.secrets.push_back(s);
  r.secrets = inv.secrets;
  r.kept = KeptInventory::keep(r.meta, inv);
  return std::make_shared<const ScanRecord>(std::move(r));
}

}  // namespace

TEST_CASE("kept inventory: packages with their layer, secrets without code, a big config left out", "[rematch]") {
  ImageMetadata meta;
  meta.reference = "r@sha256:1";
  meta.config_json = "{}";
  auto rec = record_with_inventory();
  REQUIRE(rec->kept);
  const Inventory& inv = rec->kept->inventory;
  REQUIRE(inv.packages.size() == 1);
  CHECK(inv.packages[0].name == "zlib");
  CHECK(inv.packages[0].layer.diff_id == "sha256:bbbb");
  CHECK(inv.packages[0].layer.index == 2);
  CHECK(inv.os.family == "alpine");
  REQUIRE(inv.secrets.size() == 1);
  CHECK(inv.secrets[0].match == "AWS_ACCESS_KEY_ID=********************");
  CHECK(inv.secrets[0].code_lines.empty());
  CHECK(rec->kept->meta.config_json == "{\"architecture\":\"amd64\"}");

  meta.config_json = "{\"history\":\"" + std::string(KeptInventory::kMaxKeptConfigBytes, 'x') + "\"}";
  auto big = KeptInventory::keep(meta, Inventory{});
  CHECK(big->meta.config_json.empty());
  CHECK(big->meta.reference == "r@sha256:1");

  // The slim form shares the kept inventory and drops the report.
  auto slim = ScanCache::slim(*rec);
  CHECK(slim->kept == rec->kept);
  CHECK(slim->report_json.empty());
  CHECK(slim->findings.empty());
  CHECK(slim->counted.size() == 1);
}

TEST_CASE("scan cache: latest() finds a digest's last entry under any revision", "[rematch][cache]") {
  TestClock clock;
  ScanCache cache(10, 1h, {}, clock.fn());
  auto rec = record_with_inventory();
  CHECK_FALSE(cache.latest(kDigest, 0s));
  cache.insert(ScanCache::key_of(kDigest, "db1"), rec, true);
  clock.t += 10s;
  auto hit = cache.latest(kDigest, 0s);
  REQUIRE(hit);
  CHECK(hit->key == kDigest + "|db1");
  CHECK(hit->record == rec);
  CHECK(hit->read_at == clock.t - 10s);
  CHECK_FALSE(cache.latest(kArm64, 0s));

  // A record derived from it (a rematch) keeps the content's time: 10 s old already.
  auto rematched = std::make_shared<const ScanRecord>(*rec);
  cache.insert(ScanCache::key_of(kDigest, "db2"), rematched, true, hit->read_at);
  auto second = cache.latest(kDigest, 0s);
  REQUIRE(second);
  CHECK(second->key == kDigest + "|db2");
  CHECK(second->record == rematched);
  CHECK(second->read_at == clock.t - 10s);
  auto fresh = cache.lookup(kDigest + "|db2", 15s);
  REQUIRE(fresh);
  CHECK_FALSE(fresh->stale);
  clock.t += 6s;  // 16 s after the scan, 6 s after the rematch
  auto old = cache.lookup(kDigest + "|db2", 15s);
  REQUIRE(old);
  CHECK(old->stale);
}

TEST_CASE("scan cache: the TTL counts from the content's time, and latest() forgets dropped entries",
          "[rematch][cache]") {
  TestClock clock;
  ScanCache cache(2, 60s, {}, clock.fn());
  auto rec = record_with_inventory();
  cache.insert(ScanCache::key_of(kDigest, "db1"), rec, true);
  clock.t += 50s;
  cache.insert(ScanCache::key_of(kDigest, "db2"), rec, true, clock.t - 50s);
  clock.t += 11s;  // 61 s after the scan: both entries expired
  CHECK_FALSE(cache.lookup(kDigest + "|db2", 0s));
  CHECK_FALSE(cache.latest(kDigest, 0s));

  // Capacity: the digest index never names an entry the cache dropped.
  cache.insert(ScanCache::key_of(kDigest, "db3"), rec, true);
  cache.insert(ScanCache::key_of(kAmd64, "db3"), rec, true);
  cache.insert(ScanCache::key_of(kArm64, "db3"), rec, true);  // drops kDigest|db3
  CHECK(cache.size() == 2);
  CHECK_FALSE(cache.latest(kDigest, 0s));
  CHECK(cache.latest(kArm64, 0s));
}

// --- RegistryImageScanner::rematch on the real matcher and report writer (no registry: a null
// client is never used).

TEST_CASE("registry scanner: rematch matches the kept inventory against the DB in force now", "[rematch]") {
  auto db1 = std::make_shared<vulndb::MemoryVulnStore>();
  db1->set_revision("db1");
  auto db2 = std::make_shared<vulndb::MemoryVulnStore>();
  db2->set_revision("db2");
  vulndb::Advisory a;
  a.vuln_id = "CVE-2022-37434";
  a.ecosystem = "alpine";
  a.release = "3.14";
  a.package = "zlib";
  a.kind = vulndb::AdvisoryKind::kAlpineSecdb;
  a.status = vulndb::FixStatus::kFixed;
  a.fixed_version = "1.2.12-r2";
  a.cve_id = "CVE-2022-37434";
  a.severity = Severity::kCritical;
  db2->add(a);
  std::shared_ptr<const vulndb::VulnStore> current = db1;
  RegistryImageScanner scanner(
      nullptr, [&] { return current; }, nullptr);

  ScanRecord previous = *record_with_inventory();
  previous.scanned_at = std::chrono::system_clock::time_point() + 1000h;
  const std::string pinned = "registry.example.com/app@" + kDigest;

  auto under1 = scanner.rematch(previous, pinned, Deadline::after(10s));
  REQUIRE(under1.ok());
  CHECK(under1->findings.empty());

  current = db2;
  auto under2 = scanner.rematch(previous, pinned, Deadline::after(10s));
  REQUIRE(under2.ok());
  REQUIRE(under2->findings.size() == 1);
  const Finding& f = under2->findings[0];
  CHECK(f.vuln_id == "CVE-2022-37434");
  CHECK(f.pkg.name == "zlib");
  CHECK(f.pkg.version == "1.2.11-r3");
  CHECK(f.fixed_version == "1.2.12-r2");
  CHECK(f.severity == Severity::kCritical);
  CHECK(f.pkg.layer.diff_id == "sha256:bbbb");  // the layer attribution survived
  // The secrets are carried over, the scan time and the kept inventory too.
  REQUIRE(under2->secrets.size() == 1);
  CHECK(under2->secrets[0].rule_id == "aws-access-key-id");
  CHECK(under2->scanned_at == previous.scanned_at);
  CHECK(under2->kept == previous.kept);
  // Each record names the DB it was matched against (the engine caches it under that revision).
  CHECK(under1->db_revision == "db1");
  CHECK(under2->db_revision == "db2");

  // Today's Trivy report: the CVE on zlib in its layer, and the secret.
  auto report = nlohmann::json::parse(under2->report_json);
  CHECK(report["ArtifactName"] == pinned);
  CHECK(report["Metadata"]["OS"]["Family"] == "alpine");
  CHECK(report["Metadata"]["ImageConfig"]["architecture"] == "amd64");
  bool vuln = false, secret = false;
  for (const auto& r : report["Results"]) {
    for (const auto& v : r.value("Vulnerabilities", nlohmann::json::array()))
      vuln = vuln || (v["VulnerabilityID"] == "CVE-2022-37434" && v["PkgName"] == "zlib" &&
                      v["Layer"]["DiffID"] == "sha256:bbbb");
    for (const auto& s : r.value("Secrets", nlohmann::json::array()))
      secret = secret || s["RuleID"] == "aws-access-key-id";
  }
  CHECK(vuln);
  CHECK(secret);

  // Nothing kept: an error that says so (not "unsupported": this scanner can rematch).
  ScanRecord bare;
  auto none = scanner.rematch(bare, pinned, Deadline::after(10s));
  REQUIRE_FALSE(none.ok());
  CHECK_FALSE(is_rematch_unsupported(none.error()));
  CHECK(none.error().message.find("kept no inventory") != std::string::npos);
  // A deadline already passed: an error before any matching.
  auto late = scanner.rematch(previous, pinned, Deadline::after(0ms));
  CHECK_FALSE(late.ok());
}

namespace {

// A scanner whose records name the revision of the DB they were matched against, as
// RegistryImageScanner's do; the DB (and its revision) may change apart from the revision the
// engine reads, as a swap between a request's look-up and its scan's start does.
struct RevisionScanner : DbScanner {
  std::string rev = "db1";  // guarded by mu
  void set_db_rev(const std::string& r, FakeDb d) {
    std::lock_guard<std::mutex> l(mu);
    rev = r;
    db = std::move(d);
  }
  std::string current_rev() {
    std::lock_guard<std::mutex> l(mu);
    return rev;
  }
  Result<ScanRecord> scan(const std::string& pinned, const Deadline& d) override {
    const std::string r = current_rev();
    auto out = DbScanner::scan(pinned, d);
    if (out.ok()) out->db_revision = r;
    return out;
  }
  Result<ScanRecord> rematch(const ScanRecord& previous, const std::string& pinned, const Deadline& d) override {
    const std::string r = current_rev();
    auto out = DbScanner::rematch(previous, pinned, d);
    if (out.ok()) out->db_revision = r;
    return out;
  }
};

}  // namespace

TEST_CASE(
    "a DB swapped between a request's look-up and its scan: the record is cached under the DB it was matched "
    "against, so a rollback does not serve it",
    "[rematch][toctou]") {
  Rig<RevisionScanner> rig;
  rig.reload("db1", {{"zlib", "CVE-2022-37434"}});
  rig.scanner->set_db_rev("db1", {{"zlib", "CVE-2022-37434"}});
  // The engine still reads revision db1 (the request came before the swap), but the scan starts
  // after a broken DB (db2, no advisories) was swapped in: the scan is matched against db2.
  rig.scanner->set_db_rev("db2", {});
  auto during = rig.engine->decide_sync(request(kImage), 5s);
  CHECK(during.allowed);  // what db2 says, for this request
  CHECK(rig.scanner->scans == 1);
  // db2 is rolled back: db1 is the DB in force again. Before the fix the db2 verdict was cached as
  // "digest|db1" and this request was a hit that admitted the image.
  rig.scanner->set_db_rev("db1", {{"zlib", "CVE-2022-37434"}});
  auto after = rig.engine->decide_sync(request(kImage), 5s);
  CHECK_FALSE(after.allowed);
  CHECK(after.message.find("CVE-2022-37434") != std::string::npos);
  CHECK(rig.scanner->scans == 1);  // decided again from the kept inventory
  CHECK(rig.scanner->rematches == 1);
  // And now db1's own verdict is the hit.
  auto hit = rig.engine->decide_sync(request(kImage), 5s);
  CHECK_FALSE(hit.allowed);
  CHECK_FALSE(hit.cache_miss);
  CHECK(rig.scanner->rematches == 1);
}

TEST_CASE("a rematch against a DB swapped after the look-up is cached under that DB's revision", "[rematch][toctou]") {
  Rig<RevisionScanner> rig;
  REQUIRE(rig.engine->decide_sync(request(kImage), 5s).allowed);  // db1: nothing known
  // db2 (zlib vulnerable) comes; the request reads db2, but db3 (empty, broken) is in force when
  // the rematch runs.
  rig.reload("db2", {{"zlib", "CVE-2022-37434"}});
  rig.scanner->set_db_rev("db3", {});
  CHECK(rig.engine->decide_sync(request(kImage), 5s).allowed);
  CHECK(rig.scanner->rematches == 1);
  // db3 rolled back to db2: db2's verdict, not db3's.
  rig.scanner->set_db_rev("db2", {{"zlib", "CVE-2022-37434"}});
  auto after = rig.engine->decide_sync(request(kImage), 5s);
  CHECK_FALSE(after.allowed);
  CHECK(rig.scanner->rematches == 2);
  // The real request that met the db2 record uploaded its report under its own key.
  CHECK(rig.uploaded().size() == 3);
}
