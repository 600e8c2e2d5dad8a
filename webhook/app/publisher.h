// The webhook publishes its own ValidatingWebhookConfiguration once it is Ready
// (`--publish-webhook-config FILE`), so that a fail-closed webhook is never live before a pod can
// answer it: at install, and on a cluster where no pod ever becomes Ready. With digest pinning
// (`--publish-mutating-webhook-config FILE`) it publishes the MutatingWebhookConfiguration of
// POST /mutate the same way, in the same attempt.
//
// Each FILE is a configuration the chart renders (JSON, everything but the caBundle). Once ready()
// holds, the publisher
//   - reads the CA file (`--publish-ca-file`) and writes it, base64, as every webhook's
//     clientConfig.caBundle;
//   - GETs the ClusterRole `--webhook-owner-clusterrole` and makes it the configuration's owner
//     (a cluster-scoped object may only be owned by a cluster-scoped one): `helm uninstall`
//     deletes the ClusterRole and Kubernetes' garbage collector the configuration;
//   - applies it server-side (field manager "scangate", force): every replica sends the same body
//     under the same manager, so the applies are idempotent.
// An attempt reads and checks every file before it applies any, then applies them in order (the
// validating configuration first). A failure is logged with its reason and retried with backoff
// (scanner/net/retry.h) until the whole attempt succeeds; a change of the CA file or of a FILE (a
// certificate rotation, a ConfigMap update) is applied again, and so is everything every `resync`
// (someone deleted it). Nothing is removed on shutdown: the other replicas keep serving.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "scanner/core/log.h"
#include "scanner/core/result.h"
#include "scanner/kube/kube_client.h"
#include "scanner/net/retry.h"

namespace scangate::app {

inline constexpr const char* kFieldManager = "scangate";

// The two kinds of admission webhook configuration the webhook publishes (both
// admissionregistration.k8s.io/v1, both a list of `webhooks` with a `clientConfig` each).
enum class WebhookConfigKind { kValidating, kMutating };
const char* to_string(WebhookConfigKind kind);  // "ValidatingWebhookConfiguration", "MutatingWebhookConfiguration"
// The API path of the configuration `name` of that kind.
std::string webhook_config_path(WebhookConfigKind kind, const std::string& name);

// The configuration to apply: `config_text` (from `source`, for messages) checked as a
// configuration of `kind`, every clientConfig.caBundle set to base64(ca_pem), the owner
// reference set to the ClusterRole `owner` (its name and uid), and the fields the API server
// manages (uid, resourceVersion, managedFields, ...) dropped.
Result<nlohmann::json> build_webhook_config(const std::string& config_text, const std::string& source,
                                            const std::string& ca_pem, const nlohmann::json& owner,
                                            WebhookConfigKind kind = WebhookConfigKind::kValidating);

// Checks `config_text` as build_webhook_config does, without the CA and the owner (at start).
Result<void> check_webhook_config(const std::string& config_text, const std::string& source,
                                  WebhookConfigKind kind = WebhookConfigKind::kValidating);

// Why a publish attempt failed: a closed set, for the failures counter.
// config | ca | owner | forbidden | rejected | unavailable
const char* publish_failure_reason(const std::string& stage, const Error& error);

// One configuration file to publish, and the flag that named it (for messages).
struct PublishedConfig {
  std::string file;
  WebhookConfigKind kind = WebhookConfigKind::kValidating;
  std::string flag = "--publish-webhook-config";
};

struct PublisherOptions {
  std::vector<PublishedConfig> configs;  // applied in this order
  std::string ca_file;
  std::string owner_clusterrole;
  std::string field_manager = kFieldManager;
  std::chrono::milliseconds check_interval{std::chrono::seconds(2)};  // stamps of the files
  std::chrono::milliseconds resync{std::chrono::minutes(10)};         // apply again anyway
  std::chrono::milliseconds call_timeout{std::chrono::seconds(30)};   // one attempt (GET + apply)
  // Between failed attempts: 1 s doubling to 60 s, full jitter (replicas do not retry in step).
  net::RetryPolicy backoff = [] {
    net::RetryPolicy p;
    p.initial_delay = std::chrono::seconds(1);
    p.max_delay = std::chrono::seconds(60);
    p.full_jitter = true;
    return p;
  }();
};

struct PublisherHooks {
  std::function<void()> published;                         // after each successful apply
  std::function<void(const std::string& reason)> failure;  // reason: publish_failure_reason
};

class WebhookConfigPublisher {
 public:
  // `ready`: the server's readiness (DB and policy loaded, TLS serving, not draining).
  WebhookConfigPublisher(PublisherOptions options, std::unique_ptr<kube::KubeClient> client,
                         std::function<bool()> ready, PublisherHooks hooks, log::Logger lg = log::Logger("publish"));
  ~WebhookConfigPublisher();
  WebhookConfigPublisher(const WebhookConfigPublisher&) = delete;
  WebhookConfigPublisher& operator=(const WebhookConfigPublisher&) = delete;

  void start();
  // Stops the loop (an attempt in flight is cut at its deadline); removes nothing.
  void stop();

  // One attempt, now (the loop's step; for tests): Ok when applied.
  Result<void> publish_once();

 private:
  void loop();

  PublisherOptions opts_;
  std::unique_ptr<kube::KubeClient> client_;
  std::function<bool()> ready_;
  PublisherHooks hooks_;
  log::Logger lg_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::thread thread_;
  std::string last_stage_;  // where publish_once failed last ("config", "ca", "owner", "apply")
};

}  // namespace scangate::app
