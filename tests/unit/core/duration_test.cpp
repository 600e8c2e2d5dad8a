// The one duration grammar. The expectations of the first two cases are Go's own test vectors
// (parseDurationTests and parseDurationErrorTests in go/src/time/time_test.go), restated here
// with their values in nanoseconds; the rest are the `d` extension and the wording.
#include "scanner/core/duration.h"

#include <catch2/catch.hpp>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

using namespace scangate;

namespace {

constexpr std::int64_t kNs = 1;
constexpr std::int64_t kUs = 1000 * kNs;
constexpr std::int64_t kMs = 1000 * kUs;
constexpr std::int64_t kS = 1000 * kMs;
constexpr std::int64_t kMin = 60 * kS;
constexpr std::int64_t kH = 60 * kMin;
constexpr std::int64_t kDay = 24 * kH;
constexpr std::int64_t kMax = std::numeric_limits<std::int64_t>::max();
constexpr std::int64_t kLowest = std::numeric_limits<std::int64_t>::min();

struct Vector {
  const char* in;
  std::int64_t want;
};

// Go's parseDurationTests: all accepted, with the same value, under both unit sets.
const std::vector<Vector> kGoAccepts = {
    // simple
    {"0", 0},
    {"5s", 5 * kS},
    {"30s", 30 * kS},
    {"1478s", 1478 * kS},
    // sign
    {"-5s", -5 * kS},
    {"+5s", 5 * kS},
    {"-0", 0},
    {"+0", 0},
    // decimal
    {"5.0s", 5 * kS},
    {"5.6s", 5 * kS + 600 * kMs},
    {"5.s", 5 * kS},
    {".5s", 500 * kMs},
    {"1.0s", 1 * kS},
    {"1.00s", 1 * kS},
    {"1.004s", 1 * kS + 4 * kMs},
    {"1.0040s", 1 * kS + 4 * kMs},
    {"100.00100s", 100 * kS + 1 * kMs},
    // different units
    {"10ns", 10 * kNs},
    {"11us", 11 * kUs},
    {"12\xC2\xB5s", 12 * kUs},  // U+00B5
    {"12\xCE\xBCs", 12 * kUs},  // U+03BC
    {"13ms", 13 * kMs},
    {"14s", 14 * kS},
    {"15m", 15 * kMin},
    {"16h", 16 * kH},
    // composite durations
    {"3h30m", 3 * kH + 30 * kMin},
    {"10.5s4m", 4 * kMin + 10 * kS + 500 * kMs},
    {"-2m3.4s", -(2 * kMin + 3 * kS + 400 * kMs)},
    {"1h2m3s4ms5us6ns", 1 * kH + 2 * kMin + 3 * kS + 4 * kMs + 5 * kUs + 6 * kNs},
    {"39h9m14.425s", 39 * kH + 9 * kMin + 14 * kS + 425 * kMs},
    // large value
    {"52763797000ns", 52763797000 * kNs},
    // more than 9 digits after decimal point, see https://golang.org/issue/6617
    {"0.3333333333333333333h", 20 * kMin},
    // 9007199254740993 = 1<<53+1 cannot be stored precisely in a float64
    {"9007199254740993ns", (std::int64_t{1} << 53) + 1},
    // largest duration that can be represented by int64 in nanoseconds
    {"9223372036854775807ns", kMax},
    {"9223372036854775.807us", kMax},
    {"9223372036s854ms775us807ns", kMax},
    {"-9223372036854775808ns", kLowest},
    {"-9223372036854775.808us", kLowest},
    {"-9223372036s854ms775us808ns", kLowest},
    // largest negative round trip value, see https://golang.org/issue/48629
    {"-2562047h47m16.854775808s", kLowest},
    // huge string; issue 15011.
    {"0.100000000000000000000h", 6 * kMin},
    // This value tests the first overflow check in leadingFraction.
    {"0.830103483285477580700h", 49 * kMin + 48 * kS + 372539827 * kNs},
};

struct Refusal {
  const char* in;
  const char* quoted;  // what Go's error message contains
};

// Go's parseDurationErrorTests: all refused, and the message quotes the input as Go does.
const std::vector<Refusal> kGoRefuses = {
    // invalid
    {"", R"("")"},
    {"3", R"("3")"},
    {"-", R"("-")"},
    {"s", R"("s")"},
    {".", R"(".")"},
    {"-.", R"("-.")"},
    {".s", R"(".s")"},
    {"+.s", R"("+.s")"},
    {"1d", R"("1d")"},  // Go's units only: see the `d` cases below
    {"\x85\x85", R"("\x85\x85")"},
    {"\377ff", R"("\xffff")"},  // octal: "\xffff" would be one hex escape in C++
    {"hello \377ff world", R"("hello \xffff world")"},
    // overflow
    {"9223372036854775810ns", R"("9223372036854775810ns")"},
    {"9223372036854775808ns", R"("9223372036854775808ns")"},
    {"-9223372036854775809ns", R"("-9223372036854775809ns")"},
    {"9223372036854776us", R"("9223372036854776us")"},
    {"3000000h", R"("3000000h")"},
    {"9223372036854775.808us", R"("9223372036854775.808us")"},
    {"9223372036854ms775us808ns", R"("9223372036854ms775us808ns")"},
};

std::int64_t ns_of(std::string_view text, DurationUnits units) {
  auto r = duration_from_text(text, units);
  if (!r) FAIL(r.error().message);
  return r->count();
}

}  // namespace

TEST_CASE("duration: Go's parseDurationTests parse to Go's values", "[duration]") {
  for (const auto& v : kGoAccepts) {
    INFO(v.in);
    CHECK(ns_of(v.in, DurationUnits::kGo) == v.want);
    CHECK(ns_of(v.in, DurationUnits::kGoAndDays) == v.want);
  }
}

TEST_CASE("duration: Go's parseDurationErrorTests are refused, quoting the input", "[duration]") {
  for (const auto& v : kGoRefuses) {
    INFO(v.in);
    auto r = duration_from_text(v.in, DurationUnits::kGo);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().kind == ErrorKind::kInvalidArgument);
    CHECK(r.error().message.find(v.quoted) != std::string::npos);
    if (std::string_view(v.in) != "1d") CHECK_FALSE(duration_from_text(v.in, DurationUnits::kGoAndDays).ok());
  }
  // Go's last two error vectors are U+FFFD (utf8.RuneError), which Go prints as bytes; it is
  // valid UTF-8, so the message keeps it as written. Refused all the same.
  CHECK_FALSE(duration_from_text("\xEF\xBF\xBD").ok());
  CHECK_FALSE(duration_from_text("\xEF\xBF\xBD hello \xEF\xBF\xBD world").ok());
}

TEST_CASE("duration: d is 24h, with fractions, signs and other units", "[duration][days]") {
  CHECK(ns_of("1d", DurationUnits::kGoAndDays) == kDay);
  CHECK(ns_of("7d", DurationUnits::kGoAndDays) == 7 * kDay);
  CHECK(ns_of("1.5d", DurationUnits::kGoAndDays) == 36 * kH);
  CHECK(ns_of(".25d", DurationUnits::kGoAndDays) == 6 * kH);
  CHECK(ns_of("1d12h", DurationUnits::kGoAndDays) == 36 * kH);
  CHECK(ns_of("2h1d", DurationUnits::kGoAndDays) == 26 * kH);
  CHECK(ns_of("-2d", DurationUnits::kGoAndDays) == -2 * kDay);
  CHECK(ns_of("+3d", DurationUnits::kGoAndDays) == 3 * kDay);
  CHECK(ns_of("0d", DurationUnits::kGoAndDays) == 0);
  // The default is kGoAndDays.
  CHECK(duration_from_text("7d").value() == std::chrono::hours(7 * 24));
  // 106751d is the last whole day below 2^63 ns; 106752d overflows.
  CHECK(ns_of("106751d", DurationUnits::kGoAndDays) == 106751 * kDay);
  CHECK_FALSE(duration_from_text("106752d").ok());
  CHECK_FALSE(duration_from_text("106751d1d").ok());
  // Only d is added: no weeks, months or years, and no upper case.
  for (const char* bad : {"1w", "1y", "1M", "1D", "1dd", "1 d", "d", "1d "}) {
    INFO(bad);
    CHECK_FALSE(duration_from_text(bad).ok());
  }
}

TEST_CASE("duration: messages say what is wrong and which units there are", "[duration]") {
  CHECK(duration_from_text("7x").error().message ==
        R"(invalid duration "7x": unknown unit "x" (use ns, us, ms, s, m, h or d))");
  CHECK(duration_from_text("1d", DurationUnits::kGo).error().message ==
        R"(invalid duration "1d": unknown unit "d" (use ns, us, ms, s, m or h))");
  CHECK(duration_from_text("24").error().message ==
        R"(invalid duration "24": missing unit after 24 (use ns, us, ms, s, m, h or d))");
  CHECK(duration_from_text("1h30").error().message ==
        R"(invalid duration "1h30": missing unit after 30 (use ns, us, ms, s, m, h or d))");
  CHECK(duration_from_text("1.2.3s").error().message ==
        R"(invalid duration "1.2.3s": missing unit after 1.2 (use ns, us, ms, s, m, h or d))");
  CHECK(duration_from_text("10s junk").error().message ==
        R"(invalid duration "10s junk": unknown unit "s junk" (use ns, us, ms, s, m, h or d))");
  CHECK(duration_from_text("h").error().message ==
        R"(invalid duration "h": expected a number at "h" (use ns, us, ms, s, m, h or d))");
  CHECK(duration_from_text("-").error().message ==
        R"(invalid duration "-": expected a number after "-" (use ns, us, ms, s, m, h or d))");
  CHECK(duration_from_text("").error().message ==
        R"(invalid duration "": it is empty (write e.g. 90s, 30m, 1h30m or 24h))");
  CHECK(
      duration_from_text("3000000h").error().message ==
      R"(invalid duration "3000000h": out of range; the largest duration is 2562047h47m16.854775807s (about 292 years))");
  // The parts, for callers that word their own sentence.
  auto r = try_parse_duration("5q");
  REQUIRE(std::holds_alternative<DurationError>(r));
  CHECK(std::get<DurationError>(r).reason == R"(unknown unit "q")");
  CHECK(std::get<DurationError>(r).hint == "use ns, us, ms, s, m, h or d");
}

TEST_CASE("duration: quote_for_message escapes what a terminal should not get", "[duration]") {
  CHECK(quote_for_message("abc") == R"("abc")");
  CHECK(quote_for_message("a\"b\\c") == R"("a\"b\\c")");
  CHECK(quote_for_message("a\nb\x7f") == R"("a\x0ab\x7f")");
  CHECK(quote_for_message("12\xC2\xB5s") == "\"12\xC2\xB5s\"");     // valid UTF-8 stays
  CHECK(quote_for_message("\xC2") == R"("\xc2")");                  // a cut sequence does not
  CHECK(quote_for_message("\xED\xA0\x80") == R"("\xed\xa0\x80")");  // nor a surrogate
  CHECK(quote_for_message(std::string(100, 'a')) == "\"" + std::string(80, 'a') + "\"…");
}
