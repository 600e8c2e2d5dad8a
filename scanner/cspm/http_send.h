// One multipart POST over HTTP(S) for the sinks, and the classification of its result. The POST
// goes through the scanner's one HTTP client (net::HttpClient): kept-alive connections reused
// between reports, the token never sent to another origin a redirect leads to, the uploader's own
// retries instead of the client's.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "scanner/core/deadline.h"
#include "scanner/core/result.h"
#include "scanner/cspm/config.h"
#include "scanner/cspm/sink.h"

namespace scangate::cspm {

struct FormPart {
  std::string name;
  std::string content;
  std::string filename;      // empty: a plain field
  std::string content_type;  // for file parts
};

struct MultipartPost {
  std::string base_url;        // scheme://host[:port][/prefix], normalized
  std::string path_and_query;  // appended to base_url's path ("/api/v1/artifact/?...")
  // Headers whose value holds one of `secrets` (the token's Authorization) go only to base_url's
  // origin.
  std::vector<std::pair<std::string, std::string>> headers;
  std::vector<FormPart> parts;
  HttpOptions http;
  std::vector<std::string> secrets;  // scrubbed from every detail and error
  Deadline deadline = Deadline::never();
};

// Performs the POST once and classifies it (see SendStatus). Errors are local problems: the CA file
// cannot be loaded, the server certificate is not trusted.
Result<SendOutcome> post_multipart(const MultipartPost& post);

// The classification alone, for a response that arrived.
SendOutcome classify_response(int status, std::optional<std::string_view> retry_after, std::string_view body,
                              std::chrono::system_clock::time_point now);

// A short, printable excerpt of a response body: its JSON "detail" when it has one.
std::string body_excerpt(std::string_view body);

// Multipart/form-data encoding with the given boundary.
std::string encode_multipart(const std::vector<FormPart>& parts, const std::string& boundary);

}  // namespace scangate::cspm
