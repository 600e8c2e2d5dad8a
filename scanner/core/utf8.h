// UTF-8 validity, byte by byte.
#pragma once

#include <cstddef>
#include <string_view>

namespace scangate {

// The length of the valid UTF-8 sequence that starts at s[i]: 1 for ASCII, 2 to 4 for a
// well-formed multi-byte sequence (no overlong forms, no surrogates, nothing above U+10FFFF),
// 0 when the byte starts none. i must be < s.size().
std::size_t utf8_sequence_length(std::string_view s, std::size_t i);

}  // namespace scangate
