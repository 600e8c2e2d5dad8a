#include "webhook/verdict/scan_cache.h"

namespace scangate::verdict {

std::shared_ptr<const KeptInventory> KeptInventory::keep(const ImageMetadata& meta, const Inventory& inventory) {
  auto k = std::make_shared<KeptInventory>();
  k->meta = meta;
  if (k->meta.config_json.size() > kMaxKeptConfigBytes) k->meta.config_json.clear();
  k->inventory.os = inventory.os;
  k->inventory.packages = inventory.packages;
  k->inventory.secrets = inventory.secrets;
  for (auto& s : k->inventory.secrets) s.code_lines.clear();
  return k;
}

namespace {

// The digest part of a key_of() key (a digest never holds '|').
std::string digest_of(const std::string& key) { return key.substr(0, key.find('|')); }

}  // namespace

ScanCache::ScanCache(size_t capacity, Clock::duration ttl, std::function<void(size_t)> on_size,
                     std::function<Clock::time_point()> now)
    : now_(now), cache_(capacity, ttl, now), latest_(capacity, ttl, now), on_size_(std::move(on_size)) {}

std::string ScanCache::key_of(const std::string& digest, const std::string& revision) {
  return digest + "|" + revision;
}

void ScanCache::report_size() {
  if (on_size_) on_size_(cache_.size());
}

std::optional<ScanCache::Hit> ScanCache::lookup_locked(const std::string& key, std::chrono::seconds max_age) {
  const size_t before = cache_.size();
  Clock::duration age{};
  Entry* e = cache_.get(key, &age);
  if (cache_.size() != before) report_size();  // an expired entry was dropped
  if (!e) return std::nullopt;
  return Hit{e->record, max_age.count() > 0 && age > max_age, e->memo, key, now() - age};
}

std::optional<ScanCache::Hit> ScanCache::lookup(const std::string& key, std::chrono::seconds max_age) {
  std::lock_guard<std::mutex> l(mu_);
  return lookup_locked(key, max_age);
}

std::optional<ScanCache::Hit> ScanCache::latest(const std::string& digest, std::chrono::seconds max_age) {
  std::lock_guard<std::mutex> l(mu_);
  const std::string* key = latest_.get(digest);
  if (!key) return std::nullopt;
  auto hit = lookup_locked(*key, max_age);
  if (!hit) latest_.erase(digest);  // its entry was dropped (capacity or TTL)
  return hit;
}

void ScanCache::insert(const std::string& key, std::shared_ptr<const ScanRecord> record, bool uploaded,
                       std::optional<Clock::time_point> read_at) {
  std::lock_guard<std::mutex> l(mu_);
  cache_.put(key, Entry{std::move(record), uploaded, nullptr}, read_at);
  latest_.put(digest_of(key), key);
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
  s->db_revision = rec.db_revision;
  s->kept = rec.kept;
  s->shared_reach = rec.shared_reach;  // the cache-safety rule reads it from the slim form too
  s->attested = rec.attested;
  s->basis = rec.basis;
  s->attestation_checked_at = rec.attestation_checked_at;
  return s;
}

}  // namespace scangate::verdict
