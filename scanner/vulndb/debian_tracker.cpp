#include "scanner/vulndb/debian_tracker.h"

#include "scanner/vulndb/json_util.h"
#include "scanner/vulndb/release.h"

namespace scangate::vulndb {
namespace {

using detail::Json;

std::string key_path(const std::string& path, const std::string& key) {
  if (path.empty()) return "[\"" + key + "\"]";
  return path + "[\"" + key + "\"]";
}

bool is_cve(std::string_view id) { return id.size() > 4 && id.substr(0, 4) == "CVE-"; }

}  // namespace

std::optional<Severity> debian_urgency_severity(std::string_view urgency) {
  while (!urgency.empty() && urgency.back() == '*') urgency.remove_suffix(1);
  if (urgency == "unimportant" || urgency == "low") return Severity::kLow;
  if (urgency == "medium") return Severity::kMedium;
  if (urgency == "high") return Severity::kHigh;
  return std::nullopt;  // "not yet assigned", "end-of-life", ""
}

Result<ImportStats> import_debian_tracker_text(std::string_view text, std::string_view name, FeedSink& sink,
                                               const ProgressFn& progress) {
  auto parsed = detail::parse_json(text, name);
  if (!parsed) return parsed.error();
  const Json& root = parsed.value();
  if (!root.is_object()) return detail::type_error(name, "", "object", root);

  ImportStats stats;
  stats.files = 1;
  std::size_t packages_seen = 0;
  for (const auto& [package, cves] : root.items()) {
    std::string pkg_path = key_path("", package);
    if (!cves.is_object()) return detail::type_error(name, pkg_path, "object", cves);
    for (const auto& [vuln_id, info] : cves.items()) {
      std::string cve_path = key_path(pkg_path, vuln_id);
      if (!info.is_object()) return detail::type_error(name, cve_path, "object", info);
      const Json* releases = detail::member(info, "releases");
      if (!releases) continue;
      std::string rel_base = cve_path + ".releases";
      // The tracker writes an empty object as [] (chromium-browser in the real sample).
      if (releases->is_array() && releases->empty()) continue;
      if (!releases->is_object()) return detail::type_error(name, rel_base, "object", *releases);
      for (const auto& [codename, rel] : releases->items()) {
        std::string rel_path = key_path(rel_base, codename);
        if (!rel.is_object()) return detail::type_error(name, rel_path, "object", rel);
        auto status = detail::opt_string(rel, "status", name, rel_path);
        if (!status) return status.error();
        auto fixed = detail::opt_string(rel, "fixed_version", name, rel_path);
        if (!fixed) return fixed.error();
        auto urgency = detail::opt_string(rel, "urgency", name, rel_path);
        if (!urgency) return urgency.error();
        auto nodsa_reason = detail::opt_string(rel, "nodsa_reason", name, rel_path);
        if (!nodsa_reason) return nodsa_reason.error();

        auto release = debian_release_for_codename(codename);
        if (!release) {  // a codename we do not map (experimental, a future release)
          ++stats.skipped;
          continue;
        }
        FixStatus fs;
        std::string fixed_version;
        const std::string& st = status.value();
        if (st == "resolved") {
          if (fixed.value() == "0" || fixed.value().empty()) {  // never affected
            ++stats.skipped;
            continue;
          }
          fs = FixStatus::kFixed;
          fixed_version = fixed.value();
        } else if (st == "open") {
          if (nodsa_reason.value() == "ignored")
            fs = FixStatus::kWillNotFix;
          else if (nodsa_reason.value() == "postponed")
            fs = FixStatus::kFixDeferred;
          else
            fs = FixStatus::kAffected;  // unfixed, no-dsa
        } else if (st == "undetermined" || st == "not-affected") {
          ++stats.skipped;
          continue;
        } else {
          return Error(ErrorKind::kFormat, std::string(name) + ": " + rel_path + ".status: unknown status \"" + st +
                                               "\" (expected resolved, open, undetermined or not-affected)");
        }
        AdvisoryRecord rec;
        Advisory& a = rec.advisory;
        a.vuln_id = vuln_id;
        a.cve_id = is_cve(vuln_id) ? vuln_id : std::string();
        a.ecosystem = "debian";
        a.release = release.value();
        a.package = package;
        a.kind = AdvisoryKind::kDebianTracker;
        a.status = fs;
        a.fixed_version = std::move(fixed_version);
        a.vendor_severity = debian_urgency_severity(urgency.value());
        rec.feed_severity_source = "debian";
        rec.vendor_is_fallback = true;
        SG_TRY(sink.add_advisory(rec));
        ++stats.advisories;
      }
    }
    if (progress && ++packages_seen % 5000 == 0)
      progress(std::string(name) + ": " + std::to_string(packages_seen) + " source packages");
  }
  if (progress) progress(std::string(name) + ": debian tracker: " + std::to_string(stats.advisories) + " advisories");
  return stats;
}

Result<ImportStats> import_debian_tracker_file(const std::string& path, FeedSink& sink, const ProgressFn& progress) {
  auto text = detail::read_whole_file(path);
  if (!text) return text.error();
  return import_debian_tracker_text(text.value(), path, sink, progress);
}

}  // namespace scangate::vulndb
