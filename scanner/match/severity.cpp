#include <algorithm>
#include <cctype>
#include <string>

#include "scanner/match/finding.h"

namespace scangate {

std::optional<Severity> parse_severity(std::string_view s) {
  std::string u(s);
  std::transform(u.begin(), u.end(), u.begin(), [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  if (u == "UNKNOWN") return Severity::kUnknown;
  return vulndb::parse_severity_label(u);
}

}  // namespace scangate
