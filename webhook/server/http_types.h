// The server's request/response values and the handler seam: request handling is a function
// from Request to Response, so routing and admission are tested without sockets.
#pragma once

#include <chrono>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace scangate::webhook {

struct Request {
  std::string method;  // "GET", "POST", ...
  std::string target;  // as sent: "/validate?timeout=10s"
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  std::chrono::steady_clock::time_point received{};  // when the full request was read

  // First header value with this name (case-insensitive), "" when absent.
  std::string_view header(std::string_view name) const;
  std::string_view path() const;   // target before '?'
  std::string_view query() const;  // target after '?', "" when none
};

struct Response {
  int status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;  // extra headers (e.g. Allow)
  bool close = false;                                        // close the connection after this response
};

// Delivers the response; may be called from any thread, once. Later calls are ignored.
using Respond = std::function<void(Response)>;

// Handles one request. It may answer inline or later (e.g. after a scan) through `respond`.
using Handler = std::function<void(Request, Respond)>;

// A plain-text response with a trailing newline.
Response text_response(int status, std::string message);

}  // namespace scangate::webhook
