// Retrying, for every HTTP caller of the scanner: exponential backoff with jitter, honouring a
// server's Retry-After. Pure functions; the sleeping and the randomness are injected so that tests
// never wait and can check every delay.
#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <string_view>

namespace scangate::net {

struct RetryPolicy {
  int max_attempts = 4;  // total tries, including the first; 1 = no retry
  std::chrono::milliseconds initial_delay{250};
  double multiplier = 2.0;
  std::chrono::milliseconds max_delay{8000};
  // Proportional jitter: each delay is spread by +/- this fraction of itself...
  double jitter = 0.2;
  // ...or full jitter: a delay anywhere in [0, backoff] (spreads a herd of clients best).
  bool full_jitter = false;
  std::chrono::milliseconds max_retry_after{60000};  // cap on a server's Retry-After
};

using Sleeper = std::function<void(std::chrono::milliseconds)>;
using RandomSource = std::function<double()>;  // uniform in [0, 1)

// A sleeper that really sleeps (the default outside tests).
Sleeper real_sleeper();
// A private PRNG seeded from std::random_device; safe to call from several threads.
RandomSource real_random();

// Delay before retry number `retry` (1 = the first retry): initial_delay * multiplier^(retry-1),
// capped by max_delay, then jittered with `unit_random` in [0,1). A server's Retry-After (capped
// by max_retry_after) is a floor: the delay is never shorter than what the server asked for.
std::chrono::milliseconds backoff_delay(const RetryPolicy& policy, int retry,
                                        std::optional<std::chrono::milliseconds> retry_after, double unit_random);

// HTTP statuses worth retrying: 408, 429, 500, 502, 503, 504.
bool is_retryable_status(int status);

// Retry-After (RFC 9110) as delta-seconds or an IMF-fixdate ("Wed, 21 Oct 2015 07:28:00 GMT"),
// relative to `now`; a date in the past is 0; nullopt when malformed.
std::optional<std::chrono::milliseconds> parse_retry_after(std::string_view value,
                                                           std::chrono::system_clock::time_point now);

}  // namespace scangate::net
