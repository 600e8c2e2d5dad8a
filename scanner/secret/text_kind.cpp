#include "scanner/secret/text_kind.h"

#include <algorithm>

namespace scangate::secret {

bool looks_binary(std::string_view content) {
  const std::size_t n = std::min<std::size_t>(content.size(), 300);
  for (std::size_t i = 0; i < n; ++i) {
    const auto b = static_cast<unsigned char>(content[i]);
    if (b < 7 || b == 11 || (b > 13 && b < 27) || (b > 27 && b < 0x20) || b == 0x7f) return true;
  }
  return false;
}

namespace {

// Length of the valid UTF-8 sequence at s[i], or 0 when it is not one.
std::size_t utf8_len(std::string_view s, std::size_t i) {
  const auto at = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
  const unsigned char c = at(i);
  if (c < 0x80) return 1;
  std::size_t len = 0;
  unsigned char lo = 0x80, hi = 0xBF;  // allowed range of the second byte
  if (c >= 0xC2 && c <= 0xDF) {
    len = 2;
  } else if (c >= 0xE0 && c <= 0xEF) {
    len = 3;
    if (c == 0xE0) lo = 0xA0;
    if (c == 0xED) hi = 0x9F;  // no surrogates
  } else if (c >= 0xF0 && c <= 0xF4) {
    len = 4;
    if (c == 0xF0) lo = 0x90;
    if (c == 0xF4) hi = 0x8F;
  } else {
    return 0;
  }
  if (i + len > s.size()) return 0;
  if (at(i + 1) < lo || at(i + 1) > hi) return 0;
  for (std::size_t k = 2; k < len; ++k) {
    if (at(i + k) < 0x80 || at(i + k) > 0xBF) return 0;
  }
  return len;
}

}  // namespace

std::string to_valid_utf8(std::string_view s) {
  std::size_t valid = 0;  // the common case: all valid, copied at once
  while (valid < s.size()) {
    if (static_cast<unsigned char>(s[valid]) < 0x80) {
      ++valid;
      continue;
    }
    const std::size_t n = utf8_len(s, valid);
    if (n == 0) break;
    valid += n;
  }
  if (valid == s.size()) return std::string(s);
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size();) {
    const std::size_t n = utf8_len(s, i);
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
