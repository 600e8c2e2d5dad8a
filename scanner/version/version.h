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

// apk-tools src/version.c ordering. Like apk itself this orders any two non-empty strings:
// an invalid version ("1.0bc", "23_foo") compares token by token up to the first bad token,
// so only an empty (or all-whitespace) string is an Error. Use valid() to reject bad input.
Result<int> compare_apk(std::string_view a, std::string_view b);
// dpkg ordering of [epoch:]upstream[-revision] (deb-version(7), verrevcmp).
Result<int> compare_deb(std::string_view a, std::string_view b);
// dpkg's verrevcmp on one bare upstream or revision string (no epoch/revision split):
// "~~" < "~~a" < "~" < "" < "a" < ".". Never fails; any bytes are accepted.
int compare_deb_fragment(std::string_view a, std::string_view b);
// PEP 440 ordering (epochs, pre/post/dev releases, local versions, normalised spellings).
Result<int> compare_pep440(std::string_view a, std::string_view b);
// SemVer 2.0 precedence (build metadata ignored) with the loose forms npm feeds carry:
// optional "v"/"=" prefix, missing minor/patch = 0 ("1.3" == "1.3.0").
Result<int> compare_semver(std::string_view a, std::string_view b);
// Generic dotted versions (Trivy's go-version / Grype's "semantic" format): any number of
// numeric parts with trailing zeros ignored, optional "v", pre-release after "-" or directly
// after the numbers ("1.7rc2"), Grype's ".alpha/.beta/.rc" -> "-alpha/-beta/-rc" rewrite,
// build metadata after "+" ignored.
Result<int> compare_generic(std::string_view a, std::string_view b);

bool valid(Scheme s, std::string_view v);

// PEP 440 normal form: "1.0-ALPHA1" -> "1.0a1", "v1.0.POST" -> "1.0.post0", "0100!0.0" -> "100!0.0".
Result<std::string> normalize_pep440(std::string_view v);

struct MatchOptions {
  // npm: a pre-release version may satisfy a range even when no comparator of the range names a
  // pre-release of the same major.minor.patch (node-semver `includePrerelease`).
  // pep440: "<V" may match pre-releases of V itself (go-pep440-version `WithPreRelease`).
  // Trivy's and Grype's advisory matchers set this; the default follows npm / PEP 440.
  bool include_prerelease = false;
};

// Constraint strings: "," (or whitespace) = AND, "||" = OR; operators
// < <= > >= = == != ~ ^ ~= === and wildcards as each ecosystem defines them.
// An empty constraint is always satisfied.
//   apk, deb: = == != < <= > >=
//   pep440:   PEP 440 specifiers (== != < <= > >= ~= === and ==1.*), a bare version means ==,
//             "*" matches everything; a local label in the specifier ("<1.0+sp2") compares
//             local labels strictly, otherwise the candidate's local label is ignored.
//   semver:   npm ranges (x-ranges 1.x/1.2.*, ~, ~>, ^, "A - B" hyphen ranges, *), plus !=.
//   generic:  = == != < <= > >= and ~> ~ ^ bumps; no wildcards.
// Quoted versions ('1.2' or "1.2") are unquoted. A malformed constraint is an Error (kFormat).
Result<bool> satisfies(Scheme s, std::string_view version, std::string_view constraint);
Result<bool> satisfies(Scheme s, std::string_view version, std::string_view constraint, const MatchOptions& opts);

}  // namespace scangate::version
