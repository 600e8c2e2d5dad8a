// What kind of bytes a file holds, and making masked text safe for JSON reports.
#pragma once

#include <string>
#include <string_view>

namespace scangate::secret {

// Trivy's (and file(1)'s) test: a control byte other than BEL..CR and ESC in the first
// 300 bytes marks a binary file. Bytes >= 0x80 (UTF-8 or not) do not.
bool looks_binary(std::string_view content);

// The text with each invalid UTF-8 sequence replaced by U+FFFD, as Go's JSON encoder
// does, so report writers always get valid UTF-8.
std::string to_valid_utf8(std::string_view s);

}  // namespace scangate::secret
