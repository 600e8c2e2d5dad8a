// `scangate db build` and `scangate db update` as library functions.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <string>
#include <vector>

#include "scanner/core/result.h"
#include "scanner/vulndb/db_info.h"
#include "scanner/vulndb/feed_sink.h"
#include "scanner/vulndb/fetch.h"

namespace scangate::vulndb {

using Clock = std::function<std::chrono::system_clock::time_point()>;

// Paging through the NVD CVE API 2.0 (a URL given to --nvd is always paged: startIndex and
// resultsPerPage are appended; a server that ignores startIndex is an error, not a loop).
struct NvdApiOptions {
  std::string api_key;  // sent as the `apiKey` header when set
  std::size_t results_per_page = 2000;
  // NVD allows 5 requests per 30 s without a key, 50 with one.
  std::chrono::milliseconds page_delay{6000};
  std::size_t max_pages = 100000;
};

struct BuildOptions {
  std::string output;
  // Each entry is a FILE, a DIR (osv, nvd), a ZIP (osv) or an http(s) URL; imported in order.
  std::vector<std::string> alpine_secdb;
  std::vector<std::string> debian_tracker;
  std::vector<std::string> osv;
  std::vector<std::string> nvd;
  FetchOptions fetch;
  NvdApiOptions nvd_api;
  ProgressFn progress;
  // Each feed record refused by validation (validate.h), "<source>: skipped invalid
  // record "<id>": <reason>" (at most 20 per source, then a count); defaults to `progress`.
  ProgressFn warn;
  Clock clock;  // build time; defaults to the system clock
};

// Builds aside and swaps atomically; on any failure the previous DB at `output` is untouched.
Result<DbInfo> build_db(const BuildOptions& opts);

// The upstream defaults, each replaceable (an internal mirror).
struct UpdateSources {
  std::vector<std::string> alpine_secdb;    // secdb main.json + community.json, v3.10..v3.21 and edge
  std::vector<std::string> debian_tracker;  // the security tracker's JSON
  std::vector<std::string> osv;             // OSV all.zip for PyPI, npm, Alpine, Debian
  std::vector<std::string> nvd;             // NVD CVE API 2.0 (paged)
};
UpdateSources default_update_sources();

struct UpdateOptions {
  std::string output;
  UpdateSources sources = default_update_sources();
  FetchOptions fetch;
  NvdApiOptions nvd_api;
  ProgressFn progress;
  ProgressFn warn;  // as BuildOptions::warn
  Clock clock;
};

Result<DbInfo> update_db(const UpdateOptions& opts);

}  // namespace scangate::vulndb
