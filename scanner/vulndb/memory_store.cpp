#include <algorithm>

#include "scanner/vulndb/release.h"
#include "scanner/vulndb/vuln_store.h"

namespace scangate::vulndb {

void MemoryVulnStore::add(Advisory a) {
  a.package = normalize_package_name(a.ecosystem, a.package);
  auto& list = advisories_[{a.ecosystem, a.release, a.package}];
  list.push_back(std::move(a));
  std::stable_sort(list.begin(), list.end(),
                   [](const Advisory& x, const Advisory& y) { return x.vuln_id < y.vuln_id; });
}

void MemoryVulnStore::add(VulnDetail d) {
  std::string id = d.vuln_id;
  details_[id] = std::move(d);
}

Result<std::vector<Advisory>> MemoryVulnStore::advisories(std::string_view ecosystem, std::string_view release,
                                                          std::string_view package) const {
  auto it =
      advisories_.find({std::string(ecosystem), std::string(release), normalize_package_name(ecosystem, package)});
  if (it == advisories_.end()) return std::vector<Advisory>{};
  return it->second;
}

Result<std::optional<VulnDetail>> MemoryVulnStore::detail(std::string_view vuln_id) const {
  auto it = details_.find(vuln_id);
  if (it == details_.end()) return std::optional<VulnDetail>{};
  return std::optional<VulnDetail>(it->second);
}

}  // namespace scangate::vulndb
