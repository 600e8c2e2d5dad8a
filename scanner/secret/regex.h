// A compiled regular expression in the Go RE2 syntax that Trivy's secret rules and
// secret configs use, run by PCRE2 (JIT where available).
//
// Go semantics kept: `$` without (?m) matches only at the very end (PCRE2_DOLLAR_ENDONLY),
// `.` stops at '\n' only, leftmost-first alternation, duplicate group names allowed
// (Trivy's "multiple secret groups"). Matching is byte-wise (no UTF mode), so invalid
// UTF-8 in a file never stops a match. Backtracking is bounded by match and heap limits:
// a pattern that exceeds them yields an Error instead of running away.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "scanner/core/result.h"

namespace scangate::secret {

struct Span {
  static constexpr std::size_t npos = static_cast<std::size_t>(-1);
  std::size_t begin = npos;  // npos when the group did not take part in the match
  std::size_t end = npos;
  bool set() const { return begin != npos; }
};

class Regex {
 public:
  // An Error (kInvalidArgument) names the offset and PCRE2's reason.
  static Result<Regex> compile(std::string_view pattern);

  // Trivy's word guard "([^0-9a-zA-Z_]|^)" in front of a pattern makes PCRE2 try every
  // byte of a file. For a pattern that starts with the guard and whose rest can only
  // begin with a word character (true of the built-in rules), this compiles the guard
  // as a lookbehind instead, so PCRE2 can skip ahead to the rest's first character, and
  // reports the same matches as the plain pattern: the whole match still starts at the
  // guard byte, and a byte ending one match never guards the next. Group numbers then
  // differ from the plain pattern's; use groups_named. Without the guard: as compile().
  static Result<Regex> compile_guarded(std::string_view pattern);

  // The numbers of the capture groups called `name`, in pattern order.
  std::vector<int> groups_named(std::string_view name) const;
  int capture_count() const;

  // Calls fn for each successive non-overlapping match (Go's FindAllSubmatchIndex):
  // groups[0] is the whole match, groups[i] capture group i. An error (a limit hit)
  // stops the walk; the matches delivered before it stand.
  Result<void> for_each_match(std::string_view subject,
                              const std::function<void(std::span<const Span> groups)>& fn) const;

  // Whether the pattern matches anywhere in subject.
  Result<bool> search(std::string_view subject) const;

 private:
  struct Impl;
  static Result<Regex> build(std::string_view pattern, bool guarded);
  explicit Regex(std::shared_ptr<const Impl> impl) : impl_(std::move(impl)) {}
  std::shared_ptr<const Impl> impl_;
};

}  // namespace scangate::secret
