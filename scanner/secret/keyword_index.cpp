#include "scanner/secret/keyword_index.h"

#include <algorithm>
#include <map>

namespace scangate::secret {

namespace {

unsigned char fold(unsigned char c) { return (c >= 'A' && c <= 'Z') ? static_cast<unsigned char>(c + 32) : c; }

}  // namespace

KeywordIndex::KeywordIndex(const std::vector<std::vector<std::string>>& rule_keywords) {
  // Unique folded keywords.
  std::map<std::string, std::uint32_t> ids;
  std::vector<std::string> keywords;
  rule_keywords_.resize(rule_keywords.size());
  always_.assign(rule_keywords.size(), false);
  for (std::size_t r = 0; r < rule_keywords.size(); ++r) {
    if (rule_keywords[r].empty()) always_[r] = true;
    for (const auto& kw : rule_keywords[r]) {
      if (kw.empty()) {
        always_[r] = true;
        continue;
      }
      std::string folded;
      for (unsigned char c : kw) folded.push_back(static_cast<char>(fold(c)));
      auto [it, inserted] = ids.emplace(folded, static_cast<std::uint32_t>(keywords.size()));
      if (inserted) keywords.push_back(folded);
      rule_keywords_[r].push_back(it->second);
    }
  }
  keyword_count_ = keywords.size();
  for (const auto& kw : keywords) max_keyword_ = std::max(max_keyword_, kw.size());

  // Byte classes: every distinct (folded) byte used by a keyword gets a class; the
  // upper-case letter shares its lower-case letter's class.
  for (const auto& kw : keywords) {
    for (unsigned char c : kw) {
      if (class_of_[c] == 0) class_of_[c] = static_cast<std::uint8_t>(classes_++);
    }
  }
  for (unsigned c = 'A'; c <= 'Z'; ++c) class_of_[c] = class_of_[c + 32];

  // Trie (goto function); state 0 is the root. 0 in next_ means "no edge" while building,
  // which is safe because no edge ever leads back to the root.
  const auto cls = static_cast<std::size_t>(classes_);
  next_.assign(cls, 0);
  out_.emplace_back();
  for (std::uint32_t id = 0; id < keywords.size(); ++id) {
    std::uint32_t s = 0;
    for (unsigned char c : keywords[id]) {
      std::size_t slot = s * cls + class_of_[c];
      if (next_[slot] == 0) {
        next_[slot] = static_cast<std::uint32_t>(out_.size());
        out_.emplace_back();
        next_.resize(next_.size() + cls, 0);
      }
      s = next_[s * cls + class_of_[c]];
    }
    out_[s].push_back(id);
  }

  // Failure links, breadth first, turning the trie into a full transition table.
  std::vector<std::uint32_t> fail(out_.size(), 0);
  std::vector<std::uint32_t> queue;
  for (std::size_t c = 0; c < cls; ++c) {
    if (std::uint32_t t = next_[c]; t != 0) queue.push_back(t);
  }
  for (std::size_t qi = 0; qi < queue.size(); ++qi) {
    std::uint32_t s = queue[qi];
    const auto& inherited = out_[fail[s]];
    out_[s].insert(out_[s].end(), inherited.begin(), inherited.end());
    for (std::size_t c = 0; c < cls; ++c) {
      std::uint32_t t = next_[s * cls + c];
      if (t != 0) {
        fail[t] = next_[fail[s] * cls + c];
        queue.push_back(t);
      } else {
        next_[s * cls + c] = next_[fail[s] * cls + c];
      }
    }
  }
  for (auto& t : next_) t = static_cast<std::uint32_t>(t * cls) | (out_[t].empty() ? 0u : kOut);
}

std::vector<bool> KeywordIndex::rules_hit(std::string_view content) const {
  std::vector<bool> found(keyword_count_, false);
  if (keyword_count_ > 0) {
    // Raw pointers: this loop runs once per byte of every scanned file.
    const std::uint32_t* next = next_.data();
    const std::uint8_t* cls = class_of_;
    const auto classes = static_cast<std::uint32_t>(classes_);
    auto collect = [&](std::uint32_t state) {
      for (std::uint32_t id : out_[state / classes]) found[id] = true;
    };
    const auto* p = reinterpret_cast<const unsigned char*>(content.data());
    const std::size_t n = content.size();
    std::uint32_t s1 = 0;
    std::size_t i = 0;
    if (n >= 4096 && n > 2 * max_keyword_) {
      // Each step waits for the previous table load; two chains over two halves wait at
      // the same time. The second half starts max_keyword_ - 1 bytes early so that a
      // keyword across the split is read whole by it.
      const std::size_t mid = (n + max_keyword_ - 1) / 2;
      const unsigned char* q = p + (mid - (max_keyword_ - 1));
      std::uint32_t s2 = 0;
      for (; i < mid; ++i) {
        const std::uint32_t e1 = next[s1 + cls[p[i]]];
        const std::uint32_t e2 = next[s2 + cls[q[i]]];
        s1 = e1 & ~kOut;
        s2 = e2 & ~kOut;
        if (e1 & kOut) collect(s1);
        if (e2 & kOut) collect(s2);
      }
      // The second chain finishes its half.
      s1 = s2;
      p = q;
      i = mid;
      const std::size_t rest = n - (mid - (max_keyword_ - 1));
      for (; i < rest; ++i) {
        const std::uint32_t e = next[s1 + cls[p[i]]];
        s1 = e & ~kOut;
        if (e & kOut) collect(s1);
      }
    } else {
      for (; i < n; ++i) {
        const std::uint32_t e = next[s1 + cls[p[i]]];
        s1 = e & ~kOut;
        if (e & kOut) collect(s1);
      }
    }
  }
  std::vector<bool> hits(rule_keywords_.size(), false);
  for (std::size_t r = 0; r < rule_keywords_.size(); ++r) {
    if (always_[r]) {
      hits[r] = true;
      continue;
    }
    for (std::uint32_t id : rule_keywords_[r]) {
      if (found[id]) {
        hits[r] = true;
        break;
      }
    }
  }
  return hits;
}

}  // namespace scangate::secret
