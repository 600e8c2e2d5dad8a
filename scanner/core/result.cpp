#include "scanner/core/result.h"

namespace scangate {

const char* to_string(ErrorKind k) {
  switch (k) {
    case ErrorKind::kInvalidArgument: return "invalid argument";
    case ErrorKind::kNotFound: return "not found";
    case ErrorKind::kAuth: return "authentication";
    case ErrorKind::kNetwork: return "network";
    case ErrorKind::kIntegrity: return "integrity";
    case ErrorKind::kLimit: return "limit exceeded";
    case ErrorKind::kFormat: return "format";
    case ErrorKind::kIo: return "i/o";
    case ErrorKind::kInternal: return "internal";
  }
  return "unknown";
}

}  // namespace scangate
