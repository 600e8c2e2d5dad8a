// NVD CVE API 2.0: a response page {"vulnerabilities":[{"cve":{...}}], "totalResults", ...},
// a single {"cve":{...}} item, or a bare cve object as vuln-list-nvd stores it
// ({"id":"CVE-...","descriptions":...}). A directory is read recursively (*.json, sorted).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "scanner/vulndb/feed_sink.h"

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
Result<ImportStats> import_nvd_path(const std::string& path, FeedSink& sink, const ProgressFn& progress = {});

}  // namespace scangate::vulndb
