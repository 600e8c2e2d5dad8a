// Text from outside (a registry's error message, a header value) made safe to put into an error
// message, a log line or a terminal.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace scangate {

// `text` with every character that could move the cursor, recolour a terminal, break a log line
// or reorder what the reader sees replaced by a visible escape: C0 controls and DEL ("\n", "\t",
// "\r", else "\x1b" style), C1 controls, U+2028/U+2029, and the bidi controls U+061C,
// U+200E/U+200F, U+202A-U+202E and U+2066-U+2069 ("\u202e" style). Bytes that are not valid
// UTF-8 become '?'. At most max_bytes bytes of the result are kept (cut between characters and
// escapes, never inside one), followed by "..." when something was cut.
std::string printable(std::string_view text, std::size_t max_bytes = std::string::npos);

// `text` with ASCII letters lowercased (host names, platforms: case-insensitive ASCII).
std::string ascii_lower(std::string_view text);

}  // namespace scangate
