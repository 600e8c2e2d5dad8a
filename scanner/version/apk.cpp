// apk version ordering, after the token rules of apk-tools src/version.c:
//   digits ('.'-separated, a leading-zero part sorts as a fraction), one optional lower-case
//   letter, then "_suffix[N]" parts (alpha < beta < pre < rc < (none) < cvs < svn < git < hg < p),
//   then "-rN".
#include <cstdint>

#include "scanner/version/internal.h"

namespace scangate::version {
namespace {

using detail::is_digit;
using detail::is_lower;

// Token types in apk-tools order; the numeric order matters (see next_token()).
enum Tok : int {
  kInvalid = -1,
  kDigitOrZero = 0,
  kDigit,
  kLetter,
  kSuffix,
  kSuffixNo,
  kRevisionNo,
  kEnd,
};

// A token value: digit runs compare numerically at any length; everything else (leading-zero
// counts, letters, suffix ranks) is a small integer. Both kinds only ever meet within
// kDigitOrZero, where a leading-zero part (negative) sorts below any plain number.
struct Value {
  bool is_number = false;
  std::string_view digits;
  std::int64_t small = 0;
};

int compare_values(const Value& a, const Value& b) {
  if (a.is_number && b.is_number) return detail::compare_digits(a.digits, b.digits);
  if (!a.is_number && !b.is_number) return a.small < b.small ? -1 : (a.small > b.small ? 1 : 0);
  // Mixed: a number against a leading-zero count (negative), or defensively any small value.
  const Value& num = a.is_number ? a : b;
  const Value& sm = a.is_number ? b : a;
  int num_vs_small = 1;
  std::uint64_t n = 0;
  if (sm.small >= 0 && detail::parse_u64(num.digits.empty() ? "0" : num.digits, n) &&
      n <= static_cast<std::uint64_t>(sm.small)) {
    num_vs_small = n < static_cast<std::uint64_t>(sm.small) ? -1 : 0;
  }
  return a.is_number ? num_vs_small : -num_vs_small;
}

class Reader {
 public:
  explicit Reader(std::string_view s) : s_(s) {}
  bool empty() const { return pos_ >= s_.size(); }
  char peek(std::size_t off = 0) const { return pos_ + off < s_.size() ? s_[pos_ + off] : '\0'; }
  std::size_t left() const { return s_.size() - pos_; }
  std::string_view rest() const { return s_.substr(pos_); }
  void skip(std::size_t n) { pos_ += n; }

 private:
  std::string_view s_;
  std::size_t pos_ = 0;
};

// Decides the type of the token that starts at the reader, consuming its separator.
void next_token(int& type, Reader& r) {
  int n = kInvalid;
  if (r.empty()) {
    n = kEnd;
  } else if ((type == kDigit || type == kDigitOrZero) && is_lower(r.peek())) {
    n = kLetter;
  } else if (type == kLetter && is_digit(r.peek())) {
    n = kDigit;
  } else if (type == kSuffix && is_digit(r.peek())) {
    n = kSuffixNo;
  } else {
    switch (r.peek()) {
      case '.': n = kDigitOrZero; break;
      case '_': n = kSuffix; break;
      case '-':
        if (r.left() > 1 && r.peek(1) == 'r') {
          n = kRevisionNo;
          r.skip(1);
        }
        break;
      default: break;
    }
    r.skip(1);
  }
  if (n < type) {
    if (!((n == kDigitOrZero && type == kDigit) || (n == kSuffix && type == kSuffixNo) ||
          (n == kDigit && type == kLetter))) {
      n = kInvalid;
    }
  }
  type = n;
}

constexpr std::string_view kPreSuffixes[] = {"alpha", "beta", "pre", "rc"};
constexpr std::string_view kPostSuffixes[] = {"cvs", "svn", "git", "hg", "p"};

// Reads the value of a token of `type` and advances `type` to the following token's type.
Value get_token(int& type, Reader& r) {
  Value v;
  if (r.empty()) {
    type = kEnd;
    return v;
  }
  int next_type = kInvalid;
  std::size_t i = 0;
  switch (type) {
    case kDigitOrZero:
      if (r.peek() == '0') {  // leading zeros sort as a fraction: .01 < .1, .001 < .01
        while (i < r.left() && r.peek(i) == '0') ++i;
        next_type = kDigit;
        v.small = -static_cast<std::int64_t>(i);
        break;
      }
      [[fallthrough]];
    case kDigit:
    case kSuffixNo:
    case kRevisionNo:
      while (i < r.left() && is_digit(r.peek(i))) ++i;
      v.is_number = true;
      v.digits = r.rest().substr(0, i);
      break;
    case kLetter:
      v.small = static_cast<unsigned char>(r.peek());
      i = 1;
      break;
    case kSuffix: {
      std::string_view rest = r.rest();
      bool found = false;
      for (std::size_t k = 0; k < std::size(kPreSuffixes) && !found; ++k) {
        if (rest.substr(0, kPreSuffixes[k].size()) == kPreSuffixes[k]) {
          v.small = static_cast<std::int64_t>(k) - static_cast<std::int64_t>(std::size(kPreSuffixes));
          i = kPreSuffixes[k].size();
          found = true;
        }
      }
      for (std::size_t k = 0; k < std::size(kPostSuffixes) && !found; ++k) {
        if (rest.substr(0, kPostSuffixes[k].size()) == kPostSuffixes[k]) {
          v.small = static_cast<std::int64_t>(k);
          i = kPostSuffixes[k].size();
          found = true;
        }
      }
      if (found) break;
      type = kInvalid;
      v.small = -1;
      return v;
    }
    default:
      type = kInvalid;
      v.small = -1;
      return v;
  }
  r.skip(i);
  if (r.empty()) {
    type = kEnd;
  } else if (next_type != kInvalid) {
    type = next_type;
  } else {
    next_token(type, r);
  }
  return v;
}

int compare_tokens(std::string_view a, std::string_view b) {
  Reader ra(a);
  Reader rb(b);
  int at = kDigit;
  int bt = kDigit;
  Value av;
  Value bv;
  int cmp = 0;
  while (at == bt && at != kEnd && at != kInvalid && cmp == 0) {
    av = get_token(at, ra);
    bv = get_token(bt, rb);
    cmp = compare_values(av, bv);
  }
  if (cmp != 0) return cmp;
  if (at == bt) return 0;  // both ended (or both hit an invalid token)
  // Equal so far: the longer version is newer unless what follows is a pre-release suffix.
  if (at == kSuffix) {
    int tt = at;
    Value sv = get_token(tt, ra);
    if (!sv.is_number && sv.small < 0) return -1;
  }
  if (bt == kSuffix) {
    int tt = bt;
    Value sv = get_token(tt, rb);
    if (!sv.is_number && sv.small < 0) return 1;
  }
  if (at > bt) return -1;
  if (bt > at) return 1;
  return 0;
}

}  // namespace

namespace detail {

bool valid_apk(std::string_view v) {
  if (v.empty()) return false;
  Reader r(v);
  int t = kDigit;
  while (t != kEnd && t != kInvalid) get_token(t, r);
  return t == kEnd;
}

}  // namespace detail

Result<int> compare_apk(std::string_view a, std::string_view b) {
  std::string_view ta = detail::trim(a);
  std::string_view tb = detail::trim(b);
  if (ta.empty() || tb.empty()) {
    return detail::format_error("apk", "version", ta.empty() ? a : b,
                                "the version is empty; expected e.g. 1.2.3_rc1-r0");
  }
  return compare_tokens(ta, tb);
}

}  // namespace scangate::version
