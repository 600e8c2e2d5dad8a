// Request-target helpers: query parameters and the API server's ?timeout= duration.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace scangate::webhook {

// Value of the first `key` parameter in a query string ("a=1&timeout=10s"), percent-decoded
// ('+' is a space). nullopt when absent or when its escapes are malformed.
std::optional<std::string> query_param(std::string_view query, std::string_view key);

// Parses a Go time.Duration string as the API server writes it ("10s", "1m30s", "500ms",
// "1.5h", "0"): scanner/core/duration.h's grammar with Go's units only. `d` is refused here: the
// API server formats the timeout with time.Duration.String(), which never writes it, so a value
// Go itself could not parse did not come from the API server. nullopt for anything the grammar
// refuses, for negative values, and for values above a day (the API server caps it at 30s).
std::optional<std::chrono::nanoseconds> parse_go_duration(std::string_view text);

// The admission deadline the API server asked for: ?timeout=<duration> on the webhook URL.
std::optional<std::chrono::nanoseconds> request_timeout(std::string_view query);

}  // namespace scangate::webhook
