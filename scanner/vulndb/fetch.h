// HTTP(S) downloads for feed sources (cpp-httplib; HTTPS verified against the system CAs).
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "scanner/core/result.h"

namespace scangate::vulndb {

struct FetchOptions {
  std::chrono::seconds connect_timeout{30};
  std::chrono::seconds read_timeout{300};
  std::uint64_t max_bytes = 8ull << 30;         // per download
  std::string ca_file;                          // empty: the system CA store
  int retries = 2;                              // after network errors, 429 and 5xx
  std::chrono::milliseconds retry_delay{2000};  // multiplied by the attempt number
  std::vector<std::pair<std::string, std::string>> headers;
};

bool is_url(std::string_view s);  // http:// or https://

// Streams the body to `path` (created or truncated). Non-2xx is an Error naming the URL and status.
Result<void> fetch_to_file(const std::string& url, const std::string& path, const FetchOptions& opts);
Result<std::string> fetch_to_string(const std::string& url, const FetchOptions& opts);

}  // namespace scangate::vulndb
