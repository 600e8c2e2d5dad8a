// Tag -> digest look-ups the registry answered recently: a tag is resolved again once its entry
// is older than the TTL (a tag moves; a digest does not). The TTL is the window in which a tag
// pushed over with another image is still judged by the old one; a TTL of 0 (or less) keeps
// nothing. Thread-safe.
#pragma once

#include <mutex>
#include <optional>
#include <string>

#include "webhook/verdict/lru_cache.h"

namespace scangate::verdict {

class TagCache {
 public:
  using Clock = std::chrono::steady_clock;
  TagCache(size_t capacity, Clock::duration ttl, std::function<Clock::time_point()> now = {})
      : enabled_(ttl > Clock::duration::zero()), cache_(capacity, ttl, std::move(now)) {}

  // The digest `reference` (normalized) resolved to less than the TTL ago.
  std::optional<std::string> get(const std::string& reference);
  void put(const std::string& reference, std::string digest);
  size_t size() const;

 private:
  const bool enabled_;
  mutable std::mutex mu_;
  LruTtlCache<std::string, std::string> cache_;
};

}  // namespace scangate::verdict
