#include "webhook/verdict/pull_access.h"

#include <algorithm>

#include "scanner/core/sha256.h"

namespace scangate::verdict {

namespace {

// An answer that says these credentials do not reach the image: the next may.
bool not_for_you(const Error& e) { return e.kind == ErrorKind::kAuth || e.kind == ErrorKind::kNotFound; }

}  // namespace

ChainRegistryClient::ChainRegistryClient(std::vector<PullCandidate> candidates, std::vector<std::string> problems)
    : candidates_(std::move(candidates)), problems_(std::move(problems)) {}

bool ChainRegistryClient::shared_reach() const {
  std::lock_guard<std::mutex> l(mu_);
  return winner_ >= 0 && candidates_[static_cast<size_t>(winner_)].shared;
}

std::string ChainRegistryClient::origin() const {
  std::lock_guard<std::mutex> l(mu_);
  return winner_ >= 0 ? candidates_[static_cast<size_t>(winner_)].origin : std::string();
}

template <class T, class F>
Result<T> ChainRegistryClient::run(const std::string& what, F&& call) {
  std::shared_ptr<RegistryClient> chosen;
  {
    std::lock_guard<std::mutex> l(mu_);
    if (winner_ >= 0) chosen = candidates_[static_cast<size_t>(winner_)].client;
  }
  // Not under the lock: a blob download takes long, and a scan may read several at once.
  if (chosen) return call(*chosen);
  std::string tried;
  std::optional<Error> last;
  for (size_t i = 0; i < candidates_.size(); ++i) {
    auto r = call(*candidates_[i].client);
    if (r.ok()) {
      std::lock_guard<std::mutex> l(mu_);
      if (winner_ < 0) winner_ = static_cast<int>(i);
      return r;
    }
    if (!not_for_you(r.error()) || i + 1 == candidates_.size()) {
      if (candidates_.size() == 1 && problems_.empty()) return r.error();
      last = r.error();
      tried += (tried.empty() ? "" : "; ") + candidates_[i].origin + ": " + r.error().message;
      break;
    }
    tried += (tried.empty() ? "" : "; ") + candidates_[i].origin + ": " + r.error().message;
  }
  std::string msg = what + ": no credential of the pod or the webhook reached it (" + tried + ")";
  for (const auto& p : problems_) msg += "; " + p;
  return Error(last ? last->kind : ErrorKind::kAuth, msg);
}

Result<ManifestResponse> ChainRegistryClient::get_manifest(const Reference& repo, const std::string& tag_or_digest,
                                                           const Deadline& deadline) {
  return run<ManifestResponse>(repo.name(),
                               [&](RegistryClient& c) { return c.get_manifest(repo, tag_or_digest, deadline); });
}

Result<std::string> ChainRegistryClient::resolve_digest(const Reference& ref, const Deadline& deadline) {
  return run<std::string>(ref.normalized(), [&](RegistryClient& c) { return c.resolve_digest(ref, deadline); });
}

Result<std::string> ChainRegistryClient::get_blob(const Reference& repo, const std::string& digest, size_t max_bytes,
                                                  const Deadline& deadline) {
  return run<std::string>(repo.name(),
                          [&](RegistryClient& c) { return c.get_blob(repo, digest, max_bytes, deadline); });
}

Result<std::unique_ptr<BlobStream>> ChainRegistryClient::open_blob(const Reference& repo, const std::string& digest,
                                                                   int64_t size, const Deadline& deadline) {
  return run<std::unique_ptr<BlobStream>>(repo.name(),
                                          [&](RegistryClient& c) { return c.open_blob(repo, digest, size, deadline); });
}

Result<std::optional<std::string>> ChainRegistryClient::get_referrers(const Reference& repo, const std::string& digest,
                                                                      const std::string& artifact_type,
                                                                      const Deadline& deadline) {
  return run<std::optional<std::string>>(
      repo.name(), [&](RegistryClient& c) { return c.get_referrers(repo, digest, artifact_type, deadline); });
}

PullAccess::PullAccess(std::shared_ptr<RegistryClient> own, std::shared_ptr<kube::PullSecretReader> reader,
                       RegistryClientOptions base, Options options)
    : own_(std::move(own)), reader_(std::move(reader)), base_(std::move(base)), opts_(options) {
  base_.credential.reset();
  base_.credentials = CredentialStore{};
}

size_t PullAccess::clients() const {
  std::lock_guard<std::mutex> l(mu_);
  return clients_.size();
}

std::shared_ptr<RegistryClient> PullAccess::client_of(const Credential& c) {
  std::string material;
  for (const auto* part : {&c.username, &c.password, &c.identity_token}) {
    material += std::to_string(part->size()) + ":" + *part;
  }
  const std::string fp = Sha256::digest(material);
  std::lock_guard<std::mutex> l(mu_);
  if (auto it = clients_.find(fp); it != clients_.end()) {
    lru_.splice(lru_.begin(), lru_, it->second.second);
    return it->second.first;
  }
  RegistryClientOptions o = base_;
  o.credential = c;  // wins over the (empty) store, for the one registry it is used with
  auto client = make_http_registry_client(std::move(o));
  lru_.push_front(fp);
  clients_[fp] = {client, lru_.begin()};
  while (clients_.size() > opts_.max_clients) {
    clients_.erase(lru_.back());
    lru_.pop_back();
  }
  return client;
}

std::shared_ptr<ChainRegistryClient> PullAccess::client_for(const Reference& ref, const kube::PullContext& who,
                                                            const Deadline& deadline) {
  std::vector<PullCandidate> candidates;
  std::vector<std::string> problems;
  if (reader_ && !who.empty()) {
    auto rings = reader_->keyrings(who, deadline);
    std::vector<Credential> seen;
    bool full = false;
    for (const auto* ring : {&rings.pod, &rings.service_account}) {
      for (auto& kc : ring->lookup(ref)) {
        // The same credential twice is tried once; past the cap the rest are left (each try is a
        // registry round trip inside one admission deadline, on a look-up slot other pods share).
        auto same = [&](const Credential& c) {
          return c.username == kc.credential.username && c.password == kc.credential.password &&
                 c.identity_token == kc.credential.identity_token;
        };
        if (std::any_of(seen.begin(), seen.end(), same)) continue;
        if (candidates.size() >= opts_.max_candidates) {
          full = true;
          break;
        }
        seen.push_back(kc.credential);
        candidates.push_back(PullCandidate{kc.origin + " (" + kc.key + ")", client_of(kc.credential), false});
      }
      if (full) break;
    }
    if (full)
      problems.push_back("more than " + std::to_string(opts_.max_candidates) +
                         " pull credentials match; the rest were not tried");
    problems.insert(problems.end(), rings.problems.begin(), rings.problems.end());
  }
  candidates.push_back(PullCandidate{"the webhook's own credentials", own_, true});
  return std::make_shared<ChainRegistryClient>(std::move(candidates), std::move(problems));
}

}  // namespace scangate::verdict
