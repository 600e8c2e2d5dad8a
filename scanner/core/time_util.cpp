#include "scanner/core/time_util.h"

#include <ctime>

namespace scangate {

namespace {

std::string format_utc(std::chrono::system_clock::time_point t, const char* fmt) {
  std::time_t tt = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, fmt, &tm);
  return buf;
}

}  // namespace

std::string format_rfc3339(std::chrono::system_clock::time_point t) { return format_utc(t, "%Y-%m-%dT%H:%M:%SZ"); }

std::string utc_now_rfc3339() { return format_rfc3339(std::chrono::system_clock::now()); }

std::string utc_today() {
  // Asked on every admission request: formatted once per second per thread.
  thread_local std::time_t formatted_at = -1;
  thread_local std::string day;
  const auto now = std::chrono::system_clock::now();
  const std::time_t sec = std::chrono::system_clock::to_time_t(now);
  if (sec != formatted_at) {
    day = format_utc(now, "%Y-%m-%d");
    formatted_at = sec;
  }
  return day;
}

}  // namespace scangate
