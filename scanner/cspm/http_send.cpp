#include "scanner/cspm/http_send.h"

#include <algorithm>
#include <nlohmann/json.hpp>
#include <random>

#include "scanner/net/http_client.h"

namespace scangate::cspm {

namespace {

constexpr size_t kMaxResponseBody = 64 * 1024;  // enough for any error detail

std::string safe_filename(const std::string& name) {
  std::string out;
  for (char c : name) {
    bool ok =
        (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '-' || c == '_';
    out += ok ? c : '_';
  }
  return out.empty() ? "report.json" : out;
}

std::string random_boundary() {
  std::random_device rd;
  static constexpr char kHex[] = "0123456789abcdef";
  std::string b = "scangate-";
  for (int i = 0; i < 32; ++i) b += kHex[rd() & 15];
  return b;
}

}  // namespace

std::string body_excerpt(std::string_view body) {
  std::string text;
  auto j = nlohmann::json::parse(body, nullptr, false);
  if (j.is_object() && j.contains("detail")) {
    text = j["detail"].is_string() ? j["detail"].get<std::string>() : j["detail"].dump();
  } else if (j.is_object() || j.is_array()) {
    text = j.dump();
  } else {
    text = std::string(body);
  }
  std::string out;
  for (char c : text) {
    if (out.size() >= 300) {
      out += "...";
      break;
    }
    out += (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) ? ' ' : c;
  }
  return out;
}

SendOutcome classify_response(int status, std::optional<std::string_view> retry_after, std::string_view body,
                              std::chrono::system_clock::time_point now) {
  SendOutcome o;
  o.http_status = status;
  std::string excerpt = body_excerpt(body);
  std::string said = excerpt.empty() ? "" : ": " + excerpt;
  if (status >= 200 && status < 300) {
    o.status = SendStatus::kDelivered;
    o.detail = "HTTP " + std::to_string(status) + said;
  } else if (status == 408 || status == 425 || status == 429 || status >= 500) {
    o.status = SendStatus::kRetryable;
    if (retry_after) o.retry_after = net::parse_retry_after(*retry_after, now);
    o.detail = "HTTP " + std::to_string(status) + said;
  } else if (status == 401 || status == 403) {
    o.status = SendStatus::kPermanentAuth;
    o.detail = "HTTP " + std::to_string(status) + " (authentication failed: check the token" +
               std::string(status == 403 ? " and the tenant id" : "") + ")" + said;
  } else {
    o.status = SendStatus::kPermanent;
    o.detail = "HTTP " + std::to_string(status) + " (rejected; it will not be retried)" + said;
  }
  return o;
}

std::string encode_multipart(const std::vector<FormPart>& parts, const std::string& boundary) {
  std::string body;
  for (const auto& p : parts) {
    body += "--" + boundary + "\r\n";
    body += "Content-Disposition: form-data; name=\"" + p.name + "\"";
    if (!p.filename.empty()) body += "; filename=\"" + safe_filename(p.filename) + "\"";
    body += "\r\n";
    if (!p.content_type.empty()) body += "Content-Type: " + p.content_type + "\r\n";
    body += "\r\n";
    body += p.content;
    body += "\r\n";
  }
  body += "--" + boundary + "--\r\n";
  return body;
}

Result<SendOutcome> post_multipart(const MultipartPost& post) {
  auto scrub = [&](const std::string& s) { return redact(s, post.secrets); };
  auto base = net::parse_url(post.base_url);
  if (!base.ok()) return Error(ErrorKind::kInvalidArgument, scrub("cannot use the URL " + post.base_url));
  net::Request req;
  req.method = "POST";
  req.url = *base;
  std::string prefix = base->path();
  if (prefix == "/") prefix.clear();
  req.url.target = prefix + post.path_and_query;
  if (req.url.target.empty() || req.url.target.front() != '/') req.url.target = "/" + req.url.target;
  const std::string where = "POST " + req.url.str();

  for (const auto& [k, v] : post.headers) {
    req.headers.emplace_back(k, v);
    for (const auto& s : post.secrets)
      if (!s.empty() && v.find(s) != std::string::npos) req.sensitive_headers.push_back(k);
  }
  req.headers.emplace_back("Accept", "application/json");
  std::string boundary = random_boundary();
  for (const auto& p : post.parts) {
    while (p.content.find(boundary) != std::string::npos) boundary = random_boundary();
  }
  req.content_type = "multipart/form-data; boundary=" + boundary;
  req.body = encode_multipart(post.parts, boundary);
  req.max_body = kMaxResponseBody;
  req.retry = net::RetryPolicy{};
  req.retry->max_attempts = 1;  // the uploader retries, with its own budget
  // One report per attempt, attempts seconds apart: an idle connection would buy nothing and hold
  // a worker of the receiving server.
  req.keep_alive = false;

  auto client = net::shared_client(post.http.ca_file, post.http.connect_timeout, post.http.read_timeout);
  net::Failure failure = net::Failure::kNone;
  auto res = client->send(req, post.deadline, &failure);
  if (!res.ok()) {
    const std::string& why = res.error().message;
    switch (failure) {
      case net::Failure::kTlsUntrusted:
        return Error(ErrorKind::kNetwork, scrub(where + " failed: the server certificate is not trusted (give its CA "
                                                        "with --cacert FILE); the report stays spooled"));
      case net::Failure::kCaFile:
      case net::Failure::kInvalid: return Error(res.error().kind, scrub(why));
      case net::Failure::kRedirect: {
        SendOutcome o;
        o.status = SendStatus::kPermanent;
        o.detail = scrub(where + " failed: " + why + " (rejected; it will not be retried)");
        return o;
      }
      default: {
        SendOutcome o;
        o.status = SendStatus::kRetryable;
        o.detail = scrub(why);  // "POST <url> failed: <what happened>"
        return o;
      }
    }
  }
  std::optional<std::string> retry_after;
  if (std::string ra = res->header("Retry-After"); !ra.empty()) retry_after = ra;
  SendOutcome o = classify_response(res->status, retry_after, res->body, std::chrono::system_clock::now());
  o.detail = scrub(where + ": " + o.detail);
  return o;
}

}  // namespace scangate::cspm
