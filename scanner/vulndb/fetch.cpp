#include "scanner/vulndb/fetch.h"

#include <httplib.h>

#include <cstdio>
#include <functional>
#include <thread>

namespace scangate::vulndb {
namespace {

struct UrlParts {
  std::string scheme_host_port;
  std::string path;
};

Result<UrlParts> split_url(const std::string& url) {
  auto scheme_end = url.find("://");
  if (scheme_end == std::string::npos || !is_url(url))
    return Error(ErrorKind::kInvalidArgument, "not an http(s) URL: " + url);
  auto path_start = url.find('/', scheme_end + 3);
  UrlParts p;
  p.scheme_host_port = url.substr(0, path_start);
  p.path = path_start == std::string::npos ? "/" : url.substr(path_start);
  if (p.scheme_host_port.size() <= scheme_end + 3) return Error(ErrorKind::kInvalidArgument, "URL has no host: " + url);
  return p;
}

// One attempt; `sink` gets the body chunks. Returns the HTTP status (0 on a transport error).
Result<int> attempt(const UrlParts& u, const std::string& url, const FetchOptions& opts,
                    const std::function<bool(const char*, std::size_t)>& sink, bool& retryable) {
  httplib::Client cli(u.scheme_host_port);
  if (!cli.is_valid()) return Error(ErrorKind::kInvalidArgument, "unsupported URL: " + url);
  cli.set_connection_timeout(static_cast<time_t>(opts.connect_timeout.count()), 0);
  cli.set_read_timeout(static_cast<time_t>(opts.read_timeout.count()), 0);
  cli.set_follow_location(true);
  cli.enable_server_certificate_verification(true);
  if (!opts.ca_file.empty()) cli.set_ca_cert_path(opts.ca_file);
  httplib::Headers headers{{"User-Agent", "scangate"}};
  for (const auto& [k, v] : opts.headers) headers.emplace(k, v);

  int status = 0;
  std::uint64_t received = 0;
  bool too_big = false, sink_failed = false;
  auto res = cli.Get(
      u.path, headers,
      [&](const httplib::Response& r) {
        status = r.status;
        return r.status >= 200 && r.status < 300;
      },
      [&](const char* data, std::size_t len) {
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
      });
  retryable = false;
  if (too_big)
    return Error(ErrorKind::kLimit,
                 "downloading " + url + ": larger than " + std::to_string(opts.max_bytes) + " bytes");
  if (sink_failed) return Error(ErrorKind::kIo, "downloading " + url + ": cannot write the download");
  if (status != 0 && (status < 200 || status >= 300)) {
    retryable = status == 429 || status >= 500;
    return Error(status == 404                    ? ErrorKind::kNotFound
                 : status == 401 || status == 403 ? ErrorKind::kAuth
                                                  : ErrorKind::kNetwork,
                 "downloading " + url + ": HTTP " + std::to_string(status));
  }
  if (!res) {
    retryable = true;
    return Error(ErrorKind::kNetwork, "downloading " + url + ": " + httplib::to_string(res.error()));
  }
  return status;
}

Result<void> fetch(const std::string& url, const FetchOptions& opts, const std::function<void()>& restart,
                   const std::function<bool(const char*, std::size_t)>& sink) {
  auto u = split_url(url);
  if (!u) return u.error();
  for (int i = 0;; ++i) {
    restart();
    bool retryable = false;
    auto r = attempt(u.value(), url, opts, sink, retryable);
    if (r) return Ok();
    if (!retryable || i >= opts.retries) return r.error();
    std::this_thread::sleep_for(opts.retry_delay * (i + 1));
  }
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
