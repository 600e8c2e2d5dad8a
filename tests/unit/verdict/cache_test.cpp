// The engine's parts on their own: the generic LRU+TTL cache (with a test clock), the tag cache,
// the verdict cache's upload-once and slimming, and single-flight.
#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

#include "webhook/verdict/lru_cache.h"
#include "webhook/verdict/scan_cache.h"
#include "webhook/verdict/single_flight.h"
#include "webhook/verdict/tag_cache.h"

using namespace scangate;
using namespace scangate::verdict;
using namespace std::chrono_literals;

namespace {

// A clock the test moves by hand.
struct TestClock {
  std::chrono::steady_clock::time_point t = std::chrono::steady_clock::time_point() + 1h;
  std::function<std::chrono::steady_clock::time_point()> fn() {
    return [this] { return t; };
  }
};

}  // namespace

TEST_CASE("LRU cache: the least recently used entry goes first when full, get() counts as a use", "[cache]") {
  TestClock clock;
  LruTtlCache<std::string, int> c(3, 1h, clock.fn());
  c.put("a", 1);
  c.put("b", 2);
  c.put("c", 3);
  REQUIRE(c.get("a") != nullptr);  // "b" is now the least recently used
  c.put("d", 4);
  CHECK(c.size() == 3);
  CHECK(c.get("b") == nullptr);
  CHECK(*c.get("a") == 1);
  CHECK(*c.get("c") == 3);
  CHECK(*c.get("d") == 4);
  // peek() reads without making the entry recent: "a" was used least recently of the three now.
  c.get("c");
  c.get("d");
  CHECK(*c.peek("a") == 1);
  c.put("e", 5);
  CHECK(c.peek("a") == nullptr);
  CHECK(c.peek("c") != nullptr);
}

TEST_CASE("LRU cache: an entry older than the TTL is never returned and is dropped", "[cache]") {
  TestClock clock;
  LruTtlCache<std::string, int> c(10, 10s, clock.fn());
  c.put("a", 1);
  clock.t += 4s;
  c.put("b", 2);
  std::chrono::steady_clock::duration age{};
  REQUIRE(c.get("a", &age) != nullptr);
  CHECK(age == 4s);
  clock.t += 10s;  // "a" is 14 s old, "b" 10 s: the TTL itself still counts as fresh
  CHECK(c.get("a") == nullptr);
  CHECK(c.size() == 1);
  REQUIRE(c.get("b") != nullptr);
  clock.t += 1s;
  CHECK(c.get("b") == nullptr);
  CHECK(c.size() == 0);
}

TEST_CASE("LRU cache: put() replaces a value and restarts its age, capacity 0 keeps one entry", "[cache]") {
  TestClock clock;
  LruTtlCache<std::string, int> c(2, 10s, clock.fn());
  c.put("a", 1);
  clock.t += 8s;
  c.put("a", 7);
  CHECK(c.size() == 1);
  clock.t += 8s;  // 16 s after the first put, 8 s after the second
  REQUIRE(c.get("a") != nullptr);
  CHECK(*c.get("a") == 7);
  CHECK(c.erase("a"));
  CHECK_FALSE(c.erase("a"));

  LruTtlCache<int, int> one(0, 10s, clock.fn());
  CHECK(one.capacity() == 1);
  one.put(1, 1);
  one.put(2, 2);
  CHECK(one.size() == 1);
  CHECK(one.get(1) == nullptr);
  CHECK(*one.get(2) == 2);
}

TEST_CASE("tag cache: a digest is served until its TTL, then the tag must be resolved again", "[cache]") {
  TestClock clock;
  TagCache tags(100, 60s, clock.fn());
  CHECK_FALSE(tags.get("registry.example/app:1").has_value());
  tags.put("registry.example/app:1", "sha256:aaaa");
  clock.t += 59s;
  CHECK(tags.get("registry.example/app:1") == std::optional<std::string>("sha256:aaaa"));
  tags.put("registry.example/app:1", "sha256:bbbb");  // the tag moved
  CHECK(tags.get("registry.example/app:1") == std::optional<std::string>("sha256:bbbb"));
  clock.t += 61s;
  CHECK_FALSE(tags.get("registry.example/app:1").has_value());
}

TEST_CASE("verdict cache: a report is claimed for upload once, then the entry keeps no report", "[cache]") {
  TestClock clock;
  std::vector<size_t> sizes;
  ScanCache cache(
      10, 3h, [&](size_t n) { sizes.push_back(n); }, clock.fn());
  auto rec = std::make_shared<ScanRecord>();
  rec->report_json = "{\"SchemaVersion\":2}";
  Finding f;
  f.vuln_id = "CVE-2022-37434";
  f.pkg.name = "zlib";
  f.pkg.version = "1.2.11-r3";
  f.fixed_version = "1.2.12-r2";
  f.severity = Severity::kCritical;
  f.description = "a long description the policy never reads";
  rec->findings.push_back(f);
  std::shared_ptr<const ScanRecord> full = rec;
  cache.insert("sha256:1|db1", full, /*uploaded=*/false);
  CHECK(sizes == std::vector<size_t>{1});

  auto hit = cache.lookup("sha256:1|db1", 0s);
  REQUIRE(hit);
  CHECK(hit->record == full);
  CHECK(cache.claim_upload("sha256:1|db1", full));
  CHECK_FALSE(cache.claim_upload("sha256:1|db1", full));  // once
  cache.drop_report("sha256:1|db1", full);
  hit = cache.lookup("sha256:1|db1", 0s);
  REQUIRE(hit);
  CHECK(hit->record != full);
  CHECK(hit->record->report_json.empty());
  CHECK(hit->record->findings.empty());
  REQUIRE(hit->record->counted.size() == 1);
  CHECK(hit->record->counted[0].vuln_id == "CVE-2022-37434");
  CHECK(hit->record->counted[0].severity == Severity::kCritical);

  // maxAge makes a hit stale (it stays cached); the TTL drops it.
  clock.t += 1h - 1s;
  hit = cache.lookup("sha256:1|db1", 3600s);
  REQUIRE(hit);
  CHECK_FALSE(hit->stale);
  clock.t += 2s;
  hit = cache.lookup("sha256:1|db1", 3600s);
  REQUIRE(hit);
  CHECK(hit->stale);
  clock.t += 2h;
  CHECK_FALSE(cache.lookup("sha256:1|db1", 0s));
  CHECK(cache.size() == 0);
  CHECK(sizes.back() == 0);
}

TEST_CASE("single flight: the first caller leads, the others wait for its value, then a new flight starts",
          "[single-flight]") {
  struct Shared {
    std::atomic<int> joins{0};
  };
  SingleFlight<std::string, int, Shared> sf;
  std::vector<int> got;
  auto first = sf.join("k", [&](const int& v) { got.push_back(v); });
  CHECK(first.leader);
  first.shared->joins++;
  auto second = sf.join("k", [&](const int& v) { got.push_back(v * 10); });
  CHECK_FALSE(second.leader);
  CHECK(second.shared == first.shared);
  auto other = sf.join("other", [&](const int& v) { got.push_back(v * 100); });
  CHECK(other.leader);
  CHECK(sf.size() == 2);
  sf.complete("k", 7);
  CHECK(got == std::vector<int>{7, 70});
  CHECK(sf.size() == 1);
  auto again = sf.join("k", [&](const int& v) { got.push_back(v); });
  CHECK(again.leader);
  CHECK(again.shared != first.shared);
  sf.complete("other", 1);
  sf.complete("k", 2);
  CHECK(got == std::vector<int>{7, 70, 100, 2});
  sf.complete("k", 3);  // no flight: nothing happens
  CHECK(got.size() == 4);
}

TEST_CASE("single flight: of many threads joining at once exactly one leads and all get the value", "[single-flight]") {
  SingleFlight<int, int> sf;
  std::atomic<int> leaders{0}, delivered{0};
  std::atomic<bool> go{false};
  std::vector<std::thread> threads;
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&] {
      while (!go) std::this_thread::yield();
      auto j = sf.join(1, [&](const int& v) { delivered += v; });
      if (j.leader) leaders++;
    });
  }
  go = true;
  for (auto& t : threads) t.join();
  CHECK(leaders == 1);
  sf.complete(1, 1);
  CHECK(delivered == 8);
}
