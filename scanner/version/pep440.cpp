// PEP 440 versions and specifiers.
// Grammar (the "VERSION_PATTERN" of PEP 440 Appendix B, case-insensitive, surrounding whitespace
// allowed):  v? (N!)? N(.N)* ([-_.]?(alpha|a|beta|b|preview|pre|c|rc)[-_.]?N?)?
//            (-N | [-_.]?(post|rev|r)[-_.]?N?)? ([-_.]?dev[-_.]?N?)? (+[a-z0-9]+([-_.][a-z0-9]+)*)?
#include <array>

#include "scanner/version/internal.h"

namespace scangate::version {
namespace {

using detail::is_alnum;
using detail::is_digit;

enum PreKind : int { kNoPre = -1, kAlpha = 0, kBeta = 1, kRc = 2 };

struct Pep440 {
  std::string_view epoch;    // digits; empty = 0
  std::string_view release;  // "N(.N)*", raw
  int pre = kNoPre;
  std::string_view pre_num;  // digits; empty = 0
  bool has_post = false;
  std::string_view post_num;
  bool has_dev = false;
  std::string_view dev_num;
  std::string_view local;  // raw label after '+', separators any of - _ .

  bool is_prerelease() const { return pre != kNoPre || has_dev; }
  bool is_postrelease() const { return has_post; }
};

// ---- parsing ----------------------------------------------------------------------------

constexpr bool is_sep(char c) { return c == '-' || c == '_' || c == '.'; }

class Parser {
 public:
  explicit Parser(std::string_view s) : s_(s) {}

  bool parse(Pep440& out) {
    std::size_t p = 0;
    if (p < s_.size() && (s_[p] == 'v' || s_[p] == 'V')) ++p;
    std::size_t d = digits_end(p);
    if (d > p && d < s_.size() && s_[d] == '!') {
      out.epoch = s_.substr(p, d - p);
      p = d + 1;
    }
    std::size_t rel_begin = p;
    d = digits_end(p);
    if (d == p) return false;
    p = d;
    while (p + 1 < s_.size() && s_[p] == '.' && is_digit(s_[p + 1])) p = digits_end(p + 1);
    out.release = s_.substr(rel_begin, p - rel_begin);
    return pre(p, out);
  }

 private:
  std::size_t digits_end(std::size_t p) const {
    while (p < s_.size() && is_digit(s_[p])) ++p;
    return p;
  }

  // Case-insensitive match of `word` at p.
  bool word_at(std::size_t p, std::string_view word) const {
    return p <= s_.size() && detail::istarts_with(s_.substr(p), word);
  }

  // "[-_.]? N?" after a label, tried greedily first (like the regex engine); calls
  // next(end, number) for each way to continue.
  template <class Next>
  bool number_tail(std::size_t p, Next&& next) const {
    if (p < s_.size() && is_sep(s_[p])) {
      std::size_t d = digits_end(p + 1);
      if (d > p + 1 && next(d, s_.substr(p + 1, d - p - 1))) return true;
      if (next(p + 1, std::string_view{})) return true;
    }
    std::size_t d = digits_end(p);
    if (d > p && next(d, s_.substr(p, d - p))) return true;
    return next(p, std::string_view{});
  }

  bool pre(std::size_t p, Pep440& out) {
    static constexpr std::array<std::pair<std::string_view, int>, 8> kLabels = {{
        {"alpha", kAlpha},
        {"a", kAlpha},
        {"beta", kBeta},
        {"b", kBeta},
        {"preview", kRc},
        {"pre", kRc},
        {"c", kRc},
        {"rc", kRc},
    }};
    for (int with_sep = 1; with_sep >= 0; --with_sep) {
      std::size_t q = p;
      if (with_sep) {
        if (q >= s_.size() || !is_sep(s_[q])) continue;
        ++q;
      }
      for (const auto& [label, kind] : kLabels) {
        if (!word_at(q, label)) continue;
        Pep440 trial = out;
        trial.pre = kind;
        bool ok = number_tail(q + label.size(), [&](std::size_t e, std::string_view n) {
          trial.pre_num = n;
          if (!post(e, trial)) return false;
          out = trial;
          return true;
        });
        if (ok) return true;
      }
    }
    return post(p, out);
  }

  bool post(std::size_t p, Pep440& out) {
    if (p < s_.size() && s_[p] == '-') {
      std::size_t d = digits_end(p + 1);
      if (d > p + 1) {
        Pep440 trial = out;
        trial.has_post = true;
        trial.post_num = s_.substr(p + 1, d - p - 1);
        if (dev(d, trial)) {
          out = trial;
          return true;
        }
      }
    }
    static constexpr std::array<std::string_view, 3> kLabels = {"post", "rev", "r"};
    for (int with_sep = 1; with_sep >= 0; --with_sep) {
      std::size_t q = p;
      if (with_sep) {
        if (q >= s_.size() || !is_sep(s_[q])) continue;
        ++q;
      }
      for (std::string_view label : kLabels) {
        if (!word_at(q, label)) continue;
        Pep440 trial = out;
        trial.has_post = true;
        bool ok = number_tail(q + label.size(), [&](std::size_t e, std::string_view n) {
          trial.post_num = n;
          if (!dev(e, trial)) return false;
          out = trial;
          return true;
        });
        if (ok) return true;
      }
    }
    return dev(p, out);
  }

  bool dev(std::size_t p, Pep440& out) {
    for (int with_sep = 1; with_sep >= 0; --with_sep) {
      std::size_t q = p;
      if (with_sep) {
        if (q >= s_.size() || !is_sep(s_[q])) continue;
        ++q;
      }
      if (!word_at(q, "dev")) continue;
      Pep440 trial = out;
      trial.has_dev = true;
      bool ok = number_tail(q + 3, [&](std::size_t e, std::string_view n) {
        trial.dev_num = n;
        if (!local(e, trial)) return false;
        out = trial;
        return true;
      });
      if (ok) return true;
    }
    return local(p, out);
  }

  bool local(std::size_t p, Pep440& out) {
    if (p == s_.size()) return true;
    if (s_[p] != '+') return false;
    std::size_t q = p + 1;
    while (true) {
      std::size_t b = q;
      while (q < s_.size() && is_alnum(s_[q])) ++q;
      if (q == b) return false;  // empty label part
      if (q == s_.size()) break;
      if (!is_sep(s_[q])) return false;
      ++q;
    }
    out.local = s_.substr(p + 1);
    return true;
  }

  std::string_view s_;
};

constexpr std::string_view kExpected =
    "expected a PEP 440 version such as 1.2, 1!2.0rc1, 1.0.post2.dev3 or 1.0+local.7";

Result<Pep440> parse(std::string_view raw) {
  std::string_view s = detail::trim(raw);
  if (s.empty()) return detail::format_error("pep440", "version", raw, "the version is empty");
  Pep440 v;
  if (!Parser(s).parse(v)) return detail::format_error("pep440", "version", raw, kExpected);
  return v;
}

// ---- ordering ---------------------------------------------------------------------------

// Iterates the '.'-separated numbers of a release segment.
class ReleaseIter {
 public:
  explicit ReleaseIter(std::string_view r) : r_(r) {}
  bool done() const { return pos_ > r_.size(); }
  std::string_view next() {
    if (done()) return {};
    std::size_t dot = r_.find('.', pos_);
    if (dot == std::string_view::npos) dot = r_.size();
    std::string_view part = r_.substr(pos_, dot - pos_);
    pos_ = dot + 1;
    return part;
  }

 private:
  std::string_view r_;
  std::size_t pos_ = 0;
};

std::size_t release_size(std::string_view r) {
  std::size_t n = 1;
  for (char c : r) n += c == '.' ? 1 : 0;
  return n;
}

// Release parts with trailing zeros ignored: missing parts count as 0.
int compare_release(std::string_view a, std::string_view b) {
  ReleaseIter ia(a);
  ReleaseIter ib(b);
  while (!ia.done() || !ib.done()) {
    int c = detail::compare_digits(ia.next(), ib.next());
    if (c != 0) return c;
  }
  return 0;
}

int cmp3(int a, int b) { return a < b ? -1 : (a > b ? 1 : 0); }

int compare_local(std::string_view a, std::string_view b) {
  if (a.empty() || b.empty()) return cmp3(a.empty() ? 0 : 1, b.empty() ? 0 : 1);
  std::size_t pa = 0;
  std::size_t pb = 0;
  auto next_part = [](std::string_view s, std::size_t& pos) {
    std::size_t e = pos;
    while (e < s.size() && !is_sep(s[e])) ++e;
    std::string_view part = s.substr(pos, e - pos);
    pos = e + 1;
    return part;
  };
  while (true) {
    bool a_end = pa > a.size();
    bool b_end = pb > b.size();
    if (a_end || b_end) return cmp3(a_end ? 0 : 1, b_end ? 0 : 1);
    std::string_view x = next_part(a, pa);
    std::string_view y = next_part(b, pb);
    bool nx = detail::all_digits(x);
    bool ny = detail::all_digits(y);
    int c = 0;
    if (nx && ny) {
      c = detail::compare_digits(x, y);
    } else if (nx != ny) {
      c = nx ? 1 : -1;  // numeric segments sort above alphanumeric ones
    } else {
      for (std::size_t i = 0; i < x.size() && i < y.size() && c == 0; ++i) {
        c = cmp3(detail::to_lower(x[i]), detail::to_lower(y[i]));
      }
      if (c == 0) c = cmp3(static_cast<int>(x.size()), static_cast<int>(y.size()));
    }
    if (c != 0) return c;
  }
}

// Everything but the local label (PEP 440 "public version").
int compare_public(const Pep440& a, const Pep440& b) {
  int c = detail::compare_digits(a.epoch, b.epoch);
  if (c != 0) return c;
  c = compare_release(a.release, b.release);
  if (c != 0) return c;
  // Pre-release: a bare .devN (no pre, no post) sorts before any pre-release; no pre-release
  // sorts after all of them.
  auto pre_class = [](const Pep440& v) {
    if (v.pre == kNoPre && !v.has_post && v.has_dev) return 0;
    return v.pre == kNoPre ? 2 : 1;
  };
  c = cmp3(pre_class(a), pre_class(b));
  if (c != 0) return c;
  if (a.pre != kNoPre && b.pre != kNoPre) {
    c = cmp3(a.pre, b.pre);
    if (c != 0) return c;
    c = detail::compare_digits(a.pre_num, b.pre_num);
    if (c != 0) return c;
  }
  c = cmp3(a.has_post ? 1 : 0, b.has_post ? 1 : 0);
  if (c != 0) return c;
  if (a.has_post) {
    c = detail::compare_digits(a.post_num, b.post_num);
    if (c != 0) return c;
  }
  c = cmp3(a.has_dev ? 0 : 1, b.has_dev ? 0 : 1);  // no dev release sorts last
  if (c != 0) return c;
  if (a.has_dev) return detail::compare_digits(a.dev_num, b.dev_num);
  return 0;
}

int compare_full(const Pep440& a, const Pep440& b) {
  int c = compare_public(a, b);
  return c != 0 ? c : compare_local(a.local, b.local);
}

bool same_base(const Pep440& a, const Pep440& b) {
  return detail::compare_digits(a.epoch, b.epoch) == 0 && compare_release(a.release, b.release) == 0;
}

// ---- normal form ------------------------------------------------------------------------

void append_number(std::string& out, std::string_view digits) {
  while (digits.size() > 1 && digits.front() == '0') digits.remove_prefix(1);
  if (digits.empty()) digits = "0";
  out.append(digits);
}

std::string to_string(const Pep440& v, bool with_local) {
  std::string out;
  out.reserve(v.release.size() + v.local.size() + 24);
  if (detail::compare_digits(v.epoch, "0") != 0) {
    append_number(out, v.epoch);
    out.push_back('!');
  }
  ReleaseIter it(v.release);
  bool first = true;
  while (!it.done()) {
    if (!first) out.push_back('.');
    append_number(out, it.next());
    first = false;
  }
  if (v.pre != kNoPre) {
    static constexpr std::string_view kNames[] = {"a", "b", "rc"};
    out.append(kNames[v.pre]);
    append_number(out, v.pre_num);
  }
  if (v.has_post) {
    out.append(".post");
    append_number(out, v.post_num);
  }
  if (v.has_dev) {
    out.append(".dev");
    append_number(out, v.dev_num);
  }
  if (with_local && !v.local.empty()) {
    out.push_back('+');
    for (char c : v.local) out.push_back(is_sep(c) ? '.' : detail::to_lower(c));
  }
  return out;
}

// ---- specifiers -------------------------------------------------------------------------

// packaging's prefix match (specifiers.py _compare_equal with ".*"): split both versions into
// [epoch, release..., pre, post, dev], cut the candidate to the spec's length, pad the release
// parts with zeros and compare. `spec_release_parts` may be shorter than the spec's release
// (for ~=), in which case the spec's pre/post/dev are left out too.
bool prefix_match(const Pep440& cand, const Pep440& spec, std::size_t spec_release_parts, bool spec_suffixes) {
  if (detail::compare_digits(cand.epoch, spec.epoch) != 0) return false;

  // Suffix tokens: 0 = pre, 1 = post, 2 = dev.
  struct Suffix {
    int kind;
    int pre;
    std::string_view num;
  };
  std::array<Suffix, 3> ts{};
  std::size_t ns_suffix = 0;
  if (spec_suffixes) {
    if (spec.pre != kNoPre) ts[ns_suffix++] = {0, spec.pre, spec.pre_num};
    if (spec.has_post) ts[ns_suffix++] = {1, 0, spec.post_num};
    if (spec.has_dev) ts[ns_suffix++] = {2, 0, spec.dev_num};
  }
  std::array<Suffix, 3> tc{};
  std::size_t nc_suffix = 0;
  if (cand.pre != kNoPre) tc[nc_suffix++] = {0, cand.pre, cand.pre_num};
  if (cand.has_post) tc[nc_suffix++] = {1, 0, cand.post_num};
  if (cand.has_dev) tc[nc_suffix++] = {2, 0, cand.dev_num};

  std::size_t ns = spec_release_parts;
  std::size_t nc = release_size(cand.release);
  std::size_t spec_len = ns + ns_suffix;  // after the epoch
  std::size_t kc = nc < spec_len ? nc : spec_len;
  std::size_t rest_c = spec_len - kc;
  if (rest_c > nc_suffix) rest_c = nc_suffix;

  // Release parts, each side cut/padded with zeros to the longer of the two.
  std::size_t padded = kc > ns ? kc : ns;
  ReleaseIter ic(cand.release);
  ReleaseIter is(spec.release);
  for (std::size_t i = 0; i < padded; ++i) {
    std::string_view c = i < kc ? ic.next() : std::string_view{};
    std::string_view s = i < ns ? is.next() : std::string_view{};
    if (detail::compare_digits(c, s) != 0) return false;
  }
  if (rest_c != ns_suffix) return false;
  for (std::size_t i = 0; i < rest_c; ++i) {
    if (tc[i].kind != ts[i].kind || tc[i].pre != ts[i].pre || detail::compare_digits(tc[i].num, ts[i].num) != 0) {
      return false;
    }
  }
  return true;
}

Pep440 public_of(Pep440 v) {
  v.local = {};
  return v;
}

bool spec_equal(const Pep440& cand, const Pep440& spec, bool wildcard) {
  if (wildcard) return prefix_match(cand, spec, release_size(spec.release), true);
  if (!spec.local.empty()) return compare_full(cand, spec) == 0;
  return compare_public(cand, spec) == 0;
}

Error spec_error(std::string_view constraint, const std::string& why) {
  return detail::format_error("pep440", "specifier", constraint, why);
}

// Evaluates one specifier term against the candidate.
Result<bool> check_term(const Pep440& cand, std::string_view cand_raw, const detail::Term& term,
                        std::string_view constraint, const MatchOptions& opts) {
  std::string_view op = term.op;
  if (term.version.empty()) {
    return spec_error(constraint, "operator \"" + std::string(op) + "\" has no version after it");
  }
  if (op == "===") {
    return detail::iequals(detail::trim(cand_raw), term.version) ||
           detail::iequals(to_string(cand, true), term.version);
  }
  bool known = op.empty() || op == "=" || op == "==" || op == "!=" || op == "<" || op == "<=" || op == ">" ||
               op == ">=" || op == "~=";
  if (!known) {
    return spec_error(constraint, "unknown operator \"" + std::string(op) + "\"; use one of == != < <= > >= ~= ===");
  }
  std::string_view text = term.version;
  bool wildcard = text.size() >= 2 && text.substr(text.size() - 2) == ".*";
  if (wildcard) text.remove_suffix(2);
  auto spec = parse(text);
  if (!spec.ok()) return spec.error().wrap("in specifier \"" + std::string(constraint) + "\"");
  bool equality = op.empty() || op == "=" || op == "==" || op == "!=";
  if (wildcard && !equality) { return spec_error(constraint, "a \".*\" wildcard is only allowed with == and !="); }
  if (wildcard && (spec->has_dev || !spec->local.empty())) {
    return spec_error(constraint, "a \".*\" wildcard cannot follow a dev release or local label");
  }
  const Pep440& s = *spec;
  const bool strict_local = !s.local.empty();
  const Pep440 cp = strict_local ? cand : public_of(cand);

  if (equality) {
    bool eq = spec_equal(cand, s, wildcard);
    return op == "!=" ? !eq : eq;
  }
  if (op == "<=") return compare_full(cp, s) <= 0;
  if (op == ">=") return compare_full(cp, s) >= 0;
  if (op == "<") {
    if (compare_full(cp, s) >= 0) return false;
    // "<3.1" must not match 3.1.dev0 / 3.1rc1 unless the spec itself is a pre-release.
    if (!opts.include_prerelease && !s.is_prerelease() && cand.is_prerelease() && same_base(cand, s)) { return false; }
    return true;
  }
  if (op == ">") {
    if (compare_full(cp, s) <= 0) return false;
    // ">3.1" must not match 3.1.post1 unless the spec itself is a post-release, nor 3.1+local.
    if (!s.is_postrelease() && cand.is_postrelease() && same_base(cand, s)) return false;
    if (!strict_local && !cand.local.empty() && same_base(cand, s)) return false;
    return true;
  }
  // "~=": >= V and == V's release without its last part, ".*".
  std::size_t parts = release_size(s.release);
  if (parts < 2) { return spec_error(constraint, "~= needs at least two release parts (e.g. ~=1.4)"); }
  if (compare_full(cp, s) < 0) return false;
  return prefix_match(cand, s, parts - 1, false);
}

}  // namespace

namespace detail {

bool valid_pep440(std::string_view v) { return parse(v).ok(); }

Result<bool> satisfies_pep440(std::string_view version, std::string_view constraint, const MatchOptions& opts) {
  auto cand = parse(version);
  if (!cand.ok()) return cand.error();
  if (trim(constraint).empty()) return true;
  AlternativeSplitter alternatives(constraint);
  std::string_view alternative;
  bool any = false;
  while (alternatives.next(alternative)) {
    if (trim(alternative) == "*") {
      any = true;
      continue;
    }
    TermScanner terms(alternative);
    Term term;
    bool all = true;
    bool seen = false;
    while (terms.next(term)) {
      seen = true;
      auto ok = check_term(*cand, version, term, constraint, opts);
      if (!ok.ok()) return ok.error();
      if (!*ok) all = false;
    }
    if (!seen) return spec_error(constraint, "empty alternative between \"||\" separators");
    any = any || all;
  }
  return any;
}

}  // namespace detail

Result<int> compare_pep440(std::string_view a, std::string_view b) {
  auto va = parse(a);
  if (!va.ok()) return va.error();
  auto vb = parse(b);
  if (!vb.ok()) return vb.error();
  return compare_full(*va, *vb);
}

Result<std::string> normalize_pep440(std::string_view v) {
  auto pv = parse(v);
  if (!pv.ok()) return pv.error();
  return to_string(*pv, true);
}

}  // namespace scangate::version
