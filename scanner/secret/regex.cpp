#include "scanner/secret/regex.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include <algorithm>
#include <string>

namespace scangate::secret {

namespace {

// Bounds on one match attempt. PCRE2's defaults allow 20 GB of backtracking heap; a
// file in an image is untrusted input, so a pathological pattern/input pair must fail
// fast instead.
constexpr uint32_t kMatchLimit = 10'000'000;
constexpr uint32_t kHeapLimitKiB = 64 * 1024;
constexpr PCRE2_SIZE kJitStackStart = 32 * 1024;
constexpr PCRE2_SIZE kJitStackMax = 16 * 1024 * 1024;

std::string pcre2_message(int code) {
  PCRE2_UCHAR buf[256];
  int n = pcre2_get_error_message(code, buf, sizeof buf);
  if (n < 0) return "PCRE2 error " + std::to_string(code);
  return std::string(reinterpret_cast<const char*>(buf), static_cast<std::size_t>(n));
}

struct MatchDataDeleter {
  void operator()(pcre2_match_data* p) const { pcre2_match_data_free(p); }
};
struct MatchContextDeleter {
  void operator()(pcre2_match_context* p) const { pcre2_match_context_free(p); }
};
struct JitStackDeleter {
  void operator()(pcre2_jit_stack* p) const { pcre2_jit_stack_free(p); }
};
struct CompileContextDeleter {
  void operator()(pcre2_compile_context* p) const { pcre2_compile_context_free(p); }
};

}  // namespace

struct Regex::Impl {
  pcre2_code* code = nullptr;
  int captures = 0;
  bool jit = false;
  bool guarded = false;  // compiled by compile_guarded with the guard as a lookbehind
  ~Impl() { pcre2_code_free(code); }
};

Result<Regex> Regex::compile(std::string_view pattern) { return build(pattern, false); }

Result<Regex> Regex::build(std::string_view pattern, bool guarded) {
  std::unique_ptr<pcre2_compile_context, CompileContextDeleter> cctx(pcre2_compile_context_create(nullptr));
  if (!cctx) return Error(ErrorKind::kInternal, "out of memory compiling a regular expression");
  pcre2_set_newline(cctx.get(), PCRE2_NEWLINE_LF);

  int err = 0;
  PCRE2_SIZE erroff = 0;
  const uint32_t options = PCRE2_DUPNAMES | PCRE2_DOLLAR_ENDONLY | PCRE2_NEVER_BACKSLASH_C;
  pcre2_code* code =
      pcre2_compile(reinterpret_cast<PCRE2_SPTR>(pattern.data()), pattern.size(), options, &err, &erroff, cctx.get());
  if (!code) {
    return Error(ErrorKind::kInvalidArgument,
                 "regular expression does not compile at offset " + std::to_string(erroff) + ": " + pcre2_message(err));
  }
  auto impl = std::make_shared<Impl>();
  impl->code = code;
  impl->guarded = guarded;
  uint32_t captures = 0;
  pcre2_pattern_info(code, PCRE2_INFO_CAPTURECOUNT, &captures);
  impl->captures = static_cast<int>(captures);
  // JIT is an optimisation only: where it is unavailable the interpreter runs.
  impl->jit = pcre2_jit_compile(code, PCRE2_JIT_COMPLETE) == 0;
  return Regex(std::move(impl));
}

Result<Regex> Regex::compile_guarded(std::string_view pattern) {
  constexpr std::string_view kGuard = "([^0-9a-zA-Z_]|^)";
  if (pattern.substr(0, kGuard.size()) != kGuard) return compile(pattern);
  return build("(?<![0-9a-zA-Z_])" + std::string(pattern.substr(kGuard.size())), true);
}

int Regex::capture_count() const { return impl_->captures; }

std::vector<int> Regex::groups_named(std::string_view name) const {
  std::vector<int> out;
  uint32_t count = 0, entry_size = 0;
  PCRE2_SPTR table = nullptr;
  pcre2_pattern_info(impl_->code, PCRE2_INFO_NAMECOUNT, &count);
  if (count == 0) return out;
  pcre2_pattern_info(impl_->code, PCRE2_INFO_NAMEENTRYSIZE, &entry_size);
  pcre2_pattern_info(impl_->code, PCRE2_INFO_NAMETABLE, &table);
  for (uint32_t i = 0; i < count; ++i) {
    PCRE2_SPTR e = table + static_cast<std::size_t>(i) * entry_size;
    int number = (e[0] << 8) | e[1];
    std::string_view n(reinterpret_cast<const char*>(e + 2));
    if (n == name) out.push_back(number);
  }
  std::sort(out.begin(), out.end());
  return out;
}

Result<void> Regex::for_each_match(std::string_view subject,
                                   const std::function<void(std::span<const Span>)>& fn) const {
  std::unique_ptr<pcre2_match_data, MatchDataDeleter> md(pcre2_match_data_create_from_pattern(impl_->code, nullptr));
  std::unique_ptr<pcre2_match_context, MatchContextDeleter> mctx(pcre2_match_context_create(nullptr));
  if (!md || !mctx) return Error(ErrorKind::kInternal, "out of memory running a regular expression");
  pcre2_set_match_limit(mctx.get(), kMatchLimit);
  pcre2_set_heap_limit(mctx.get(), kHeapLimitKiB);
  std::unique_ptr<pcre2_jit_stack, JitStackDeleter> jit_stack;

  const auto* data = reinterpret_cast<PCRE2_SPTR>(subject.data());
  const std::size_t groups = static_cast<std::size_t>(impl_->captures) + 1;
  std::vector<Span> spans(groups);
  std::size_t pos = 0;
  std::size_t prev_end = Span::npos;
  while (pos <= subject.size()) {
    int rc = pcre2_match(impl_->code, data, subject.size(), pos, 0, md.get(), mctx.get());
    if (rc == PCRE2_ERROR_JIT_STACKLIMIT && !jit_stack) {
      // Deeply nested repeats (e.g. "(.|\s)*" over a large block) outgrow the default
      // 32 KiB JIT stack: retry this attempt once with a larger one.
      jit_stack.reset(pcre2_jit_stack_create(kJitStackStart, kJitStackMax, nullptr));
      if (!jit_stack) return Error(ErrorKind::kInternal, "out of memory for a regular expression stack");
      pcre2_jit_stack_assign(mctx.get(), nullptr, jit_stack.get());
      continue;
    }
    if (rc == PCRE2_ERROR_NOMATCH) break;
    if (rc < 0) {
      return Error(ErrorKind::kLimit,
                   "regular expression stopped at byte " + std::to_string(pos) + ": " + pcre2_message(rc));
    }
    const PCRE2_SIZE* ov = pcre2_get_ovector_pointer(md.get());
    for (std::size_t g = 0; g < groups; ++g) {
      if (g < static_cast<std::size_t>(rc) && ov[2 * g] != PCRE2_UNSET) {
        spans[g] = Span{ov[2 * g], ov[2 * g + 1]};
      } else {
        spans[g] = Span{};
      }
    }
    const std::size_t b = spans[0].begin, e = spans[0].end;
    if (impl_->guarded) {
      // The plain pattern's match starts at the guard byte before the rest; the next
      // match's guard byte must come after this match, so its rest starts at e + 1 or later.
      if (b > 0) spans[0].begin = b - 1;
      fn(spans);
      pos = e + 1;
      prev_end = e;
      continue;
    }
    if (b == e) {
      // Go ignores an empty match that abuts the previous match, and steps one byte on.
      if (b != prev_end) fn(spans);
      pos = b + 1;
    } else {
      fn(spans);
      pos = e;
    }
    prev_end = e;
  }
  return Ok();
}

Result<bool> Regex::search(std::string_view subject) const {
  bool found = false;
  std::unique_ptr<pcre2_match_data, MatchDataDeleter> md(pcre2_match_data_create(1, nullptr));
  std::unique_ptr<pcre2_match_context, MatchContextDeleter> mctx(pcre2_match_context_create(nullptr));
  if (!md || !mctx) return Error(ErrorKind::kInternal, "out of memory running a regular expression");
  pcre2_set_match_limit(mctx.get(), kMatchLimit);
  pcre2_set_heap_limit(mctx.get(), kHeapLimitKiB);
  std::unique_ptr<pcre2_jit_stack, JitStackDeleter> jit_stack;
  for (;;) {
    int rc = pcre2_match(impl_->code, reinterpret_cast<PCRE2_SPTR>(subject.data()), subject.size(), 0, 0, md.get(),
                         mctx.get());
    if (rc == PCRE2_ERROR_JIT_STACKLIMIT && !jit_stack) {
      jit_stack.reset(pcre2_jit_stack_create(kJitStackStart, kJitStackMax, nullptr));
      if (!jit_stack) return Error(ErrorKind::kInternal, "out of memory for a regular expression stack");
      pcre2_jit_stack_assign(mctx.get(), nullptr, jit_stack.get());
      continue;
    }
    if (rc == PCRE2_ERROR_NOMATCH) break;
    if (rc < 0) return Error(ErrorKind::kLimit, "regular expression stopped: " + pcre2_message(rc));
    found = true;
    break;
  }
  return found;
}

}  // namespace scangate::secret
