#include <algorithm>
#include <cctype>
#include <string>

#include "scanner/match/finding.h"

namespace scangate {

const char* to_string(Severity s) {
  switch (s) {
    case Severity::kCritical: return "CRITICAL";
    case Severity::kHigh: return "HIGH";
    case Severity::kMedium: return "MEDIUM";
    case Severity::kLow: return "LOW";
    case Severity::kUnknown: return "UNKNOWN";
  }
  return "UNKNOWN";
}

std::optional<Severity> parse_severity(std::string_view s) {
  std::string u(s);
  std::transform(u.begin(), u.end(), u.begin(), [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  if (u == "CRITICAL") return Severity::kCritical;
  if (u == "HIGH") return Severity::kHigh;
  if (u == "MEDIUM" || u == "MODERATE") return Severity::kMedium;
  if (u == "LOW") return Severity::kLow;
  if (u == "UNKNOWN") return Severity::kUnknown;
  return std::nullopt;
}

}  // namespace scangate
