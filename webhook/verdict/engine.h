// The verdict engine: for every image of an admission request, the scan for its digest from the
// cache, or a scan triggered on the worker pool (one per digest at a time, however many requests
// ask), waited for up to the API server's deadline minus a margin; then the shared policy decides.
// When the scan cannot finish in time, the policy's scan.onPending decides while the scan goes on,
// so the controller's retry is a cache hit. The network, the clock and the scanner are seams.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "scanner/core/inventory.h"
#include "scanner/core/result.h"
#include "scanner/match/finding.h"
#include "scanner/policy/policy.h"
#include "scanner/policy/verdict.h"
#include "webhook/admission/review.h"

namespace scangate::verdict {

// What one scan of one digest produced.
struct ScanRecord {
  ImageMetadata meta;
  std::vector<Finding> findings;
  std::vector<policy::CountedFinding> counted;  // the verdict cache's compact form of `findings`
  std::vector<SecretFinding> secrets;
  std::string report_json;  // Trivy-compatible report, for CSPM
  std::chrono::system_clock::time_point scanned_at;
};

// Scans `image` (a reference pinned to its digest: "registry/repo@sha256:...").
class ImageScanner {
 public:
  virtual ~ImageScanner() = default;
  virtual Result<ScanRecord> scan(const std::string& pinned_reference) = 0;
};

// Resolves a tag to the digest the registry serves (a HEAD of the manifest).
class DigestResolver {
 public:
  virtual ~DigestResolver() = default;
  virtual Result<std::string> resolve(const std::string& reference) = 0;
};

// Where new reports go (the durable CSPM spool). Called once per scan, never for dry runs.
using ReportSink = std::function<void(const ScanRecord&)>;

struct PolicySnapshot {
  policy::Policy policy;
  std::string revision;
};
using PolicyProvider = std::function<std::shared_ptr<const PolicySnapshot>()>;

// Metrics and logs without a dependency on the metrics library.
struct EngineHooks {
  std::function<void(bool hit)> cache_lookup;
  std::function<void(const std::string& result, double seconds)> scan_done;  // ok | error
  std::function<void(size_t entries)> cache_size;
  std::function<void(const std::string& line)> log;
};

struct EngineOptions {
  unsigned scan_workers = 2;
  unsigned wait_threads = 16;  // requests waiting on scans
  size_t cache_size = 10000;
  std::chrono::seconds cache_ttl{24 * 3600};
  std::chrono::seconds tag_ttl{60};                  // tag -> digest look-ups
  std::chrono::milliseconds safety_margin{1500};     // answered this long before the API server gives up
  std::chrono::milliseconds max_wait{25000};         // cap on the wait, whatever the timeout says
  std::chrono::milliseconds default_timeout{10000};  // when the request has no ?timeout=
  std::function<std::string()> db_revision;          // part of the cache key
  std::function<std::string()> today;                // YYYY-MM-DD; default: the system clock (UTC)
};

class Engine {
 public:
  Engine(EngineOptions options, std::shared_ptr<ImageScanner> scanner, std::shared_ptr<DigestResolver> resolver,
         ReportSink sink, PolicyProvider policy, EngineHooks hooks = {});
  ~Engine();
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  // Decides: `done` is called exactly once, before the deadline. When every image is decided
  // without waiting (cache hits, exemptions, errors) it is called on this thread before decide()
  // returns; otherwise later, from a wait-pool thread.
  void decide(admission::AdmissionRequest req, std::chrono::nanoseconds timeout,
              std::function<void(admission::AdmissionDecision)> done);
  // The same, blocking (tests and the CLI).
  admission::AdmissionDecision decide_sync(const admission::AdmissionRequest& req, std::chrono::nanoseconds timeout);

  size_t cache_entries() const;
  size_t scans_started() const;

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace scangate::verdict
