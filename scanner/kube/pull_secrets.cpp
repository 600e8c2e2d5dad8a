#include "scanner/kube/pull_secrets.h"

#include <algorithm>

#include "scanner/core/base64.h"
#include "scanner/core/log.h"

namespace scangate::kube {

namespace {

using nlohmann::json;
using Clock = std::chrono::steady_clock;

constexpr const char* kDockerConfigJson = "kubernetes.io/dockerconfigjson";
constexpr const char* kDockercfg = "kubernetes.io/dockercfg";
// A Secret holds at most 1 MiB; its docker config is far smaller.
constexpr size_t kMaxConfigBytes = 1u << 20;
// Pull secrets read per pod, and per ServiceAccount (each is an API call the first time).
constexpr size_t kMaxSecretsRead = 16;
// Registry entries one pull secret may hold (a real one names a handful of registries).
constexpr size_t kMaxSecretEntries = 64;

// Object names in an API path: a DNS subdomain (RFC 1123), as the API server requires of
// Secrets, ServiceAccounts and namespaces. Anything else ("../x", "a/b", "%2e") is never put
// into a path.
bool valid_name(const std::string& s) {
  if (s.empty() || s.size() > 253) return false;
  for (char c : s)
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.')) return false;
  return s.front() != '.' && s.front() != '-' && s != "..";
}

std::string string_field(const json& obj, const char* key) {
  auto it = obj.find(key);
  return it != obj.end() && it->is_string() ? it->get<std::string>() : std::string();
}

}  // namespace

std::string PullContext::scope() const {
  if (empty()) return {};
  // Names that are not object names are never read (get() refuses them): they all stand for "no
  // credential", so they share one marker, and a separator inside one cannot forge another list.
  auto part = [](const std::string& n) { return valid_name(n) ? n : std::string("!"); };
  std::string s =
      part(namespace_) + '\x1f' + (service_account.empty() ? std::string("default") : part(service_account));
  for (const auto& n : pull_secrets) s += '\x1f' + part(n);
  return s;
}

Result<CredentialStore> docker_config_of_secret(const json& secret, const std::string& what) {
  if (!secret.is_object()) return Error(ErrorKind::kFormat, what + " is not an object");
  const std::string type = string_field(secret, "type");
  const char* key = type == kDockerConfigJson ? ".dockerconfigjson" : type == kDockercfg ? ".dockercfg" : nullptr;
  if (key == nullptr)
    return Error(ErrorKind::kInvalidArgument, what + " has type \"" + (type.empty() ? "Opaque" : type) +
                                                  "\"; pull secrets are of type " + kDockerConfigJson + " or " +
                                                  kDockercfg);
  auto data = secret.find("data");
  if (data == secret.end() || !data->is_object() || !data->contains(key) || !(*data)[key].is_string())
    return Error(ErrorKind::kFormat, what + " has no data[\"" + key + "\"]");
  const auto& encoded = (*data)[key].get_ref<const std::string&>();
  if (encoded.size() > kMaxConfigBytes * 4 / 3 + 4)
    return Error(ErrorKind::kLimit, what + ": data[\"" + key + "\"] is larger than 1 MiB");
  auto text = base64_decode(encoded);
  if (!text) return Error(ErrorKind::kFormat, what + ": data[\"" + key + "\"] is not base64");
  auto store = type == kDockerConfigJson ? parse_docker_config(*text, what, /*allow_helpers=*/false)
                                         : parse_dockercfg(*text, what);
  if (!store.ok()) return store.error();
  // Bounded: a tenant's Secret must not make the webhook hold (and try) thousands of entries.
  if (store->entries.size() > kMaxSecretEntries)
    return Error(ErrorKind::kLimit, what + " holds " + std::to_string(store->entries.size()) +
                                        " registry entries, more than the " + std::to_string(kMaxSecretEntries) +
                                        " a pull secret may");
  // The passwords are not added to the logger's redaction list (log::add_secret): that list is
  // process-wide and bounded, so a tenant's chosen "passwords" would censor words of its choice
  // from every log line and push the webhook's own secrets out. They are never formatted into a
  // message (registry_auth.cpp names users, never passwords), and Authorization values are
  // redacted by their form.
  return store;
}

PullSecretReader::PullSecretReader(std::shared_ptr<KubeClient> client, Options options)
    : client_(std::move(client)), opts_(options) {}

size_t PullSecretReader::api_calls() const {
  std::lock_guard<std::mutex> l(mu_);
  return calls_;
}

std::shared_ptr<const PullSecretReader::Object> PullSecretReader::fetch(Kind kind, const std::string& ns,
                                                                        const std::string& name, const Deadline& d,
                                                                        bool* cacheable) {
  auto out = std::make_shared<Object>();
  const std::string what = std::string(kind == Kind::kSecret ? "secret " : "serviceaccount ") + ns + "/" + name;
  const std::string path =
      "/api/v1/namespaces/" + ns + (kind == Kind::kSecret ? "/secrets/" : "/serviceaccounts/") + name;
  auto r = client_->call("GET", path, "", "", d);
  *cacheable = false;
  if (!r.ok()) {
    out->problem = what + ": " + r.error().message;
    return out;
  }
  if (!r->ok()) {
    out->problem = api_error("get", what, *r).message;
    // Definite answers are kept for the TTL; 429 and 5xx (after the client's retries) are not.
    *cacheable = r->status == 401 || r->status == 403 || r->status == 404;
    return out;
  }
  *cacheable = true;
  if (!r->body.is_object()) {
    out->problem = what + ": the API server's answer is not a JSON object";
    return out;
  }
  out->found = true;
  if (kind == Kind::kSecret) {
    auto store = docker_config_of_secret(r->body, what);
    if (!store.ok())
      out->problem = store.error().message;
    else
      out->store = std::make_shared<const CredentialStore>(std::move(store).value());
    return out;
  }
  auto ips = r->body.find("imagePullSecrets");
  if (ips != r->body.end() && ips->is_array()) {
    for (const auto& e : *ips) {
      if (out->pull_secrets.size() >= kMaxSecretsRead) break;
      if (!e.is_object()) continue;
      std::string n = string_field(e, "name");
      if (!n.empty() && std::find(out->pull_secrets.begin(), out->pull_secrets.end(), n) == out->pull_secrets.end())
        out->pull_secrets.push_back(std::move(n));
    }
  }
  return out;
}

void PullSecretReader::trim_locked() {
  if (slots_.size() <= opts_.max_objects) return;
  const auto now = Clock::now();
  for (auto it = slots_.begin(); it != slots_.end();)
    it = !it->second.fetching && it->second.expires <= now ? slots_.erase(it) : std::next(it);
  while (slots_.size() > opts_.max_objects) {
    auto oldest = slots_.end();
    for (auto it = slots_.begin(); it != slots_.end(); ++it)
      if (!it->second.fetching && (oldest == slots_.end() || it->second.fetched < oldest->second.fetched)) oldest = it;
    if (oldest == slots_.end()) break;
    slots_.erase(oldest);
  }
}

std::shared_ptr<const PullSecretReader::Object> PullSecretReader::get(Kind kind, const std::string& ns,
                                                                      const std::string& name, const Deadline& d) {
  const std::string what = std::string(kind == Kind::kSecret ? "secret " : "serviceaccount ") + ns + "/" + name;
  if (!valid_name(ns) || !valid_name(name)) {
    auto bad = std::make_shared<Object>();
    bad->problem = what + ": not a valid object name";
    return bad;
  }
  const std::string key = std::string(kind == Kind::kSecret ? "s/" : "a/") + ns + "/" + name;
  std::unique_lock<std::mutex> l(mu_);
  for (;;) {
    auto it = slots_.find(key);
    if (it == slots_.end()) break;
    Slot& s = it->second;
    if (!s.fetching) {
      if (s.value && Clock::now() < s.expires) return s.value;
      break;
    }
    // Another request fetches it: its answer serves this one too.
    if (!d.bounded()) {
      cv_.wait(l);
    } else if (cv_.wait_until(l, d.when()) == std::cv_status::timeout && d.expired()) {
      auto late = std::make_shared<Object>();
      late->problem = what + ": the deadline passed while the API server was asked";
      return late;
    }
  }
  Slot& mine = slots_[key];
  mine.fetching = true;
  ++calls_;
  l.unlock();
  bool cacheable = false;
  std::shared_ptr<const Object> got;
  try {
    got = fetch(kind, ns, name, d, &cacheable);
  } catch (...) {
    l.lock();
    slots_.erase(key);
    cv_.notify_all();
    throw;
  }
  if (!got->problem.empty()) {
    // Once per fetch (a definite answer is then cached for the TTL), not once per request.
    static const log::Logger lg("pull-secrets");
    lg.warn("a pull credential cannot be used; the next one is tried", {{"problem", got->problem}});
  }
  l.lock();
  Slot& s = slots_[key];
  s.fetching = false;
  s.fetched = Clock::now();
  if (cacheable) {
    s.value = got;
    s.expires = s.fetched + opts_.ttl;
  } else {
    slots_.erase(key);
  }
  trim_locked();
  cv_.notify_all();
  return got;
}

PullKeyrings PullSecretReader::keyrings(const PullContext& ctx, const Deadline& deadline) {
  PullKeyrings out;
  if (ctx.empty()) return out;
  auto add_secrets = [&](const std::vector<std::string>& names, DockerKeyring& ring) {
    for (const auto& name : names) {
      auto obj = get(Kind::kSecret, ctx.namespace_, name, deadline);
      if (obj->store)
        ring.add(*obj->store, "secret " + ctx.namespace_ + "/" + name);
      else
        out.problems.push_back(obj->problem);
    }
  };
  add_secrets(ctx.pull_secrets.size() > kMaxSecretsRead
                  ? std::vector<std::string>(ctx.pull_secrets.begin(), ctx.pull_secrets.begin() + kMaxSecretsRead)
                  : ctx.pull_secrets,
              out.pod);
  const std::string sa = ctx.service_account.empty() ? std::string("default") : ctx.service_account;
  auto account = get(Kind::kServiceAccount, ctx.namespace_, sa, deadline);
  if (!account->found)
    out.problems.push_back(account->problem);
  else
    add_secrets(account->pull_secrets, out.service_account);
  return out;
}

}  // namespace scangate::kube
