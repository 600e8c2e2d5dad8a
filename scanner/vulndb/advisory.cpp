#include "scanner/vulndb/advisory.h"

namespace scangate::vulndb {

const char* to_string(AdvisoryKind k) {
  switch (k) {
    case AdvisoryKind::kAlpineSecdb: return "alpine-secdb";
    case AdvisoryKind::kDebianTracker: return "debian-tracker";
    case AdvisoryKind::kOsv: return "osv";
  }
  return "unknown";
}

std::optional<AdvisoryKind> parse_advisory_kind(std::string_view s) {
  if (s == "alpine-secdb") return AdvisoryKind::kAlpineSecdb;
  if (s == "debian-tracker") return AdvisoryKind::kDebianTracker;
  if (s == "osv") return AdvisoryKind::kOsv;
  return std::nullopt;
}

const char* to_string(FixStatus s) {
  switch (s) {
    case FixStatus::kFixed: return "fixed";
    case FixStatus::kAffected: return "affected";
    case FixStatus::kWillNotFix: return "will_not_fix";
    case FixStatus::kFixDeferred: return "fix_deferred";
  }
  return "unknown";
}

std::optional<FixStatus> parse_fix_status(std::string_view s) {
  if (s == "fixed") return FixStatus::kFixed;
  if (s == "affected") return FixStatus::kAffected;
  if (s == "will_not_fix") return FixStatus::kWillNotFix;
  if (s == "fix_deferred") return FixStatus::kFixDeferred;
  return std::nullopt;
}

const char* to_string(OsvEvent::Type t) {
  switch (t) {
    case OsvEvent::Type::kIntroduced: return "introduced";
    case OsvEvent::Type::kFixed: return "fixed";
    case OsvEvent::Type::kLastAffected: return "last_affected";
    case OsvEvent::Type::kLimit: return "limit";
  }
  return "unknown";
}

}  // namespace scangate::vulndb
