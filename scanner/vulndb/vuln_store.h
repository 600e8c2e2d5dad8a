// The seam between the matcher and the vulnerability DB: tests substitute MemoryVulnStore.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include "scanner/core/result.h"
#include "scanner/vulndb/advisory.h"

namespace scangate::vulndb {

class VulnStore {
 public:
  virtual ~VulnStore() = default;
  // Every advisory for a source package in one ecosystem release ("alpine","3.20","openssl";
  // "pypi","","Django" -- the package name is normalised per ecosystem before the look-up).
  // Ordered by vuln_id. An empty vector means "nothing known"; an Error means the store failed.
  virtual Result<std::vector<Advisory>> advisories(std::string_view ecosystem, std::string_view release,
                                                   std::string_view package) const = 0;
  // Title, description, references, CVSS and resolved severity of a vulnerability id.
  virtual Result<std::optional<VulnDetail>> detail(std::string_view vuln_id) const = 0;
  // Content revision: changes whenever the content changes.
  virtual std::string revision() const = 0;
};

// An in-memory store for tests of the matcher, report and webhook.
class MemoryVulnStore final : public VulnStore {
 public:
  void add(Advisory a);  // the package is normalised as the DB does
  void add(VulnDetail d);
  void set_revision(std::string r) { revision_ = std::move(r); }

  Result<std::vector<Advisory>> advisories(std::string_view ecosystem, std::string_view release,
                                           std::string_view package) const override;
  Result<std::optional<VulnDetail>> detail(std::string_view vuln_id) const override;
  std::string revision() const override { return revision_; }

 private:
  std::map<std::tuple<std::string, std::string, std::string>, std::vector<Advisory>> advisories_;
  std::map<std::string, VulnDetail, std::less<>> details_;
  std::string revision_ = "memory";
};

}  // namespace scangate::vulndb
