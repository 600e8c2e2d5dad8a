// Library-advisory range matching with Trivy's rule (pkg/detector/library/compare IsVulnerable).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "scanner/core/result.h"
#include "scanner/version/version.h"

namespace scangate::version {

// Is `installed` affected by an advisory given as lists of constraint strings?
//  1. any vulnerable or patched entry that is "" -> vulnerable (an advisory with an unknown range);
//  2. vulnerable non-empty: not vulnerable unless `installed` satisfies one entry (entries are ORed);
//  3. patched + unaffected empty: the result of step 2 (and false when vulnerable was empty too);
//  4. otherwise vulnerable unless `installed` satisfies one patched or unaffected entry.
// A version or constraint that does not parse is an Error (Trivy logs it and reports "not
// vulnerable"). `opts` defaults to include_prerelease, as Trivy's npm and PEP 440 matchers do.
Result<bool> is_vulnerable(Scheme scheme, std::string_view installed, const std::vector<std::string>& vulnerable,
                           const std::vector<std::string>& patched, const std::vector<std::string>& unaffected,
                           const MatchOptions& opts = MatchOptions{true});

}  // namespace scangate::version
