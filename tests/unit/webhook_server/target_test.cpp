// Query parameters and Go durations (the API server appends ?timeout=<time.Duration>).
#include <catch2/catch.hpp>

#include "webhook/server/target.h"

using namespace std::chrono_literals;
using namespace scangate::webhook;

TEST_CASE("query_param", "[target]") {
  CHECK(query_param("timeout=10s", "timeout") == "10s");
  CHECK(query_param("a=1&timeout=5s&b", "timeout") == "5s");
  CHECK(query_param("a=1&b", "b") == "");
  CHECK(query_param("a=hello%20world+x", "a") == "hello world x");
  CHECK_FALSE(query_param("a=1", "timeout").has_value());
  CHECK_FALSE(query_param("", "timeout").has_value());
  CHECK_FALSE(query_param("timeout=%zz", "timeout").has_value());
  CHECK_FALSE(query_param("timeout=%4", "timeout").has_value());
}

TEST_CASE("parse_go_duration: the forms time.Duration.String() writes", "[target]") {
  CHECK(parse_go_duration("10s") == std::chrono::nanoseconds(10s));
  CHECK(parse_go_duration("30s") == std::chrono::nanoseconds(30s));
  CHECK(parse_go_duration("1m30s") == std::chrono::nanoseconds(90s));
  CHECK(parse_go_duration("500ms") == std::chrono::nanoseconds(500ms));
  CHECK(parse_go_duration("1.5s") == std::chrono::nanoseconds(1500ms));
  CHECK(parse_go_duration("2h45m") == std::chrono::nanoseconds(2h + 45min));
  CHECK(parse_go_duration("1us") == std::chrono::nanoseconds(1000));
  CHECK(parse_go_duration("1\xC2\xB5s") == std::chrono::nanoseconds(1000));
  CHECK(parse_go_duration("0") == std::chrono::nanoseconds(0));
  CHECK(parse_go_duration("+3s") == std::chrono::nanoseconds(3s));
}

TEST_CASE("parse_go_duration rejects what Go rejects, and absurd values", "[target]") {
  for (const char* bad : {"", "10", "s", "-5s", "10x", "1.2.3s", "ten seconds", "10s junk", "99999h", ".s"}) {
    INFO(bad);
    CHECK_FALSE(parse_go_duration(bad).has_value());
  }
}

TEST_CASE("request_timeout reads ?timeout=", "[target]") {
  CHECK(request_timeout("timeout=10s") == std::chrono::nanoseconds(10s));
  CHECK_FALSE(request_timeout("timeout=soon").has_value());
  CHECK_FALSE(request_timeout("").has_value());
}

TEST_CASE("parse_go_duration is the one grammar with Go's units: d is not Go's", "[target]") {
  // Forms Go accepts that the old hand-written parser did or did not: the grammar decides now.
  CHECK(parse_go_duration(".5s") == std::chrono::nanoseconds(500ms));
  CHECK(parse_go_duration("5.s") == std::chrono::nanoseconds(5s));
  CHECK(parse_go_duration("1h2m3s4ms5us6ns") ==
        std::chrono::nanoseconds(1h + 2min + 3s + 4ms + std::chrono::microseconds(5) + std::chrono::nanoseconds(6)));
  CHECK(parse_go_duration("1\xCE\xBCs") == std::chrono::nanoseconds(1000));  // U+03BC
  CHECK(parse_go_duration("-0") == std::chrono::nanoseconds(0));
  CHECK(parse_go_duration("24h") == std::chrono::nanoseconds(24h));
  // The API server writes time.Duration.String(), which has no d: "1d" did not come from it.
  CHECK_FALSE(parse_go_duration("1d").has_value());
  CHECK_FALSE(request_timeout("timeout=1d").has_value());
  // Beyond a day, negative, or past int64: refused.
  for (const char* bad : {"24h1ns", "-1ns", "9223372036854775808ns", "3000000h"}) {
    INFO(bad);
    CHECK_FALSE(parse_go_duration(bad).has_value());
  }
}
