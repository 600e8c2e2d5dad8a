#include "webhook/app/wiring.h"

#include "scanner/kube/kube_client.h"
#include "scanner/kube/kubeconfig.h"

namespace scangate::app {

webhook::Decider EngineRuntime::decider() {
  verdict::EngineRuntime* rt = runtime_.get();
  return [rt](admission::AdmissionRequest req, webhook::DecideContext ctx, webhook::DecisionCallback done) {
    rt->decide(std::move(req), ctx.timeout.value_or(std::chrono::nanoseconds(0)), std::move(done));
  };
}

webhook::Decider EngineRuntime::pinner() {
  verdict::EngineRuntime* rt = runtime_.get();
  return [rt](admission::AdmissionRequest req, webhook::DecideContext ctx, webhook::DecisionCallback done) {
    rt->pin(std::move(req), ctx.timeout.value_or(std::chrono::nanoseconds(0)), std::move(done));
  };
}

verdict::RuntimeConfig runtime_config(const webhook::WebhookConfig& cfg) {
  verdict::RuntimeConfig r;
  r.db = cfg.db;
  r.db_repository = cfg.db_repository;
  r.db_poll = cfg.db_poll;
  r.policy = cfg.policy;
  r.registry_config = cfg.registry_config;
  r.insecure_registries = cfg.insecure_registries;
  r.attestation_keys = cfg.attestation_keys;
  r.pod_pull_secrets = cfg.pod_pull_secrets;
  r.pull_secret_cache_ttl = cfg.pull_secret_cache_ttl;
  r.scan_workers = cfg.scan_workers;
  r.platforms = cfg.platforms;
  r.cache_size = cfg.cache_size;
  r.cache_ttl = std::chrono::duration_cast<std::chrono::seconds>(cfg.cache_ttl);
  r.tag_ttl = cfg.tag_cache_ttl;
  r.lookup_threads = cfg.lookup_threads;
  r.max_lookups_per_registry = cfg.max_lookups_per_registry;
  r.max_queued_lookups = static_cast<size_t>(cfg.max_queued_lookups);
  r.max_queued_lookups_per_registry = static_cast<size_t>(cfg.max_queued_lookups_per_registry);
  r.max_queued_scans = static_cast<size_t>(cfg.max_queued_scans);
  r.max_images_per_review = static_cast<size_t>(cfg.max_images_per_review);
  r.lookup_timeout = cfg.lookup_timeout;
  r.scan_timeout = cfg.scan_timeout;
  r.cspm_url = cfg.cspm_url;
  r.cspm_tenant_id = cfg.cspm_tenant_id;
  if (!cfg.cspm_labels.empty()) r.cspm_label = cfg.cspm_labels.begin()->second;
  r.cspm_token_file = cfg.cspm_token_file;
  r.spool_dir = cfg.spool_dir;
  return r;
}

verdict::RuntimeHooks runtime_hooks(webhook::WebhookMetrics& metrics) {
  webhook::WebhookMetrics* m = &metrics;
  verdict::RuntimeHooks h;
  h.engine.cache_lookup = [m](bool hit) { (hit ? m->verdict_cache_hits : m->verdict_cache_misses).Increment(); };
  h.engine.scan_done = [m](const std::string& result, double secs) {
    m->scan_result(result).Increment();
    m->scan_duration.Observe(secs);
  };
  h.engine.rematch_done = [m](const std::string& result, double) { m->rematch_result(result).Increment(); };
  h.engine.cache_size = [m](size_t n) { m->verdict_cache_entries.Set(static_cast<double>(n)); };
  h.db_revision = [m](const std::string& revision) { m->set_db_revision(revision); };
  h.db_reload = [m](const std::string& result) { m->db_reload_result(result).Increment(); };
  h.db_age = [m](double seconds) { m->db_age.Set(seconds); };
  h.db_pull = [m](const std::string& result) { m->db_pull_result(result).Increment(); };
  h.engine.rejected = [m](const std::string& what) { m->work_rejected_for(what).Increment(); };
  h.policy_reload = [m](const std::string& result) { m->policy_reload_result(result).Increment(); };
  h.cspm_upload = [m](const std::string& result) { m->cspm_upload_result(result).Increment(); };
  h.cspm_spool_pending = [m](double pending) { m->cspm_spool_pending.Set(pending); };
  h.attestation = [m](const std::string& result) { m->attestation_result(result).Increment(); };
  h.layers_pulled = [m](size_t n) { m->layer_pulls.Increment(static_cast<double>(n)); };
  return h;
}

Result<std::unique_ptr<EngineRuntime>> make_engine_runtime(const webhook::WebhookConfig& cfg,
                                                           webhook::WebhookMetrics& metrics) {
  auto rc = runtime_config(cfg);
  if (cfg.pod_pull_secrets) {
    auto kube_cfg = kube::resolve_kube_config(
        cfg.kubeconfig, {cfg.kube_api_server, cfg.kube_token_file, cfg.kube_ca_file}, kube::process_env());
    if (!kube_cfg) return kube_cfg.error().wrap("--pod-pull-secrets");
    kube::ClientOptions ko;
    ko.user_agent = std::string("scangate-webhook/") + SCANGATE_VERSION;
    // A Secret read serves an admission request: a few quick tries, never past its deadline.
    ko.retry.max_attempts = 3;
    ko.retry.max_delay = std::chrono::seconds(2);
    ko.io_timeout = std::chrono::seconds(10);
    auto client = kube::KubeClient::create(*kube_cfg, ko);
    if (!client) return client.error().wrap("--pod-pull-secrets");
    rc.kube = std::shared_ptr<kube::KubeClient>(std::move(client).value());
  }
  auto rt = verdict::make_engine_runtime(rc, runtime_hooks(metrics));
  if (!rt.ok()) return rt.error();
  return std::make_unique<EngineRuntime>(std::move(rt).value());
}

}  // namespace scangate::app
