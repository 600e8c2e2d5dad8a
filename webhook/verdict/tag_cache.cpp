#include "webhook/verdict/tag_cache.h"

namespace scangate::verdict {

std::optional<std::string> TagCache::get(const std::string& reference) {
  std::lock_guard<std::mutex> l(mu_);
  if (const std::string* d = cache_.get(reference)) return *d;
  return std::nullopt;
}

void TagCache::put(const std::string& reference, std::string digest) {
  if (!enabled_) return;
  std::lock_guard<std::mutex> l(mu_);
  cache_.put(reference, std::move(digest));
}

size_t TagCache::size() const {
  std::lock_guard<std::mutex> l(mu_);
  return cache_.size();
}

}  // namespace scangate::verdict
