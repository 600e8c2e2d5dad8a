// The keyword prefilter: one pass over a file finds which rules' keywords occur in it
// (ASCII case-insensitive), so a rule's regex runs only on files that contain one of
// its keywords. An Aho-Corasick automaton over all keywords of all rules, as a dense
// table over byte classes (bytes that occur in no keyword share one class).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace scangate::secret {

class KeywordIndex {
 public:
  KeywordIndex() = default;
  // rule_keywords[i] are rule i's keywords. A rule with no keywords, or with an empty
  // one, always passes (an empty keyword occurs everywhere).
  explicit KeywordIndex(const std::vector<std::vector<std::string>>& rule_keywords);

  // hits[i] is true when rule i may match content.
  std::vector<bool> rules_hit(std::string_view content) const;

 private:
  std::uint8_t class_of_[256] = {};
  int classes_ = 1;
  // Transitions, premultiplied: entry = target state * classes_, with kOut set when
  // keywords end in the target state.
  std::vector<std::uint32_t> next_;
  std::vector<std::vector<std::uint32_t>> out_;  // keyword ids ending in each state
  static constexpr std::uint32_t kOut = 1u << 31;
  std::size_t keyword_count_ = 0;
  std::size_t max_keyword_ = 0;
  std::vector<std::vector<std::uint32_t>> rule_keywords_;  // keyword ids per rule
  std::vector<bool> always_;                               // rules that always pass
};

}  // namespace scangate::secret
