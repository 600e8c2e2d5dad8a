#include "scanner/net/retry.h"

#include <algorithm>
#include <cmath>
#include <ctime>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <thread>

namespace scangate::net {

Sleeper real_sleeper() {
  return [](std::chrono::milliseconds d) { std::this_thread::sleep_for(d); };
}

RandomSource real_random() {
  struct State {
    std::mutex mu;
    std::mt19937_64 rng{std::random_device{}()};
  };
  auto s = std::make_shared<State>();
  return [s] {
    std::lock_guard<std::mutex> lock(s->mu);
    return std::uniform_real_distribution<double>(0.0, 1.0)(s->rng);
  };
}

std::chrono::milliseconds backoff_delay(const RetryPolicy& policy, int retry,
                                        std::optional<std::chrono::milliseconds> retry_after, double unit_random) {
  using std::chrono::milliseconds;
  const double cap = static_cast<double>(std::max<int64_t>(policy.max_delay.count(), 0));
  double base = static_cast<double>(policy.initial_delay.count()) *
                std::pow(policy.multiplier, static_cast<double>(std::clamp(retry, 1, 62) - 1));
  base = std::min(base, cap);
  const double r = std::clamp(unit_random, 0.0, 1.0);
  double d = policy.full_jitter ? base * r : base * (1.0 + policy.jitter * (2.0 * r - 1.0));
  d = std::clamp(d, 0.0, cap);
  auto out = milliseconds(static_cast<int64_t>(d));
  if (retry_after) out = std::max(out, std::clamp(*retry_after, milliseconds(0), policy.max_retry_after));
  return out;
}

bool is_retryable_status(int status) {
  return status == 408 || status == 429 || status == 500 || status == 502 || status == 503 || status == 504;
}

std::optional<std::chrono::milliseconds> parse_retry_after(std::string_view value,
                                                           std::chrono::system_clock::time_point now) {
  while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
  while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.remove_suffix(1);
  if (value.empty()) return std::nullopt;
  if (value.find_first_not_of("0123456789") == std::string_view::npos) {
    // Absurdly large: a year (callers cap it anyway).
    if (value.size() > 9) return std::chrono::milliseconds(std::chrono::hours(24 * 365));
    return std::chrono::milliseconds(std::stoll(std::string(value)) * 1000);
  }
  // IMF-fixdate: "Sun, 06 Nov 1994 08:49:37 GMT"
  static constexpr const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                            "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  static constexpr const char* kDays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  if (value.size() != 29 || value.substr(25) != " GMT" || value[3] != ',' || value[4] != ' ' || value[7] != ' ' ||
      value[11] != ' ' || value[16] != ' ' || value[19] != ':' || value[22] != ':')
    return std::nullopt;
  if (std::none_of(std::begin(kDays), std::end(kDays), [&](const char* d) { return value.substr(0, 3) == d; }))
    return std::nullopt;
  auto num = [&](size_t pos, size_t len) -> int {
    int v = 0;
    for (size_t i = pos; i < pos + len; ++i) {
      if (value[i] < '0' || value[i] > '9') return -1;
      v = v * 10 + (value[i] - '0');
    }
    return v;
  };
  std::tm tm{};
  tm.tm_mday = num(5, 2);
  int mon = -1;
  for (int i = 0; i < 12; ++i)
    if (value.substr(8, 3) == kMonths[i]) mon = i;
  tm.tm_mon = mon;
  int year = num(12, 4);
  tm.tm_year = year - 1900;
  tm.tm_hour = num(17, 2);
  tm.tm_min = num(20, 2);
  tm.tm_sec = num(23, 2);
  if (mon < 0 || tm.tm_mday < 1 || tm.tm_mday > 31 || year < 1970 || tm.tm_hour < 0 || tm.tm_hour > 23 ||
      tm.tm_min < 0 || tm.tm_min > 59 || tm.tm_sec < 0 || tm.tm_sec > 60)
    return std::nullopt;
  std::time_t t = timegm(&tm);
  auto at = std::chrono::system_clock::from_time_t(t);
  if (at <= now) return std::chrono::milliseconds(0);
  return std::chrono::duration_cast<std::chrono::milliseconds>(at - now);
}

}  // namespace scangate::net
