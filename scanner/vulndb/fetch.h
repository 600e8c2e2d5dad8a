// HTTP(S) downloads for feed sources, through the scanner's one HTTP client (net::HttpClient):
// HTTPS verified against the system CAs (plus --cacert), kept-alive connections reused across the
// downloads of one process (an NVD paging run makes one connection), redirects followed without
// carrying the caller's headers to another origin.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "scanner/core/deadline.h"
#include "scanner/core/result.h"

namespace scangate::vulndb {

struct FetchOptions {
  std::chrono::seconds connect_timeout{30};
  std::chrono::seconds read_timeout{300};       // each read or write wait
  std::uint64_t max_bytes = 8ull << 30;         // per download
  std::string ca_file;                          // empty: the system CA store
  int retries = 2;                              // after network errors, 408, 429, 500, 502, 503, 504
  std::chrono::milliseconds retry_delay{2000};  // before the first retry; doubles (with jitter) after
  // Sent with every request to the URL's own origin, and never to another origin a redirect leads
  // to: they carry keys (NVD's apiKey).
  std::vector<std::pair<std::string, std::string>> headers;
  Deadline deadline = Deadline::never();  // for each download
};

bool is_url(std::string_view s);  // http:// or https://

// Streams the body to `path` (created or truncated). Non-2xx is an Error naming the URL and status.
Result<void> fetch_to_file(const std::string& url, const std::string& path, const FetchOptions& opts);
Result<std::string> fetch_to_string(const std::string& url, const FetchOptions& opts);

}  // namespace scangate::vulndb
