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

std::string utc_today() { return format_utc(std::chrono::system_clock::now(), "%Y-%m-%d"); }

}  // namespace scangate
