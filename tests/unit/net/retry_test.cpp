// Backoff, jitter and Retry-After: the cases of the registry client's old retry tests
// (tests/unit/image/retry_test.cpp), the CSPM sender's Retry-After test (http_send_test.cpp) and
// the full-jitter cases of the CSPM uploader, now against the one implementation.
#include "scanner/net/retry.h"

#include <catch2/catch.hpp>

#include <ctime>

using namespace scangate::net;
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
  CHECK(backoff_delay(p, 100000, std::nullopt, 0.5) == milliseconds(1000));
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

TEST_CASE("full jitter: anywhere from zero to the capped backoff", "[retry]") {
  RetryPolicy p;
  p.initial_delay = milliseconds(100);
  p.max_delay = milliseconds(1000);
  p.full_jitter = true;
  CHECK(backoff_delay(p, 1, std::nullopt, 0.999999) == milliseconds(99));
  CHECK(backoff_delay(p, 2, std::nullopt, 0.5) == milliseconds(100));
  CHECK(backoff_delay(p, 3, std::nullopt, 0.5) == milliseconds(200));
  CHECK(backoff_delay(p, 10, std::nullopt, 0.5) == milliseconds(500));  // capped at max_delay
  CHECK(backoff_delay(p, 3, std::nullopt, 0.0) == milliseconds(0));     // full jitter reaches zero
}

TEST_CASE("Retry-After is a floor for the delay, and is capped", "[retry]") {
  RetryPolicy p;
  p.max_retry_after = milliseconds(30000);
  CHECK(backoff_delay(p, 1, milliseconds(3000), 0.9) == milliseconds(3000));
  CHECK(backoff_delay(p, 1, milliseconds(3600000), 0.9) == milliseconds(30000));
  p.full_jitter = true;
  p.initial_delay = milliseconds(100);
  p.max_delay = milliseconds(1000);
  CHECK(backoff_delay(p, 1, milliseconds(2000), 0.5) == milliseconds(2000));
  CHECK(backoff_delay(p, 10, milliseconds(10), 0.9) == milliseconds(900));  // the backoff is longer
}

TEST_CASE("retryable statuses", "[retry]") {
  for (int s : {408, 429, 500, 502, 503, 504}) CHECK(is_retryable_status(s));
  for (int s : {200, 301, 400, 401, 403, 404, 405, 501}) CHECK_FALSE(is_retryable_status(s));
}

TEST_CASE("Retry-After parsing: delta-seconds and IMF-fixdate (RFC 9110)", "[retry]") {
  auto now = std::chrono::system_clock::now();
  CHECK(parse_retry_after("120", now) == milliseconds(120000));
  CHECK(parse_retry_after(" 0 ", now) == milliseconds(0));
  CHECK(parse_retry_after("\t7\t", now) == milliseconds(7000));
  CHECK(parse_retry_after("99999999999999", now) >= milliseconds(24 * 3600 * 1000));
  CHECK_FALSE(parse_retry_after("", now));
  CHECK_FALSE(parse_retry_after("soon", now));
  CHECK_FALSE(parse_retry_after("-5", now));
  CHECK_FALSE(parse_retry_after("1.5", now));
  // RFC 9110's example date: Fri, 31 Dec 1999 23:59:59 GMT = 946684799 seconds after the epoch.
  auto at = std::chrono::system_clock::from_time_t(946684799);
  CHECK(parse_retry_after("Fri, 31 Dec 1999 23:59:59 GMT", at - std::chrono::seconds(10)) == milliseconds(10000));
  CHECK(parse_retry_after("Fri, 31 Dec 1999 23:59:59 GMT", at + std::chrono::seconds(10)) == milliseconds(0));
  CHECK_FALSE(parse_retry_after("Fri, 31 Foo 1999 23:59:59 GMT", at));
  CHECK_FALSE(parse_retry_after("Fri, 31 Dec 1999 25:59:59 GMT", at));
  CHECK_FALSE(parse_retry_after("Fri, 31 Dec 1999 23:59:59 UTC", at));
}

TEST_CASE("Retry-After: RFC 9110's own example date", "[retry]") {
  auto now = std::chrono::system_clock::from_time_t(1445412480);  // Wed, 21 Oct 2015 07:28:00 GMT
  CHECK(parse_retry_after("120", now) == milliseconds(120000));
  CHECK(parse_retry_after(" 0 ", now) == milliseconds(0));
  CHECK(parse_retry_after("Wed, 21 Oct 2015 07:29:30 GMT", now) == milliseconds(90000));  // 90 s after `now`
  CHECK(parse_retry_after("Wed, 21 Oct 2015 07:00:00 GMT", now) == milliseconds(0));      // in the past
  CHECK_FALSE(parse_retry_after("soon", now));
  CHECK_FALSE(parse_retry_after("", now));
  CHECK_FALSE(parse_retry_after("-5", now));
}
