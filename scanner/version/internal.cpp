#include "scanner/version/internal.h"

#include <limits>

namespace scangate::version::detail {

std::string_view trim(std::string_view s) {
  std::size_t b = 0;
  std::size_t e = s.size();
  while (b < e && is_space(s[b])) ++b;
  while (e > b && is_space(s[e - 1])) --e;
  return s.substr(b, e - b);
}

bool all_digits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (!is_digit(c)) return false;
  }
  return true;
}

int compare_digits(std::string_view a, std::string_view b) {
  while (!a.empty() && a.front() == '0') a.remove_prefix(1);
  while (!b.empty() && b.front() == '0') b.remove_prefix(1);
  if (a.size() != b.size()) return a.size() < b.size() ? -1 : 1;
  int c = a.compare(b);
  return c < 0 ? -1 : (c > 0 ? 1 : 0);
}

bool parse_u64(std::string_view digits, std::uint64_t& out) {
  if (digits.empty()) return false;
  constexpr std::uint64_t kMax = std::numeric_limits<std::uint64_t>::max();
  std::uint64_t v = 0;
  for (char c : digits) {
    if (!is_digit(c)) return false;
    auto d = static_cast<std::uint64_t>(c - '0');
    if (v > (kMax - d) / 10) return false;
    v = v * 10 + d;
  }
  out = v;
  return true;
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (to_lower(a[i]) != to_lower(b[i])) return false;
  }
  return true;
}

bool istarts_with(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && iequals(s.substr(0, prefix.size()), prefix);
}

namespace {

// Next '.'-separated identifier of `s` starting at `pos`; advances pos past the dot.
std::string_view next_identifier(std::string_view s, std::size_t& pos) {
  std::size_t dot = s.find('.', pos);
  if (dot == std::string_view::npos) dot = s.size();
  std::string_view id = s.substr(pos, dot - pos);
  pos = dot + 1;
  return id;
}

}  // namespace

int compare_prerelease(std::string_view a, std::string_view b) {
  std::size_t pa = 0;
  std::size_t pb = 0;
  while (true) {
    bool a_end = pa > a.size();
    bool b_end = pb > b.size();
    if (a_end || b_end) {
      if (a_end && b_end) return 0;
      return a_end ? -1 : 1;
    }
    std::string_view ia = next_identifier(a, pa);
    std::string_view ib = next_identifier(b, pb);
    bool na = all_digits(ia);
    bool nb = all_digits(ib);
    int c = 0;
    if (na && nb) {
      c = compare_digits(ia, ib);
    } else if (na != nb) {
      c = na ? -1 : 1;
    } else {
      int r = ia.compare(ib);
      c = r < 0 ? -1 : (r > 0 ? 1 : 0);
    }
    if (c != 0) return c;
  }
}

Error format_error(std::string_view scheme, std::string_view what, std::string_view text, std::string_view why) {
  std::string msg;
  msg.reserve(scheme.size() + what.size() + text.size() + why.size() + 24);
  msg.append(scheme).append(": cannot parse ").append(what).append(" \"").append(text);
  msg.append("\": ").append(why);
  return Error(ErrorKind::kFormat, std::move(msg));
}

bool AlternativeSplitter::next(std::string_view& alternative) {
  if (done_) return false;
  std::size_t bar = rest_.find("||");
  if (bar == std::string_view::npos) {
    alternative = rest_;
    done_ = true;
    return true;
  }
  alternative = rest_.substr(0, bar);
  rest_.remove_prefix(bar + 2);
  return true;
}

namespace {
constexpr bool is_op_char(char c) { return c == '<' || c == '>' || c == '=' || c == '!' || c == '~' || c == '^'; }
}  // namespace

void TermScanner::skip_separators() {
  while (pos_ < s_.size() && (is_space(s_[pos_]) || s_[pos_] == ',')) ++pos_;
}

bool TermScanner::at_end() {
  skip_separators();
  return pos_ >= s_.size();
}

bool TermScanner::next(Term& term) {
  skip_separators();
  if (pos_ >= s_.size()) return false;
  std::size_t op_begin = pos_;
  while (pos_ < s_.size() && is_op_char(s_[pos_])) ++pos_;
  term.op = s_.substr(op_begin, pos_ - op_begin);
  while (pos_ < s_.size() && is_space(s_[pos_])) ++pos_;
  std::size_t v_begin = pos_;
  char quote = pos_ < s_.size() && (s_[pos_] == '\'' || s_[pos_] == '"') ? s_[pos_] : '\0';
  if (quote != '\0') {
    std::size_t close = s_.find(quote, pos_ + 1);
    if (close != std::string_view::npos) {
      term.version = s_.substr(pos_ + 1, close - pos_ - 1);
      pos_ = close + 1;
      return true;
    }
  }
  while (pos_ < s_.size() && !is_space(s_[pos_]) && s_[pos_] != ',') ++pos_;
  term.version = s_.substr(v_begin, pos_ - v_begin);
  return true;
}

bool simple_op(std::string_view text, Op& op) {
  if (text.empty() || text == "=" || text == "==") {
    op = Op::kEq;
  } else if (text == "!=") {
    op = Op::kNe;
  } else if (text == "<") {
    op = Op::kLt;
  } else if (text == "<=" || text == "=<") {
    op = Op::kLe;
  } else if (text == ">") {
    op = Op::kGt;
  } else if (text == ">=" || text == "=>") {
    op = Op::kGe;
  } else {
    return false;
  }
  return true;
}

bool op_holds(Op op, int cmp) {
  switch (op) {
    case Op::kEq: return cmp == 0;
    case Op::kNe: return cmp != 0;
    case Op::kLt: return cmp < 0;
    case Op::kLe: return cmp <= 0;
    case Op::kGt: return cmp > 0;
    case Op::kGe: return cmp >= 0;
  }
  return false;
}

}  // namespace scangate::version::detail
