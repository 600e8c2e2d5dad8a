// Version comparison per ecosystem, and range checks for advisories.
// A version that does not parse is an Error (kFormat), so callers can skip it.
#pragma once

#include <string>
#include <string_view>

#include "scanner/core/result.h"

namespace scangate::version {

enum class Scheme { kApk, kDeb, kPep440, kSemver /* npm, strict-ish semver 2.0 */, kGeneric };

// "apk", "deb"/"dpkg", "pep440"/"pypi", "semver"/"npm", "generic" -> Scheme.
Result<Scheme> scheme_for(std::string_view name);

// <0 when a<b, 0 when equal, >0 when a>b.
Result<int> compare(Scheme s, std::string_view a, std::string_view b);

Result<int> compare_apk(std::string_view a, std::string_view b);
Result<int> compare_deb(std::string_view a, std::string_view b);
Result<int> compare_pep440(std::string_view a, std::string_view b);
Result<int> compare_semver(std::string_view a, std::string_view b);
bool valid(Scheme s, std::string_view v);

// Constraint strings: "," (or whitespace, for pep440) = AND, "||" = OR; operators
// < <= > >= = == != ~ ^ ~= === and wildcards as each ecosystem defines them.
// An empty constraint is always satisfied.
Result<bool> satisfies(Scheme s, std::string_view version, std::string_view constraint);

}  // namespace scangate::version
