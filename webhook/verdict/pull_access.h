// Registry access as the pod that pulls the image has it (issue: "pull what the kubelet pulls").
//
// For an image and a pod, the candidates are, in order: the entries of the pod's imagePullSecrets
// that match the image (kubelet keyring rules: scanner/image/keyring.h), then those of its
// ServiceAccount's, then the webhook's own client (--registry-config, credential helpers, or
// anonymous). A ChainRegistryClient tries them in that order on its first call: an answer that
// says "not you" (kAuth: 401/403, kNotFound: 404, which private registries answer to strangers)
// moves to the next; any other failure (network, deadline) ends the chain. The first candidate
// that answers is kept for the rest of that client's calls (one scan).
//
// Every credential gets one registry client, kept in a bounded cache and built on the one shared
// HTTP client: its tokens are reused from one scan to the next, and so are the warm TLS
// connections to each registry.
//
// Whether the winner was the webhook's own client matters for caching (engine.h): what the
// webhook's own credentials reach, every pod reaches; what only a pod's Secret reached, another
// pod must first prove it reaches with its own.
#pragma once

#include <list>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "scanner/image/registry_client.h"
#include "scanner/kube/pull_secrets.h"

namespace scangate::verdict {

struct PullCandidate {
  std::string origin;  // "secret team-a/regcred (registry.example.com)", "the webhook's credentials"
  std::shared_ptr<RegistryClient> client;
  bool shared = false;  // the webhook's own: every pod has it
};

class ChainRegistryClient final : public RegistryClient {
 public:
  // `problems`: credentials that could not be read (named, never their content), for the message
  // when no candidate reaches the image.
  ChainRegistryClient(std::vector<PullCandidate> candidates, std::vector<std::string> problems);

  Result<ManifestResponse> get_manifest(const Reference& repo, const std::string& tag_or_digest,
                                        const Deadline& deadline) override;
  Result<std::string> resolve_digest(const Reference& ref, const Deadline& deadline) override;
  Result<std::string> get_blob(const Reference& repo, const std::string& digest, size_t max_bytes,
                               const Deadline& deadline) override;
  Result<std::unique_ptr<BlobStream>> open_blob(const Reference& repo, const std::string& digest, int64_t size,
                                                const Deadline& deadline) override;
  Result<std::optional<std::string>> get_referrers(const Reference& repo, const std::string& digest,
                                                   const std::string& artifact_type, const Deadline& deadline) override;

  // After a successful call: whether the candidate that answered is the webhook's own.
  bool shared_reach() const;
  // After a successful call: which candidate answered.
  std::string origin() const;

 private:
  template <class T, class F>
  Result<T> run(const std::string& what, F&& call);

  std::vector<PullCandidate> candidates_;
  std::vector<std::string> problems_;
  mutable std::mutex mu_;
  int winner_ = -1;
};

class PullAccess {
 public:
  struct Options {
    size_t max_clients = 256;   // registry clients kept, one per distinct credential
    size_t max_candidates = 8;  // a pod's credentials tried per image (the webhook's own come after)
  };
  // `own`: the webhook's client (anonymous, --registry-config). `reader`: null when pods' pull
  // secrets are not read (then every pod pulls with `own`). `base`: the options each
  // per-credential client is built with (its `http` set: the shared client).
  PullAccess(std::shared_ptr<RegistryClient> own, std::shared_ptr<kube::PullSecretReader> reader,
             RegistryClientOptions base, Options options);

  bool per_pod() const { return reader_ != nullptr; }
  // The client the pod `who` pulls `ref` with.
  std::shared_ptr<ChainRegistryClient> client_for(const Reference& ref, const kube::PullContext& who,
                                                  const Deadline& deadline);
  size_t clients() const;

 private:
  std::shared_ptr<RegistryClient> client_of(const Credential& c);

  std::shared_ptr<RegistryClient> own_;
  std::shared_ptr<kube::PullSecretReader> reader_;
  RegistryClientOptions base_;
  Options opts_;
  mutable std::mutex mu_;
  std::list<std::string> lru_;  // fingerprints, most recent first
  std::map<std::string, std::pair<std::shared_ptr<RegistryClient>, std::list<std::string>::iterator>> clients_;
};

}  // namespace scangate::verdict
