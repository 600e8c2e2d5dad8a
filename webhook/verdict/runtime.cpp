#include "webhook/verdict/runtime.h"

#include <sys/stat.h>

#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <deque>
#include <mutex>
#include <thread>

#include "scanner/core/log.h"
#include "scanner/cspm/config.h"
#include "scanner/cspm/upload.h"
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
    auto db = vulndb::VulnDb::open(cfg_.db);
    if (!db.ok()) return db.error().wrap("--db");
    std::string revision = (*db)->revision();
    db_ = std::shared_ptr<const vulndb::VulnStore>(std::move(db.value()));
    if (hooks_.db_revision) hooks_.db_revision(revision);

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

    auto client = make_shared_registry_client(RegistryAccess{cfg_.registry_config, cfg_.insecure_registries, ""});
    if (!client.ok()) return client.error().wrap("--registry-config");
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
    o.db_revision = [revision] { return revision; };
    EngineHooks hooks = hooks_.engine;
    engine_ = std::make_unique<Engine>(
        o, std::make_shared<RegistryImageScanner>(*client, db_, sc), std::make_shared<RegistryDigestResolver>(*client),
        [this](const ScanRecord& rec) { enqueue_upload(rec.report_json); }, [this] { return current_policy(); }, hooks);

    if (!cfg_.policy.empty()) watcher_ = std::thread([this] { watch_policy(); });
    return Ok();
  }

  void decide(admission::AdmissionRequest req, std::chrono::nanoseconds timeout,
              std::function<void(admission::AdmissionDecision)> done) override {
    engine_->decide(std::move(req), timeout, std::move(done));
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

  // ConfigMap volumes change by symlink swap: the resolved file's inode changes, so stat() sees it.
  void watch_policy() {
    std::unique_lock<std::mutex> l(mu_);
    while (!cv_.wait_for(l, std::chrono::seconds(2), [&] { return stop_; })) {
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
  std::shared_ptr<const vulndb::VulnStore> db_;
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
