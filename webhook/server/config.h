// The webhook's configuration: command-line flags and an optional YAML file with the same
// keys (flags win). The file is checked on scanner/core/yaml_schema.h: unknown keys, keys given
// twice and wrongly typed values are errors that name the key and its line, all of them at once.
// Durations (cache-ttl, tag-cache-ttl, lookup-timeout, scan-timeout) follow scanner/core/duration.h: Go's grammar plus
// d, never negative.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "scanner/core/result.h"

namespace scangate::webhook {

struct WebhookConfig {
  std::string listen = ":8443";                              // HTTPS ADDR:PORT
  std::string tls_cert_file;                                 // required
  std::string tls_private_key_file;                          // required
  std::string metrics_listen = ":9090";                      // plain-HTTP /metrics ADDR:PORT
  std::string db;                                            // vulnerability DB (SQLite)
  std::string db_repository;                                 // OCI artifact the DB is pulled from (scangate db push)
  std::chrono::milliseconds db_poll{std::chrono::hours(1)};  // how often db_repository is checked; 0: at start only
  std::string policy;                                        // gate policy file
  std::string registry_config;                               // registry credentials (docker config.json)
  std::vector<std::string> insecure_registries;              // plain-HTTP / self-signed registries
  std::vector<std::string> attestation_keys;                 // trusted keys of signed scan attestations
  unsigned scan_workers = 2;
  // Platforms an image index is judged by ("linux/amd64"); empty: every linux platform it lists.
  std::vector<std::string> platforms;
  std::uint64_t cache_size = 10000;
  std::chrono::milliseconds cache_ttl{std::chrono::hours(24)};
  // Limits (README "Limits and overload"): tag -> digest cache lifetime (0: every review looks
  // the tag up), the engine's pools and budgets, and the server's request-body budget.
  std::chrono::milliseconds tag_cache_ttl{std::chrono::seconds(10)};
  unsigned lookup_threads = 32;
  unsigned max_lookups_per_registry = 2;
  std::uint64_t max_queued_lookups = 256;
  std::uint64_t max_queued_lookups_per_registry = 64;
  std::uint64_t max_queued_scans = 256;
  std::uint64_t max_images_per_review = 256;
  std::chrono::milliseconds lookup_timeout{std::chrono::seconds(30)};
  std::chrono::milliseconds scan_timeout{std::chrono::minutes(10)};
  std::uint64_t max_buffered_request_bytes = std::uint64_t{64} << 20;
  std::string cspm_url;
  std::string cspm_tenant_id;
  std::map<std::string, std::string> cspm_labels;  // KEY=VALUE
  std::string cspm_token_file;
  std::string spool_dir;
  // Webhook registration (webhook/app/publisher.h): once ready, apply this ValidatingWebhookConfiguration
  // (JSON) with every caBundle from publish_ca_file, owned by the ClusterRole webhook_owner_clusterrole.
  std::string publish_webhook_config;
  // And this MutatingWebhookConfiguration (digest pinning, POST /mutate), the same way.
  std::string publish_mutating_webhook_config;
  std::string publish_ca_file;
  std::string webhook_owner_clusterrole;
  // Pods pull with their own credentials: read their imagePullSecrets and their ServiceAccount's
  // from the Kubernetes API (webhook/verdict/pull_access.h), each object cached this long.
  bool pod_pull_secrets = false;
  std::chrono::milliseconds pull_secret_cache_ttl{std::chrono::seconds(30)};
  // The Kubernetes API (in-cluster by default, else a kubeconfig; scanner/kube/kube_client.h).
  std::string kubeconfig;
  std::string kube_api_server;
  std::string kube_token_file;
  std::string kube_ca_file;
  unsigned threads = 2;  // HTTPS worker threads
  // SIGTERM: answer this long (with /readyz failing) before the graceful stop.
  std::chrono::milliseconds shutdown_delay{std::chrono::seconds(10)};
  std::string config_file;
};

struct ParsedArgs {
  WebhookConfig config;
  bool help = false;
};

// Parses argv (without the program name), then the --config file if given.
Result<ParsedArgs> parse_webhook_args(const std::vector<std::string>& args);

// Applies a YAML config document to `config`, skipping keys in `set_by_flags`.
// `source` names the file in errors ("config.yaml line 3: unknown key ...").
Result<void> apply_config_yaml(const std::string& yaml_text, const std::string& source,
                               const std::vector<std::string>& set_by_flags, WebhookConfig& config);

// "ADDR:PORT", ":PORT" (all interfaces) or "[v6]:PORT" -> address and port.
struct ListenAddress {
  std::string address;
  std::uint16_t port = 0;
};
Result<ListenAddress> parse_listen_address(const std::string& text);

std::string webhook_help();

}  // namespace scangate::webhook
