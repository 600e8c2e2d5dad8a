// `scangate db build` and `scangate db update` as library functions.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "scanner/core/result.h"
#include "scanner/vulndb/db_info.h"
#include "scanner/vulndb/feed_sink.h"
#include "scanner/vulndb/fetch.h"
#include "scanner/vulndb/gzip.h"

namespace scangate::vulndb {

using Clock = std::function<std::chrono::system_clock::time_point()>;

// Paging through the NVD CVE API 2.0 (a URL given to --nvd is paged, unless it names a .gz file:
// startIndex and resultsPerPage are appended; a server that ignores startIndex is an error, not a loop).
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
  // NVD JSON 2.0 data feed files (nvdcve-2.0-*.json.gz: URLs or files), imported after `nvd` as one
  // source: where a CVE is in more than one, the record with the later lastModified wins. Each
  // URL's .meta (nvdcve-2.0-<name>.meta beside it) is fetched, and the uncompressed feed's size and
  // sha256 checked against it when the server has one (a 404 skips the check).
  std::vector<std::string> nvd_feeds;
  std::uint64_t max_uncompressed = kMaxGunzipBytes;  // per .gz feed file
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

// NVD's yearly JSON 2.0 data feeds: <base_url>nvdcve-2.0-<YEAR>.json.gz for each year, then
// nvdcve-2.0-modified.json.gz (records added or changed in the last 8 days). The "recent" feed
// (records added in the last 8 days) is a subset of "modified", so it is off by default.
struct NvdFeedOptions {
  std::string base_url = "https://nvd.nist.gov/feeds/json/cve/2.0/";
  int first_year = 2002;
  int last_year = 0;  // 0: the current year (UTC) by UpdateOptions::clock
  bool modified = true;
  bool recent = false;
};
// The feed URLs, yearly ones first; `current_year` stands in for last_year 0.
std::vector<std::string> nvd_feed_urls(const NvdFeedOptions& o, int current_year);

// The upstream defaults, each replaceable (an internal mirror).
struct UpdateSources {
  std::vector<std::string> alpine_secdb;    // secdb main.json + community.json, v3.10..v3.21 and edge
  std::vector<std::string> debian_tracker;  // the security tracker's JSON
  std::vector<std::string> osv;             // OSV all.zip for PyPI, npm, Alpine, Debian
  std::vector<std::string> nvd;             // NVD CVE API 2.0 (paged): used with use_nvd_sources
  NvdFeedOptions nvd_feeds;                 // NVD JSON 2.0 data feeds: the default
};
UpdateSources default_update_sources();

struct UpdateOptions {
  std::string output;
  UpdateSources sources = default_update_sources();
  FetchOptions fetch;
  NvdApiOptions nvd_api;
  // NVD records come from the data feeds (sources.nvd_feeds) unless this is set (`--nvd-api`,
  // `--nvd SRC`) or sources.nvd is not the default: then from sources.nvd, as build_db reads it.
  bool use_nvd_sources = false;
  std::uint64_t max_uncompressed = kMaxGunzipBytes;
  ProgressFn progress;
  ProgressFn warn;  // as BuildOptions::warn
  Clock clock;      // build time, and the current year of the NVD feeds; defaults to the system clock
};

Result<DbInfo> update_db(const UpdateOptions& opts);

}  // namespace scangate::vulndb
