// SemVer 2.0 precedence and npm ranges (node-semver's range grammar: x-ranges, ~, ^, hyphen
// ranges, and its pre-release rule).
#include <cstdint>
#include <limits>

#include "scanner/version/internal.h"

namespace scangate::version {
namespace {

using detail::is_alnum;
using detail::is_digit;

struct Semver {
  std::uint64_t major = 0;
  std::uint64_t minor = 0;
  std::uint64_t patch = 0;
  std::string_view pre;  // empty = release
};

// A constraint operand: "1", "1.2.x", "*", "1.2.3-rc.1". `given` counts the concrete numeric
// parts before the first wildcard or missing part.
struct Partial {
  Semver v;
  int given = 0;
};

constexpr std::string_view kExpected = "expected MAJOR[.MINOR[.PATCH]][-PRERELEASE][+BUILD], e.g. 1.2.3 or 1.2.3-rc.1";

bool is_ident_char(char c) { return is_alnum(c) || c == '-'; }

// "[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*" starting at p; returns the end or npos.
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

bool is_wild(std::string_view part) { return part == "x" || part == "X" || part == "*"; }

// Parses a version or, with allow_partial, an x-range operand. On failure sets `why`.
bool parse_impl(std::string_view raw, bool allow_partial, Partial& out, const char*& why) {
  std::string_view s = detail::trim(raw);
  if (!s.empty() && s.front() == '=') s.remove_prefix(1);
  if (!s.empty() && (s.front() == 'v' || s.front() == 'V')) s.remove_prefix(1);
  if (s.empty()) {
    if (allow_partial) return true;  // "" == "*"
    why = "the version is empty";
    return false;
  }
  std::uint64_t* nums[3] = {&out.v.major, &out.v.minor, &out.v.patch};
  std::size_t p = 0;
  bool wild = false;
  int parts = 0;
  while (parts < 3) {
    std::size_t b = p;
    while (p < s.size() && (is_digit(s[p]) || s[p] == 'x' || s[p] == 'X' || s[p] == '*')) ++p;
    std::string_view part = s.substr(b, p - b);
    if (part.empty()) {
      why = parts == 0 ? "it does not start with a number" : "a version part is empty";
      return false;
    }
    if (is_wild(part)) {
      if (!allow_partial) {
        why = "wildcards (x, *) are only allowed in ranges";
        return false;
      }
      wild = true;
    } else if (!detail::all_digits(part)) {
      why = "a version part mixes digits and wildcards";
      return false;
    } else if (!wild) {
      if (!detail::parse_u64(part, *nums[parts])) {
        why = "a version part is larger than 2^64-1";
        return false;
      }
      ++out.given;
    }
    ++parts;
    if (p < s.size() && s[p] == '.' && parts < 3) {
      ++p;
      continue;
    }
    break;
  }
  if (!allow_partial && parts == 0) {
    why = "it does not start with a number";
    return false;
  }
  if (p < s.size() && s[p] == '-') {
    std::size_t e = identifiers_end(s, p + 1);
    if (e == std::string_view::npos) {
      why = "the pre-release after '-' has an empty identifier";
      return false;
    }
    if (out.given < 3 && allow_partial) {
      why = "a pre-release needs a full MAJOR.MINOR.PATCH";
      return false;
    }
    out.v.pre = s.substr(p + 1, e - p - 1);
    p = e;
  }
  if (p < s.size() && s[p] == '+') {
    std::size_t e = identifiers_end(s, p + 1);
    if (e == std::string_view::npos) {
      why = "the build metadata after '+' has an empty identifier";
      return false;
    }
    p = e;
  }
  if (p != s.size()) {
    why = "unexpected characters after the version";
    return false;
  }
  return true;
}

Result<Semver> parse(std::string_view raw) {
  Partial out;
  const char* why = "";
  if (!parse_impl(raw, false, out, why)) {
    return detail::format_error("semver", "version", raw, std::string(why) + "; " + std::string(kExpected));
  }
  return out.v;
}

int cmp_u64(std::uint64_t a, std::uint64_t b) { return a < b ? -1 : (a > b ? 1 : 0); }

int compare_release(const Semver& a, const Semver& b) {
  int c = cmp_u64(a.major, b.major);
  if (c == 0) c = cmp_u64(a.minor, b.minor);
  if (c == 0) c = cmp_u64(a.patch, b.patch);
  return c;
}

int compare_sv(const Semver& a, const Semver& b) {
  int c = compare_release(a, b);
  if (c != 0) return c;
  if (a.pre.empty() || b.pre.empty()) return cmp_u64(a.pre.empty() ? 1 : 0, b.pre.empty() ? 1 : 0);
  return detail::compare_prerelease(a.pre, b.pre);
}

// ---- ranges -----------------------------------------------------------------------------

// A bound built from an operand: numbers plus an optional "-0" (the lowest pre-release).
// `infinite` marks a bump that overflowed (nothing is above it).
struct Bound {
  Semver v;
  bool infinite = false;
};

constexpr std::uint64_t kMaxU64 = std::numeric_limits<std::uint64_t>::max();

Bound make(std::uint64_t M, std::uint64_t m, std::uint64_t p, bool dash0) {
  Bound b;
  b.v.major = M;
  b.v.minor = m;
  b.v.patch = p;
  if (dash0) b.v.pre = "0";
  return b;
}
Bound bump_major(const Semver& v, bool dash0) {
  if (v.major == kMaxU64) return Bound{{}, true};
  return make(v.major + 1, 0, 0, dash0);
}
Bound bump_minor(const Semver& v, bool dash0) {
  if (v.minor == kMaxU64) return bump_major(v, dash0);
  return make(v.major, v.minor + 1, 0, dash0);
}
Bound bump_patch(const Semver& v, bool dash0) {
  if (v.patch == kMaxU64) return bump_minor(v, dash0);
  return make(v.major, v.minor, v.patch + 1, dash0);
}

bool below(const Semver& c, const Bound& b) { return b.infinite || compare_sv(c, b.v) < 0; }
bool at_least(const Semver& c, const Bound& b) { return !b.infinite && compare_sv(c, b.v) >= 0; }
bool at_least(const Semver& c, const Semver& v) { return compare_sv(c, v) >= 0; }

// The x-range [lower, upper) for an operand with 1 or 2 given parts.
bool in_xrange(const Semver& c, const Partial& p, bool inc) {
  const Semver& v = p.v;
  if (p.given == 1) return at_least(c, make(v.major, 0, 0, inc)) && below(c, bump_major(v, true));
  return at_least(c, make(v.major, v.minor, 0, inc)) && below(c, bump_minor(v, true));
}

class RangeEval {
 public:
  RangeEval(const Semver& cand, const MatchOptions& opts) : c_(cand), inc_(opts.include_prerelease) {}

  // A pre-release candidate may only pass a comparator set that names a pre-release of the
  // same MAJOR.MINOR.PATCH (node-semver testSet), unless include_prerelease is set.
  void note_prerelease(const Partial& p) {
    if (p.given == 3 && !p.v.pre.empty() && compare_release(p.v, c_) == 0) pre_ok_ = true;
  }
  bool pre_gate() const { return inc_ || c_.pre.empty() || pre_ok_; }
  void reset() { pre_ok_ = false; }

  // One operator + operand.
  Result<bool> term(std::string_view op, const Partial& p, std::string_view constraint) {
    note_prerelease(p);
    const Semver& v = p.v;
    const int g = p.given;
    if (op.empty() || op == "=" || op == "==") {
      if (g == 3) return compare_sv(c_, v) == 0;
      if (g == 0) return true;
      return in_xrange(c_, p, inc_);
    }
    if (op == "!=") {
      if (g == 3) return compare_sv(c_, v) != 0;
      if (g == 0) return false;
      return !in_xrange(c_, p, inc_);
    }
    if (op == "<") {
      if (g == 3) return compare_sv(c_, v) < 0;
      if (g == 0) return false;
      return below(c_, make(v.major, g == 1 ? 0 : v.minor, 0, true));
    }
    if (op == "<=" || op == "=<") {
      if (g == 3) return compare_sv(c_, v) <= 0;
      if (g == 0) return true;
      return below(c_, g == 1 ? bump_major(v, true) : bump_minor(v, true));
    }
    if (op == ">") {
      if (g == 3) return compare_sv(c_, v) > 0;
      if (g == 0) return false;
      return at_least(c_, g == 1 ? bump_major(v, inc_) : bump_minor(v, inc_));
    }
    if (op == ">=" || op == "=>") {
      if (g == 3) return compare_sv(c_, v) >= 0;
      if (g == 0) return true;
      return at_least(c_, make(v.major, g == 1 ? 0 : v.minor, 0, inc_));
    }
    if (op == "~" || op == "~>") {
      if (g == 0) return true;
      if (g == 1) return at_least(c_, make(v.major, 0, 0, false)) && below(c_, bump_major(v, true));
      if (g == 2) return at_least(c_, make(v.major, v.minor, 0, false)) && below(c_, bump_minor(v, true));
      return at_least(c_, v) && below(c_, bump_minor(v, true));
    }
    if (op == "^") {
      if (g == 0) return true;
      if (g == 1) return at_least(c_, make(v.major, 0, 0, inc_)) && below(c_, bump_major(v, true));
      if (g == 2) {
        Bound upper = v.major == 0 ? bump_minor(v, true) : bump_major(v, true);
        return at_least(c_, make(v.major, v.minor, 0, inc_)) && below(c_, upper);
      }
      Semver lower = v;
      if (lower.pre.empty() && inc_) lower.pre = "0";
      Bound upper = v.major != 0 ? bump_major(v, true) : v.minor != 0 ? bump_minor(v, true) : bump_patch(v, true);
      return at_least(c_, lower) && below(c_, upper);
    }
    return detail::format_error(
        "semver", "range", constraint,
        "unknown operator \"" + std::string(op) + "\"; use one of = != < <= > >= ~ ~> ^ or a hyphen range A - B");
  }

  // "A - B".
  bool hyphen(const Partial& from, const Partial& to) {
    note_prerelease(from);
    note_prerelease(to);
    bool ok = true;
    if (from.given == 1) ok = at_least(c_, make(from.v.major, 0, 0, inc_));
    if (from.given == 2) ok = at_least(c_, make(from.v.major, from.v.minor, 0, inc_));
    if (from.given == 3) ok = at_least(c_, from.v);
    if (to.given == 1) ok = ok && below(c_, bump_major(to.v, true));
    if (to.given == 2) ok = ok && below(c_, bump_minor(to.v, true));
    if (to.given == 3) {
      if (!to.v.pre.empty() || !inc_) {
        ok = ok && compare_sv(c_, to.v) <= 0;
      } else {
        ok = ok && below(c_, bump_patch(to.v, true));
      }
    }
    return ok;
  }

 private:
  const Semver& c_;
  bool inc_;
  bool pre_ok_ = false;
};

Result<Partial> parse_operand(std::string_view text, std::string_view constraint) {
  Partial p;
  const char* why = "";
  if (!parse_impl(text, true, p, why)) {
    return detail::format_error("semver", "range", constraint, "bad version \"" + std::string(text) + "\": " + why);
  }
  return p;
}

}  // namespace

namespace detail {

bool valid_semver(std::string_view v) { return parse(v).ok(); }

Result<bool> satisfies_semver(std::string_view version, std::string_view constraint, const MatchOptions& opts) {
  auto cand = parse(version);
  if (!cand.ok()) return cand.error();
  if (trim(constraint).empty()) return true;
  RangeEval eval(*cand, opts);
  AlternativeSplitter alternatives(constraint);
  std::string_view alternative;
  bool any = false;
  while (alternatives.next(alternative)) {
    eval.reset();
    TermScanner terms(alternative);
    Term term;
    bool all = true;
    bool seen = false;
    while (terms.next(term)) {
      seen = true;
      if (term.version.empty() && !term.op.empty()) {
        return format_error("semver", "range", constraint,
                            "operator \"" + std::string(term.op) + "\" has no version after it");
      }
      auto operand = parse_operand(term.version, constraint);
      if (!operand.ok()) return operand.error();
      // Hyphen range: "A - B" (bare operands on both sides).
      TermScanner look = terms;
      Term dash;
      Term upper;
      if (term.op.empty() && look.next(dash) && dash.op.empty() && dash.version == "-") {
        if (!look.next(upper) || !upper.op.empty() || upper.version.empty()) {
          return format_error("semver", "range", constraint,
                              "a hyphen range needs a bare version on both sides (1.2.3 - 2.3.4)");
        }
        auto to = parse_operand(upper.version, constraint);
        if (!to.ok()) return to.error();
        if (!eval.hyphen(*operand, *to)) all = false;
        terms = look;
        continue;
      }
      auto ok = eval.term(term.op, *operand, constraint);
      if (!ok.ok()) return ok.error();
      if (!*ok) all = false;
    }
    // An empty alternative means "*" in npm.
    if (!seen) all = true;
    any = any || (all && eval.pre_gate());
  }
  return any;
}

}  // namespace detail

Result<int> compare_semver(std::string_view a, std::string_view b) {
  auto va = parse(a);
  if (!va.ok()) return va.error();
  auto vb = parse(b);
  if (!vb.ok()) return vb.error();
  return compare_sv(*va, *vb);
}

}  // namespace scangate::version
