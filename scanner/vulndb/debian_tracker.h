// Debian security tracker JSON (security-tracker.debian.org/tracker/data/json):
// { source-package: { CVE: { releases: { codename: {status, fixed_version, urgency, nodsa_reason} } } } }
//
// Status rules (per release):
//   resolved + fixed_version "0"      -> not stored (never affected)
//   resolved + fixed_version V        -> kFixed, V
//   open, nodsa_reason "ignored"      -> kWillNotFix
//   open, nodsa_reason "postponed"    -> kFixDeferred
//   open otherwise (no-dsa, unfixed)  -> kAffected
//   undetermined / not-affected       -> not stored
// The urgency (low/medium/high, unimportant -> LOW, trailing '*' ignored) is the severity only
// when NVD has none. Codenames outside debian_release_for_codename() are skipped.
//
// The real file is ~100 MB; it is parsed into one DOM (about 1 GB of memory at peak).
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "scanner/vulndb/feed_sink.h"

namespace scangate::vulndb {

// "high**" -> HIGH, "unimportant" -> LOW, "not yet assigned"/"end-of-life" -> nullopt.
std::optional<Severity> debian_urgency_severity(std::string_view urgency);

Result<ImportStats> import_debian_tracker_text(std::string_view text, std::string_view name, FeedSink& sink,
                                               const ProgressFn& progress = {});
Result<ImportStats> import_debian_tracker_file(const std::string& path, FeedSink& sink,
                                               const ProgressFn& progress = {});

}  // namespace scangate::vulndb
