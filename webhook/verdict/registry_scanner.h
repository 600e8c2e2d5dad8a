// The real seams of the verdict engine: scans through the registry with the same pipeline as
// `scangate image`, and tag -> digest resolution with a manifest HEAD.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "scanner/image/open_source.h"
#include "scanner/secret/secret_scanner.h"
#include "scanner/vulndb/vuln_store.h"
#include "webhook/verdict/engine.h"

namespace scangate::verdict {

struct RegistryAccess {
  std::string registry_config;                    // Docker config.json
  std::vector<std::string> insecure_registries;
  std::string ca_file;
};

SourceOptions source_options(const RegistryAccess& access, const std::string& reference);

class RegistryImageScanner final : public ImageScanner {
 public:
  RegistryImageScanner(RegistryAccess access, std::shared_ptr<const vulndb::VulnStore> db,
                       std::shared_ptr<const SecretScanner> secrets);
  Result<ScanRecord> scan(const std::string& pinned_reference) override;

 private:
  RegistryAccess access_;
  std::shared_ptr<const vulndb::VulnStore> db_;
  std::shared_ptr<const SecretScanner> secrets_;
};

class RegistryDigestResolver final : public DigestResolver {
 public:
  explicit RegistryDigestResolver(RegistryAccess access) : access_(std::move(access)) {}
  Result<std::string> resolve(const std::string& reference) override;

 private:
  RegistryAccess access_;
};

}  // namespace scangate::verdict
