// Timestamps as reports, spools and policies write them: UTC, RFC 3339 to the second, and
// the calendar day. Callers that decide on time take these as injected values.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace scangate {

// "2026-05-01T12:00:00Z".
std::string format_rfc3339(std::chrono::system_clock::time_point t);
std::string utc_now_rfc3339();
// "2026-05-01".
std::string utc_today();
// An RFC 3339 date-time ("2026-05-01T12:00:00Z", "2026-05-01T14:00:00.123456789+02:00"; 'T' or
// 't', 'Z' or 'z'); fractions are cut to the second. nullopt for anything else, including out
// of range fields and years outside 1970..2200.
std::optional<std::chrono::system_clock::time_point> parse_rfc3339(std::string_view s);

}  // namespace scangate
