// The webhook's verdict service, built from its own configuration: the vulnerability DB, the
// policy (reloaded when its file changes; a bad edit keeps the last good one), the secret
// scanner, the registry client, the CSPM upload spool, and the engine that decides with them.
// It knows nothing of the HTTP server: the composition root (webhook/app) translates the
// server's configuration into RuntimeConfig, its metrics into RuntimeHooks, and routes the
// server's decider to EngineRuntime::decide.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "scanner/core/result.h"
#include "webhook/admission/review.h"
#include "scanner/kube/kube_client.h"
#include "webhook/verdict/engine.h"

namespace scangate::verdict {

struct RuntimeConfig {
  std::string db;  // vulnerability DB (SQLite); required; watched, and reloaded when replaced
  // The OCI artifact the DB comes from (scanner/dbrepo): pulled into `db` at start when `db` does
  // not open, then checked every `db_poll` (0: never again) and pulled when its digest changed.
  std::string db_repository;
  std::chrono::milliseconds db_poll{std::chrono::hours(1)};
  std::string policy;  // policy file; empty: the built-in default
  std::string registry_config;
  std::vector<std::string> insecure_registries;
  // Pods pull with their own credentials (pull_access.h), read through `kube` (required then),
  // each Secret and ServiceAccount kept `pull_secret_cache_ttl`.
  bool pod_pull_secrets = false;
  std::chrono::milliseconds pull_secret_cache_ttl{30000};
  std::shared_ptr<kube::KubeClient> kube;
  // Trusted public keys (PEM files, EC P-256) of the pipeline's signed scan attestations
  // (--attestation-key); empty: no attestation is looked up.
  std::vector<std::string> attestation_keys;
  unsigned scan_workers = 2;
  std::vector<std::string> platforms;  // --platforms: "os/arch[/variant]" each; empty: all linux
  std::uint64_t cache_size = 10000;
  std::chrono::seconds cache_ttl{24 * 3600};
  std::chrono::milliseconds tag_ttl{10000};  // 0: no tag caching
  // The engine's pools and budgets (EngineOptions).
  unsigned lookup_threads = 32;
  unsigned max_lookups_per_registry = 2;
  size_t max_queued_lookups = 256;
  size_t max_queued_lookups_per_registry = 64;
  size_t max_queued_scans = 256;
  size_t max_images_per_review = 256;
  std::chrono::milliseconds lookup_timeout{30000};
  std::chrono::milliseconds scan_timeout{10 * 60 * 1000};
  // CSPM upload of every new scan's report; off when cspm_url is empty.
  std::string cspm_url, cspm_tenant_id, cspm_label, cspm_token_file, spool_dir;
};

// What the service reports, for metrics and logs; every hook may be empty.
struct RuntimeHooks {
  EngineHooks engine;
  std::function<void(const std::string& revision)> db_revision;  // once the DB is open, and on each reload
  std::function<void(const std::string& result)> db_reload;      // ok | error (the new file was refused)
  std::function<void(double seconds)> db_age;                    // since the DB in use was built
  std::function<void(const std::string& result)> db_pull;        // updated | unchanged | error
  std::function<void(const std::string& result)> policy_reload;  // ok | error
  std::function<void(const std::string& result)> cspm_upload;    // ok | spooled | error
  std::function<void(double pending)> cspm_spool_pending;        // reports waiting in the spool
  std::function<void(const std::string& result)> attestation;    // per attestation read (AttestationCheck)
  std::function<void(size_t layers)> layers_pulled;              // per full scan
};

class EngineRuntime {
 public:
  virtual ~EngineRuntime() = default;
  // Engine::decide: `done` is called exactly once, before the deadline `timeout` implies.
  virtual void decide(admission::AdmissionRequest req, std::chrono::nanoseconds timeout,
                      std::function<void(admission::AdmissionDecision)> done) = 0;
  // Engine::pin: the digests the request's images resolve to, by the same deadline.
  virtual void pin(admission::AdmissionRequest req, std::chrono::nanoseconds timeout,
                   std::function<void(admission::AdmissionDecision)> done) = 0;
};

// A configuration error (DB missing, policy invalid, CSPM token unreadable) is an Error naming
// the flag: the webhook must not start half-configured.
Result<std::unique_ptr<EngineRuntime>> make_engine_runtime(const RuntimeConfig& cfg, RuntimeHooks hooks);

}  // namespace scangate::verdict
