// Timestamps as reports, spools and policies write them: UTC, RFC 3339 to the second, and
// the calendar day. Callers that decide on time take these as injected values.
#pragma once

#include <chrono>
#include <string>

namespace scangate {

// "2026-05-01T12:00:00Z".
std::string format_rfc3339(std::chrono::system_clock::time_point t);
std::string utc_now_rfc3339();
// "2026-05-01".
std::string utc_today();

}  // namespace scangate
