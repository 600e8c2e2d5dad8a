// The logging seam for the CSPM room: callers inject where messages go (stderr, a test
// buffer, the webhook's logger). Messages never carry a token: see redact() in config.h.
#pragma once

#include <functional>
#include <string>

namespace scangate::cspm {

enum class LogLevel { kInfo, kWarn, kError };

const char* to_string(LogLevel level);

using Logger = std::function<void(LogLevel, const std::string&)>;

// Calls `log` when it is set; a missing logger drops the message.
inline void log_to(const Logger& log, LogLevel level, const std::string& message) {
  if (log) log(level, message);
}

}  // namespace scangate::cspm
