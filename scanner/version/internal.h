// Helpers shared by the comparators in scanner/version/. Not part of the public API.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "scanner/core/result.h"
#include "scanner/version/version.h"

namespace scangate::version::detail {

constexpr bool is_digit(char c) { return c >= '0' && c <= '9'; }
constexpr bool is_lower(char c) { return c >= 'a' && c <= 'z'; }
constexpr bool is_upper(char c) { return c >= 'A' && c <= 'Z'; }
constexpr bool is_alpha(char c) { return is_lower(c) || is_upper(c); }
constexpr bool is_alnum(char c) { return is_alpha(c) || is_digit(c); }
constexpr bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }
constexpr char to_lower(char c) { return is_upper(c) ? static_cast<char>(c - 'A' + 'a') : c; }

std::string_view trim(std::string_view s);
bool all_digits(std::string_view s);

// Numeric comparison of two runs of ASCII digits of any length (leading zeros ignored; an empty
// run counts as 0). Returns <0, 0, >0.
int compare_digits(std::string_view a, std::string_view b);

// Parses a non-empty run of digits; false when empty, not all digits, or above UINT64_MAX.
bool parse_u64(std::string_view digits, std::uint64_t& out);

// Case-insensitive equality / prefix test for ASCII.
bool iequals(std::string_view a, std::string_view b);
bool istarts_with(std::string_view s, std::string_view prefix);

// Dot-separated pre-release identifiers compared by SemVer 2.0 rule 11: numeric identifiers
// numerically and below alphanumeric ones, alphanumeric ones in ASCII order, and a shorter list
// sorts first when it is a prefix of the longer. Both arguments must be non-empty.
int compare_prerelease(std::string_view a, std::string_view b);

// kFormat error naming the scheme, the offending text and what is expected.
Error format_error(std::string_view scheme, std::string_view what, std::string_view text, std::string_view why);

// ---- constraint scanning -----------------------------------------------------------------

// One "operator version" term of a constraint, e.g. ">= 1.2" -> {">=", "1.2"}.
struct Term {
  std::string_view op;       // run of < > = ! ~ ^ characters; may be empty
  std::string_view version;  // quotes stripped; empty when the term is a bare operator
};

// Splits "a || b || c" into its alternatives, one at a time.
class AlternativeSplitter {
 public:
  explicit AlternativeSplitter(std::string_view constraint) : rest_(constraint) {}
  bool next(std::string_view& alternative);

 private:
  std::string_view rest_;
  bool done_ = false;
};

// Scans the terms of one alternative. Terms are separated by commas and/or whitespace; an
// operator may be followed by whitespace before its version ("> 1.0").
class TermScanner {
 public:
  explicit TermScanner(std::string_view alternative) : s_(alternative) {}
  // False at the end of the alternative.
  bool next(Term& term);
  bool at_end();

 private:
  void skip_separators();
  std::string_view s_;
  std::size_t pos_ = 0;
};

// Comparison operators understood by every scheme.
enum class Op { kEq, kNe, kLt, kLe, kGt, kGe };

// Maps "", "=", "==", "!=", "<", "<=", "=<", ">", ">=", "=>" to Op; false otherwise.
bool simple_op(std::string_view text, Op& op);
bool op_holds(Op op, int cmp);

// satisfies() for schemes whose constraints are plain comparisons (apk, deb, generic without
// ~ ^ ~>), with `compare` a Result<int>(string_view, string_view) function.
template <class Compare>
Result<bool> satisfies_simple(std::string_view scheme, std::string_view version, std::string_view constraint,
                              Compare compare);

// Per-scheme constraint evaluation (defined next to each comparator).
Result<bool> satisfies_pep440(std::string_view version, std::string_view constraint, const MatchOptions& opts);
Result<bool> satisfies_semver(std::string_view version, std::string_view constraint, const MatchOptions& opts);
Result<bool> satisfies_generic(std::string_view version, std::string_view constraint);

// Validity per scheme (defined next to each comparator).
bool valid_apk(std::string_view v);
bool valid_deb(std::string_view v);
bool valid_pep440(std::string_view v);
bool valid_semver(std::string_view v);
bool valid_generic(std::string_view v);

// ---- template definitions ---------------------------------------------------------------

template <class Compare>
Result<bool> satisfies_simple(std::string_view scheme, std::string_view version, std::string_view constraint,
                              Compare compare) {
  if (trim(constraint).empty()) return true;
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
      Op op;
      if (!simple_op(term.op, op)) {
        return format_error(scheme, "constraint", constraint,
                            "unknown operator \"" + std::string(term.op) + "\"; use one of = == != < <= > >=");
      }
      if (term.version.empty()) {
        return format_error(scheme, "constraint", constraint,
                            "operator \"" + std::string(term.op) + "\" has no version after it");
      }
      auto cmp = compare(version, term.version);
      if (!cmp.ok()) return cmp.error().wrap("checking constraint \"" + std::string(constraint) + "\"");
      if (!op_holds(op, *cmp)) all = false;
    }
    if (!seen) { return format_error(scheme, "constraint", constraint, "empty alternative between \"||\" separators"); }
    any = any || all;
  }
  return any;
}

}  // namespace scangate::version::detail
