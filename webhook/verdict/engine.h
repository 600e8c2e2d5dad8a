// The verdict engine: for every image of an admission request, the scan for its digest from the
// cache (scan_cache.h), or a scan triggered on the scan pool (one per digest at a time however
// many requests ask: single_flight.h); a tag is first resolved to its digest (tag_cache.h, and one
// look-up per tag at a time on the look-up pool). Nothing is waited for past the request's
// deadline (the API server's ?timeout= minus a margin): a timer answers then, and the policy's
// scan.onPending decides for whatever is still running (a tag look-up or a scan) while it goes
// on, so the controller's retry is a cache hit. The network, the clock and the scanner are seams.
// An image index is judged per platform (EngineOptions::platforms): the first scan of its digest
// lists the index's images, each is then scanned and cached as an image of its own, and the
// image is denied when any platform's image is, with the platform named in the message.
// After a DB reload (EngineOptions::db_revision changes), an image manifest cached under another
// revision is decided again from the inventory its scan kept (ImageScanner::rematch), with no
// registry call: on the scan pool, single-flight per digest|revision and under the same deadlines
// as a scan; its report goes to the sink once. A record that kept no inventory, whose content is
// older than scan.maxAge, or a scanner that cannot rematch: the image is scanned again.
// Look-ups and scans run on bounded queues (work_queue.h): each has its deadline from when it was
// queued, one registry host holds at most part of the look-up threads, and work past the queue
// limits is refused at once (scan.onError decides, the message says the webhook is overloaded).
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "scanner/core/result.h"
#include "scanner/image/platform.h"
#include "webhook/admission/review.h"
#include "webhook/verdict/types.h"

namespace scangate::verdict {

// Where new reports go (the durable CSPM spool). Called once per scan, never for dry runs.
using ReportSink = std::function<void(const ScanRecord&)>;

using PolicyProvider = std::function<std::shared_ptr<const PolicySnapshot>()>;

// Metrics and logs without a dependency on the metrics library.
struct EngineHooks {
  std::function<void(bool hit)> cache_lookup;
  std::function<void(const std::string& result, double seconds)> scan_done;  // ok | error
  // A cached image decided again from its kept inventory against a reloaded DB: ok | error (an
  // error is followed by a full scan, which scan_done counts).
  std::function<void(const std::string& result, double seconds)> rematch_done;
  std::function<void(size_t entries)> cache_size;
  // Work refused or abandoned because the webhook is overloaded: "lookup_queue_full",
  // "lookup_registry_busy", "lookup_expired", "scan_queue_full", "scan_expired", "too_many_images".
  std::function<void(const std::string& what)> rejected;
};

struct EngineOptions {
  unsigned scan_workers = 2;
  unsigned lookup_threads = 32;  // tag look-ups in flight at once (each may wait on a slow registry)
  // Isolation of one slow registry: at most this many of the look-up threads work for one registry
  // host at once, and at most `max_queued_lookups_per_registry` of its look-ups wait; past either
  // queue limit a look-up is refused at once and the image is decided by scan.onError.
  unsigned max_lookups_per_registry = 2;
  size_t max_queued_lookups_per_registry = 64;
  size_t max_queued_lookups = 256;  // look-ups waiting for a thread, all registries together
  size_t max_queued_scans = 256;    // scans waiting for a worker
  // Distinct images judged per request; a request naming more is decided by scan.onError.
  size_t max_images_per_review = 256;
  // ~Engine waits this long for the look-ups and scans running, then leaves them (see ~Engine).
  std::chrono::milliseconds shutdown_grace{5000};
  size_t cache_size = 10000;
  std::chrono::seconds cache_ttl{24 * 3600};
  std::chrono::milliseconds tag_ttl{10000};          // tag -> digest look-ups; 0: not cached
  std::chrono::milliseconds safety_margin{1500};     // answered this long before the API server gives up
  std::chrono::milliseconds max_wait{25000};         // cap on the wait, whatever the timeout says
  std::chrono::milliseconds default_timeout{10000};  // when the request has no ?timeout=
  // Budgets of the work itself, which outlives the request that started it (its result is cached
  // for the retry): the deadline passed to DigestResolver::resolve and ImageScanner::scan.
  std::chrono::milliseconds lookup_timeout{30000};
  std::chrono::milliseconds scan_timeout{10 * 60 * 1000};
  // The platforms the cluster runs. An image index is judged by the image of each (scanned and
  // cached by its own manifest digest) and denied when any one is; a platform the index lacks is
  // skipped (that image cannot run there), an index with none of them is a scan error
  // (scan.onError). Empty: every linux platform the index lists (attestations never count).
  std::vector<Platform> platforms;
  // Pods pull with their own credentials (imagePullSecrets, their ServiceAccount's): tag look-ups
  // and scans run with them (ImageScanner::scan_as, DigestResolver::resolve_as), and a pod is
  // decided by a record only once its credentials reached the image (or the webhook's own did).
  bool pull_secrets = false;
  // The scanner looks up signed scan attestations before it scans (--attestation-key). Without,
  // scan.requireAttestation denies every image, saying why. A record scanned here (no valid
  // attestation) decides for a namespace that requires one only for `attestation_recheck`; after
  // that the image is looked up again, so an attestation pushed meanwhile is found.
  bool attestations = false;
  std::chrono::seconds attestation_recheck{60};
  std::function<std::string()> db_revision;  // part of the cache key
  std::function<std::string()> today;        // YYYY-MM-DD; default: the system clock (UTC)
};

class Engine {
 public:
  Engine(EngineOptions options, std::shared_ptr<ImageScanner> scanner, std::shared_ptr<DigestResolver> resolver,
         ReportSink sink, PolicyProvider policy, EngineHooks hooks = {});
  // Drops the queued look-ups and scans, waits up to options.shutdown_grace for the running ones
  // (their records are cached), then leaves those still blocked to end on their own deadlines;
  // answers no request still waiting on its deadline.
  ~Engine();
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  // Decides: `done` is called exactly once, by the deadline derived from `timeout` (the request's
  // ?timeout=; zero: the default). When every image is decided without waiting (cache hits,
  // exemptions, errors) it is called on this thread before decide() returns; otherwise later, from
  // the thread that finished the last look-up or scan, or from the deadline's timer.
  void decide(admission::AdmissionRequest req, std::chrono::nanoseconds timeout,
              std::function<void(admission::AdmissionDecision)> done);
  // The digests the images of `req` resolve to (AdmissionDecision::digests; allowed, no verdict),
  // with the same pull credentials, tag cache and look-ups as decide(), and by the same deadline:
  // what the mutating webhook pins. An image whose tag does not resolve in time is left out.
  void pin(admission::AdmissionRequest req, std::chrono::nanoseconds timeout,
           std::function<void(admission::AdmissionDecision)> done);
  // The same, blocking (tests and the CLI).
  admission::AdmissionDecision decide_sync(const admission::AdmissionRequest& req, std::chrono::nanoseconds timeout);

  size_t cache_entries() const;
  size_t scans_started() const;      // scan flights queued (an index's listing included)
  size_t rematches_started() const;  // flights queued to rematch a kept inventory (a failed one then scans)

 private:
  void run(admission::AdmissionRequest req, std::chrono::nanoseconds timeout,
           std::function<void(admission::AdmissionDecision)> done, bool digests_only);
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace scangate::verdict
