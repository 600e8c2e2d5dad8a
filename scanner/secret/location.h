// Where a secret sits in a file and how it is shown: line numbers, the masked match
// line and the masked code context, laid out as Trivy lays them out (same radius, same
// truncation of long lines), so reports read the same.
#pragma once

#include <cstddef>
#include <string_view>
#include <vector>

#include "scanner/core/inventory.h"

namespace scangate::secret {

// Start offsets of the lines of a text ('\n'-separated; a final '\n' starts an empty line).
class LineIndex {
 public:
  explicit LineIndex(std::string_view text);
  std::size_t count() const { return starts_.size(); }
  std::size_t line_of(std::size_t offset) const;  // 0-based line holding offset
  std::size_t start(std::size_t line) const { return starts_[line]; }
  std::size_t end(std::size_t line) const;  // offset of its '\n' (or of the text end)

 private:
  std::vector<std::size_t> starts_;
  std::size_t size_ = 0;
};

// Lines shown before the first and after the last line of a secret.
constexpr std::size_t kContextBefore = 2;
constexpr std::size_t kContextAfter = 1;
// A line longer than this is cut: a cause line to a window around the secret
// (kWindowBefore bytes before it, kWindowAfter after), any other line to its start.
constexpr std::size_t kMaxLineLength = 100;
constexpr std::size_t kWindowBefore = 30;
constexpr std::size_t kWindowAfter = 20;

// Fills offset, start_line, end_line, match and code_lines of f for the secret at
// [begin, end) of the text. `masked` is the text with every secret found in it replaced
// by '*' (newlines kept), so nothing shown holds a found secret. Output is valid UTF-8.
void describe_location(std::string_view masked, const LineIndex& lines, std::size_t begin, std::size_t end,
                       SecretFinding& f);

}  // namespace scangate::secret
