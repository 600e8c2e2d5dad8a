// Tag -> digest look-ups the registry answered recently: a tag is resolved again once its entry
// is older than the TTL (a tag moves; a digest does not). Thread-safe.
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
      : cache_(capacity, ttl, std::move(now)) {}

  // The digest `reference` (normalized) resolved to less than the TTL ago.
  std::optional<std::string> get(const std::string& reference);
  void put(const std::string& reference, std::string digest);
  size_t size() const;

 private:
  mutable std::mutex mu_;
  LruTtlCache<std::string, std::string> cache_;
};

}  // namespace scangate::verdict
