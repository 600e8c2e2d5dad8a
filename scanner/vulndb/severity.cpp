#include "scanner/vulndb/severity.h"

#include <cctype>
#include <cstdio>

namespace scangate::vulndb {

const char* to_string(Severity s) {
  switch (s) {
    case Severity::kUnknown: return "UNKNOWN";
    case Severity::kLow: return "LOW";
    case Severity::kMedium: return "MEDIUM";
    case Severity::kHigh: return "HIGH";
    case Severity::kCritical: return "CRITICAL";
  }
  return "UNKNOWN";
}

std::optional<Severity> parse_severity_label(std::string_view label) {
  std::string up;
  for (char c : label) up.push_back(static_cast<char>(std::toupper(static_cast<unsigned char>(c))));
  if (up == "LOW" || up == "NEGLIGIBLE") return Severity::kLow;
  if (up == "MEDIUM" || up == "MODERATE") return Severity::kMedium;
  if (up == "HIGH" || up == "IMPORTANT") return Severity::kHigh;
  if (up == "CRITICAL") return Severity::kCritical;
  return std::nullopt;
}

std::optional<Severity> severity_from_cvss3_score(double score) {
  if (!(score > 0.0)) return std::nullopt;
  if (score < 4.0) return Severity::kLow;
  if (score < 7.0) return Severity::kMedium;
  if (score < 9.0) return Severity::kHigh;
  return Severity::kCritical;
}

Severity severity_from_cvss2_score(double score) {
  if (score < 4.0) return Severity::kLow;
  if (score < 7.0) return Severity::kMedium;
  return Severity::kHigh;
}

std::string format_score(double score) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", score);
  return buf;
}

namespace {

// The Primary entry if there is one, else the first.
const CvssMetric* pick(const std::vector<CvssMetric>& v) {
  if (v.empty()) return nullptr;
  for (const auto& m : v)
    if (m.type == "Primary") return &m;
  return &v.front();
}

std::string basis_of(const char* key, const CvssMetric& m) {
  return std::string(key) + " " + m.source + " " + m.type + " " + format_score(m.score);
}

}  // namespace

ResolvedSeverity resolve_nvd_severity(const NvdMetrics& metrics) {
  struct Tier {
    const char* key;
    const std::vector<CvssMetric>* list;
  };
  for (Tier t : {Tier{"cvssMetricV31", &metrics.v31}, Tier{"cvssMetricV30", &metrics.v30}}) {
    if (const CvssMetric* m = pick(*t.list)) {
      // The published qualitative rating; the score scale when the rating is missing.
      std::optional<Severity> s = parse_severity_label(m->base_severity);
      if (!s && m->base_severity.empty()) s = severity_from_cvss3_score(m->score);
      return {s.value_or(Severity::kUnknown), s ? "nvd" : "", basis_of(t.key, *m)};
    }
  }
  if (const CvssMetric* m = pick(metrics.v2)) {
    return {severity_from_cvss2_score(m->score), "nvd", basis_of("cvssMetricV2", *m)};
  }
  return {Severity::kUnknown, "", "NVD record has no CVSS v3.x/v2 metric"};
}

ResolvedSeverity resolve_severity(const SeverityInputs& in) {
  if (in.feed && *in.feed != Severity::kUnknown)
    return {*in.feed, in.feed_source, in.feed_source + " severity " + to_string(*in.feed)};
  if (in.ghsa && *in.ghsa != Severity::kUnknown)
    return {*in.ghsa, "ghsa", std::string("ghsa database_specific.severity ") + to_string(*in.ghsa)};
  if (in.nvd && in.nvd->severity != Severity::kUnknown) return *in.nvd;
  if (in.fallback && *in.fallback != Severity::kUnknown)
    return {*in.fallback, in.fallback_source, in.fallback_source + " urgency " + to_string(*in.fallback)};
  return {Severity::kUnknown, "", in.nvd ? in.nvd->basis : "no NVD record"};
}

}  // namespace scangate::vulndb
