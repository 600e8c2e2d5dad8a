// Retry policy for registry requests: exponential backoff with jitter, honouring
// Retry-After on 429/503. Pure functions; the sleeping is injected so tests never wait.
#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <string_view>

namespace scangate {

struct RetryPolicy {
  int max_attempts = 4;  // total tries, including the first
  std::chrono::milliseconds initial_delay{250};
  double multiplier = 2.0;
  std::chrono::milliseconds max_delay{8000};
  double jitter = 0.2;                               // +/- fraction applied to each delay
  std::chrono::milliseconds max_retry_after{60000};  // cap on a server's Retry-After
};

using Sleeper = std::function<void(std::chrono::milliseconds)>;

// A sleeper that really sleeps (the default outside tests).
Sleeper real_sleeper();

// Delay before retry number `retry` (1 = the first retry). `unit_random` in [0,1) picks the
// jitter. A server's Retry-After wins over the computed backoff (capped by max_retry_after).
std::chrono::milliseconds backoff_delay(const RetryPolicy& policy, int retry,
                                        std::optional<std::chrono::milliseconds> retry_after, double unit_random);

// HTTP status codes worth retrying: 408, 429, 500, 502, 503, 504.
bool is_retryable_status(int status);

// Retry-After as delta-seconds or an IMF-fixdate ("Wed, 21 Oct 2015 07:28:00 GMT").
std::optional<std::chrono::milliseconds> parse_retry_after(std::string_view value,
                                                           std::chrono::system_clock::time_point now);

}  // namespace scangate
