#include <catch2/catch.hpp>

#include <ctime>

#include "scanner/image/retry.h"

using namespace scangate;
using std::chrono::milliseconds;

TEST_CASE("exponential backoff doubles up to the cap", "[retry]") {
  RetryPolicy p;
  p.initial_delay = milliseconds(100);
  p.multiplier = 2.0;
  p.max_delay = milliseconds(1000);
  p.jitter = 0.0;
  CHECK(backoff_delay(p, 1, std::nullopt, 0.5) == milliseconds(100));
  CHECK(backoff_delay(p, 2, std::nullopt, 0.5) == milliseconds(200));
  CHECK(backoff_delay(p, 3, std::nullopt, 0.5) == milliseconds(400));
  CHECK(backoff_delay(p, 4, std::nullopt, 0.5) == milliseconds(800));
  CHECK(backoff_delay(p, 5, std::nullopt, 0.5) == milliseconds(1000));
  CHECK(backoff_delay(p, 50, std::nullopt, 0.5) == milliseconds(1000));
}

TEST_CASE("jitter spreads the delay by +/- the configured fraction", "[retry]") {
  RetryPolicy p;
  p.initial_delay = milliseconds(1000);
  p.max_delay = milliseconds(60000);
  p.jitter = 0.2;
  CHECK(backoff_delay(p, 1, std::nullopt, 0.0) == milliseconds(800));
  CHECK(backoff_delay(p, 1, std::nullopt, 0.5) == milliseconds(1000));
  CHECK(backoff_delay(p, 1, std::nullopt, 0.999) >= milliseconds(1199));
  CHECK(backoff_delay(p, 1, std::nullopt, 0.999) <= milliseconds(1200));
}

TEST_CASE("Retry-After wins and is capped", "[retry]") {
  RetryPolicy p;
  p.max_retry_after = milliseconds(30000);
  CHECK(backoff_delay(p, 1, milliseconds(3000), 0.9) == milliseconds(3000));
  CHECK(backoff_delay(p, 1, milliseconds(3600000), 0.9) == milliseconds(30000));
}

TEST_CASE("retryable statuses", "[retry]") {
  for (int s : {408, 429, 500, 502, 503, 504}) CHECK(is_retryable_status(s));
  for (int s : {200, 301, 400, 401, 403, 404, 405, 501}) CHECK_FALSE(is_retryable_status(s));
}

TEST_CASE("Retry-After parsing: delta-seconds and IMF-fixdate (RFC 9110)", "[retry]") {
  auto now = std::chrono::system_clock::now();
  CHECK(parse_retry_after("120", now) == milliseconds(120000));
  CHECK(parse_retry_after(" 0 ", now) == milliseconds(0));
  CHECK_FALSE(parse_retry_after("", now));
  CHECK_FALSE(parse_retry_after("soon", now));
  CHECK_FALSE(parse_retry_after("-5", now));
  // RFC 9110's example date: Fri, 31 Dec 1999 23:59:59 GMT = 946684799 seconds after the epoch.
  auto at = std::chrono::system_clock::from_time_t(946684799);
  CHECK(parse_retry_after("Fri, 31 Dec 1999 23:59:59 GMT", at - std::chrono::seconds(10)) == milliseconds(10000));
  CHECK(parse_retry_after("Fri, 31 Dec 1999 23:59:59 GMT", at + std::chrono::seconds(10)) == milliseconds(0));
  CHECK_FALSE(parse_retry_after("Fri, 31 Foo 1999 23:59:59 GMT", at));
}
