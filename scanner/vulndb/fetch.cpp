#include "scanner/vulndb/fetch.h"

#include <cstdio>
#include <functional>
#include <memory>

#include "scanner/net/http_client.h"

namespace scangate::vulndb {
namespace {

// `restart` runs whenever a 2xx answer starts (again, on a retry); `sink` gets its body.
Result<void> fetch(const std::string& url, const FetchOptions& opts, const std::function<void()>& restart,
                   const std::function<bool(const char*, std::size_t)>& sink) {
  if (!is_url(url)) return Error(ErrorKind::kInvalidArgument, "not an http(s) URL: " + url);
  auto parsed = net::parse_url(url);
  if (!parsed.ok()) return Error(ErrorKind::kInvalidArgument, "unsupported URL: " + parsed.error().message);
  net::Request req;
  req.url = *parsed;
  for (const auto& [k, v] : opts.headers) {
    req.headers.emplace_back(k, v);
    req.sensitive_headers.push_back(k);
  }
  req.max_body = 64u << 10;  // error answers
  net::RetryPolicy retry;
  retry.max_attempts = std::max(0, opts.retries) + 1;
  retry.initial_delay = opts.retry_delay;
  retry.max_delay = std::max(opts.retry_delay * 8, std::chrono::milliseconds(1));
  req.retry = retry;
  std::uint64_t received = 0;
  bool too_big = false, sink_failed = false;
  req.on_success = [&](int) {
    received = 0;
    restart();
  };
  req.sink = [&](const char* data, std::size_t len) {
    received += len;
    if (received > opts.max_bytes) {
      too_big = true;
      return false;
    }
    if (!sink(data, len)) {
      sink_failed = true;
      return false;
    }
    return true;
  };
  auto r =
      net::shared_client(opts.ca_file, opts.connect_timeout, opts.read_timeout, "scangate")->send(req, opts.deadline);
  if (too_big)
    return Error(ErrorKind::kLimit,
                 "downloading " + url + ": larger than " + std::to_string(opts.max_bytes) + " bytes");
  if (sink_failed) return Error(ErrorKind::kIo, "downloading " + url + ": cannot write the download");
  if (!r.ok()) return Error(r.error().kind, "downloading " + url + ": " + r.error().message);
  if (r->status < 200 || r->status >= 300)
    return Error(r->status == 404                       ? ErrorKind::kNotFound
                 : r->status == 401 || r->status == 403 ? ErrorKind::kAuth
                                                        : ErrorKind::kNetwork,
                 "downloading " + url + ": HTTP " + std::to_string(r->status) +
                     (r->attempts > 1 ? " (after " + std::to_string(r->attempts) + " attempts)" : ""));
  return Ok();
}

}  // namespace

bool is_url(std::string_view s) { return s.rfind("http://", 0) == 0 || s.rfind("https://", 0) == 0; }

Result<void> fetch_to_file(const std::string& url, const std::string& path, const FetchOptions& opts) {
  std::FILE* f = nullptr;
  auto close = [&] {
    if (f) std::fclose(f);
    f = nullptr;
  };
  auto r = fetch(
      url, opts,
      [&] {
        close();
        f = std::fopen(path.c_str(), "wb");
      },
      [&](const char* data, std::size_t len) { return f && std::fwrite(data, 1, len, f) == len; });
  bool flushed = f && std::fflush(f) == 0;
  close();
  if (!r) return r;
  if (!flushed) return Error(ErrorKind::kIo, "writing the download of " + url + " to " + path + " failed");
  return Ok();
}

Result<std::string> fetch_to_string(const std::string& url, const FetchOptions& opts) {
  std::string body;
  auto r = fetch(
      url, opts, [&] { body.clear(); },
      [&](const char* data, std::size_t len) {
        body.append(data, len);
        return true;
      });
  if (!r) return r.error();
  return body;
}

}  // namespace scangate::vulndb
