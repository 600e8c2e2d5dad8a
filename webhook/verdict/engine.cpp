#include "webhook/verdict/engine.h"

#include "scanner/core/log.h"

#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/thread_pool.hpp>

#include <algorithm>
#include <atomic>
#include <future>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <shared_mutex>
#include <string_view>
#include <unordered_set>

#include "scanner/core/time_util.h"
#include "scanner/image/reference.h"
#include "scanner/policy/render.h"
#include "scanner/policy/verdict.h"
#include "webhook/verdict/scan_cache.h"
#include "webhook/verdict/single_flight.h"
#include "webhook/verdict/tag_cache.h"
#include "webhook/verdict/work_queue.h"

namespace scangate::verdict {

namespace {

using SteadyClock = std::chrono::steady_clock;

// What a scan flight delivers: a record, the images of an index (no scan ran: each is scanned
// on its own), or why there is neither.
struct ScanOutcome {
  std::shared_ptr<const ScanRecord> record;
  std::string error;
  std::shared_ptr<const std::vector<PlatformImage>> platforms;
};

// What a tag look-up delivers: the digest, or why there is none.
struct LookupOutcome {
  std::string digest;
  std::string error;
};

// Shared by a scan's leader and the requests that join it.
struct ScanFlightState {
  std::atomic<bool> upload_wanted{false};  // a request that is not a dry run asked
};

// The verdict for one distinct image of a request: one per platform judged (one for an image
// that is not an index, or decided as a whole).
struct ImageOutcome {
  std::vector<std::shared_ptr<const policy::Verdict>> verdicts;
  bool scanned_now = false;  // a scan ran (or was waited on) for this request
};

// One image manifest an image of a request stands for: the image itself, or one platform's image
// of an index. Scanned and cached by its own digest.
struct Part {
  std::string platform;  // as the index names it; empty: the image itself (or no platform named)
  std::string digest, key, pinned;
  std::shared_ptr<const ScanRecord> rec;
  bool stale = false;
  // On a miss: the record of the same digest under another DB revision, whose kept inventory is
  // matched again instead of a scan (null: scan), and when its content was read.
  std::shared_ptr<const ScanRecord> prior;
  ScanCache::Clock::time_point prior_read_at{};
  policy::ScanState state = policy::ScanState::kDone;
  std::string error;                               // with kError
  std::shared_ptr<const policy::Verdict> verdict;  // set once decided
  bool scanned_now = false;
};

// One distinct image of a request on its way to a verdict.
struct Judging {
  policy::DecisionInput in;
  std::string name;                 // repository, for the pinned reference
  std::optional<std::string> tag;   // look-up key still to resolve (the reference, scoped to the pod)
  std::string lookup_ref;           // the normalized reference that look-up resolves
  std::vector<Part> parts;          // once the digest is known: the image, or its index's platforms
  bool index = false;               // `parts` are the platforms of an index
  bool waited = false;              // this request waited for the index to be listed
  std::optional<ImageOutcome> out;  // set once decided
};

// "linux/arm64/v8" -> its parts, as the index wrote them.
Platform split_platform(const std::string& text) {
  Platform p{"", "", ""};
  auto a = text.find('/');
  p.os = text.substr(0, a);
  if (a == std::string::npos) return p;
  auto b = text.find('/', a + 1);
  p.architecture = text.substr(a + 1, b == std::string::npos ? std::string::npos : b - a - 1);
  if (b != std::string::npos) p.variant = text.substr(b + 1);
  return p;
}

// A request being decided. Once it waits, `mu` guards the images and `concluded`; the timer
// answers at the deadline whatever is still running.
struct Pending {
  admission::AdmissionRequest req;
  // Who pulls: the pod's credentials (empty unless EngineOptions::pull_secrets), and the scope
  // those make ("" for the webhook's own credentials alone).
  PullContext who;
  std::string scope;
  Deadline deadline = Deadline::never();
  std::shared_ptr<const PolicySnapshot> snap;
  std::string today;
  std::map<std::string, Judging> by_image;
  std::vector<Judging*> order;  // distinct images, first occurrence first
  bool digests_only = false;    // Engine::pin(): an image is done once its digest is known
  std::function<void(admission::AdmissionDecision)> done;

  std::mutex mu;
  size_t outstanding = 0;  // images not decided yet
  bool concluded = false;  // `done` was called (or is being called)
  std::optional<boost::asio::steady_timer> timer;
};

Deadline deadline_for(const EngineOptions& o, std::chrono::nanoseconds timeout) {
  using namespace std::chrono;
  auto t = timeout.count() > 0 ? duration_cast<milliseconds>(timeout) : o.default_timeout;
  auto wait = t > o.safety_margin * 2 ? t - o.safety_margin : t / 2;
  wait = std::min(wait, o.max_wait);
  return Deadline::after(wait);
}

}  // namespace

struct Engine::Impl : std::enable_shared_from_this<Engine::Impl> {
  Impl(EngineOptions options, std::shared_ptr<ImageScanner> s, std::shared_ptr<DigestResolver> r, ReportSink rs,
       PolicyProvider p, EngineHooks h)
      : o(std::move(options)),
        scanner(std::move(s)),
        resolver(std::move(r)),
        sink(std::move(rs)),
        policy(std::move(p)),
        hooks(std::move(h)),
        cache(o.cache_size, o.cache_ttl, hooks.cache_size),
        indexes(o.cache_size, o.cache_ttl),
        tags(4 * std::max<size_t>(1, o.cache_size), o.tag_ttl),
        scan_pool(WorkQueue::Limits{o.scan_workers, o.max_queued_scans, 0, 0}),
        lookup_pool(WorkQueue::Limits{o.lookup_threads, o.max_queued_lookups, o.max_lookups_per_registry,
                                      o.max_queued_lookups_per_registry}),
        timer_pool(1) {}

  EngineOptions o;
  std::shared_ptr<ImageScanner> scanner;
  std::shared_ptr<DigestResolver> resolver;
  ReportSink sink;
  PolicyProvider policy;
  EngineHooks hooks;

  ScanCache cache;  // digest|db revision -> scan
  // index digest -> the images it lists (content-addressed: only the capacity and TTL drop them)
  std::mutex indexes_mu;
  LruTtlCache<std::string, std::shared_ptr<const std::vector<PlatformImage>>> indexes;
  TagCache tags;  // normalized reference -> digest
  SingleFlight<std::string, ScanOutcome, ScanFlightState> scans;
  SingleFlight<std::string, LookupOutcome> lookups;
  std::atomic<size_t> started{0};
  std::atomic<size_t> rematches{0};

  // Scans and tag look-ups block on the registry (bounded queues, look-ups keyed by registry
  // host); the timers that answer at deadlines, and the answers to refused work, run on a thread
  // of their own, which never blocks.
  WorkQueue scan_pool;
  WorkQueue lookup_pool;
  boost::asio::thread_pool timer_pool;

  // The sink and the hooks belong to the engine's owner: work left running past ~Engine (a job
  // blocked past the shutdown grace) must not call them once the engine is gone.
  std::shared_mutex callouts_mu;
  bool closed = false;  // guarded by callouts_mu

  template <class F>
  void callout(F&& f) {
    std::shared_lock<std::shared_mutex> l(callouts_mu);
    if (!closed) f();
  }

  void rejected(const std::string& what) {
    if (hooks.rejected) callout([&] { hooks.rejected(what); });
  }

  log::Logger lg{"engine"};

  std::string db_rev() const { return o.db_revision ? o.db_revision() : ""; }

  // For a request with side effects: hands `rec`'s report to the sink unless it went already.
  void upload_once(const std::string& key, const std::shared_ptr<const ScanRecord>& rec) {
    if (!sink || !cache.claim_upload(key, rec)) return;
    callout([&] { sink(*rec); });
    cache.drop_report(key, rec);
  }

  // --- Work on the pools: the leader of a flight runs it, then every waiter hears the outcome.

  std::shared_ptr<const std::vector<PlatformImage>> cached_index(const std::string& digest) {
    std::lock_guard<std::mutex> l(indexes_mu);
    auto* v = indexes.get(digest);
    return v ? *v : nullptr;
  }

  // Lists what `pinned` stands for first: an index ends the flight with its images (each is then
  // scanned as an image of its own); an image is scanned here.
  void run_scan(const std::string& key, const std::string& digest, const std::string& pinned, const PullContext& who,
                const std::shared_ptr<ScanFlightState>& state, const Deadline& deadline) {
    // A request that missed the index just before another flight listed it and ended starts this
    // flight: the listing is there now, and is not fetched again.
    if (auto known = cached_index(digest)) {
      ScanOutcome out;
      out.platforms = std::move(known);
      return scans.complete(key, out);
    }
    auto t0 = SteadyClock::now();
    auto listed = scanner->images_as(pinned, who, deadline);
    if (!listed.ok()) {
      double secs = std::chrono::duration<double>(SteadyClock::now() - t0).count();
      if (hooks.scan_done) callout([&] { hooks.scan_done("error", secs); });
      ScanOutcome out;
      out.error = listed.error().message;
      lg.warn("scan failed", {{"image", pinned}, {"error", out.error}});
      return scans.complete(key, out);
    }
    if (!(listed->size() == 1 && listed->front().platform.empty() && listed->front().digest == digest)) {
      ScanOutcome out;
      out.platforms = std::make_shared<const std::vector<PlatformImage>>(std::move(listed).value());
      {
        std::lock_guard<std::mutex> l(indexes_mu);
        indexes.put(digest, out.platforms);
      }
      return scans.complete(key, out);
    }
    auto r = scanner->scan_as(pinned, who, deadline);
    double secs = std::chrono::duration<double>(SteadyClock::now() - t0).count();
    if (hooks.scan_done) callout([&] { hooks.scan_done(r.ok() ? "ok" : "error", secs); });
    if (!r.ok()) {
      ScanOutcome out;
      out.error = r.error().message;
      lg.warn("scan failed", {{"image", pinned}, {"error", out.error}});
      return scans.complete(key, out);
    }
    // A record from the pipeline's attested findings is as old as that scan: scan.maxAge counts
    // from it, not from now.
    std::optional<ScanCache::Clock::time_point> read_at;
    if (r->attested == "vuln") {
      const auto age = std::chrono::system_clock::now() - r->scanned_at;
      if (age > std::chrono::system_clock::duration::zero())
        read_at = ScanCache::Clock::now() - std::chrono::duration_cast<ScanCache::Clock::duration>(age);
    }
    finish(key, std::move(r.value()), state, read_at);
  }

  // Decides `pinned` again from the inventory `prior` kept, against the DB in force now; a scanner
  // that cannot, or a rematch that fails, falls back to a scan in the same flight.
  void run_rematch(const std::string& key, const std::string& digest, const std::string& pinned,
                   const std::shared_ptr<const ScanRecord>& prior, ScanCache::Clock::time_point read_at,
                   const PullContext& who, const std::shared_ptr<ScanFlightState>& state, const Deadline& deadline) {
    auto t0 = SteadyClock::now();
    auto r = scanner->rematch(*prior, pinned, deadline);
    if (!r.ok() && is_rematch_unsupported(r.error())) return run_scan(key, digest, pinned, who, state, deadline);
    double secs = std::chrono::duration<double>(SteadyClock::now() - t0).count();
    if (hooks.rematch_done) callout([&] { hooks.rematch_done(r.ok() ? "ok" : "error", secs); });
    if (!r.ok()) {
      lg.warn("matching the kept inventory again failed; scanning the image",
              {{"image", pinned}, {"error", r.error().message}});
      return run_scan(key, digest, pinned, who, state, deadline);
    }
    lg.info("decided again from the kept inventory", {{"image", pinned}, {"key", key}});
    // As old as the content it was matched from: scan.maxAge and the TTL still ask for a rescan.
    finish(key, std::move(r.value()), state, read_at);
  }

  // The cache key of `rec`, produced by the flight `flight_key` (digest|the revision read when the
  // request came): keyed by the DB revision it was matched against when the scanner names it. A DB
  // swapped in between would otherwise leave the new DB's verdict under the old revision, to be
  // served as that revision's if the old DB comes back (a rollback of a bad DB).
  static std::string cache_key(const std::string& flight_key, const ScanRecord& rec) {
    if (rec.db_revision.empty()) return flight_key;
    return ScanCache::key_of(flight_key.substr(0, flight_key.find('|')), rec.db_revision);
  }

  // Caches a flight's new record (uploading its report when a request with side effects asked)
  // and ends the flight.
  void finish(const std::string& key, ScanRecord record, const std::shared_ptr<ScanFlightState>& state,
              std::optional<ScanCache::Clock::time_point> read_at) {
    ScanOutcome out;
    out.record = std::make_shared<const ScanRecord>(std::move(record));
    // A request that joins after this point finds the record cached, not uploaded.
    const bool upload = state->upload_wanted.load();
    cache.insert(cache_key(key, *out.record), upload || !sink ? ScanCache::slim(*out.record) : out.record, upload,
                 read_at);
    if (upload && sink) callout([&] { sink(*out.record); });
    scans.complete(key, out);
  }

  // Resolves `reference` with the credentials of `who`; `key` is the flight and tag-cache key
  // (the reference, scoped to those credentials).
  void run_lookup(const std::string& key, const std::string& reference, const PullContext& who,
                  const Deadline& deadline) {
    LookupOutcome out;
    auto d = resolver->resolve_as(reference, who, deadline);
    if (d.ok()) {
      out.digest = d->digest;
      tags.put(key, d->digest);
    } else {
      out.error = d.error().message;
    }
    lookups.complete(key, out);
  }

  // The look-up key of `normalized` for a request of `scope`: a tag resolved with one pod's
  // credentials is not another scope's proof of access.
  static std::string lookup_key(const std::string& normalized, const std::string& scope) {
    return scope.empty() ? normalized : normalized + '\x1e' + scope;
  }

  // Whether a pod of any scope may be decided by the record of `digest` without first reaching
  // the image itself: the image was read with the webhook's own credentials (or anonymously).
  bool reachable_by_all(const std::string& digest, std::chrono::seconds max_age) {
    auto latest = cache.latest(digest, max_age);
    return latest && latest->record && latest->record->shared_reach;
  }

  // --- Deciding one image.

  // The image decided as a whole, without a scan record (parse error, exemption, look-up error).
  ImageOutcome verdict_of(Judging& j, const PolicySnapshot& snap, bool scanned_now) {
    // No record decided it (a look-up pending or failed, a bad reference): no attestation either.
    j.in.attested = std::string();
    if (!o.attestations && policy::effective_rules(snap.policy, j.in.namespace_name).require_attestation)
      j.in.basis = "this webhook verifies no attestations (it has no --attestation-key)";
    ImageOutcome out;
    out.verdicts.push_back(std::make_shared<const policy::Verdict>(policy::decide(snap.policy, j.in)));
    out.scanned_now = scanned_now;
    return out;
  }

  // How the verdict of `part` names the image: with its platform when it is one of an index's.
  static std::string part_reference(const Judging& j, const Part& part) {
    return part.platform.empty() ? j.in.image.reference : j.in.image.reference + " (" + part.platform + ")";
  }

  std::shared_ptr<const policy::Verdict> decide_part(const Judging& j, const Part& part, const PolicySnapshot& snap) {
    policy::DecisionInput in = j.in;
    in.image.reference = part_reference(j, part);
    in.scan_state = part.state;
    in.scan_error = part.error;
    if (part.rec && part.state == policy::ScanState::kDone) {
      in.findings = part.rec->findings;
      in.counted = part.rec->counted;
      in.secrets = part.rec->secrets;
    }
    // What the findings rest on: scan.requireAttestation reads it, the denial message says it.
    in.attested = part.rec && part.state == policy::ScanState::kDone ? part.rec->attested : std::string();
    in.basis = part.rec ? part.rec->basis : std::string();
    // Without keys nothing is looked up: said only where an attestation is required.
    if (!o.attestations && policy::effective_rules(snap.policy, j.in.namespace_name).require_attestation)
      in.basis = "this webhook verifies no attestations (it has no --attestation-key)";
    return std::make_shared<const policy::Verdict>(policy::decide(snap.policy, in));
  }

  // Sets j.out once every part is decided.
  bool conclude_image(Judging& j) {
    if (j.out) return true;
    ImageOutcome out;
    out.scanned_now = j.waited;
    for (const Part& part : j.parts) {
      if (!part.verdict) return false;
      out.verdicts.push_back(part.verdict);
      out.scanned_now = out.scanned_now || part.scanned_now;
    }
    j.out = std::move(out);
    return true;
  }

  // The cache look-up for a known digest: an index already listed gives its platforms' images,
  // anything else is looked up as one image (its scan may yet find it is an index). Decides on
  // fresh hits.
  void look_up(Judging& j, const std::string& digest, const Pending& p) {
    j.in.image.digest = digest;
    j.parts.clear();
    j.index = false;
    if (auto listed = cached_index(digest)) return use_index(j, *listed, p);
    j.parts.push_back(Part{});
    j.parts[0].digest = digest;
    look_up_part(j, j.parts[0], p);
    conclude_image(j);
  }

  // The images of an index the cluster may pull (EngineOptions::platforms). Entries that name no
  // platform are pulled for any platform, so they are always judged.
  std::vector<PlatformImage> choose(const std::vector<PlatformImage>& listed) const {
    std::vector<Platform> offered;
    for (const auto& li : listed) offered.push_back(split_platform(li.platform));
    auto picked = platforms_to_check(offered, o.platforms);
    std::vector<PlatformImage> out;
    for (size_t i = 0; i < listed.size(); ++i)
      if (listed[i].platform.empty() || std::find(picked.begin(), picked.end(), i) != picked.end())
        out.push_back(listed[i]);
    return out;
  }

  std::string wanted_words() const {
    if (o.platforms.empty()) return "any linux platform";
    std::string s;
    for (const auto& w : o.platforms) s += (s.empty() ? "" : ", ") + w.to_string();
    return "the platforms the webhook checks (" + s + ")";
  }

  void use_index(Judging& j, const std::vector<PlatformImage>& listed, const Pending& p) {
    j.index = true;
    j.parts.clear();
    auto chosen = choose(listed);
    if (chosen.empty()) {
      std::string offered;
      for (const auto& li : listed) offered += (offered.empty() ? "" : ", ") + li.platform;
      j.in.scan_state = policy::ScanState::kError;
      j.in.scan_error = "the image index has no image for " + wanted_words() + " (it lists " +
                        (offered.empty() ? std::string("no images") : offered) + ")";
      j.out = verdict_of(j, *p.snap, j.waited);
      return;
    }
    for (auto& c : chosen) {
      j.parts.push_back(Part{});
      j.parts.back().platform = c.platform;
      j.parts.back().digest = c.digest;
    }
    for (Part& part : j.parts) look_up_part(j, part, p);
    conclude_image(j);
  }

  // The verdict cache for one image manifest; decides on a fresh hit (from the entry's memo when
  // it was decided for the same inputs).
  void look_up_part(const Judging& j, Part& part, const Pending& p) {
    const PolicySnapshot& snap = *p.snap;
    part.pinned = j.name + "@" + part.digest;
    part.key = ScanCache::key_of(part.digest, db_rev());
    const std::chrono::seconds max_age(snap.policy.scan.max_age_seconds);
    auto hit = cache.lookup(part.key, max_age);
    if (hooks.cache_lookup) hooks.cache_lookup(hit && !hit->stale);
    if (!hit) {
      // Scanned under another DB revision: matched again from what that scan kept, unless its
      // content is too old (then the image is read again).
      auto earlier = cache.latest(part.digest, max_age);
      if (earlier && !earlier->stale && earlier->key != part.key && earlier->record->kept) {
        part.prior = earlier->record;
        part.prior_read_at = earlier->read_at;
      }
      return;
    }
    // Scanned here for want of an attestation: a namespace that requires one asks the registry
    // again after a while (the pipeline may have attested the image since).
    if (o.attestations && hit->record->attested.empty() && !hit->stale &&
        std::chrono::system_clock::now() - hit->record->attestation_checked_at > o.attestation_recheck &&
        policy::effective_rules(snap.policy, j.in.namespace_name).require_attestation) {
      // Asked again through a rematch of the kept inventory: the attestations are read, no layer.
      if (hit->record->kept) {
        part.prior = hit->record;
        part.prior_read_at = hit->read_at;
      }
      return;
    }
    part.rec = hit->record;
    part.stale = hit->stale;
    if (!p.req.dry_run) upload_once(part.key, part.rec);
    if (part.stale) return;
    const auto& memo = hit->memo;
    const std::string reference = part_reference(j, part);
    if (memo && memo->policy == p.snap && memo->reference == reference && memo->namespace_name == j.in.namespace_name &&
        memo->today == j.in.today) {
      part.verdict = memo->verdict;
      return;
    }
    part.verdict = decide_part(j, part, snap);
    cache.remember(part.key, part.rec,
                   std::make_shared<const VerdictMemo>(
                       VerdictMemo{p.snap, reference, j.in.namespace_name, j.in.today, part.verdict}));
  }

  // The steps that never block: parse, exemption, digest from the reference or the tag cache,
  // the verdict cache. What is left (a tag to resolve, a scan to run) is done by wait().
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
    // A pod that pulls with credentials of its own (a scope) is decided by a scan only once it
    // has reached the image itself: its tag look-up, or for a pinned digest a manifest read with
    // its credentials, unless the webhook's own credentials read that image (then every pod
    // can). Another tenant's scan never answers for a pod that cannot pull the image.
    const std::string key = lookup_key(ref->normalized(), p.scope);
    std::optional<std::string> digest;
    if (!ref->digest.empty() &&
        (p.scope.empty() || reachable_by_all(ref->digest, std::chrono::seconds(snap.policy.scan.max_age_seconds))))
      digest = ref->digest;
    else
      digest = tags.get(key);
    if (!digest) {
      j.tag = key;
      j.lookup_ref = ref->normalized();
      return;
    }
    if (p.digests_only) {
      j.in.image.digest = *digest;
      j.out = ImageOutcome{};
      return;
    }
    look_up(j, *digest, p);
  }

  // --- A request that waits: every step below runs with p->mu held.

  // Resolves the tag (one look-up per tag at a time), then goes on in on_lookup().
  // A flight's waiters hold the request and the engine weakly: a request answered at its deadline
  // is freed then, not when the look-up or scan it waited for ends.
  void resolve_tag(const std::shared_ptr<Pending>& p, Judging& j) {
    auto self = shared_from_this();
    const std::string tag = *j.tag;
    const std::string reference = j.lookup_ref;
    auto joined =
        lookups.join(tag, [weak = weak_from_this(), wp = std::weak_ptr<Pending>(p), &j](const LookupOutcome& r) {
          auto engine = weak.lock();
          auto req = wp.lock();
          if (engine && req) engine->on_lookup(req, j, r);
        });
    if (!joined.leader) return;
    auto ref = parse_reference(reference);
    const std::string host = ref.ok() ? ref->registry : std::string();
    auto refused = lookup_pool.submit(
        host, Deadline::after(o.lookup_timeout),
        [self, tag, reference, who = p->who](const Deadline& d) { self->run_lookup(tag, reference, who, d); },
        [self, tag] {
          self->rejected("lookup_expired");
          self->lookups.complete(tag,
                                 LookupOutcome{"", "the look-up did not start in time: the webhook is overloaded"});
        });
    if (refused == WorkQueue::Refusal::kNone) return;
    std::string why = refused == WorkQueue::Refusal::kKeyFull
                          ? "the webhook is overloaded: too many look-ups wait for registry " + host
                      : refused == WorkQueue::Refusal::kFull ? "the webhook is overloaded: too many tag look-ups wait"
                                                             : "the webhook is shutting down";
    rejected(refused == WorkQueue::Refusal::kKeyFull ? "lookup_registry_busy" : "lookup_queue_full");
    refuse([this, tag, why] { lookups.complete(tag, LookupOutcome{"", why}); });
  }

  // Ends a refused flight. Its waiters take the lock of their request, which the caller may hold:
  // the flight ends on the timer thread, at once. `end` may use `this`: the timer thread runs only
  // while the engine lives (a handler still queued when it stops is dropped, never run).
  void refuse(std::function<void()> end) { boost::asio::post(timer_pool, std::move(end)); }

  // Scans (or joins the scans of) the parts of `j` not decided yet.
  void scan_parts(const std::shared_ptr<Pending>& p, Judging& j) {
    for (size_t i = 0; i < j.parts.size(); ++i)
      if (!j.parts[i].verdict) scan(p, j, i);
  }

  // Runs or joins the scan of part `i` of `j` (one flight per key), then goes on in on_scan().
  void scan(const std::shared_ptr<Pending>& p, Judging& j, size_t i) {
    auto self = shared_from_this();
    const Part& part = j.parts[i];
    auto joined =
        scans.join(part.key, [weak = weak_from_this(), wp = std::weak_ptr<Pending>(p), &j, i](const ScanOutcome& r) {
          auto engine = weak.lock();
          auto req = wp.lock();
          if (engine && req) engine->on_scan(req, j, i, r);
        });
    if (!p->req.dry_run) joined.shared->upload_wanted = true;
    if (!joined.leader) return;
    const std::string key = part.key;
    auto refused = scan_pool.submit(
        "", Deadline::after(o.scan_timeout),
        [self, key, digest = part.digest, pinned = part.pinned, prior = part.prior, read_at = part.prior_read_at,
         who = p->who, state = joined.shared](const Deadline& d) {
          if (prior)
            self->run_rematch(key, digest, pinned, prior, read_at, who, state, d);
          else
            self->run_scan(key, digest, pinned, who, state, d);
        },
        [self, key] {
          self->rejected("scan_expired");
          self->scans.complete(key, ScanOutcome{nullptr, "the scan did not start in time: the webhook is overloaded"});
        });
    if (refused == WorkQueue::Refusal::kNone) {
      (part.prior ? rematches : started)++;
      return;
    }
    std::string why = refused == WorkQueue::Refusal::kStopped ? "the webhook is shutting down"
                                                              : "the webhook is overloaded: too many scans wait";
    rejected("scan_queue_full");
    refuse([this, key, why] { scans.complete(key, ScanOutcome{nullptr, why}); });
  }

  void on_lookup(const std::shared_ptr<Pending>& p, Judging& j, const LookupOutcome& r) {
    std::unique_lock<std::mutex> l(p->mu);
    if (p->concluded) return;
    if (!r.error.empty()) {
      j.in.scan_state = policy::ScanState::kError;
      j.in.scan_error = "cannot resolve " + j.in.image.reference + ": " + r.error;
      j.out = verdict_of(j, *p->snap, false);
    } else if (p->digests_only) {
      j.tag.reset();
      j.in.image.digest = r.digest;
      j.out = ImageOutcome{};
    } else {
      j.tag.reset();
      look_up(j, r.digest, *p);
      if (!j.out) return scan_parts(p, j);  // no record, or a stale one
    }
    image_decided(p, l);
  }

  void on_scan(const std::shared_ptr<Pending>& p, Judging& j, size_t i, const ScanOutcome& r) {
    std::unique_lock<std::mutex> l(p->mu);
    if (p->concluded || j.out || i >= j.parts.size()) return;
    Part& part = j.parts[i];
    if (r.platforms && !j.index) {
      // The image is an index: judged by its platforms' images from now on.
      j.waited = true;
      use_index(j, *r.platforms, *p);
      if (!j.out) return scan_parts(p, j);
      return image_decided(p, l);
    }
    if (r.record) {
      part.rec = r.record;
      part.key = cache_key(part.key, *r.record);  // where finish() cached it
    } else {
      part.state = policy::ScanState::kError;
      part.error = r.platforms ? "image " + part.digest + " of the index is itself an index" : r.error;
    }
    if (part.rec && part.state == policy::ScanState::kDone && !p->req.dry_run) upload_once(part.key, part.rec);
    part.verdict = decide_part(j, part, *p->snap);
    part.scanned_now = true;
    if (conclude_image(j)) image_decided(p, l);
  }

  // At the deadline: what is still running is pending (scan.onPending decides), except that a
  // stale record whose rescan is still running keeps deciding until the rescan lands.
  void expire(const std::shared_ptr<Pending>& p) {
    std::unique_lock<std::mutex> l(p->mu);
    if (p->concluded) return;
    for (Judging* j : p->order) {
      if (j->out) continue;
      if (j->parts.empty()) {  // the tag is still being resolved
        j->in.scan_state = policy::ScanState::kPending;
        j->out = verdict_of(*j, *p->snap, true);
        continue;
      }
      for (Part& part : j->parts) {
        if (part.verdict) continue;
        if (!part.rec) part.state = policy::ScanState::kPending;
        if (part.rec && !p->req.dry_run) upload_once(part.key, part.rec);
        part.verdict = decide_part(*j, part, *p->snap);
        part.scanned_now = true;
      }
      conclude_image(*j);
    }
    answer(p, l);
  }

  void image_decided(const std::shared_ptr<Pending>& p, std::unique_lock<std::mutex>& l) {
    if (--p->outstanding == 0) answer(p, l);
  }

  // Concludes and calls `done` (after unlocking).
  void answer(const std::shared_ptr<Pending>& p, std::unique_lock<std::mutex>& l) {
    p->concluded = true;
    if (p->timer) p->timer->cancel();
    auto d = conclude(*p);
    auto done = std::move(p->done);
    l.unlock();
    // Not once the engine is gone: a look-up left running past ~Engine may still end a request.
    callout([&] { done(std::move(d)); });
  }

  // Hands the request's undecided images to the look-up and scan pools and arms the deadline.
  void wait(const std::shared_ptr<Pending>& p) {
    std::unique_lock<std::mutex> l(p->mu);
    for (Judging* j : p->order)
      if (!j->out) p->outstanding++;
    // The handler holds the request, not the engine: an engine going away drops waiting timers.
    std::weak_ptr<Impl> weak = weak_from_this();
    p->timer.emplace(timer_pool.get_executor(), p->deadline.when());
    p->timer->async_wait([weak, p](const boost::system::error_code& ec) {
      if (ec) return;  // cancelled: the request was answered
      if (auto self = weak.lock()) self->expire(p);
    });
    // Callbacks of these flights take p->mu, so none runs before every image is handed over.
    for (Judging* j : p->order) {
      if (j->out) continue;
      if (j->tag)
        resolve_tag(p, *j);
      else
        scan_parts(p, *j);
    }
  }

  // What needs no waiting. Returns the decision when every image was decided (cache hits,
  // exemptions, errors); otherwise wait() must follow.
  std::optional<admission::AdmissionDecision> start(Pending& p) {
    if (p.req.images.empty()) return conclude(p);
    p.snap = policy();
    if (!p.snap) return conclude(p);
    p.today = o.today ? o.today() : utc_today();
    // A request naming more images than the webhook checks is not judged image by image: each
    // would hold state (and possibly a look-up) until the request is answered.
    {
      std::unordered_set<std::string_view> distinct;
      for (const auto& ci : p.req.images) distinct.insert(ci.image);
      if (distinct.size() > o.max_images_per_review) return too_many_images(p, distinct.size());
    }
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

  // Decided by scan.onError as a whole.
  admission::AdmissionDecision too_many_images(const Pending& p, size_t n) {
    rejected("too_many_images");
    const std::string why = "the request names " + std::to_string(n) + " images, more than the webhook checks (" +
                            std::to_string(o.max_images_per_review) + ")";
    admission::AdmissionDecision d;
    // Unchecked images never pass where only attested ones may run, whatever scan.onError says.
    if (p.snap->policy.scan.on_error == policy::ScanFailureAction::kDeny ||
        policy::effective_rules(p.snap->policy, p.req.namespace_).require_attestation) {
      d.allowed = false;
      d.code = 403;
      d.message = "scangate: " + why +
                  (p.snap->policy.scan.on_error == policy::ScanFailureAction::kDeny
                       ? " (policy scan.onError: deny)"
                       : " (policy scan.requireAttestation: no image is admitted unchecked)");
    } else {
      d.allowed = true;
      d.warnings.push_back("scangate: " + why + "; admitted unchecked because scan.onError is allow");
    }
    return d;
  }

  admission::AdmissionDecision conclude(const Pending& p) {
    const admission::AdmissionRequest& req = p.req;
    admission::AdmissionDecision d;
    d.allowed = true;
    if (req.images.empty()) return d;
    for (const auto& [image, j] : p.by_image)
      if (!j.in.image.digest.empty()) d.digests[image] = j.in.image.digest;
    if (p.digests_only) return d;
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
      std::string audit;
      // Every platform judged: one denying is enough to deny the container.
      for (const auto& vp : oc.verdicts) {
        const policy::Verdict& v = *vp;
        if (!v.allowed) {
          d.allowed = false;
          denied.push_back({ci.container, &v});
        }
        for (auto& w : policy::admission_warnings(ci.container, v))
          if (warned.insert(w).second) d.warnings.push_back(w);
        if (v.mode == policy::Mode::kAudit && v.violated) {
          std::string reasons;
          for (const auto& r : v.reasons) reasons += (reasons.empty() ? "" : "; ") + r;
          audit += (audit.empty() ? "" : " | ") + v.image.reference + ": " + reasons;
        }
      }
      if (!audit.empty()) d.audit_annotations["violation-" + ci.container] = policy::truncate_utf8(audit, 1024);
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
    : impl_(std::make_shared<Impl>(std::move(options), std::move(scanner), std::move(resolver), std::move(sink),
                                   std::move(policy), std::move(hooks))) {}

Engine::~Engine() {
  // Queued look-ups and scans are dropped; the running ones get one shared grace period to finish
  // (a request they complete is answered). A job still blocked after it (a registry that never
  // answers) is left to end by its own deadline on its detached thread: it holds the Impl it uses,
  // and `closed` keeps it from calling the owner's sink and hooks. Look-ups first: one that
  // completes may still queue a scan (refused once the scan queue is stopped).
  const auto until = std::chrono::steady_clock::now() + impl_->o.shutdown_grace;
  auto left = [&] {
    return std::max(std::chrono::milliseconds(0),
                    std::chrono::duration_cast<std::chrono::milliseconds>(until - std::chrono::steady_clock::now()));
  };
  if (!impl_->lookup_pool.shutdown(left())) impl_->lg.warn("look-ups still running at shutdown were left behind");
  if (!impl_->scan_pool.shutdown(left())) impl_->lg.warn("scans still running at shutdown were left behind");
  impl_->timer_pool.stop();
  impl_->timer_pool.join();
  std::unique_lock<std::shared_mutex> l(impl_->callouts_mu);
  impl_->closed = true;
}

void Engine::decide(admission::AdmissionRequest req, std::chrono::nanoseconds timeout,
                    std::function<void(admission::AdmissionDecision)> done) {
  run(std::move(req), timeout, std::move(done), false);
}

void Engine::pin(admission::AdmissionRequest req, std::chrono::nanoseconds timeout,
                 std::function<void(admission::AdmissionDecision)> done) {
  run(std::move(req), timeout, std::move(done), true);
}

void Engine::run(admission::AdmissionRequest req, std::chrono::nanoseconds timeout,
                 std::function<void(admission::AdmissionDecision)> done, bool digests_only) {
  auto p = std::make_shared<Pending>();
  p->req = std::move(req);
  p->digests_only = digests_only;
  if (impl_->o.pull_secrets && !p->req.namespace_.empty()) {
    p->who.namespace_ = p->req.namespace_;
    p->who.pull_secrets = p->req.image_pull_secrets;
    p->who.service_account = p->req.service_account;
    p->scope = p->who.scope();
  }
  p->deadline = deadline_for(impl_->o, timeout);
  // Cache hits (the common case) are decided here, on the caller's thread. Only what must wait
  // goes to the pools.
  if (auto d = impl_->start(*p)) return done(std::move(*d));
  p->done = std::move(done);
  impl_->wait(p);
}

admission::AdmissionDecision Engine::decide_sync(const admission::AdmissionRequest& req,
                                                 std::chrono::nanoseconds timeout) {
  std::promise<admission::AdmissionDecision> answer;
  auto future = answer.get_future();
  decide(req, timeout, [&answer](admission::AdmissionDecision d) { answer.set_value(std::move(d)); });
  return future.get();
}

size_t Engine::cache_entries() const { return impl_->cache.size(); }

size_t Engine::scans_started() const { return impl_->started.load(); }

size_t Engine::rematches_started() const { return impl_->rematches.load(); }

}  // namespace scangate::verdict
