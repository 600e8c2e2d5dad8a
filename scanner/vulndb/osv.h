// OSV records (ossf.github.io/osv-schema): a single record file, a folder of them (recursive), or
// a per-ecosystem all.zip export. Ecosystems stored: PyPI -> "pypi", npm -> "npm",
// "Alpine:vX.Y" -> "alpine"/"X.Y", "Debian:N" -> "debian"/"N". Other ecosystems the OSV schema
// defines are skipped (counted); an ecosystem it does not define fails the import.
// Withdrawn records and GIT ranges are skipped. All affected[] entries of one record for the
// same package become one advisory (their ranges and versions are concatenated).
#pragma once

#include <string>
#include <string_view>

#include "scanner/vulndb/feed_sink.h"

namespace scangate::vulndb {

Result<ImportStats> import_osv_record_text(std::string_view text, std::string_view name, FeedSink& sink);
// FILE (a .json record, or a zip export recognised by its content) or DIR. `display_name`
// replaces the path in messages (the URL a file was downloaded from).
Result<ImportStats> import_osv_path(const std::string& path, FeedSink& sink, const ProgressFn& progress = {},
                                    std::string_view display_name = {});

}  // namespace scangate::vulndb
