// The CSPM room logs through the core logger (scanner/core/log.h); these names remain so that code
// written against the older seam keeps compiling.
#pragma once

#include <functional>
#include <string>

#include "scanner/core/log.h"

namespace scangate::cspm {

using Logger = log::Logger;
using LogLevel = log::Level;

// "debug", "info", "warning", "error".
const char* to_string(LogLevel level);

}  // namespace scangate::cspm
