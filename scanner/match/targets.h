#pragma once

#include <vector>

#include "scanner/core/inventory.h"
#include "scanner/match/finding.h"

namespace scangate {

// Groups packages (and their findings) into report targets: one for the OS packages,
// one per language ecosystem, in a stable order.
std::vector<ScanTarget> build_targets(const ImageMetadata& meta, const Inventory& inv,
                                      const std::vector<Finding>& findings);

}  // namespace scangate
