#include "scanner/cspm/log.h"

namespace scangate::cspm {

const char* to_string(LogLevel level) {
  switch (level) {
    case LogLevel::kInfo: return "info";
    case LogLevel::kWarn: return "warning";
    case LogLevel::kError: return "error";
  }
  return "unknown";
}

}  // namespace scangate::cspm
