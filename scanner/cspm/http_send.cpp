#include "scanner/cspm/http_send.h"

#include <httplib.h>
#include <openssl/x509.h>

#include <algorithm>
#include <ctime>
#include <nlohmann/json.hpp>
#include <random>

namespace scangate::cspm {

namespace {

// httplib names its errors in one word ("Connection"); say what happened.
std::string describe_transport_error(httplib::Error err) {
  switch (err) {
    case httplib::Error::Connection: return "cannot connect (nothing listening, or the host is unreachable)";
    case httplib::Error::ConnectionTimeout: return "the connection attempt timed out";
    case httplib::Error::Read: return "no complete answer (the server closed the connection or was too slow)";
    case httplib::Error::Write: return "the connection broke while sending the report";
    case httplib::Error::SSLConnection: return "the TLS handshake failed";
    default: return httplib::to_string(err);
  }
}

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

struct SplitUrl {
  std::string scheme_host_port;
  std::string path_prefix;
};

SplitUrl split_base(const std::string& base) {
  size_t host_start = base.find("://");
  host_start = host_start == std::string::npos ? 0 : host_start + 3;
  size_t slash = base.find('/', host_start);
  if (slash == std::string::npos) return {base, ""};
  return {base.substr(0, slash), base.substr(slash)};
}

}  // namespace

std::optional<std::chrono::milliseconds> parse_retry_after(std::string_view value,
                                                           std::chrono::system_clock::time_point now) {
  while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
  while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.remove_suffix(1);
  if (value.empty()) return std::nullopt;
  if (value.find_first_not_of("0123456789") == std::string_view::npos) {
    if (value.size() > 9) return std::chrono::hours(24);  // absurdly large: the caller caps it anyway
    return std::chrono::seconds(std::stol(std::string(value)));
  }
  std::tm tm{};
  std::string s(value);
  const char* end = strptime(s.c_str(), "%a, %d %b %Y %H:%M:%S GMT", &tm);
  if (!end || *end != '\0') return std::nullopt;
  auto at = std::chrono::system_clock::from_time_t(timegm(&tm));
  if (at <= now) return std::chrono::milliseconds(0);
  return std::chrono::duration_cast<std::chrono::milliseconds>(at - now);
}

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
    if (retry_after) o.retry_after = parse_retry_after(*retry_after, now);
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
  SplitUrl url = split_base(post.base_url);
  std::string target = url.path_prefix + post.path_and_query;
  std::string where = "POST " + url.scheme_host_port + target;

  httplib::Client cli(url.scheme_host_port);
  if (!cli.is_valid()) return Error(ErrorKind::kInvalidArgument, scrub("cannot use the URL " + post.base_url));
  auto us = [](std::chrono::milliseconds d) { return std::chrono::duration_cast<std::chrono::microseconds>(d); };
  cli.set_connection_timeout(us(post.http.connect_timeout));
  cli.set_read_timeout(us(post.http.read_timeout));
  cli.set_write_timeout(us(post.http.read_timeout));
  cli.set_follow_location(false);  // a redirect would resend the token elsewhere
  cli.set_keep_alive(false);
  cli.set_decompress(false);
  if (url.scheme_host_port.rfind("https://", 0) == 0) {
    cli.enable_server_certificate_verification(true);
    if (!post.http.ca_file.empty()) {
      X509_STORE* store = X509_STORE_new();
      if (!store) return Error(ErrorKind::kInternal, "out of memory creating a certificate store");
      X509_STORE_set_default_paths(store);
      if (X509_STORE_load_file(store, post.http.ca_file.c_str()) != 1) {
        X509_STORE_free(store);
        return Error(ErrorKind::kInvalidArgument,
                     "cannot load CA certificates from --cacert " + post.http.ca_file + " (expected PEM)");
      }
      cli.set_ca_cert_store(store);  // the client owns it now
    }
  }

  std::string boundary = random_boundary();
  for (const auto& p : post.parts) {
    while (p.content.find(boundary) != std::string::npos) boundary = random_boundary();
  }
  httplib::Request req;
  req.method = "POST";
  req.path = target;
  for (const auto& [k, v] : post.headers) req.headers.emplace(k, v);
  req.headers.emplace("User-Agent", "scangate/0.1");
  req.headers.emplace("Accept", "application/json");
  req.headers.emplace("Content-Type", "multipart/form-data; boundary=" + boundary);
  req.body = encode_multipart(post.parts, boundary);

  std::string body;
  req.content_receiver = [&](const char* data, size_t n, uint64_t, uint64_t) {
    size_t room = kMaxResponseBody - std::min(kMaxResponseBody, body.size());
    body.append(data, std::min(room, n));
    return true;
  };
  httplib::Response res;
  httplib::Error err = httplib::Error::Success;
  bool sent = cli.send(req, res, err);
  if (!sent) {
    std::string what = describe_transport_error(err);
    if (err == httplib::Error::SSLServerVerification)
      return Error(ErrorKind::kNetwork, scrub(where + " failed: the server certificate is not trusted (give its CA "
                                                      "with --cacert FILE); the report stays spooled"));
    if (err == httplib::Error::SSLLoadingCerts)
      return Error(ErrorKind::kNetwork, scrub(where + " failed: cannot load the trusted certificates"));
    SendOutcome o;
    o.status = SendStatus::kRetryable;
    o.detail = scrub(where + " failed: " + what);
    return o;
  }
  std::optional<std::string> retry_after;
  if (res.has_header("Retry-After")) retry_after = res.get_header_value("Retry-After");
  SendOutcome o = classify_response(res.status, retry_after, body, std::chrono::system_clock::now());
  o.detail = scrub(where + ": " + o.detail);
  return o;
}

}  // namespace scangate::cspm
