#include "scanner/cspm/log.h"

namespace scangate::cspm {

const char* to_string(LogLevel level) { return level == LogLevel::kWarn ? "warning" : log::to_string(level); }

}  // namespace scangate::cspm
