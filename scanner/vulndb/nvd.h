// NVD CVE API 2.0: a response page {"vulnerabilities":[{"cve":{...}}], "totalResults", ...},
// a single {"cve":{...}} item, or a bare cve object as vuln-list-nvd stores it
// ({"id":"CVE-...","descriptions":...}). A directory is read recursively (*.json and *.json.gz,
// sorted).
//
// NVD's JSON 2.0 data feeds (https://nvd.nist.gov/feeds/json/cve/2.0/nvdcve-2.0-<YYYY|modified|
// recent>.json.gz) hold the API's page shape whole: {"resultsPerPage":N,"startIndex":0,
// "totalResults":N,"format":"NVD_CVE","version":"2.0","timestamp":"...","vulnerabilities":[...]}.
// Beside each is nvdcve-2.0-<name>.meta: "lastModifiedDate:", "size:" (uncompressed bytes),
// "zipSize:", "gzSize:" and "sha256:" (of the uncompressed JSON) lines.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "scanner/vulndb/feed_sink.h"
#include "scanner/vulndb/gzip.h"

namespace scangate::vulndb {

struct NvdPageInfo {
  std::size_t start_index = 0;
  std::size_t results_per_page = 0;
  std::size_t total_results = 0;
  std::size_t records = 0;  // vulnerabilities[] in this page
  bool is_page = false;     // false for single-record files
};

Result<NvdPageInfo> import_nvd_text(std::string_view text, std::string_view name, FeedSink& sink,
                                    ImportStats* stats = nullptr);
// A .json or .json.gz file, or a folder of them. Beside a `<name>.json.gz`, a `<name>.meta` (as NVD
// publishes it) is checked: the uncompressed size and sha256 must match it.
// A .gz past `max_uncompressed` bytes is a kLimit Error.
Result<ImportStats> import_nvd_path(const std::string& path, FeedSink& sink, const ProgressFn& progress = {},
                                    std::uint64_t max_uncompressed = kMaxGunzipBytes);

// Any NVD document (as import_nvd_text); a feed or page is parsed one record at a time, so a yearly
// feed (tens of MB) never sits in memory as one JSON tree.
Result<ImportStats> import_nvd_document(std::string_view text, std::string_view name, FeedSink& sink);

struct NvdFeedMeta {
  std::string last_modified;
  std::optional<std::uint64_t> size;  // uncompressed JSON bytes
  std::string sha256;                 // lowercase hex of the uncompressed JSON ("" when absent)
};
Result<NvdFeedMeta> parse_nvd_feed_meta(std::string_view text, std::string_view name);
// The uncompressed feed against its meta: a size or digest that differs is a kFormat Error naming `name`.
Result<void> check_nvd_feed_meta(const NvdFeedMeta& meta, std::uint64_t size, const std::string& sha256_hex,
                                 std::string_view name);

// "nvdcve-2.0-2024.json.gz" -> "nvdcve-2.0-2024.meta" (also for URLs; "" when not a .json.gz name).
std::string nvd_meta_name_for(std::string_view gz_name);
bool is_gzip_name(std::string_view name);  // ends with ".gz" (before any ?query)

// NVD lastModified stamps come as "2023-08-04T18:48Z" (vuln-list) and "2023-11-30T05:07:10.827"
// (API 2.0); this orders them by time (a negative, zero or positive result, as strcmp).
int compare_nvd_timestamps(std::string_view a, std::string_view b);

}  // namespace scangate::vulndb
