#include "scanner/cspm/sink.h"

namespace scangate::cspm {

const char* to_string(SendStatus s) {
  switch (s) {
    case SendStatus::kDelivered: return "delivered";
    case SendStatus::kRetryable: return "retryable";
    case SendStatus::kPermanentAuth: return "rejected (authentication)";
    case SendStatus::kPermanent: return "rejected";
  }
  return "unknown";
}

}  // namespace scangate::cspm
