// The real seams of the verdict engine: scans through the registry with the scan pipeline
// `scangate image` runs (scanner/pipeline), and tag -> digest resolution with a manifest HEAD. Both share one registry
// client, built once at start-up (credentials read once; connections and tokens reused).
#pragma once

#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "scanner/attest/keys.h"
#include "scanner/image/open_source.h"
#include "scanner/secret/secret_scanner.h"
#include "scanner/vulndb/vuln_store.h"
#include "webhook/verdict/lru_cache.h"
#include "webhook/verdict/pull_access.h"
#include "webhook/verdict/types.h"

namespace scangate::verdict {

struct RegistryAccess {
  std::string registry_config;  // Docker config.json
  std::vector<std::string> insecure_registries;
  std::string ca_file;
  // Optional: the HTTP client to build on (connections shared with the per-pod clients).
  std::shared_ptr<net::HttpClient> http;
};

// The shared client for `access` (reads the registry config once).
Result<std::shared_ptr<RegistryClient>> make_shared_registry_client(const RegistryAccess& access);

// The registry client whose credentials can be replaced while it serves: --registry-config is
// re-read when the file changes (ECR tokens last 12 hours; a Secret volume is updated in place).
// Each call runs on the client current when it starts; a blob stream keeps its client alive.
class ReloadableRegistryClient final : public RegistryClient {
 public:
  explicit ReloadableRegistryClient(std::shared_ptr<RegistryClient> initial) : current_(std::move(initial)) {}
  void replace(std::shared_ptr<RegistryClient> next) {
    std::lock_guard<std::mutex> l(mu_);
    current_ = std::move(next);
  }
  Result<ManifestResponse> get_manifest(const Reference& repo, const std::string& tag_or_digest,
                                        const Deadline& deadline) override {
    return current()->get_manifest(repo, tag_or_digest, deadline);
  }
  Result<std::string> resolve_digest(const Reference& ref, const Deadline& deadline) override {
    return current()->resolve_digest(ref, deadline);
  }
  Result<std::string> get_blob(const Reference& repo, const std::string& digest, size_t max_bytes,
                               const Deadline& deadline) override {
    return current()->get_blob(repo, digest, max_bytes, deadline);
  }
  Result<std::unique_ptr<BlobStream>> open_blob(const Reference& repo, const std::string& digest, int64_t size,
                                                const Deadline& deadline) override {
    return current()->open_blob(repo, digest, size, deadline);
  }
  Result<std::optional<std::string>> get_referrers(const Reference& repo, const std::string& digest,
                                                   const std::string& artifact_type,
                                                   const Deadline& deadline) override {
    return current()->get_referrers(repo, digest, artifact_type, deadline);
  }

 private:
  std::shared_ptr<RegistryClient> current() {
    std::lock_guard<std::mutex> l(mu_);
    return current_;
  }
  std::mutex mu_;
  std::shared_ptr<RegistryClient> current_;
};

// Signed scan attestations looked up before a scan (scanner/attest; docs/ARCHITECTURE.md, "The
// pipeline's scan in the cluster"): a verified SBOM is matched against the DB in force (no layer
// is pulled), else a verified, fresh vulnerability record decides; anything else is counted,
// logged and ignored, and the image is scanned.
struct AttestationCheck {
  std::vector<attest::PublicKey> keys;
  std::function<std::chrono::seconds()> max_age;  // the policy's scan.maxAge
  // scangate_attestations_total{result}: per envelope its attest::Outcome; "none" when nothing
  // is attached; "error" when the registry could not be asked; "sbom_missing" when a scangate
  // record names an SBOM that is not there (never taken alone then); "sbom_unreadable" when a
  // verified SBOM did not read as one.
  std::function<void(const std::string& result)> counted;
};

class RegistryImageScanner final : public ImageScanner {
 public:
  RegistryImageScanner(std::shared_ptr<RegistryClient> client, std::shared_ptr<const vulndb::VulnStore> db,
                       std::shared_ptr<const SecretScanner> secrets);
  // The DB in force when each scan starts (a reloaded DB serves the scans that start after it):
  // one scan matches against one DB from start to end.
  using DbProvider = std::function<std::shared_ptr<const vulndb::VulnStore>()>;
  RegistryImageScanner(std::shared_ptr<RegistryClient> client, DbProvider db,
                       std::shared_ptr<const SecretScanner> secrets);
  // Pods' pull secrets (pull_access.h): scan_as and images_as then read with the pod's
  // credentials. Without it they use the one client.
  void set_access(std::shared_ptr<PullAccess> access) { access_ = std::move(access); }
  void set_attestations(std::shared_ptr<const AttestationCheck> check) { attest_ = std::move(check); }
  // Hears how many layer blobs each full scan pulled (scangate_layer_pulls_total).
  void set_layer_counter(std::function<void(size_t)> counter) { layers_pulled_ = std::move(counter); }
  // The record keeps the image's inventory (KeptInventory), for rematch().
  Result<ScanRecord> scan(const std::string& pinned_reference, const Deadline& deadline) override;
  Result<ScanRecord> scan_as(const std::string& pinned_reference, const PullContext& who,
                             const Deadline& deadline) override;
  Result<std::vector<PlatformImage>> images_as(const std::string& pinned_reference, const PullContext& who,
                                               const Deadline& deadline) override;
  // Matches `previous.kept` against the DB in force now and writes the report, as scan() would
  // have with that DB; no registry call. An error when `previous` kept no inventory.
  Result<ScanRecord> rematch(const ScanRecord& previous, const std::string& pinned_reference,
                             const Deadline& deadline) override;
  // One manifest GET (two for a nested index): an index's image manifests with their platforms.
  Result<std::vector<PlatformImage>> images(const std::string& pinned_reference, const Deadline& deadline) override;

 private:
  Result<ScanRecord> scan_with(const std::shared_ptr<RegistryClient>& client, const std::string& pinned_reference,
                               const Deadline& deadline);
  Result<std::vector<PlatformImage>> images_with(RegistryClient& client, const std::string& pinned_reference,
                                                 const Deadline& deadline);
  // The record the pipeline's attestations give, or nullopt with `basis` saying why none did.
  Result<std::optional<ScanRecord>> from_attestations(RegistryClient& client, const std::string& pinned_reference,
                                                      const Deadline& deadline, std::string& basis);

  std::shared_ptr<RegistryClient> client_;
  DbProvider db_;
  std::shared_ptr<const SecretScanner> secrets_;
  std::shared_ptr<PullAccess> access_;
  std::shared_ptr<const AttestationCheck> attest_;
  std::function<void(size_t)> layers_pulled_;
};

// Tag -> digest: a HEAD of the manifest (cheap, and not counted by Docker Hub's pull limits),
// then, the first time a repository and digest are seen together (for the credentials asking),
// a GET of repository@digest whose bytes must hash to it. A registry's Docker-Content-Digest
// header alone is never believed: a registry that names the digest of another image (one already
// scanned and cached, perhaps clean, perhaps another tenant's) must serve that very manifest
// before the verdict for it decides. What was checked is kept for `verified_ttl` (a digest is
// content: once a repository served it, it is that manifest).
class RegistryDigestResolver final : public DigestResolver {
 public:
  explicit RegistryDigestResolver(std::shared_ptr<RegistryClient> client, std::shared_ptr<PullAccess> access = nullptr,
                                  std::chrono::seconds verified_ttl = std::chrono::hours(1),
                                  size_t max_verified = 20000)
      : client_(std::move(client)), access_(std::move(access)), verified_(max_verified, verified_ttl) {}
  Result<std::string> resolve(const std::string& reference, const Deadline& deadline) override;
  // With the pod's credentials (PullAccess); a pinned reference is proven by reading its manifest.
  Result<Resolution> resolve_as(const std::string& reference, const PullContext& who,
                                const Deadline& deadline) override;

 private:
  // The digest `ref` resolves to through `client`, checked as above; `scope` keys the check.
  Result<std::string> resolve_checked(RegistryClient& client, const Reference& ref, const std::string& scope,
                                      const Deadline& deadline);

  std::shared_ptr<RegistryClient> client_;
  std::shared_ptr<PullAccess> access_;
  std::mutex verified_mu_;
  LruTtlCache<std::string, bool> verified_;  // scope|repository@digest read and hashed
};

}  // namespace scangate::verdict
