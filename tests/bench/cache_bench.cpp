// Verdict-cache memory and look-up cost (issue 6): fills the webhook's verdict engine with N
// cached scans, each holding its own copy of the findings of a real report (the default
// --cache-size is 10000), and prints the resident memory they take and the cost of a cache-hit
// decision against the full cache. Prints figures; asserts nothing.
// Usage: cache_bench REPORT.json [N]   (REPORT.json: `scangate image --format json` output)
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "scanner/policy/trivy_report.h"
#include "webhook/verdict/engine.h"

using namespace scangate;
using namespace scangate::verdict;
using Clock = std::chrono::steady_clock;

namespace {

long rss_kib(const char* key) {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind(key, 0) == 0) return std::stol(line.substr(std::string(key).size()));
  return -1;
}

std::string digest_of(std::size_t i) {
  char buf[80];
  std::snprintf(buf, sizeof buf, "sha256:%064zx", i * 2654435761u + 1);
  return buf;
}

// Every scan returns a fresh copy of the report's findings and text, as a real scan would.
struct CopyScanner : ImageScanner {
  std::vector<Finding> findings;
  std::string report;
  Result<ScanRecord> scan(const std::string& pinned, const Deadline&) override {
    ScanRecord r;
    r.meta.reference = pinned;
    r.findings = findings;
    r.report_json = report;
    r.scanned_at = std::chrono::system_clock::now();
    return r;
  }
};

struct NoResolver : DigestResolver {
  Result<std::string> resolve(const std::string& ref, const Deadline&) override {
    return Error(ErrorKind::kInvalidArgument, "the bench pins every image: " + ref);
  }
};

admission::AdmissionRequest review_of(std::size_t i) {
  admission::AdmissionRequest r;
  r.api_version = "admission.k8s.io/v1";
  r.uid = "bench-" + std::to_string(i);
  r.operation = "CREATE";
  r.namespace_ = "default";
  r.kind = {"", "v1", "Pod"};
  r.images.push_back({"app", "registry.bench.local/team/app@" + digest_of(i), admission::ContainerKind::kContainer});
  return r;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: cache_bench REPORT.json [N]\n");
    return 2;
  }
  std::ifstream in(argv[1], std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  auto report = policy::read_trivy_report(ss.str());
  if (!report.ok()) {
    std::fprintf(stderr, "cache_bench: %s: %s\n", argv[1], report.error().message.c_str());
    return 2;
  }
  const std::size_t n = argc > 2 ? std::stoul(argv[2]) : 10000;
  auto scanner = std::make_shared<CopyScanner>();
  scanner->findings = report->findings;
  scanner->report = ss.str();
  std::printf("report: %zu findings, %zu bytes of JSON; filling the cache with %zu scans of it\n",
              report->findings.size(), scanner->report.size(), n);

  auto snap = std::make_shared<PolicySnapshot>();
  snap->policy = policy::Policy::default_policy();
  std::shared_ptr<const PolicySnapshot> current = snap;
  EngineOptions o;
  o.cache_size = n;
  o.db_revision = [] { return std::string("bench"); };
  // The report goes to the (no-op) CSPM sink once, then the entry drops its text, as in the
  // webhook.
  Engine engine(
      o, scanner, std::make_shared<NoResolver>(), [](const ScanRecord&) {}, [&current] { return current; });

  const long before = rss_kib("VmRSS:");
  std::size_t denied = 0;
  auto t0 = Clock::now();
  for (std::size_t i = 0; i < n; ++i) {
    auto d = engine.decide_sync(review_of(i), std::chrono::seconds(30));
    denied += d.allowed ? 0 : 1;
    if ((i + 1) % (n / 4 == 0 ? 1 : n / 4) == 0)
      std::printf("  %zu scans cached: VmRSS %.1f MB\n", i + 1, rss_kib("VmRSS:") / 1024.0);
  }
  const double fill_s = std::chrono::duration<double>(Clock::now() - t0).count();
  const long after = rss_kib("VmRSS:");
  std::printf("filled in %.2f s (%zu of %zu denied); VmRSS %.1f MB before, %.1f MB after: %.1f KB per cached scan\n",
              fill_s, denied, n, before / 1024.0, after / 1024.0, n ? double(after - before) / double(n) : 0.0);

  // Cache hits against the full cache, random order, one request at a time.
  const std::size_t lookups = 200000;
  std::mt19937_64 rng(42);
  std::vector<double> us;
  us.reserve(lookups);
  for (std::size_t k = 0; k < lookups; ++k) {
    auto req = review_of(rng() % n);
    auto s = Clock::now();
    engine.decide(std::move(req), std::chrono::seconds(30), [](admission::AdmissionDecision) {});
    us.push_back(std::chrono::duration<double, std::micro>(Clock::now() - s).count());
  }
  std::sort(us.begin(), us.end());
  std::printf(
      "cache-hit decision (request built outside the timing): p50 %.2f µs, p99 %.2f µs over %zu look-ups; "
      "VmHWM %.1f MB\n",
      us[us.size() / 2], us[us.size() * 99 / 100], lookups, rss_kib("VmHWM:") / 1024.0);
  return 0;
}
