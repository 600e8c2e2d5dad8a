#include "scanner/image/retry.h"

#include <algorithm>
#include <cmath>
#include <ctime>
#include <string>
#include <thread>

namespace scangate {

Sleeper real_sleeper() {
  return [](std::chrono::milliseconds d) { std::this_thread::sleep_for(d); };
}

std::chrono::milliseconds backoff_delay(const RetryPolicy& policy, int retry,
                                        std::optional<std::chrono::milliseconds> retry_after, double unit_random) {
  using std::chrono::milliseconds;
  if (retry_after) return std::clamp(*retry_after, milliseconds(0), policy.max_retry_after);
  double base = static_cast<double>(policy.initial_delay.count()) *
                std::pow(policy.multiplier, static_cast<double>(std::max(retry, 1) - 1));
  base = std::min(base, static_cast<double>(policy.max_delay.count()));
  double r = std::clamp(unit_random, 0.0, 1.0);
  double factor = 1.0 + policy.jitter * (2.0 * r - 1.0);
  double d = std::min(base * factor, static_cast<double>(policy.max_delay.count()));
  return milliseconds(static_cast<int64_t>(std::max(d, 0.0)));
}

bool is_retryable_status(int status) {
  return status == 408 || status == 429 || status == 500 || status == 502 || status == 503 || status == 504;
}

std::optional<std::chrono::milliseconds> parse_retry_after(std::string_view value,
                                                           std::chrono::system_clock::time_point now) {
  while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
  while (!value.empty() && value.back() == ' ') value.remove_suffix(1);
  if (value.empty()) return std::nullopt;
  if (value.find_first_not_of("0123456789") == std::string_view::npos) {
    if (value.size() > 9) return std::chrono::milliseconds(std::chrono::hours(24 * 365));
    return std::chrono::milliseconds(std::stoll(std::string(value)) * 1000);
  }
  // IMF-fixdate: "Sun, 06 Nov 1994 08:49:37 GMT"
  static constexpr const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                            "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  if (value.size() != 29 || value.substr(25) != " GMT" || value[3] != ',') return std::nullopt;
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
  tm.tm_year = num(12, 4) - 1900;
  tm.tm_hour = num(17, 2);
  tm.tm_min = num(20, 2);
  tm.tm_sec = num(23, 2);
  if (mon < 0 || tm.tm_mday < 1 || tm.tm_year < 70 || tm.tm_hour < 0 || tm.tm_min < 0 || tm.tm_sec < 0 ||
      value[19] != ':' || value[22] != ':')
    return std::nullopt;
  std::time_t t = timegm(&tm);
  auto at = std::chrono::system_clock::from_time_t(t);
  if (at <= now) return std::chrono::milliseconds(0);
  return std::chrono::duration_cast<std::chrono::milliseconds>(at - now);
}

}  // namespace scangate
