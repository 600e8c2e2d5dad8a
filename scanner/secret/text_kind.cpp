#include "scanner/secret/text_kind.h"

#include <algorithm>

#include "scanner/core/utf8.h"

namespace scangate::secret {

bool looks_binary(std::string_view content) {
  const std::size_t n = std::min<std::size_t>(content.size(), 300);
  for (std::size_t i = 0; i < n; ++i) {
    const auto b = static_cast<unsigned char>(content[i]);
    if (b < 7 || b == 11 || (b > 13 && b < 27) || (b > 27 && b < 0x20) || b == 0x7f) return true;
  }
  return false;
}

std::string to_valid_utf8(std::string_view s) {
  std::size_t valid = 0;  // the common case: all valid, copied at once
  while (valid < s.size()) {
    if (static_cast<unsigned char>(s[valid]) < 0x80) {
      ++valid;
      continue;
    }
    const std::size_t n = utf8_sequence_length(s, valid);
    if (n == 0) break;
    valid += n;
  }
  if (valid == s.size()) return std::string(s);
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size();) {
    const std::size_t n = utf8_sequence_length(s, i);
    if (n == 0) {
      out += "\xEF\xBF\xBD";
      ++i;
    } else {
      out.append(s.substr(i, n));
      i += n;
    }
  }
  return out;
}

}  // namespace scangate::secret
