#include "webhook/verdict/scan_cache.h"

namespace scangate::verdict {

ScanCache::ScanCache(size_t capacity, Clock::duration ttl, std::function<void(size_t)> on_size,
                     std::function<Clock::time_point()> now)
    : cache_(capacity, ttl, std::move(now)), on_size_(std::move(on_size)) {}

void ScanCache::report_size() {
  if (on_size_) on_size_(cache_.size());
}

std::optional<ScanCache::Hit> ScanCache::lookup(const std::string& key, std::chrono::seconds max_age) {
  std::lock_guard<std::mutex> l(mu_);
  const size_t before = cache_.size();
  Clock::duration age{};
  Entry* e = cache_.get(key, &age);
  if (cache_.size() != before) report_size();  // an expired entry was dropped
  if (!e) return std::nullopt;
  return Hit{e->record, max_age.count() > 0 && age > max_age, e->memo};
}

void ScanCache::insert(const std::string& key, std::shared_ptr<const ScanRecord> record, bool uploaded) {
  std::lock_guard<std::mutex> l(mu_);
  cache_.put(key, Entry{std::move(record), uploaded, nullptr});
  report_size();
}

ScanCache::Entry* ScanCache::holding(const std::string& key, const std::shared_ptr<const ScanRecord>& record) {
  Entry* e = cache_.peek(key);
  return e && e->record == record ? e : nullptr;
}

void ScanCache::remember(const std::string& key, const std::shared_ptr<const ScanRecord>& record,
                         std::shared_ptr<const VerdictMemo> memo) {
  std::lock_guard<std::mutex> l(mu_);
  if (Entry* e = holding(key, record)) e->memo = std::move(memo);
}

bool ScanCache::claim_upload(const std::string& key, const std::shared_ptr<const ScanRecord>& record) {
  std::lock_guard<std::mutex> l(mu_);
  Entry* e = holding(key, record);
  if (!e || e->uploaded) return false;
  e->uploaded = true;
  return true;
}

void ScanCache::drop_report(const std::string& key, const std::shared_ptr<const ScanRecord>& record) {
  auto s = slim(*record);
  std::lock_guard<std::mutex> l(mu_);
  if (Entry* e = holding(key, record)) e->record = std::move(s);
}

size_t ScanCache::size() const {
  std::lock_guard<std::mutex> l(mu_);
  return cache_.size();
}

std::shared_ptr<const ScanRecord> ScanCache::slim(const ScanRecord& rec) {
  auto s = std::make_shared<ScanRecord>();
  s->counted = rec.counted;
  s->counted.reserve(rec.counted.size() + rec.findings.size());
  for (const auto& f : rec.findings) s->counted.push_back(policy::counted_finding(f));
  s->secrets.reserve(rec.secrets.size());
  for (const auto& sf : rec.secrets) s->secrets.push_back(policy::decision_fields(sf));
  s->scanned_at = rec.scanned_at;
  return s;
}

}  // namespace scangate::verdict
