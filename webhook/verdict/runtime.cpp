#include "webhook/verdict/runtime.h"

#include <sys/stat.h>

#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <ctime>
#include <optional>
#include <deque>
#include <mutex>
#include <thread>

#include "scanner/core/log.h"
#include "scanner/cspm/config.h"
#include "scanner/cspm/upload.h"
#include "scanner/dbrepo/db_artifact.h"
#include "scanner/policy/policy.h"
#include "scanner/vulndb/vuln_db.h"
#include "webhook/verdict/engine.h"
#include "webhook/verdict/registry_scanner.h"

namespace scangate::verdict {

namespace {

struct FileStamp {
  ino_t ino = 0;
  off_t size = 0;
  int64_t mtime_ns = 0;
  bool operator==(const FileStamp&) const = default;
};

FileStamp stamp_of(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return {};
  return {st.st_ino, st.st_size, static_cast<int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec};
}

// "2026-12-07T14:26:29Z" -> Unix seconds; nullopt when it is not that form.
std::optional<std::int64_t> unix_seconds(const std::string& rfc3339) {
  std::tm tm{};
  int n = 0;
  if (std::sscanf(rfc3339.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour,
                  &tm.tm_min, &tm.tm_sec, &n) != 6)
    return std::nullopt;
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  return static_cast<std::int64_t>(::timegm(&tm));
}

class Runtime final : public EngineRuntime {
 public:
  Runtime(RuntimeConfig cfg, RuntimeHooks hooks) : cfg_(std::move(cfg)), hooks_(std::move(hooks)) {}

  ~Runtime() override {
    {
      std::lock_guard<std::mutex> l(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    if (watcher_.joinable()) watcher_.join();
    if (poller_.joinable()) poller_.join();
    if (uploader_.joinable()) uploader_.join();
    engine_.reset();
  }

  Result<void> init() {
    std::vector<Platform> platforms;
    for (const auto& text : cfg_.platforms) {
      auto p = parse_platform(text);
      if (!p.ok()) return p.error().wrap("--platforms");
      platforms.push_back(*p);
    }
    // The vulnerability DB: required, and never an empty stand-in.
    if (cfg_.db.empty())
      return Error(ErrorKind::kInvalidArgument, "--db FILE is required (build it with `scangate db build`)");
    // One HTTP client for every registry client (the webhook's own, one per pod credential, and
    // the ones reloads build): a warm TLS connection per registry serves them all.
    SourceOptions registry_so;
    registry_so.insecure_registries = cfg_.insecure_registries;
    auto base = registry_client_options(registry_so);
    if (!base.ok()) return base.error();
    registry_http_ = make_registry_http_client(*base);
    base->http = registry_http_;
    auto client = make_shared_registry_client(access());
    if (!client.ok()) return client.error().wrap("--registry-config");
    client_ = std::make_shared<ReloadableRegistryClient>(*client);
    if (!cfg_.registry_config.empty()) registry_config_stamp_ = stamp_of(cfg_.registry_config);
    if (!cfg_.db_repository.empty()) {
      if (size_t n = dbrepo::remove_stale_temps(cfg_.db, std::chrono::hours(1)); n > 0)
        db_lg_.info("removed temporary files of pulls that did not finish", {{"files", std::to_string(n)}});
    }
    auto db = vulndb::VulnDb::open(cfg_.db);
    if (!db.ok() && !cfg_.db_repository.empty()) {
      // First start on an empty volume: the pod is Ready once the artifact is here (a pull of a
      // compressed DB, seconds), never after a build from the feeds.
      db_lg_.info("no usable DB yet; pulling it", {{"repository", cfg_.db_repository}, {"why", db.error().message}});
      auto pulled = pull_db(Deadline::after(std::chrono::minutes(10)));
      if (!pulled.ok()) return pulled.error().wrap("--db-repository");
      db = vulndb::VulnDb::open(cfg_.db);
    }
    if (!db.ok()) return db.error().wrap("--db");
    db_stamp_ = stamp_of(cfg_.db);
    set_db(std::move(db.value()));

    // The policy: the built-in default (CRITICAL limit 0) unless --policy names a file.
    if (!cfg_.policy.empty()) {
      auto p = policy::load_policy_file(cfg_.policy);
      if (!p.ok()) return p.error().wrap("--policy");
      set_policy(std::move(p.value()));
      stamp_ = stamp_of(cfg_.policy);
    } else {
      set_policy(policy::Policy::default_policy());
    }

    auto secrets = SecretScanner::create();
    if (!secrets.ok()) return secrets.error();
    auto sc = std::make_shared<const SecretScanner>(std::move(secrets.value()));

    // CSPM: optional; a configured but unusable upload is a start-up error.
    if (!cfg_.cspm_url.empty()) {
      cspm::CspmFlags flags;
      flags.url = cfg_.cspm_url;
      if (!cfg_.cspm_tenant_id.empty()) flags.tenant_id = cfg_.cspm_tenant_id;
      if (!cfg_.cspm_label.empty()) flags.label = cfg_.cspm_label;
      if (!cfg_.cspm_token_file.empty()) flags.token_file = cfg_.cspm_token_file;
      auto c = cspm::resolve_cspm_config(flags, cspm::process_environment());
      if (!c.ok()) return c.error().wrap("--cspm-url");
      cspm_ = std::make_unique<cspm::CspmConfig>(std::move(c.value()));
      uploader_ = std::thread([this] { upload_loop(); });
    }

    EngineOptions o;
    o.scan_workers = cfg_.scan_workers;
    o.cache_size = cfg_.cache_size;
    o.cache_ttl = cfg_.cache_ttl;
    o.tag_ttl = cfg_.tag_ttl;
    o.lookup_threads = cfg_.lookup_threads;
    o.max_lookups_per_registry = cfg_.max_lookups_per_registry;
    o.max_queued_lookups = cfg_.max_queued_lookups;
    o.max_queued_lookups_per_registry = cfg_.max_queued_lookups_per_registry;
    o.max_queued_scans = cfg_.max_queued_scans;
    o.max_images_per_review = cfg_.max_images_per_review;
    o.lookup_timeout = cfg_.lookup_timeout;
    o.scan_timeout = cfg_.scan_timeout;
    o.platforms = std::move(platforms);
    // Verdicts are cached by image digest and DB revision: after a reload, an image is decided
    // again (scanned with the new DB) the next time it is asked about.
    o.db_revision = [this] { return current_db_revision(); };
    EngineHooks hooks = hooks_.engine;
    auto scanner = std::make_shared<RegistryImageScanner>(
        client_, [this]() -> std::shared_ptr<const vulndb::VulnStore> { return current_db(); }, sc);
    if (hooks_.layers_pulled) scanner->set_layer_counter(hooks_.layers_pulled);
    if (!cfg_.attestation_keys.empty()) {
      auto check = std::make_shared<AttestationCheck>();
      for (const auto& path : cfg_.attestation_keys) {
        auto k = attest::PublicKey::load_file(path);
        if (!k.ok()) return k.error().wrap("--attestation-key");
        check->keys.push_back(std::move(k).value());
      }
      check->max_age = [this] { return std::chrono::seconds(current_policy()->policy.scan.max_age_seconds); };
      check->counted = hooks_.attestation;
      scanner->set_attestations(std::move(check));
      o.attestations = true;
    }
    std::shared_ptr<PullAccess> pull;
    if (cfg_.pod_pull_secrets) {
      if (!cfg_.kube)
        return Error(ErrorKind::kInvalidArgument,
                     "--pod-pull-secrets needs the Kubernetes API (in-cluster or --kubeconfig)");
      kube::PullSecretReader::Options ro;
      ro.ttl = cfg_.pull_secret_cache_ttl;
      pull = std::make_shared<PullAccess>(client_, std::make_shared<kube::PullSecretReader>(cfg_.kube, ro),
                                          std::move(base).value(), PullAccess::Options{});
      scanner->set_access(pull);
      o.pull_secrets = true;
    }
    engine_ = std::make_unique<Engine>(
        o, scanner, std::make_shared<RegistryDigestResolver>(client_, pull),
        [this](const ScanRecord& rec) { enqueue_upload(rec.report_json); }, [this] { return current_policy(); }, hooks);

    watcher_ = std::thread([this] { watch_files(); });
    if (!cfg_.db_repository.empty()) poller_ = std::thread([this] { poll_repository(); });
    return Ok();
  }

  void decide(admission::AdmissionRequest req, std::chrono::nanoseconds timeout,
              std::function<void(admission::AdmissionDecision)> done) override {
    engine_->decide(std::move(req), timeout, std::move(done));
  }
  void pin(admission::AdmissionRequest req, std::chrono::nanoseconds timeout,
           std::function<void(admission::AdmissionDecision)> done) override {
    engine_->pin(std::move(req), timeout, std::move(done));
  }

 private:
  std::shared_ptr<const PolicySnapshot> current_policy() {
    std::lock_guard<std::mutex> l(policy_mu_);
    return policy_;
  }

  void set_policy(policy::Policy p) {
    auto snap = std::make_shared<PolicySnapshot>();
    snap->revision = p.revision;
    snap->policy = std::move(p);
    std::lock_guard<std::mutex> l(policy_mu_);
    policy_ = snap;
  }

  std::shared_ptr<const vulndb::VulnDb> current_db() {
    std::lock_guard<std::mutex> l(db_mu_);
    return db_;
  }
  std::string current_db_revision() {
    std::lock_guard<std::mutex> l(db_mu_);
    return db_revision_;
  }

  void set_db(std::shared_ptr<const vulndb::VulnDb> db) {
    const std::string revision = db->revision();
    const auto built = unix_seconds(db->info().built_at);
    {
      std::lock_guard<std::mutex> l(db_mu_);
      db_ = std::move(db);
      db_revision_ = revision;
      db_built_ = built;
    }
    if (hooks_.db_revision) hooks_.db_revision(revision);
    report_db_age();
  }

  void report_db_age() {
    std::optional<std::int64_t> built;
    {
      std::lock_guard<std::mutex> l(db_mu_);
      built = db_built_;
    }
    if (!hooks_.db_age || !built) return;
    const auto now =
        std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
    hooks_.db_age(static_cast<double>(now - *built));
  }

  // `scangate db update|build|pull --output` replace the file atomically (a new inode), as does a
  // kubelet's volume update: a changed stamp means a new DB to open. One that does not open (not a
  // DB, another schema, cut short) is refused and the DB in use keeps serving; the next change of
  // the file is tried again.
  void check_db() {
    std::lock_guard<std::mutex> check(db_check_mu_);  // the watcher, and the poller after a pull
    FileStamp now = stamp_of(cfg_.db);
    if (now == db_stamp_ || now == FileStamp{}) return;
    db_stamp_ = now;
    auto db = vulndb::VulnDb::open(cfg_.db);
    if (!db.ok()) {
      db_lg_.error("vulnerability DB reload failed; keeping the DB in use",
                   {{"error", db.error().message}, {"revision", current_db_revision()}});
      if (hooks_.db_reload) hooks_.db_reload("error");
      return;
    }
    const std::string old = current_db_revision();
    std::shared_ptr<const vulndb::VulnDb> fresh(std::move(db.value()));
    const std::string revision = fresh->revision();
    set_db(std::move(fresh));
    db_lg_.info("vulnerability DB reloaded", {{"revision", revision}, {"previous", old}});
    if (hooks_.db_reload) hooks_.db_reload("ok");
  }

  // Pulls the artifact into cfg_.db unless its manifest digest is the last one pulled, or its
  // DB has the revision in use. The pull verifies everything before it renames the file in place.
  Result<bool> pull_db(const Deadline& deadline) {
    dbrepo::PullOptions o;
    o.reference = cfg_.db_repository;
    o.output = cfg_.db;
    o.client = client_;
    o.deadline = deadline;
    o.skip_if_digest = pulled_digest_;
    o.skip_if_revision = current_db_revision();
    // Never back to an older DB: a tag moved back (by mistake, or by someone who may push) would
    // otherwise undo every advisory published since. To roll back, replace the file at --db.
    {
      std::lock_guard<std::mutex> l(db_mu_);
      if (db_built_) o.not_built_before = std::chrono::system_clock::time_point(std::chrono::seconds(*db_built_));
    }
    // Shutdown does not wait for a slow or stalled registry to finish the download.
    o.cancelled = [this] {
      std::lock_guard<std::mutex> l(mu_);
      return stop_;
    };
    auto r = dbrepo::pull_db(o);
    if (!r.ok()) return r.error();
    pulled_digest_ = r->manifest_digest;
    if (r->changed)
      db_lg_.info("pulled a new vulnerability DB",
                  {{"repository", cfg_.db_repository}, {"digest", r->manifest_digest}, {"revision", r->info.revision}});
    return r->changed;
  }

  // Checks --db-repository at start (a DB from the volume may be older than the artifact), then
  // every --db-poll. A failed or refused pull keeps the DB in use, and is tried again next time.
  void poll_repository() {
    std::unique_lock<std::mutex> l(mu_);
    for (bool first = true;; first = false) {
      if (!first) {
        if (cfg_.db_poll.count() <= 0) return;
        if (cv_.wait_for(l, cfg_.db_poll, [&] { return stop_; })) return;
      } else if (stop_) {
        return;
      }
      l.unlock();
      const auto budget = cfg_.db_poll.count() > 0
                              ? std::min<std::chrono::milliseconds>(cfg_.db_poll, std::chrono::minutes(30))
                              : std::chrono::minutes(30);
      auto r = pull_db(Deadline::after(budget));
      if (!r.ok()) {
        db_lg_.error(
            "vulnerability DB pull failed; keeping the DB in use",
            {{"repository", cfg_.db_repository}, {"error", r.error().message}, {"revision", current_db_revision()}});
        if (hooks_.db_pull) hooks_.db_pull("error");
      } else {
        if (hooks_.db_pull) hooks_.db_pull(*r ? "updated" : "unchanged");
        if (*r) check_db();  // swap now rather than at the watcher's next look
      }
      l.lock();
    }
  }

  // --registry-config changed (a Secret volume's update, a rotated ECR token): a new client with
  // the new credentials serves the calls that start from now on. One that does not parse is
  // refused, logged, and the credentials in use stay.
  void check_registry_config() {
    if (cfg_.registry_config.empty()) return;
    FileStamp now = stamp_of(cfg_.registry_config);
    if (now == registry_config_stamp_ || now == FileStamp{}) return;
    registry_config_stamp_ = now;
    auto next = make_shared_registry_client(access());
    if (!next.ok()) {
      reg_lg_.error("registry credentials reload failed; keeping the credentials in use",
                    {{"file", cfg_.registry_config}, {"error", next.error().message}});
      return;
    }
    client_->replace(*next);
    reg_lg_.info("registry credentials reloaded", {{"file", cfg_.registry_config}});
  }

  // ConfigMap volumes change by symlink swap: the resolved file's inode changes, so stat() sees it.
  void watch_files() {
    std::unique_lock<std::mutex> l(mu_);
    while (!cv_.wait_for(l, std::chrono::seconds(2), [&] { return stop_; })) {
      l.unlock();
      check_db();
      check_registry_config();
      report_db_age();
      l.lock();
      if (cfg_.policy.empty()) continue;
      FileStamp now = stamp_of(cfg_.policy);
      if (now == stamp_) continue;
      stamp_ = now;
      auto p = policy::load_policy_file(cfg_.policy);
      if (p.ok()) {
        lg_.info("policy reloaded", {{"revision", p->revision}});
        set_policy(std::move(p.value()));
        if (hooks_.policy_reload) hooks_.policy_reload("ok");
      } else {
        lg_.error("policy reload failed; keeping the last good policy", {{"error", p.error().message}});
        if (hooks_.policy_reload) hooks_.policy_reload("error");
      }
    }
  }

  void enqueue_upload(const std::string& report) {
    if (!cspm_) return;
    std::lock_guard<std::mutex> l(mu_);
    uploads_.push_back(report);
    cv_.notify_all();
  }

  // One uploader thread: the report is spooled durably first, so a crash or an outage loses nothing.
  void upload_loop() {
    for (;;) {
      std::string report;
      {
        std::unique_lock<std::mutex> l(mu_);
        cv_.wait(l, [&] { return stop_ || !uploads_.empty(); });
        if (uploads_.empty()) return;
        report = std::move(uploads_.front());
        uploads_.pop_front();
      }
      auto r = cspm::upload_report(*cspm_, report, "TR", cfg_.spool_dir, log::Logger("cspm"));
      std::string result = !r.ok() ? "error" : r->delivered() ? "ok" : "spooled";
      if (hooks_.cspm_upload) hooks_.cspm_upload(result);
      if (r.ok() && hooks_.cspm_spool_pending)
        hooks_.cspm_spool_pending(static_cast<double>(r->backlog_pending + (r->delivered() ? 0 : 1)));
    }
  }

  RuntimeConfig cfg_;
  RuntimeHooks hooks_;
  log::Logger lg_{"policy"};
  log::Logger db_lg_{"vulndb"};
  std::mutex db_mu_;
  std::shared_ptr<const vulndb::VulnDb> db_;
  std::string db_revision_;
  std::optional<std::int64_t> db_built_;
  FileStamp db_stamp_;  // under db_check_mu_ after init
  std::mutex db_check_mu_;
  RegistryAccess access() const {
    return RegistryAccess{cfg_.registry_config, cfg_.insecure_registries, "", registry_http_};
  }

  std::shared_ptr<net::HttpClient> registry_http_;
  std::shared_ptr<ReloadableRegistryClient> client_;
  FileStamp registry_config_stamp_;  // the watcher's alone after init
  log::Logger reg_lg_{"registry"};
  std::string pulled_digest_;  // the poller's alone after init
  std::thread poller_;
  std::unique_ptr<cspm::CspmConfig> cspm_;
  std::unique_ptr<Engine> engine_;
  std::mutex policy_mu_;
  std::shared_ptr<const PolicySnapshot> policy_;
  FileStamp stamp_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::deque<std::string> uploads_;
  std::thread watcher_, uploader_;
};

}  // namespace

Result<std::unique_ptr<EngineRuntime>> make_engine_runtime(const RuntimeConfig& cfg, RuntimeHooks hooks) {
  auto rt = std::make_unique<Runtime>(cfg, std::move(hooks));
  SG_TRY(rt->init());
  return std::unique_ptr<EngineRuntime>(std::move(rt));
}

}  // namespace scangate::verdict
