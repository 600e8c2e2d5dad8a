// Inventory + vulnerability store -> findings. One driver per package family (after Trivy's
// detector/ospkg): apk on Alpine secdb and OSV, dpkg on the Debian tracker, PyPI and npm on OSV.
// A version that does not parse is skipped with a warning; a store error is returned.
#pragma once

#include <string>
#include <vector>

#include "scanner/core/inventory.h"
#include "scanner/core/result.h"
#include "scanner/match/finding.h"
#include "scanner/vulndb/vuln_store.h"

namespace scangate {

struct MatchOutput {
  std::vector<Finding> findings;
  std::vector<std::string> warnings;  // unsupported OS, unparsable versions
};

Result<MatchOutput> match_inventory(const Inventory& inv, const vulndb::VulnStore& store);

// OSV range semantics on one scheme's versions: affected when any range covers `installed`
// or it is listed in `versions`. `fixed` receives the first fix above `installed`, if any.
Result<bool> osv_affected(const vulndb::Advisory& adv, const std::string& scheme, const std::string& installed,
                          std::string& fixed);

}  // namespace scangate
