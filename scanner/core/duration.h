// The one duration grammar of scangate: Go's time.ParseDuration, exactly, plus `d` (24h).
//
//   [-+]? ( [0-9]* ( "." [0-9]* )? unit )+      or "0" (optionally signed)
//   unit: ns, us, µs (U+00B5), μs (U+03BC), ms, s, m, h, and d = 24h (kGoAndDays only)
//
// "1h30m", "1.5h", ".5s", "5.s", "-2m3.4s", "7d" parse; "24" (no unit), "1.2.3s", ".s", "1h " do
// not. Values are int64 nanoseconds; anything beyond about 292 years is an overflow error, as in
// Go. The grammar allows negative values and zero: a caller that must refuse them (a TTL, a
// timeout) does so itself, with its own words.
#pragma once

#include <chrono>
#include <string>
#include <string_view>
#include <variant>

#include "scanner/core/result.h"

namespace scangate {

// kGo: time.ParseDuration's units only (for text a Go program wrote, such as the API server's
// ?timeout=). kGoAndDays: the same plus `d`, for files people write.
enum class DurationUnits { kGo, kGoAndDays };

// Why a text is not a duration, in two parts so that callers can phrase their own sentence.
struct DurationError {
  std::string reason;  // `unknown unit "x"`, `missing unit after 24`, `expected a number at "s"`
  std::string hint;    // "use ns, us, ms, s, m, h or d"; may be empty

  // `invalid duration "7x": unknown unit "x" (use ns, us, ms, s, m, h or d)`
  std::string message(std::string_view text) const;
};

// The value, or why `text` is not one.
std::variant<std::chrono::nanoseconds, DurationError> try_parse_duration(
    std::string_view text, DurationUnits units = DurationUnits::kGoAndDays);

// The same as a Result; the error (kInvalidArgument) is DurationError::message().
Result<std::chrono::nanoseconds> duration_from_text(std::string_view text,
                                                    DurationUnits units = DurationUnits::kGoAndDays);

// "use ns, us, ms, s, m, h or d" (or without d for kGo).
const char* duration_units_hint(DurationUnits units);

// `text` between double quotes for a message, as Go's quote does it: control bytes and bytes
// that are not UTF-8 as \xNN, `"` and `\` escaped; cut at 80 bytes.
std::string quote_for_message(std::string_view text);

}  // namespace scangate
