#include "scanner/policy/glob.h"

#include <vector>

namespace scangate::policy {

// A set of reachable text positions, advanced one pattern element at a time: O(pattern × text)
// time and O(text) memory whatever the pattern, so no pattern can make matching exponential.
bool glob_match(std::string_view pattern, std::string_view text) {
  const size_t n = text.size();
  std::vector<char> cur(n + 1, 0), next(n + 1, 0);
  cur[0] = 1;
  size_t p = 0;
  while (p < pattern.size()) {
    std::fill(next.begin(), next.end(), 0);
    char c = pattern[p];
    if (c == '*') {
      bool crosses = p + 1 < pattern.size() && pattern[p + 1] == '*';
      while (p < pattern.size() && pattern[p] == '*') ++p;  // "***" is "**"
      // next[i]: some reachable j <= i with text[j, i) a run the star may cover.
      for (size_t i = 0; i <= n; ++i) {
        next[i] = cur[i];
        if (!next[i] && i > 0 && next[i - 1] && (crosses || text[i - 1] != '/')) next[i] = 1;
      }
    } else {
      for (size_t i = 0; i < n; ++i)
        if (cur[i] && (c == '?' ? text[i] != '/' : text[i] == c)) next[i + 1] = 1;
      ++p;
    }
    cur.swap(next);
  }
  return cur[n] != 0;
}

bool is_glob(std::string_view pattern) { return pattern.find_first_of("*?") != std::string_view::npos; }

}  // namespace scangate::policy
