// The verdict cache: scan records by "digest|db revision", LRU with a TTL, each entry with
// whether its report went to CSPM and the last verdict decided from it (a memo). An entry's age
// is that of the image's content: a record matched again against a new DB is as old as the scan
// that read the image, so the TTL and scan.maxAge still ask for a real rescan. A second index,
// as bounded as the cache, names the latest entry of each digest whatever its revision: after a
// DB reload the engine matches that record's kept inventory again instead of pulling the image.
// Thread-safe.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "scanner/policy/verdict.h"
#include "webhook/verdict/lru_cache.h"
#include "webhook/verdict/types.h"

namespace scangate::verdict {

// The last verdict decided from a cached record and what it was decided for. policy::decide()
// is pure, so a request for the same image reference, namespace and day under the same policy
// snapshot gets the same verdict without counting the findings again.
struct VerdictMemo {
  std::shared_ptr<const PolicySnapshot> policy;  // held, so the pointer is never reused
  std::string reference, namespace_name, today;
  std::shared_ptr<const policy::Verdict> verdict;
};

class ScanCache {
 public:
  using Clock = std::chrono::steady_clock;
  // `on_size` (may be empty) hears the number of entries after every change.
  ScanCache(size_t capacity, Clock::duration ttl, std::function<void(size_t)> on_size = {},
            std::function<Clock::time_point()> now = {});

  // The key of `digest` scanned (or matched) with DB `revision`.
  static std::string key_of(const std::string& digest, const std::string& revision);

  struct Hit {
    std::shared_ptr<const ScanRecord> record;
    bool stale = false;  // its content is older than the policy's scan.maxAge: to be rescanned
    std::shared_ptr<const VerdictMemo> memo;
    std::string key;            // the entry's key
    Clock::time_point read_at;  // when the image's content was read
  };
  // The record of `key` unless it is older than the TTL; stale when older than `max_age` (> 0).
  std::optional<Hit> lookup(const std::string& key, std::chrono::seconds max_age);
  // The entry of `digest` inserted last, under whichever revision (as lookup() of its key).
  std::optional<Hit> latest(const std::string& digest, std::chrono::seconds max_age);

  // Caches `record` for `key` (replacing any); `uploaded`: its report went to the sink already.
  // `read_at`: when the image's content was read (a rematch passes its scan's); default now.
  void insert(const std::string& key, std::shared_ptr<const ScanRecord> record, bool uploaded,
              std::optional<Clock::time_point> read_at = std::nullopt);
  // Keeps `memo` with the entry, unless the entry has been replaced or dropped meanwhile.
  void remember(const std::string& key, const std::shared_ptr<const ScanRecord>& record,
                std::shared_ptr<const VerdictMemo> memo);
  // True (once) when `record` is the cached record for `key` and was never uploaded: a scan that
  // only dry runs asked for, or that a real request joined after the scan had decided not to upload.
  bool claim_upload(const std::string& key, const std::shared_ptr<const ScanRecord>& record);
  // After `record`'s report went to the sink: the entry keeps the record without it.
  void drop_report(const std::string& key, const std::shared_ptr<const ScanRecord>& record);

  size_t size() const;

  // What an entry keeps once the report has been handed to the upload sink: the fields the policy
  // decides on, and the kept inventory a rematch needs (shared, not copied). A cache of thousands
  // of images must not keep thousands of reports, nor the descriptions, references and image
  // configs only the report needed.
  static std::shared_ptr<const ScanRecord> slim(const ScanRecord& record);

 private:
  struct Entry {
    std::shared_ptr<const ScanRecord> record;
    bool uploaded = false;
    std::shared_ptr<const VerdictMemo> memo;
  };
  // The entry of `key` when it still holds `record`.
  Entry* holding(const std::string& key, const std::shared_ptr<const ScanRecord>& record);
  std::optional<Hit> lookup_locked(const std::string& key, std::chrono::seconds max_age);
  void report_size();
  Clock::time_point now() const { return now_ ? now_() : Clock::now(); }

  mutable std::mutex mu_;
  std::function<Clock::time_point()> now_;
  LruTtlCache<std::string, Entry> cache_;
  LruTtlCache<std::string, std::string> latest_;  // digest -> the key inserted last
  std::function<void(size_t)> on_size_;
};

}  // namespace scangate::verdict
