#include "scanner/secret/location.h"

#include <algorithm>
#include <string>

#include "scanner/secret/text_kind.h"

namespace scangate::secret {

LineIndex::LineIndex(std::string_view text) : size_(text.size()) {
  starts_.push_back(0);
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '\n') starts_.push_back(i + 1);
  }
}

std::size_t LineIndex::line_of(std::size_t offset) const {
  auto it = std::upper_bound(starts_.begin(), starts_.end(), offset);
  return static_cast<std::size_t>(it - starts_.begin()) - 1;
}

std::size_t LineIndex::end(std::size_t line) const { return line + 1 < starts_.size() ? starts_[line + 1] - 1 : size_; }

void describe_location(std::string_view masked, const LineIndex& lines, std::size_t begin, std::size_t end,
                       SecretFinding& f) {
  const std::size_t first = lines.line_of(begin);
  // As Trivy counts it: the first line plus the newlines inside the secret.
  const std::size_t last = lines.line_of(end);

  // The match line: the secret's first line, cut to a window around the secret when long.
  std::size_t from = lines.start(first);
  std::size_t to = lines.end(first);
  if (to - from > kMaxLineLength) {
    if (begin - from >= kWindowBefore) from = begin - kWindowBefore;
    if (end + kWindowAfter <= to) to = end + kWindowAfter;
  }
  const std::string match = to_valid_utf8(masked.substr(from, to - from));

  f.offset = begin;
  f.start_line = static_cast<int>(first + 1);
  f.end_line = static_cast<int>(last + 1);
  f.match = match;
  f.code_lines.clear();
  const std::size_t code_first = first >= kContextBefore ? first - kContextBefore : 0;
  const std::size_t code_last = std::min(last + kContextAfter, lines.count() - 1);
  for (std::size_t l = code_first; l <= code_last; ++l) {
    std::string_view line = masked.substr(lines.start(l), lines.end(l) - lines.start(l));
    std::string shown;
    if (line.size() > kMaxLineLength) {
      const bool cause = l >= first && l <= last;
      shown = cause ? match : to_valid_utf8(line.substr(0, kMaxLineLength));
    } else {
      shown = to_valid_utf8(line);
    }
    f.code_lines.emplace_back(static_cast<int>(l + 1), std::move(shown));
  }
}

}  // namespace scangate::secret
