#include "scanner/vulndb/validate.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <vector>

namespace scangate::vulndb {
namespace {

using L = FeedLimits;
using Why = std::optional<std::string>;

std::string size_text(std::size_t n) { return std::to_string(n) + " bytes"; }

bool has_control(std::string_view s) {
  for (unsigned char c : s)
    if (c < 0x20 || c == 0x7f) return true;
  return false;
}

// Printable ASCII (0x21..0x7e): ids and URLs.
bool printable_token(std::string_view s) {
  for (unsigned char c : s)
    if (c <= 0x20 || c >= 0x7f) return false;
  return true;
}

Why check_id(std::string_view what, const std::string& v, bool required) {
  if (v.empty()) return required ? Why(std::string(what) + " is empty") : std::nullopt;
  if (v.size() > L::kId)
    return std::string(what) + " is " + size_text(v.size()) + " (at most " + std::to_string(L::kId) + ")";
  if (!printable_token(v)) return std::string(what) + " has a space, a control or a non-ASCII character";
  return std::nullopt;
}

Why check_text(std::string_view what, const std::string& v, std::size_t max, bool required = false) {
  if (v.empty() && required) return std::string(what) + " is empty";
  if (v.size() > max)
    return std::string(what) + " is " + size_text(v.size()) + " (at most " + std::to_string(max) + ")";
  if (has_control(v)) return std::string(what) + " has a control character";
  return std::nullopt;
}

// Long prose: newlines and tabs are fine, NUL is not.
Why check_prose(std::string_view what, const std::string& v, std::size_t max) {
  if (v.size() > max)
    return std::string(what) + " is " + size_text(v.size()) + " (at most " + std::to_string(max) + ")";
  if (v.find('\0') != std::string::npos) return std::string(what) + " has a NUL byte";
  return std::nullopt;
}

Why check_url(std::string_view what, const std::string& v) {
  if (v.empty()) return std::string(what) + " is empty";
  if (v.size() > L::kUrl)
    return std::string(what) + " is " + size_text(v.size()) + " (at most " + std::to_string(L::kUrl) + ")";
  if (!printable_token(v)) return std::string(what) + " has a space, a control or a non-ASCII character";
  return std::nullopt;
}

bool vector_char(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == ':' || c == '/' ||
         c == '.' || c == '(' || c == ')' || c == '_' || c == '-';
}

Why check_metric(const std::string& where, const CvssMetric& m) {
  if (!std::isfinite(m.score) || m.score < 0 || m.score > 10) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%g", m.score);
    return where + ".baseScore " + buf + " is outside 0..10";
  }
  if (m.vector.size() > L::kCvssVector)
    return where + ".vectorString is " + size_text(m.vector.size()) + " (at most " + std::to_string(L::kCvssVector) +
           ")";
  for (char c : m.vector)
    if (!vector_char(c)) return where + ".vectorString has a character outside A-Z a-z 0-9 : / . ( ) _ -";
  if (auto w = check_text(where + ".version", m.version, 16)) return w;
  if (auto w = check_text(where + ".source", m.source, L::kSource)) return w;
  if (auto w = check_text(where + ".type", m.type, L::kShortText)) return w;
  if (auto w = check_text(where + ".baseSeverity", m.base_severity, L::kShortText)) return w;
  return std::nullopt;
}

Why check_metrics(const char* key, const std::vector<CvssMetric>& ms) {
  for (std::size_t i = 0; i < ms.size(); ++i)
    if (auto w = check_metric(std::string(key) + "[" + std::to_string(i) + "]", ms[i])) return w;
  return std::nullopt;
}

Why check_references(const std::vector<VulnReference>& refs) {
  if (refs.size() > L::kReferences)
    return std::to_string(refs.size()) + " references (at most " + std::to_string(L::kReferences) + ")";
  for (std::size_t i = 0; i < refs.size(); ++i) {
    std::string w = "references[" + std::to_string(i) + "]";
    if (auto r = check_url(w + ".url", refs[i].url)) return r;
    if (auto r = check_text(w + ".source", refs[i].source, L::kSource)) return r;
  }
  return std::nullopt;
}

}  // namespace

std::optional<std::string> invalid_reason(const AdvisoryRecord& rec) {
  const Advisory& a = rec.advisory;
  if (auto w = check_id("id", a.vuln_id, true)) return w;
  if (auto w = check_id("cve", a.cve_id, false)) return w;
  if (auto w = check_text("ecosystem", a.ecosystem, L::kEcosystem, true)) return w;
  if (auto w = check_text("release", a.release, L::kEcosystem)) return w;
  if (auto w = check_text("package", a.package, L::kPackage, true)) return w;
  if (auto w = check_text("fixed version", a.fixed_version, L::kVersion)) return w;
  if (a.versions.size() > L::kVersions)
    return std::to_string(a.versions.size()) + " affected versions (at most " + std::to_string(L::kVersions) + ")";
  for (const auto& v : a.versions)
    if (auto w = check_text("affected version", v, L::kVersion, true)) return w;
  if (a.ranges.size() > L::kRanges)
    return std::to_string(a.ranges.size()) + " ranges (at most " + std::to_string(L::kRanges) + ")";
  std::size_t events = 0;
  for (const auto& r : a.ranges) {
    if (auto w = check_text("range type", r.type, L::kShortText)) return w;
    events += r.events.size();
    if (events > L::kEvents) return "more than " + std::to_string(L::kEvents) + " range events";
    for (const auto& e : r.events)
      if (auto w = check_text("range event version", e.version, L::kVersion)) return w;
  }
  if (auto w = check_text("severity source", rec.feed_severity_source, L::kSource)) return w;
  return std::nullopt;
}

std::optional<std::string> invalid_reason(const VulnerabilityRecord& rec) {
  if (auto w = check_id("id", rec.vuln_id, true)) return w;
  if (auto w = check_id("cve", rec.cve_id, false)) return w;
  if (rec.aliases.size() > L::kReferences)
    return std::to_string(rec.aliases.size()) + " aliases (at most " + std::to_string(L::kReferences) + ")";
  for (const auto& al : rec.aliases)
    if (auto w = check_id("alias", al, true)) return w;
  if (auto w = check_prose("title", rec.title, L::kTitle)) return w;
  if (auto w = check_prose("description", rec.description, L::kDescription)) return w;
  if (auto w = check_references(rec.references)) return w;
  if (auto w = check_text("published", rec.published, L::kShortText)) return w;
  if (auto w = check_text("lastModified", rec.last_modified, L::kShortText)) return w;
  if (auto w = check_metrics("cvssMetricV31", rec.metrics.v31)) return w;
  if (auto w = check_metrics("cvssMetricV30", rec.metrics.v30)) return w;
  if (auto w = check_metrics("cvssMetricV2", rec.metrics.v2)) return w;
  if (auto w = check_text("severity source", rec.feed_severity_source, L::kSource)) return w;
  return std::nullopt;
}

std::string printable_excerpt(std::string_view s, std::size_t max) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  std::size_t n = std::min(s.size(), max);
  for (std::size_t i = 0; i < n; ++i) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c < 0x20 || c >= 0x7f || c == '\\' || c == '"') {
      out += "\\x";
      out += kHex[c >> 4];
      out += kHex[c & 15];
    } else {
      out += static_cast<char>(c);
    }
  }
  if (s.size() > max) out += "...(" + std::to_string(s.size()) + " bytes)";
  return "\"" + out + "\"";
}

void ValidatingSink::skipped(const std::string& id, const std::string& reason) {
  if (warn_ && warned_ < max_warnings_)
    warn_(feed_ + ": skipped invalid record " + printable_excerpt(id) + ": " + reason);
  ++warned_;
}

Result<void> ValidatingSink::add_advisory(const AdvisoryRecord& rec) {
  if (auto why = invalid_reason(rec)) {
    ++invalid_advisories_;
    skipped(rec.advisory.vuln_id, *why);
    return Ok();
  }
  return inner_.add_advisory(rec);
}

Result<void> ValidatingSink::add_vulnerability(const VulnerabilityRecord& rec) {
  if (auto why = invalid_reason(rec)) {
    ++invalid_vulnerabilities_;
    skipped(rec.vuln_id, *why);
    return Ok();
  }
  return inner_.add_vulnerability(rec);
}

void ValidatingSink::finish(ImportStats& stats) {
  stats.advisories -= std::min(stats.advisories, invalid_advisories_);
  stats.vulnerabilities -= std::min(stats.vulnerabilities, invalid_vulnerabilities_);
  stats.invalid += invalid_advisories_ + invalid_vulnerabilities_;
  if (warn_ && warned_ > max_warnings_)
    warn_(feed_ + ": " + std::to_string(warned_ - max_warnings_) +
          " more invalid records skipped (warnings not shown)");
}

}  // namespace scangate::vulndb
