// The registry credentials a pod pulls with, read from the Kubernetes API the way the kubelet
// reads them: the pod's imagePullSecrets, then its ServiceAccount's imagePullSecrets (the
// namespace's "default" ServiceAccount when the pod names none).
//
// - Secrets of type kubernetes.io/dockerconfigjson (data[".dockerconfigjson"]) and
//   kubernetes.io/dockercfg (data[".dockercfg"]) are read; a credential helper named in one is
//   never run (a tenant's Secret must not make the webhook execute a program).
// - Each object (a Secret, a ServiceAccount) is cached for `ttl`, a definite answer (404, 403, a
//   Secret of the wrong type) as well as a good one, and fetched once however many requests ask
//   at the same time (the others wait for that answer, up to their own deadline): a burst of pods
//   in one namespace costs one API call per object.
// - A missing or unreadable Secret is reported by name (never its content) and the next
//   credential is tried; the problems are returned for the caller to log.
// - The cache is bounded (`max_objects`); the least recently fetched entries go first.
#pragma once

#include <chrono>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "scanner/core/deadline.h"
#include "scanner/core/result.h"
#include "scanner/image/credentials.h"
#include "scanner/image/keyring.h"
#include "scanner/kube/kube_client.h"

namespace scangate::kube {

// Who pulls an image: the pod's namespace, imagePullSecrets and ServiceAccount.
struct PullContext {
  std::string namespace_;
  std::vector<std::string> pull_secrets;
  std::string service_account;  // "" -> "default"

  bool empty() const { return namespace_.empty(); }
  // What a successful look-up with these credentials proves access for, as a cache key part:
  // "ns\x1fsa\x1fsecret\x1f..." ("" for an empty context).
  std::string scope() const;
};

struct PullKeyrings {
  DockerKeyring pod;              // the pod's imagePullSecrets
  DockerKeyring service_account;  // its ServiceAccount's imagePullSecrets
  // What could not be used, by name: "secret team-a/regcred: not found (404)".
  std::vector<std::string> problems;
};

// A Secret's docker config as a credential store (helpers never honoured), or why not.
Result<CredentialStore> docker_config_of_secret(const nlohmann::json& secret, const std::string& what);

class PullSecretReader {
 public:
  struct Options {
    std::chrono::milliseconds ttl{30000};
    size_t max_objects = 4096;
  };
  PullSecretReader(std::shared_ptr<KubeClient> client, Options options);

  // The keyrings for `ctx`; API failures become `problems`, never an error: the webhook's own
  // credentials are still tried. Gives up waiting at `deadline`.
  PullKeyrings keyrings(const PullContext& ctx, const Deadline& deadline);

  size_t api_calls() const;  // GETs sent (tests, metrics)

 private:
  struct Object {
    bool found = false;
    std::shared_ptr<const CredentialStore> store;  // a usable Secret
    std::vector<std::string> pull_secrets;         // a ServiceAccount's imagePullSecrets
    std::string problem;                           // why it cannot be used
  };
  struct Slot {
    bool fetching = false;
    std::shared_ptr<const Object> value;
    std::chrono::steady_clock::time_point expires{};
    std::chrono::steady_clock::time_point fetched{};
  };
  enum class Kind { kSecret, kServiceAccount };

  std::shared_ptr<const Object> get(Kind kind, const std::string& ns, const std::string& name, const Deadline& d);
  std::shared_ptr<const Object> fetch(Kind kind, const std::string& ns, const std::string& name, const Deadline& d,
                                      bool* cacheable);
  void trim_locked();

  std::shared_ptr<KubeClient> client_;
  Options opts_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::map<std::string, Slot> slots_;
  size_t calls_ = 0;
};

}  // namespace scangate::kube
