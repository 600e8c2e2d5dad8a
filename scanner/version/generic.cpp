// Generic dotted versions, as Trivy's GenericComparer (aquasecurity/go-version pkg/version) and
// Grype's "semantic" format (hashicorp-style go-version) read them:
//   v? N(.N)* ( -PRE | PRE-starting-with-a-letter )? (+BUILD)?
// PRE/BUILD identifiers are [0-9A-Za-z-~]+ separated by dots. Numeric parts compare with zero
// padding (1.2 == 1.2.0.0); a version without pre-release sorts after its pre-releases.
// Grype rewrites ".alpha", ".beta" and ".rc" to "-alpha", "-beta", "-rc" before parsing
// ("1.0.0.rc1" == "1.0.0-rc1"); so does this parser.
#include <array>
#include <cstdint>
#include <limits>
#include <string>

#include "scanner/version/internal.h"

namespace scangate::version {
namespace {

using detail::is_alnum;
using detail::is_alpha;
using detail::is_digit;

constexpr std::size_t kMaxSegments = 32;

struct Generic {
  std::array<std::uint64_t, kMaxSegments> seg{};
  std::size_t n = 0;
  std::string_view pre;
};

constexpr std::string_view kExpected =
    "expected dotted numbers with an optional -pre-release and +build, e.g. 1.2.3.4-rc.1";

bool is_ident_char(char c) { return is_alnum(c) || c == '-' || c == '~'; }

std::size_t identifiers_end(std::string_view s, std::size_t p) {
  while (true) {
    std::size_t b = p;
    while (p < s.size() && is_ident_char(s[p])) ++p;
    if (p == b) return std::string_view::npos;
    if (p < s.size() && s[p] == '.') {
      ++p;
      continue;
    }
    return p;
  }
}

// Grype's semverPrereleaseNormalizer; `scratch` receives the rewritten text when needed.
std::string_view normalize(std::string_view s, std::string& scratch) {
  static constexpr std::string_view kFrom[] = {".alpha", ".beta", ".rc"};
  bool any = false;
  for (std::string_view f : kFrom) any = any || s.find(f) != std::string_view::npos;
  if (!any) return s;
  scratch.clear();
  scratch.reserve(s.size());
  std::size_t i = 0;
  while (i < s.size()) {
    bool replaced = false;
    for (std::string_view f : kFrom) {
      if (s.substr(i, f.size()) == f) {
        scratch.push_back('-');
        scratch.append(f.substr(1));
        i += f.size();
        replaced = true;
        break;
      }
    }
    if (!replaced) scratch.push_back(s[i++]);
  }
  return scratch;
}

// `scratch` must outlive the result (pre may point into it).
Result<Generic> parse(std::string_view raw, std::string& scratch) {
  std::string_view s = normalize(detail::trim(raw), scratch);
  auto fail = [&](std::string_view why) {
    return detail::format_error("generic", "version", raw, std::string(why) + "; " + std::string(kExpected));
  };
  if (s.empty()) return fail("the version is empty");
  if (s.front() == 'v' || s.front() == 'V') s.remove_prefix(1);
  Generic g;
  std::size_t p = 0;
  while (true) {
    std::size_t b = p;
    while (p < s.size() && is_digit(s[p])) ++p;
    if (p == b) return fail(g.n == 0 ? "it does not start with a number" : "a numeric part is empty");
    if (g.n == kMaxSegments) return fail("it has more than 32 numeric parts");
    if (!detail::parse_u64(s.substr(b, p - b), g.seg[g.n])) return fail("a numeric part is larger than 2^64-1");
    ++g.n;
    if (p + 1 < s.size() && s[p] == '.' && is_digit(s[p + 1])) {
      ++p;
      continue;
    }
    break;
  }
  if (p < s.size() && (s[p] == '-' || is_alpha(s[p]) || s[p] == '~')) {
    std::size_t b = s[p] == '-' ? p + 1 : p;
    std::size_t e = identifiers_end(s, b);
    if (e == std::string_view::npos) return fail("the pre-release has an empty identifier");
    g.pre = s.substr(b, e - b);
    p = e;
  }
  if (p < s.size() && s[p] == '+') {
    std::size_t e = identifiers_end(s, p + 1);
    if (e == std::string_view::npos) return fail("the build metadata has an empty identifier");
    p = e;
  }
  if (p != s.size()) return fail("unexpected characters after the version");
  return g;
}

int cmp_u64(std::uint64_t a, std::uint64_t b) { return a < b ? -1 : (a > b ? 1 : 0); }

int compare_g(const Generic& a, const Generic& b) {
  std::size_t n = a.n > b.n ? a.n : b.n;
  for (std::size_t i = 0; i < n; ++i) {
    int c = cmp_u64(i < a.n ? a.seg[i] : 0, i < b.n ? b.seg[i] : 0);
    if (c != 0) return c;
  }
  if (a.pre.empty() || b.pre.empty()) return cmp_u64(a.pre.empty() ? 1 : 0, b.pre.empty() ? 1 : 0);
  return detail::compare_prerelease(a.pre, b.pre);
}

// Upper bounds of ~>, ~ and ^ (go-version PessimisticBump / TildeBump / CaretBump). `infinite`
// when a part would overflow.
struct Upper {
  Generic v;
  bool infinite = false;
};

Upper increment(Generic v, std::size_t i) {
  if (v.seg[i] == std::numeric_limits<std::uint64_t>::max()) return Upper{v, true};
  ++v.seg[i];
  return Upper{v, false};
}

Upper pessimistic_bump(Generic v) {
  v.pre = {};
  if (v.n == 1) return increment(v, 0);
  v.seg[v.n - 1] = 0;
  return increment(v, v.n - 2);
}

Upper tilde_bump(const Generic& v) {
  if (v.n == 2) return increment(v, 1);
  return pessimistic_bump(v);
}

Upper caret_bump(Generic v) {
  v.pre = {};
  for (std::size_t i = 0; i < v.n; ++i) {
    if (v.seg[i] != 0) {
      for (std::size_t k = i + 1; k < v.n; ++k) v.seg[k] = 0;
      return increment(v, i);
    }
  }
  return increment(v, v.n - 1);
}

bool below(const Generic& c, const Upper& u) { return u.infinite || compare_g(c, u.v) < 0; }

}  // namespace

namespace detail {

bool valid_generic(std::string_view v) {
  std::string scratch;
  return parse(v, scratch).ok();
}

Result<bool> satisfies_generic(std::string_view version, std::string_view constraint) {
  std::string cand_scratch;
  auto cand = parse(version, cand_scratch);
  if (!cand.ok()) return cand.error();
  if (trim(constraint).empty()) return true;
  std::string scratch;
  AlternativeSplitter alternatives(constraint);
  std::string_view alternative;
  bool any = false;
  while (alternatives.next(alternative)) {
    TermScanner terms(alternative);
    Term term;
    bool all = true;
    bool seen = false;
    while (terms.next(term)) {
      seen = true;
      if (term.version.empty()) {
        return format_error("generic", "constraint", constraint,
                            "operator \"" + std::string(term.op) + "\" has no version after it");
      }
      auto v = parse(term.version, scratch);
      if (!v.ok()) return v.error().wrap("in constraint \"" + std::string(constraint) + "\"");
      int cmp = compare_g(*cand, *v);
      Op op;
      bool ok = false;
      if (simple_op(term.op, op)) {
        ok = op_holds(op, cmp);
      } else if (term.op == "~>") {
        ok = cmp >= 0 && below(*cand, pessimistic_bump(*v));
      } else if (term.op == "~") {
        ok = cmp >= 0 && below(*cand, tilde_bump(*v));
      } else if (term.op == "^") {
        ok = cmp >= 0 && below(*cand, caret_bump(*v));
      } else {
        return format_error("generic", "constraint", constraint,
                            "unknown operator \"" + std::string(term.op) + "\"; use one of = == != < <= > >= ~> ~ ^");
      }
      if (!ok) all = false;
    }
    if (!seen) {
      return format_error("generic", "constraint", constraint, "empty alternative between \"||\" separators");
    }
    any = any || all;
  }
  return any;
}

}  // namespace detail

Result<int> compare_generic(std::string_view a, std::string_view b) {
  std::string sa;
  std::string sb;
  auto va = parse(a, sa);
  if (!va.ok()) return va.error();
  auto vb = parse(b, sb);
  if (!vb.ok()) return vb.error();
  return compare_g(*va, *vb);
}

}  // namespace scangate::version
