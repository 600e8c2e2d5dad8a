// What the fuzz targets share: a property failure prints what broke and the input, then aborts,
// so that libFuzzer saves the input as a crash (tests/fuzz/README.md).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace scangate::fuzz {

// The input as printable text (C escapes for other bytes), cut after `max` bytes.
inline std::string shown(std::string_view s, std::size_t max = 2000) {
  std::string out;
  for (std::size_t i = 0; i < s.size() && i < max; ++i) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    if (c == '\\') {
      out += "\\\\";
    } else if (c >= 0x20 && c < 0x7f) {
      out += static_cast<char>(c);
    } else if (c == '\n') {
      out += "\\n";
    } else {
      char buf[5];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      out += buf;
    }
  }
  if (s.size() > max) out += "...";
  return out;
}

[[noreturn]] inline void fail(std::string_view target, const std::string& what, std::string_view input) {
  std::fprintf(stderr, "%.*s PROPERTY FAILED: %s\ninput (%zu bytes): %s\n", static_cast<int>(target.size()),
               target.data(), what.c_str(), input.size(), shown(input).c_str());
  std::abort();
}

inline std::string_view as_text(const std::uint8_t* data, std::size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

// Splits on `sep` into at most `n` parts (the last part keeps any further separators).
inline std::vector<std::string_view> split(std::string_view s, char sep, std::size_t n) {
  std::vector<std::string_view> out;
  while (out.size() + 1 < n) {
    const auto at = s.find(sep);
    if (at == std::string_view::npos) break;
    out.push_back(s.substr(0, at));
    s.remove_prefix(at + 1);
  }
  out.push_back(s);
  return out;
}

inline int sign(int v) { return (v > 0) - (v < 0); }

}  // namespace scangate::fuzz
