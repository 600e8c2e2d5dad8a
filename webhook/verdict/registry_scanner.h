// The real seams of the verdict engine: scans through the registry with the scan pipeline
// `scangate image` runs (scanner/pipeline), and tag -> digest resolution with a manifest HEAD. Both share one registry
// client, built once at start-up (credentials read once; connections and tokens reused).
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "scanner/image/open_source.h"
#include "scanner/secret/secret_scanner.h"
#include "scanner/vulndb/vuln_store.h"
#include "webhook/verdict/types.h"

namespace scangate::verdict {

struct RegistryAccess {
  std::string registry_config;  // Docker config.json
  std::vector<std::string> insecure_registries;
  std::string ca_file;
};

// The shared client for `access` (reads the registry config once).
Result<std::shared_ptr<RegistryClient>> make_shared_registry_client(const RegistryAccess& access);

class RegistryImageScanner final : public ImageScanner {
 public:
  RegistryImageScanner(std::shared_ptr<RegistryClient> client, std::shared_ptr<const vulndb::VulnStore> db,
                       std::shared_ptr<const SecretScanner> secrets);
  // The DB in force when each scan starts (a reloaded DB serves the scans that start after it):
  // one scan matches against one DB from start to end.
  using DbProvider = std::function<std::shared_ptr<const vulndb::VulnStore>()>;
  RegistryImageScanner(std::shared_ptr<RegistryClient> client, DbProvider db,
                       std::shared_ptr<const SecretScanner> secrets);
  // The record keeps the image's inventory (KeptInventory), for rematch().
  Result<ScanRecord> scan(const std::string& pinned_reference, const Deadline& deadline) override;
  // Matches `previous.kept` against the DB in force now and writes the report, as scan() would
  // have with that DB; no registry call. An error when `previous` kept no inventory.
  Result<ScanRecord> rematch(const ScanRecord& previous, const std::string& pinned_reference,
                             const Deadline& deadline) override;
  // One manifest GET (two for a nested index): an index's image manifests with their platforms.
  Result<std::vector<PlatformImage>> images(const std::string& pinned_reference, const Deadline& deadline) override;

 private:
  std::shared_ptr<RegistryClient> client_;
  DbProvider db_;
  std::shared_ptr<const SecretScanner> secrets_;
};

class RegistryDigestResolver final : public DigestResolver {
 public:
  explicit RegistryDigestResolver(std::shared_ptr<RegistryClient> client) : client_(std::move(client)) {}
  Result<std::string> resolve(const std::string& reference, const Deadline& deadline) override;

 private:
  std::shared_ptr<RegistryClient> client_;
};

}  // namespace scangate::verdict
