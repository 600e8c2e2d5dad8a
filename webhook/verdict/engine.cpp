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

// The last verdict decided from a cached record and what it was decided for. policy::decide()
// is pure, so a request for the same image reference, namespace and day under the same policy
// snapshot gets the same verdict without counting the findings again.
struct VerdictMemo {
  std::shared_ptr<const PolicySnapshot> policy;  // held, so the pointer is never reused
  std::string reference, namespace_name, today;
  std::shared_ptr<const policy::Verdict> verdict;
};

struct CacheEntry {
  std::shared_ptr<const ScanRecord> record;
  SteadyClock::time_point inserted;
  std::list<std::string>::iterator lru;
  bool uploaded = false;
  std::shared_ptr<const VerdictMemo> memo;
};

// The verdict for one distinct image of a request.
struct ImageOutcome {
  std::shared_ptr<const policy::Verdict> verdict;
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
  std::unordered_map<std::string, CacheEntry> cache;                                      // digest|db revision -> scan
  std::list<std::string> lru;                                                             // most recent first
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
                                           std::shared_ptr<const VerdictMemo>& memo) {
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
    memo = it->second.memo;
    return it->second.record;
  }

  // Keeps `m` with the entry, unless the entry has been replaced or dropped meanwhile.
  void remember(const std::string& key, const std::shared_ptr<const ScanRecord>& rec,
                std::shared_ptr<const VerdictMemo> m) {
    std::lock_guard<std::mutex> l(mu);
    auto it = cache.find(key);
    if (it != cache.end() && it->second.record == rec) it->second.memo = std::move(m);
  }

  // True (once) when `rec` is the cached record for `key` and was never uploaded: a scan that
  // only dry runs asked for, or that a real request joined after the scan had decided not to upload.
  bool claim_upload(const std::string& key, const std::shared_ptr<const ScanRecord>& rec) {
    std::lock_guard<std::mutex> l(mu);
    auto it = cache.find(key);
    if (it == cache.end() || it->second.record != rec || it->second.uploaded) return false;
    it->second.uploaded = true;
    return true;
  }

  // What a cache entry keeps once the report has been handed to the upload sink: the fields
  // the policy decides on. A cache of thousands of images must not keep thousands of reports,
  // nor the descriptions, references and image configs only the report needed.
  static std::shared_ptr<const ScanRecord> for_cache(const std::shared_ptr<const ScanRecord>& rec) {
    auto slim = std::make_shared<ScanRecord>();
    slim->counted = rec->counted;
    slim->counted.reserve(rec->counted.size() + rec->findings.size());
    for (const auto& f : rec->findings) slim->counted.push_back(policy::counted_finding(f));
    slim->secrets.reserve(rec->secrets.size());
    for (const auto& sf : rec->secrets) slim->secrets.push_back(policy::decision_fields(sf));
    slim->scanned_at = rec->scanned_at;
    return slim;
  }

  // After `rec`'s report went to the sink: the cached entry keeps the record without it.
  void drop_report(const std::string& key, const std::shared_ptr<const ScanRecord>& rec) {
    auto slim = for_cache(rec);
    std::lock_guard<std::mutex> l(mu);
    auto it = cache.find(key);
    if (it != cache.end() && it->second.record == rec) it->second.record = std::move(slim);
  }

  // For a request with side effects: hands `rec`'s report to the sink unless it went already.
  void upload_once(const std::string& key, const std::shared_ptr<const ScanRecord>& rec) {
    if (!sink || !claim_upload(key, rec)) return;
    sink(*rec);
    drop_report(key, rec);
  }

  void insert(const std::string& key, std::shared_ptr<const ScanRecord> rec, bool uploaded) {
    if (uploaded || !sink) rec = for_cache(rec);  // the caller still holds the full record
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
    if (r.ok())
      rec = std::make_shared<const ScanRecord>(std::move(r.value()));
    else
      log("level=warn msg=\"scan failed\" image=" + pinned + " error=\"" + r.error().message + "\"");
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

  // The digest of a tag reference when it needs no registry round trip: pinned in the
  // reference, or resolved less than tag_ttl ago.
  std::optional<std::string> known_digest(const Reference& ref) {
    if (!ref.digest.empty()) return ref.digest;
    std::string key = ref.normalized();
    std::lock_guard<std::mutex> l(mu);
    auto it = tags.find(key);
    if (it != tags.end() && it->second.second > SteadyClock::now()) return it->second.first;
    return std::nullopt;
  }

  // Asks the registry (a HEAD of the manifest); blocks.
  std::optional<std::string> resolve_digest(const std::string& normalized, std::string& error) {
    auto d = resolver->resolve(normalized);
    if (!d.ok()) {
      error = d.error().message;
      return std::nullopt;
    }
    std::lock_guard<std::mutex> l(mu);
    if (tags.size() > 4 * std::max<size_t>(1, o.cache_size)) tags.clear();
    tags[normalized] = {*d, SteadyClock::now() + o.tag_ttl};
    return *d;
  }

  // One distinct image of a request on its way to a verdict. start_image() does the steps that
  // never block; what it leaves (a tag to resolve, a scan to run or wait for) is done by
  // finish_image(), on a wait thread.
  struct Judging {
    policy::DecisionInput in;
    std::string name;                // repository, for the pinned reference
    std::optional<std::string> tag;  // normalized reference still to resolve
    std::string key, pinned;
    std::shared_ptr<const ScanRecord> rec;
    bool stale = false;
    std::optional<ImageOutcome> out;  // set once decided
  };

  // A request being decided; it outlives a hand-off to the wait pool.
  struct Pending {
    admission::AdmissionRequest req;
    SteadyClock::time_point deadline;
    std::shared_ptr<const PolicySnapshot> snap;
    std::string today;
    std::map<std::string, Judging> by_image;
    std::vector<Judging*> order;  // distinct images, first occurrence first
  };

  ImageOutcome verdict_of(Judging& j, const PolicySnapshot& snap, bool scanned_now) {
    if (j.rec && j.in.scan_state == policy::ScanState::kDone) {
      j.in.findings = j.rec->findings;
      j.in.counted = j.rec->counted;
      j.in.secrets = j.rec->secrets;
    }
    ImageOutcome out;
    out.verdict = std::make_shared<const policy::Verdict>(policy::decide(snap.policy, j.in));
    out.scanned_now = scanned_now;
    return out;
  }

  // The cache look-up for a known digest; decides on a fresh hit (from the entry's memo when it
  // was decided for the same inputs).
  void look_up(Judging& j, const std::string& digest, const Pending& p) {
    const PolicySnapshot& snap = *p.snap;
    j.in.image.digest = digest;
    j.pinned = j.name + "@" + digest;
    j.key = digest + "|" + db_rev();
    auto max_age = std::chrono::seconds(snap.policy.scan.max_age_seconds);
    std::shared_ptr<const VerdictMemo> memo;
    j.rec = lookup(j.key, max_age, j.stale, memo);
    if (hooks.cache_lookup) hooks.cache_lookup(j.rec != nullptr && !j.stale);
    if (j.rec && !p.req.dry_run) upload_once(j.key, j.rec);
    if (!j.rec || j.stale) return;
    if (memo && memo->policy == p.snap && memo->reference == j.in.image.reference &&
        memo->namespace_name == j.in.namespace_name && memo->today == j.in.today) {
      j.out = ImageOutcome{memo->verdict, false};
      return;
    }
    j.out = verdict_of(j, snap, false);
    remember(j.key, j.rec,
             std::make_shared<const VerdictMemo>(
                 VerdictMemo{p.snap, j.in.image.reference, j.in.namespace_name, j.in.today, j.out->verdict}));
  }

  void start_image(Judging& j, const std::string& image, const Pending& p) {
    const PolicySnapshot& snap = *p.snap;
    j.in.namespace_name = p.req.namespace_;
    j.in.today = p.today;
    j.in.image.reference = image;
    auto ref = parse_reference(image);
    if (!ref.ok()) {
      j.in.scan_state = policy::ScanState::kError;
      j.in.scan_error = ref.error().message;
      j.out = verdict_of(j, snap, false);
      return;
    }
    j.name = ref->name();
    j.in.image.repository = j.name;
    j.in.image.digest = ref->digest;
    if (policy::exemption(snap.policy, p.req.namespace_, j.in.image)) {
      j.out = verdict_of(j, snap, false);
      return;
    }
    auto digest = known_digest(*ref);
    if (!digest) {
      j.tag = ref->normalized();
      return;
    }
    look_up(j, *digest, p);
  }

  // Blocks: resolves the tag, then runs or joins the scan and waits for it up to the deadline.
  void finish_image(Judging& j, const Pending& p) {
    const PolicySnapshot& snap = *p.snap;
    if (j.out) return;
    if (j.tag) {
      std::string err;
      auto digest = resolve_digest(*j.tag, err);
      if (!digest) {
        j.in.scan_state = policy::ScanState::kError;
        j.in.scan_error = "cannot resolve " + j.in.image.reference + ": " + err;
        j.out = verdict_of(j, snap, false);
        return;
      }
      look_up(j, *digest, p);
      if (j.out) return;
    }
    // No record, or a stale one: scan (one flight per key).
    auto f = flight_for(j.key, j.pinned, p.req.dry_run);
    {
      std::unique_lock<std::mutex> l(f->mu);
      f->cv.wait_until(l, p.deadline, [&] { return f->done; });
      if (f->done && f->record) {
        j.rec = f->record;
      } else if (f->done) {
        j.in.scan_state = policy::ScanState::kError;
        j.in.scan_error = f->error;
      } else if (!j.rec) {
        j.in.scan_state = policy::ScanState::kPending;
      }
      // A stale record whose rescan is still running keeps deciding until the rescan lands.
    }
    if (j.rec && !p.req.dry_run) upload_once(j.key, j.rec);
    j.out = verdict_of(j, snap, true);
  }

  // What needs no waiting. Returns the decision when every image was decided (cache hits,
  // exemptions, errors); otherwise finish() must run, on a thread that may block.
  std::optional<admission::AdmissionDecision> start(Pending& p) {
    if (p.req.images.empty()) return conclude(p);
    p.snap = policy();
    if (!p.snap) return conclude(p);
    p.today = o.today ? o.today() : utc_today();
    bool all_done = true;
    for (const auto& ci : p.req.images) {
      auto [it, inserted] = p.by_image.try_emplace(ci.image);
      if (!inserted) continue;
      p.order.push_back(&it->second);
      start_image(it->second, ci.image, p);
      all_done = all_done && it->second.out.has_value();
    }
    if (all_done) return conclude(p);
    return std::nullopt;
  }

  void finish(Pending& p) {
    for (Judging* j : p.order) finish_image(*j, p);
  }

  admission::AdmissionDecision conclude(const Pending& p) {
    const admission::AdmissionRequest& req = p.req;
    admission::AdmissionDecision d;
    d.allowed = true;
    if (req.images.empty()) return d;
    if (!p.snap) {
      d.allowed = false;
      d.code = 503;
      d.message = "scangate: no policy loaded";
      return d;
    }
    std::vector<policy::ContainerVerdict> denied;
    std::set<std::string> warned;
    for (const auto& ci : req.images) {
      const auto& oc = *p.by_image.at(ci.image).out;
      d.cache_miss = d.cache_miss || oc.scanned_now;
      const policy::Verdict& v = *oc.verdict;
      if (!v.allowed) {
        d.allowed = false;
        denied.push_back({ci.container, &v});
      }
      for (auto& w : policy::admission_warnings(ci.container, v))
        if (warned.insert(w).second) d.warnings.push_back(w);
      if (v.mode == policy::Mode::kAudit && v.violated) {
        std::string reasons;
        for (const auto& r : v.reasons) reasons += (reasons.empty() ? "" : "; ") + r;
        d.audit_annotations["violation-" + ci.container] = policy::truncate_utf8(ci.image + ": " + reasons, 1024);
      }
    }
    if (!d.allowed) {
      d.code = 403;
      d.message = policy::render_admission_message(denied);
    }
    return d;
  }

  admission::AdmissionDecision run(Pending& p) {
    if (auto d = start(p)) return std::move(*d);
    finish(p);
    return conclude(p);
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
  auto p = std::make_shared<Impl::Pending>();
  p->req = std::move(req);
  p->deadline = deadline_for(impl_->o, timeout);
  // Cache hits (the common case) are decided here, on the caller's thread: handing them to the
  // wait pool cost two thread wake-ups per request. Only what may block goes to the pool.
  if (auto d = impl_->start(*p)) return done(std::move(*d));
  auto self = impl_;
  impl_->wait_pool->post([self, p, done = std::move(done)] {
    self->finish(*p);
    done(self->conclude(*p));
  });
}

admission::AdmissionDecision Engine::decide_sync(const admission::AdmissionRequest& req,
                                                 std::chrono::nanoseconds timeout) {
  Impl::Pending p;
  p.req = req;
  p.deadline = deadline_for(impl_->o, timeout);
  return impl_->run(p);
}

size_t Engine::cache_entries() const {
  std::lock_guard<std::mutex> l(impl_->mu);
  return impl_->cache.size();
}

size_t Engine::scans_started() const { return impl_->started.load(); }

}  // namespace scangate::verdict
