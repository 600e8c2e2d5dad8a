// libFuzzer targets: the version comparators (scanner/version/version.h), one binary per scheme,
// chosen at build time (CMakeLists.txt defines SCANGATE_FUZZ_SCHEME_<x>): version_apk_fuzz,
// version_deb_fuzz (also dpkg's verrevcmp on fragments), version_pep440_fuzz (also the PEP 440
// normal form), version_semver_fuzz and version_generic_fuzz.
//
// Input: up to four lines "a\nb\nc\nconstraint" (versions from an image or a feed, and a feed's
// range). Properties, for the versions that compare (any two that are valid() must):
//   - reflexivity: compare(a, a) == 0;
//   - antisymmetry: compare(a, b) == -compare(b, a) (as signs; both fail or neither does);
//   - transitivity: a <= b and b <= c give a <= c; a == b gives the same order against c;
//   - pep440: the normal form compares equal to the version and is its own normal form;
//   - satisfies() and is_vulnerable() on the constraint fail or answer, never crash; an empty
//     constraint is satisfied by every version.
#include "scanner/version/version.h"
#include "scanner/version/vulnerable.h"
#include "tests/fuzz/fuzz_check.h"

using namespace scangate;
using namespace scangate::version;

namespace {

#if defined(SCANGATE_FUZZ_SCHEME_apk)
constexpr std::string_view kName = "version_apk_fuzz";
constexpr Scheme kScheme = Scheme::kApk;
#elif defined(SCANGATE_FUZZ_SCHEME_deb)
constexpr std::string_view kName = "version_deb_fuzz";
constexpr Scheme kScheme = Scheme::kDeb;
#elif defined(SCANGATE_FUZZ_SCHEME_pep440)
constexpr std::string_view kName = "version_pep440_fuzz";
constexpr Scheme kScheme = Scheme::kPep440;
#elif defined(SCANGATE_FUZZ_SCHEME_semver)
constexpr std::string_view kName = "version_semver_fuzz";
constexpr Scheme kScheme = Scheme::kSemver;
#elif defined(SCANGATE_FUZZ_SCHEME_generic)
constexpr std::string_view kName = "version_generic_fuzz";
constexpr Scheme kScheme = Scheme::kGeneric;
#else
#error "define SCANGATE_FUZZ_SCHEME_<apk|deb|pep440|semver|generic>"
#endif

std::string_view g_input;

[[noreturn]] void fail(const std::string& what) { fuzz::fail(kName, what, g_input); }

std::string q(std::string_view v) { return "\"" + fuzz::shown(v, 200) + "\""; }

// compare() as a sign, or nullopt when it fails; a failure must be kFormat.
std::optional<int> cmp(std::string_view a, std::string_view b) {
  auto r = compare(kScheme, a, b);
  if (!r.ok()) {
    if (r.error().kind != ErrorKind::kFormat) fail("compare(" + q(a) + ", " + q(b) + "): " + r.error().message);
    return std::nullopt;
  }
  return fuzz::sign(*r);
}

void pair(std::string_view a, std::string_view b) {
  const auto ab = cmp(a, b), ba = cmp(b, a);
  if (ab.has_value() != ba.has_value()) fail("compare(a, b) and compare(b, a): one fails, " + q(a) + " " + q(b));
  if (ab && *ab != -*ba)
    fail("antisymmetry: compare(" + q(a) + ", " + q(b) + ") = " + std::to_string(*ab) + ", reversed " +
         std::to_string(*ba));
  if (valid(kScheme, a) && valid(kScheme, b) && !ab) fail("two valid versions do not compare: " + q(a) + " " + q(b));
}

void self(std::string_view a) {
  const auto aa = cmp(a, a);
  if (aa && *aa != 0) fail("reflexivity: compare(" + q(a) + ", itself) = " + std::to_string(*aa));
  if (valid(kScheme, a) && !aa) fail("a valid version does not compare with itself: " + q(a));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size > 4096) return 0;  // versions and ranges are short; keep the runs fast
  g_input = fuzz::as_text(data, size);
  const auto parts = fuzz::split(g_input, '\n', 4);
  const std::string_view a = parts[0];
  const std::string_view b = parts.size() > 1 ? parts[1] : std::string_view("1.0");
  const std::string_view c = parts.size() > 2 ? parts[2] : std::string_view("2.0");
  const std::string_view constraint = parts.size() > 3 ? parts[3] : std::string_view();

  for (auto v : {a, b, c}) self(v);
  pair(a, b);
  pair(b, c);
  pair(a, c);
  const auto ab = cmp(a, b), bc = cmp(b, c), ac = cmp(a, c);
  if (ab && bc && ac) {
    if (*ab <= 0 && *bc <= 0 && *ac > 0) fail("transitivity: a <= b <= c but a > c");
    if (*ab >= 0 && *bc >= 0 && *ac < 0) fail("transitivity: a >= b >= c but a < c");
    if (*ab == 0 && *ac != *bc) fail("a == b but they order differently against c");
  }

#if defined(SCANGATE_FUZZ_SCHEME_deb)
  for (auto [x, y] : {std::pair{a, b}, std::pair{b, c}}) {
    const int xy = fuzz::sign(compare_deb_fragment(x, y)), yx = fuzz::sign(compare_deb_fragment(y, x));
    if (xy != -yx) fail("compare_deb_fragment is not antisymmetric on " + q(x) + " " + q(y));
    if (compare_deb_fragment(x, x) != 0) fail("compare_deb_fragment(x, x) != 0 for " + q(x));
  }
#endif
#if defined(SCANGATE_FUZZ_SCHEME_pep440)
  if (auto n = normalize_pep440(a); n.ok()) {
    const auto same = cmp(a, *n);
    if (!same || *same != 0) fail("the normal form " + q(*n) + " does not compare equal to " + q(a));
    auto again = normalize_pep440(*n);
    if (!again.ok() || *again != *n) fail("the normal form " + q(*n) + " is not its own normal form");
  }
#endif

  for (const MatchOptions opts : {MatchOptions{false}, MatchOptions{true}}) {
    auto s = satisfies(kScheme, a, constraint, opts);
    if (!s.ok() && s.error().kind != ErrorKind::kFormat) fail("satisfies: " + s.error().message);
    if (constraint.empty() && s.ok() && !*s) fail("an empty constraint is not satisfied by " + q(a));
  }
  auto v = is_vulnerable(kScheme, a, {std::string(constraint)}, {std::string(b)}, {});
  if (!v.ok() && v.error().kind != ErrorKind::kFormat) fail("is_vulnerable: " + v.error().message);
  return 0;
}
