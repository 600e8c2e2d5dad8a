#include "webhook/verdict/engine.h"

#include <condition_variable>
#include <deque>
#include <list>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <thread>
#include <unordered_map>

#include "scanner/core/time_util.h"
#include "scanner/image/reference.h"
#include "scanner/policy/render.h"
#include "scanner/policy/verdict.h"

namespace scangate::verdict {

namespace {

using SteadyClock = std::chrono::steady_clock;

// A fixed pool of threads draining one queue.
class ThreadPool {
 public:
  explicit ThreadPool(unsigned n) {
    for (unsigned i = 0; i < std::max(1u, n); ++i) threads_.emplace_back([this] { loop(); });
  }
  ~ThreadPool() {
    {
      std::lock_guard<std::mutex> l(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    for (auto& t : threads_) t.join();
  }
  void post(std::function<void()> f) {
    {
      std::lock_guard<std::mutex> l(mu_);
      q_.push_back(std::move(f));
    }
    cv_.notify_one();
  }

 private:
  void loop() {
    for (;;) {
      std::function<void()> f;
      {
        std::unique_lock<std::mutex> l(mu_);
        cv_.wait(l, [&] { return stop_ || !q_.empty(); });
        if (q_.empty()) return;
        f = std::move(q_.front());
        q_.pop_front();
      }
      f();
    }
  }
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> q_;
  std::vector<std::thread> threads_;
  bool stop_ = false;
};

struct Flight {
  std::mutex mu;
  std::condition_variable cv;
  bool done = false;
  std::shared_ptr<const ScanRecord> record;
  std::string error;
  bool upload_wanted = false;
};

struct CacheEntry {
  std::shared_ptr<const ScanRecord> record;
  SteadyClock::time_point inserted;
  std::list<std::string>::iterator lru;
  bool uploaded = false;
};

// The verdict for one distinct image of a request.
struct ImageOutcome {
  policy::Verdict verdict;
  bool scanned_now = false;  // a scan ran (or was waited on) for this request
};

}  // namespace

struct Engine::Impl : std::enable_shared_from_this<Engine::Impl> {
  EngineOptions o;
  std::shared_ptr<ImageScanner> scanner;
  std::shared_ptr<DigestResolver> resolver;
  ReportSink sink;
  PolicyProvider policy;
  EngineHooks hooks;

  mutable std::mutex mu;
  std::unordered_map<std::string, CacheEntry> cache;  // digest|db revision -> scan
  std::list<std::string> lru;                         // most recent first
  std::unordered_map<std::string, std::pair<std::string, SteadyClock::time_point>> tags;  // ref -> digest, expiry
  std::unordered_map<std::string, std::shared_ptr<Flight>> inflight;
  std::atomic<size_t> started{0};

  std::unique_ptr<ThreadPool> scan_pool;
  std::unique_ptr<ThreadPool> wait_pool;

  void log(const std::string& line) {
    if (hooks.log) hooks.log(line);
  }

  std::string db_rev() const { return o.db_revision ? o.db_revision() : ""; }

  // Returns the cached record if fresh; `stale` is set when present but older than max_age.
  std::shared_ptr<const ScanRecord> lookup(const std::string& key, std::chrono::seconds max_age, bool& stale,
                                           bool& needs_upload, bool dry_run) {
    std::lock_guard<std::mutex> l(mu);
    auto it = cache.find(key);
    if (it == cache.end()) return nullptr;
    auto age = SteadyClock::now() - it->second.inserted;
    if (age > o.cache_ttl) {
      lru.erase(it->second.lru);
      cache.erase(it);
      if (hooks.cache_size) hooks.cache_size(cache.size());
      return nullptr;
    }
    lru.splice(lru.begin(), lru, it->second.lru);
    stale = max_age.count() > 0 && age > max_age;
    if (!it->second.uploaded && !dry_run) {
      it->second.uploaded = true;
      needs_upload = true;
    }
    return it->second.record;
  }

  void insert(const std::string& key, std::shared_ptr<const ScanRecord> rec, bool uploaded) {
    std::lock_guard<std::mutex> l(mu);
    auto it = cache.find(key);
    if (it != cache.end()) {
      lru.erase(it->second.lru);
      cache.erase(it);
    }
    lru.push_front(key);
    cache[key] = CacheEntry{std::move(rec), SteadyClock::now(), lru.begin(), uploaded};
    while (cache.size() > std::max<size_t>(1, o.cache_size)) {
      cache.erase(lru.back());
      lru.pop_back();
    }
    if (hooks.cache_size) hooks.cache_size(cache.size());
  }

  // One scan per key at a time: joins the running scan or starts one.
  std::shared_ptr<Flight> flight_for(const std::string& key, const std::string& pinned, bool dry_run) {
    std::shared_ptr<Flight> f;
    bool start = false;
    {
      std::lock_guard<std::mutex> l(mu);
      auto it = inflight.find(key);
      if (it != inflight.end()) {
        f = it->second;
      } else {
        f = std::make_shared<Flight>();
        inflight[key] = f;
        start = true;
      }
    }
    {
      std::lock_guard<std::mutex> l(f->mu);
      if (!dry_run) f->upload_wanted = true;
    }
    if (start) {
      started++;
      auto self = shared_from_this();
      scan_pool->post([self, f, key, pinned] { self->run_scan(f, key, pinned); });
    }
    return f;
  }

  void run_scan(const std::shared_ptr<Flight>& f, const std::string& key, const std::string& pinned) {
    auto t0 = SteadyClock::now();
    auto r = scanner->scan(pinned);
    double secs = std::chrono::duration<double>(SteadyClock::now() - t0).count();
    if (hooks.scan_done) hooks.scan_done(r.ok() ? "ok" : "error", secs);
    std::shared_ptr<const ScanRecord> rec;
    if (r.ok()) rec = std::make_shared<const ScanRecord>(std::move(r.value()));
    else log("level=warn msg=\"scan failed\" image=" + pinned + " error=\"" + r.error().message + "\"");
    bool upload = false;
    {
      std::lock_guard<std::mutex> l(f->mu);
      upload = f->upload_wanted;
    }
    if (rec) {
      insert(key, rec, upload);
      if (upload && sink) sink(*rec);
    }
    {
      std::lock_guard<std::mutex> l(f->mu);
      f->done = true;
      f->record = rec;
      if (!r.ok()) f->error = r.error().message;
      // A dry run that arrives after this point finds the record cached, not uploaded.
    }
    f->cv.notify_all();
    std::lock_guard<std::mutex> l(mu);
    inflight.erase(key);
  }

  std::optional<std::string> digest_for(const Reference& ref, std::string& error) {
    if (!ref.digest.empty()) return ref.digest;
    std::string key = ref.normalized();
    {
      std::lock_guard<std::mutex> l(mu);
      auto it = tags.find(key);
      if (it != tags.end() && it->second.second > SteadyClock::now()) return it->second.first;
    }
    auto d = resolver->resolve(key);
    if (!d.ok()) {
      error = d.error().message;
      return std::nullopt;
    }
    std::lock_guard<std::mutex> l(mu);
    if (tags.size() > 4 * std::max<size_t>(1, o.cache_size)) tags.clear();
    tags[key] = {*d, SteadyClock::now() + o.tag_ttl};
    return *d;
  }

  ImageOutcome judge(const std::string& image, const admission::AdmissionRequest& req, const PolicySnapshot& snap,
                     SteadyClock::time_point deadline, const std::string& today) {
    ImageOutcome out;
    policy::DecisionInput in;
    in.namespace_name = req.namespace_;
    in.today = today;
    in.image.reference = image;
    auto ref = parse_reference(image);
    if (!ref.ok()) {
      in.scan_state = policy::ScanState::kError;
      in.scan_error = ref.error().message;
      out.verdict = policy::decide(snap.policy, in);
      return out;
    }
    in.image.repository = ref->name();
    in.image.digest = ref->digest;
    if (policy::exemption(snap.policy, req.namespace_, in.image)) {
      out.verdict = policy::decide(snap.policy, in);
      return out;
    }
    std::string err;
    auto digest = digest_for(*ref, err);
    if (!digest) {
      in.scan_state = policy::ScanState::kError;
      in.scan_error = "cannot resolve " + image + ": " + err;
      out.verdict = policy::decide(snap.policy, in);
      return out;
    }
    in.image.digest = *digest;
    std::string pinned = ref->name() + "@" + *digest;
    std::string key = *digest + "|" + db_rev();
    bool stale = false, needs_upload = false;
    auto max_age = std::chrono::seconds(snap.policy.scan.max_age_seconds);
    auto rec = lookup(key, max_age, stale, needs_upload, req.dry_run);
    if (hooks.cache_lookup) hooks.cache_lookup(rec != nullptr && !stale);
    if (rec && needs_upload && sink) sink(*rec);
    if (!rec || stale) {
      out.scanned_now = true;
      auto f = flight_for(key, pinned, req.dry_run);
      std::unique_lock<std::mutex> l(f->mu);
      f->cv.wait_until(l, deadline, [&] { return f->done; });
      if (f->done && f->record) {
        rec = f->record;
      } else if (f->done) {
        in.scan_state = policy::ScanState::kError;
        in.scan_error = f->error;
      } else if (!rec) {
        in.scan_state = policy::ScanState::kPending;
      }
      // A stale record whose rescan is still running keeps deciding until the rescan lands.
    }
    if (rec && in.scan_state == policy::ScanState::kDone) {
      in.findings = rec->findings;
      in.secrets = rec->secrets;
    }
    out.verdict = policy::decide(snap.policy, in);
    return out;
  }

  admission::AdmissionDecision run(const admission::AdmissionRequest& req, SteadyClock::time_point deadline) {
    admission::AdmissionDecision d;
    d.allowed = true;
    if (req.images.empty()) return d;
    auto snap = policy();
    if (!snap) {
      d.allowed = false;
      d.code = 503;
      d.message = "scangate: no policy loaded";
      return d;
    }
    std::string today = o.today ? o.today() : utc_today();
    std::map<std::string, ImageOutcome> by_image;
    for (const auto& ci : req.images) {
      if (by_image.count(ci.image)) continue;
      by_image.emplace(ci.image, judge(ci.image, req, *snap, deadline, today));
    }
    std::vector<policy::ContainerVerdict> denied;
    std::set<std::string> warned;
    for (const auto& ci : req.images) {
      const auto& oc = by_image.at(ci.image);
      d.cache_miss = d.cache_miss || oc.scanned_now;
      if (!oc.verdict.allowed) {
        d.allowed = false;
        denied.push_back({ci.container, &oc.verdict});
      }
      for (auto& w : policy::admission_warnings(ci.container, oc.verdict))
        if (warned.insert(w).second) d.warnings.push_back(w);
      if (oc.verdict.mode == policy::Mode::kAudit && oc.verdict.violated) {
        std::string reasons;
        for (const auto& r : oc.verdict.reasons) reasons += (reasons.empty() ? "" : "; ") + r;
        d.audit_annotations["violation-" + ci.container] = policy::truncate_utf8(ci.image + ": " + reasons, 1024);
      }
    }
    if (!d.allowed) {
      d.code = 403;
      d.message = policy::render_admission_message(denied);
    }
    return d;
  }
};

Engine::Engine(EngineOptions options, std::shared_ptr<ImageScanner> scanner, std::shared_ptr<DigestResolver> resolver,
               ReportSink sink, PolicyProvider policy, EngineHooks hooks)
    : impl_(std::make_shared<Impl>()) {
  impl_->o = std::move(options);
  impl_->scanner = std::move(scanner);
  impl_->resolver = std::move(resolver);
  impl_->sink = std::move(sink);
  impl_->policy = std::move(policy);
  impl_->hooks = std::move(hooks);
  impl_->scan_pool = std::make_unique<ThreadPool>(impl_->o.scan_workers);
  impl_->wait_pool = std::make_unique<ThreadPool>(impl_->o.wait_threads);
}

Engine::~Engine() {
  // Join the pools before the rest of Impl goes away (queued work holds shared_ptrs to it).
  impl_->wait_pool.reset();
  impl_->scan_pool.reset();
}

namespace {
std::chrono::steady_clock::time_point deadline_for(const EngineOptions& o, std::chrono::nanoseconds timeout) {
  using namespace std::chrono;
  auto t = timeout.count() > 0 ? duration_cast<milliseconds>(timeout) : o.default_timeout;
  auto wait = t > o.safety_margin * 2 ? t - o.safety_margin : t / 2;
  wait = std::min(wait, o.max_wait);
  return SteadyClock::now() + wait;
}
}  // namespace

void Engine::decide(admission::AdmissionRequest req, std::chrono::nanoseconds timeout,
                    std::function<void(admission::AdmissionDecision)> done) {
  auto deadline = deadline_for(impl_->o, timeout);
  auto self = impl_;
  impl_->wait_pool->post([self, req = std::move(req), deadline, done = std::move(done)] { done(self->run(req, deadline)); });
}

admission::AdmissionDecision Engine::decide_sync(const admission::AdmissionRequest& req, std::chrono::nanoseconds timeout) {
  return impl_->run(req, deadline_for(impl_->o, timeout));
}

size_t Engine::cache_entries() const {
  std::lock_guard<std::mutex> l(impl_->mu);
  return impl_->cache.size();
}

size_t Engine::scans_started() const { return impl_->started.load(); }

}  // namespace scangate::verdict
