// Scheme dispatch for compare(), valid() and satisfies().
#include "scanner/version/version.h"

#include <string>

#include "scanner/version/internal.h"

namespace scangate::version {

Result<Scheme> scheme_for(std::string_view name) {
  std::string_view n = detail::trim(name);
  if (detail::iequals(n, "apk") || detail::iequals(n, "alpine")) return Scheme::kApk;
  if (detail::iequals(n, "deb") || detail::iequals(n, "dpkg") || detail::iequals(n, "debian") ||
      detail::iequals(n, "ubuntu")) {
    return Scheme::kDeb;
  }
  if (detail::iequals(n, "pep440") || detail::iequals(n, "pypi") || detail::iequals(n, "python") ||
      detail::iequals(n, "pip")) {
    return Scheme::kPep440;
  }
  if (detail::iequals(n, "semver") || detail::iequals(n, "npm")) return Scheme::kSemver;
  if (detail::iequals(n, "generic") || detail::iequals(n, "semantic")) return Scheme::kGeneric;
  return Error(ErrorKind::kInvalidArgument, "unknown version scheme \"" + std::string(name) +
                                                "\"; use one of apk, deb, dpkg, pep440, pypi, semver, npm, generic");
}

Result<int> compare(Scheme s, std::string_view a, std::string_view b) {
  switch (s) {
    case Scheme::kApk: return compare_apk(a, b);
    case Scheme::kDeb: return compare_deb(a, b);
    case Scheme::kPep440: return compare_pep440(a, b);
    case Scheme::kSemver: return compare_semver(a, b);
    case Scheme::kGeneric: return compare_generic(a, b);
  }
  return Error(ErrorKind::kInvalidArgument, "compare: unknown version scheme");
}

bool valid(Scheme s, std::string_view v) {
  switch (s) {
    case Scheme::kApk: return detail::valid_apk(detail::trim(v));
    case Scheme::kDeb: return detail::valid_deb(v);
    case Scheme::kPep440: return detail::valid_pep440(v);
    case Scheme::kSemver: return detail::valid_semver(v);
    case Scheme::kGeneric: return detail::valid_generic(v);
  }
  return false;
}

Result<bool> satisfies(Scheme s, std::string_view version, std::string_view constraint) {
  return satisfies(s, version, constraint, MatchOptions{});
}

Result<bool> satisfies(Scheme s, std::string_view version, std::string_view constraint, const MatchOptions& opts) {
  switch (s) {
    case Scheme::kApk: {
      SG_TRY(compare_apk(version, version));  // rejects an empty version up front
      return detail::satisfies_simple("apk", version, constraint, compare_apk);
    }
    case Scheme::kDeb: {
      SG_TRY(compare_deb(version, version));
      return detail::satisfies_simple("deb", version, constraint, compare_deb);
    }
    case Scheme::kPep440: return detail::satisfies_pep440(version, constraint, opts);
    case Scheme::kSemver: return detail::satisfies_semver(version, constraint, opts);
    case Scheme::kGeneric: return detail::satisfies_generic(version, constraint);
  }
  return Error(ErrorKind::kInvalidArgument, "satisfies: unknown version scheme");
}

}  // namespace scangate::version
