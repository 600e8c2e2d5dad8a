#include "webhook/app/publisher.h"

#include <sys/stat.h>

#include <vector>

#include "scanner/core/base64.h"
#include "scanner/kube/ca_bundle.h"

namespace scangate::app {

namespace {

using nlohmann::json;

constexpr const char* kClusterRolePath = "/apis/rbac.authorization.k8s.io/v1/clusterroles/";

struct Stamp {
  unsigned long long dev = 0, ino = 0;
  long long size = -1, mtime_ns = 0;
  bool operator==(const Stamp&) const = default;
};

// stat() follows the links: a Secret or ConfigMap volume swaps its `..data` link, so a new
// version is a new inode.
Stamp stamp_of(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return {};
  return {static_cast<unsigned long long>(st.st_dev), static_cast<unsigned long long>(st.st_ino),
          static_cast<long long>(st.st_size),
          static_cast<long long>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec};
}

// The rendered configuration is a few KiB; a file far larger is not what the chart wrote.
constexpr size_t kMaxConfigBytes = 1024 * 1024;

// A field's string value, or "".
std::string str_at(const json& obj, const char* key) {
  if (!obj.is_object() || !obj.contains(key) || !obj[key].is_string()) return "";
  return obj[key].get<std::string>();
}

Result<json> parse_webhook_config(const std::string& config_text, const std::string& source, WebhookConfigKind kind) {
  const std::string want = to_string(kind);
  json cfg = json::parse(config_text, nullptr, false);
  if (cfg.is_discarded() || !cfg.is_object())
    return Error(ErrorKind::kFormat, source + ": not a JSON object (expected a " + want + ")");
  if (str_at(cfg, "apiVersion") != "admissionregistration.k8s.io/v1" || str_at(cfg, "kind") != want)
    return Error(ErrorKind::kFormat, source + ": expected apiVersion admissionregistration.k8s.io/v1 and kind " + want +
                                         ", got \"" + str_at(cfg, "apiVersion") + "\" \"" + str_at(cfg, "kind") + "\"");
  if (!cfg.contains("metadata") || str_at(cfg["metadata"], "name").empty())
    return Error(ErrorKind::kFormat, source + ": metadata.name is missing");
  if (!cfg.contains("webhooks") || !cfg["webhooks"].is_array() || cfg["webhooks"].empty())
    return Error(ErrorKind::kFormat, source + ": webhooks must be a non-empty list");
  size_t i = 0;
  for (const auto& w : cfg["webhooks"]) {
    if (!w.is_object() || !w.contains("clientConfig") || !w["clientConfig"].is_object())
      return Error(ErrorKind::kFormat, source + ": webhooks[" + std::to_string(i) + "] has no clientConfig");
    ++i;
  }
  return cfg;
}

}  // namespace

const char* to_string(WebhookConfigKind kind) {
  return kind == WebhookConfigKind::kMutating ? "MutatingWebhookConfiguration" : "ValidatingWebhookConfiguration";
}

std::string webhook_config_path(WebhookConfigKind kind, const std::string& name) {
  return std::string("/apis/admissionregistration.k8s.io/v1/") +
         (kind == WebhookConfigKind::kMutating ? "mutatingwebhookconfigurations/"
                                               : "validatingwebhookconfigurations/") +
         net::percent_encode(name);
}

Result<void> check_webhook_config(const std::string& config_text, const std::string& source, WebhookConfigKind kind) {
  SG_TRY(parse_webhook_config(config_text, source, kind));
  return Ok();
}

Result<json> build_webhook_config(const std::string& config_text, const std::string& source, const std::string& ca_pem,
                                  const json& owner, WebhookConfigKind kind) {
  auto parsed = parse_webhook_config(config_text, source, kind);
  if (!parsed) return parsed.error();
  json cfg = std::move(parsed).value();
  SG_TRY(kube::check_ca_bundle(ca_pem, "the CA file"));
  const bool has_meta = owner.is_object() && owner.contains("metadata");
  const std::string name = has_meta ? str_at(owner["metadata"], "name") : std::string();
  const std::string uid = has_meta ? str_at(owner["metadata"], "uid") : std::string();
  if (name.empty() || uid.empty())
    return Error(ErrorKind::kFormat, "the owner ClusterRole has no metadata.name or metadata.uid");

  const std::string bundle = base64_encode(ca_pem);
  for (auto& w : cfg["webhooks"]) w["clientConfig"]["caBundle"] = bundle;
  json& meta = cfg["metadata"];
  for (const char* managed :
       {"uid", "resourceVersion", "generation", "creationTimestamp", "managedFields", "selfLink", "deletionTimestamp"})
    meta.erase(managed);
  meta["ownerReferences"] = json::array(
      {{{"apiVersion", "rbac.authorization.k8s.io/v1"}, {"kind", "ClusterRole"}, {"name", name}, {"uid", uid}}});
  cfg.erase("status");
  return cfg;
}

const char* publish_failure_reason(const std::string& stage, const Error& error) {
  if (stage == "config") return "config";
  if (stage == "ca") return "ca";
  if (error.kind == ErrorKind::kAuth) return "forbidden";
  if (stage == "owner") return "owner";
  if (error.kind == ErrorKind::kInvalidArgument || error.kind == ErrorKind::kFormat ||
      error.kind == ErrorKind::kNotFound)
    return "rejected";
  return "unavailable";
}

WebhookConfigPublisher::WebhookConfigPublisher(PublisherOptions options, std::unique_ptr<kube::KubeClient> client,
                                               std::function<bool()> ready, PublisherHooks hooks, log::Logger lg)
    : opts_(std::move(options)),
      client_(std::move(client)),
      ready_(std::move(ready)),
      hooks_(std::move(hooks)),
      lg_(std::move(lg)) {}

WebhookConfigPublisher::~WebhookConfigPublisher() { stop(); }

void WebhookConfigPublisher::start() {
  std::lock_guard<std::mutex> l(mu_);
  if (thread_.joinable()) return;
  stop_ = false;
  thread_ = std::thread([this] { loop(); });
}

void WebhookConfigPublisher::stop() {
  {
    std::lock_guard<std::mutex> l(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable() && thread_.get_id() != std::this_thread::get_id()) thread_.join();
}

Result<void> WebhookConfigPublisher::publish_once() {
  const Deadline deadline = Deadline::after(opts_.call_timeout);
  last_stage_ = "config";
  std::vector<std::string> texts;
  for (const auto& c : opts_.configs) {
    auto text = kube::read_file_bounded(c.file, kMaxConfigBytes, "the webhook configuration");
    if (!text) return text.error().wrap(c.flag);
    texts.push_back(std::move(text).value());
  }
  last_stage_ = "ca";
  auto ca = kube::read_file_bounded(opts_.ca_file, kube::kMaxCaBundleBytes, "the CA file");
  if (!ca) return ca.error().wrap("--publish-ca-file");
  // Whole certificates only: a CA file read while it is being written (or the wrong file) would
  // be published as a caBundle the API server cannot verify the webhook with, and a fail-closed
  // webhook that cannot be called denies every Pod. The configuration in force stays; the file's
  // next change is tried again.
  if (auto checked = kube::check_ca_bundle(*ca, "--publish-ca-file " + opts_.ca_file); !checked) return checked.error();
  last_stage_ = "owner";
  auto owner = client_->get(kClusterRolePath + net::percent_encode(opts_.owner_clusterrole), deadline);
  if (!owner) return owner.error().wrap("the owner (--webhook-owner-clusterrole)");
  last_stage_ = "config";
  std::vector<json> bodies;
  for (std::size_t i = 0; i < opts_.configs.size(); ++i) {
    auto body = build_webhook_config(texts[i], opts_.configs[i].file, *ca, *owner, opts_.configs[i].kind);
    if (!body) return body.error();
    bodies.push_back(std::move(body).value());
  }
  last_stage_ = "apply";
  for (std::size_t i = 0; i < bodies.size(); ++i) {
    const std::string name = bodies[i].at("metadata").at("name").get<std::string>();
    auto applied =
        client_->apply(webhook_config_path(opts_.configs[i].kind, name), bodies[i], opts_.field_manager, deadline);
    if (!applied) return applied.error().wrap(std::string("applying the ") + to_string(opts_.configs[i].kind));
  }
  return Ok();
}

void WebhookConfigPublisher::loop() {
  const net::RandomSource random = net::real_random();
  bool published = false;
  int failures = 0;
  std::vector<Stamp> config_stamps;
  Stamp ca_stamp;
  std::string files;  // for the log lines
  for (const auto& c : opts_.configs) files += (files.empty() ? "" : ", ") + c.file;
  auto next_attempt = std::chrono::steady_clock::now();
  auto next_resync = std::chrono::steady_clock::time_point::max();
  bool waiting_logged = false;
  std::unique_lock<std::mutex> l(mu_);
  while (!stop_) {
    l.unlock();
    const auto now = std::chrono::steady_clock::now();
    std::vector<Stamp> cfg_now;
    for (const auto& c : opts_.configs) cfg_now.push_back(stamp_of(c.file));
    const Stamp ca_now = stamp_of(opts_.ca_file);
    const bool changed = published && (cfg_now != config_stamps || ca_now != ca_stamp);
    const bool due = !published || changed || now >= next_resync;
    std::chrono::milliseconds wait = opts_.check_interval;
    if (due && now >= next_attempt) {
      if (!ready_()) {
        if (!waiting_logged) lg_.info("waiting for readiness before publishing the webhook configuration");
        waiting_logged = true;
        wait = std::min(wait, std::chrono::milliseconds(200));
      } else {
        auto r = publish_once();
        if (r) {
          lg_.info(published ? (changed ? "webhook configuration re-applied (its CA or configuration file changed)"
                                        : "webhook configuration re-applied (periodic resync)")
                             : "webhook configuration published",
                   {{"file", files}, {"owner", opts_.owner_clusterrole}, {"attempts", failures + 1}});
          published = true;
          failures = 0;
          config_stamps = std::move(cfg_now);
          ca_stamp = ca_now;
          next_resync = std::chrono::steady_clock::now() + opts_.resync;
          if (hooks_.published) hooks_.published();
        } else {
          ++failures;
          const char* reason = publish_failure_reason(last_stage_, r.error());
          auto delay = net::backoff_delay(opts_.backoff, failures, std::nullopt, random());
          lg_.error("publishing the webhook configuration failed; retrying",
                    {{"error", r.error().message},
                     {"reason", reason},
                     {"attempt", failures},
                     {"retry_in_ms", static_cast<long long>(delay.count())}});
          if (hooks_.failure) hooks_.failure(reason);
          next_attempt = std::chrono::steady_clock::now() + delay;
          wait = std::min(wait, delay);
        }
      }
    } else if (due) {
      wait = std::min(wait, std::chrono::duration_cast<std::chrono::milliseconds>(next_attempt - now) +
                                std::chrono::milliseconds(1));
    }
    l.lock();
    cv_.wait_for(l, wait, [this] { return stop_; });
  }
}

}  // namespace scangate::app
