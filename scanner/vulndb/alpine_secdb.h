// Alpine secdb (secdb.alpinelinux.org/vX.Y/{main,community}.json, and the older YAML form).
// Each secfixes key is a fixed version; key "0" (never affected) is not stored.
#pragma once

#include <string>
#include <string_view>

#include "scanner/vulndb/feed_sink.h"

namespace scangate::vulndb {

// `name` is how errors name the input ("v3.20/main.json"). YAML is detected by its first
// non-blank character not being '{'.
Result<ImportStats> import_alpine_secdb_text(std::string_view text, std::string_view name, FeedSink& sink,
                                             const ProgressFn& progress = {});
Result<ImportStats> import_alpine_secdb_file(const std::string& path, FeedSink& sink, const ProgressFn& progress = {});

}  // namespace scangate::vulndb
