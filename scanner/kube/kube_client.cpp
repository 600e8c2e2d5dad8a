#include "scanner/kube/kube_client.h"

#include <sys/stat.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <thread>

#include "scanner/core/json_depth.h"
#include "scanner/core/log.h"
#include "scanner/kube/ca_bundle.h"

namespace scangate::kube {

namespace {

using nlohmann::json;

bool file_exists(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0;
}

std::string trim(std::string s) {
  const char* ws = " \t\r\n";
  s.erase(0, s.find_first_not_of(ws));
  auto end = s.find_last_not_of(ws);
  s.erase(end == std::string::npos ? 0 : end + 1);
  return s;
}

// A bounded, printable excerpt of a body that is not a Status, for messages.
std::string excerpt(const std::string& body) {
  std::string out;
  for (char c : body.substr(0, 200)) out += (c >= 0x20 && c < 0x7f) ? c : ' ';
  out = trim(out);
  if (body.size() > 200) out += "...";
  return out;
}

std::string http_reason(int status) {
  switch (status) {
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 409: return "Conflict";
    case 415: return "Unsupported Media Type";
    case 422: return "Unprocessable Entity";
    case 429: return "Too Many Requests";
    case 500: return "Internal Server Error";
    case 503: return "Service Unavailable";
    default: return "";
  }
}

bool retryable_failure(net::Failure f) {
  return f == net::Failure::kConnect || f == net::Failure::kIo || f == net::Failure::kTimeout;
}

}  // namespace

GetEnv process_env() {
  return [](const std::string& name) -> std::optional<std::string> {
    const char* v = std::getenv(name.c_str());
    if (v == nullptr) return std::nullopt;
    return std::string(v);
  };
}

std::string service_url(const std::string& host, const std::string& port) {
  std::string h = host;
  if (h.find(':') != std::string::npos && h.front() != '[') h = "[" + h + "]";
  return "https://" + h + ":" + (port.empty() ? std::string("443") : port);
}

Result<KubeConfig> in_cluster_config(const ConfigOverrides& overrides, const GetEnv& env) {
  KubeConfig c;
  if (!overrides.server.empty()) {
    c.server = overrides.server;
  } else {
    auto host = env("KUBERNETES_SERVICE_HOST");
    auto port = env("KUBERNETES_SERVICE_PORT");
    if (!host || host->empty())
      return Error(ErrorKind::kInvalidArgument,
                   "no Kubernetes API server: KUBERNETES_SERVICE_HOST is not set (not running in a pod?); "
                   "name one with --kube-api-server URL");
    c.server = service_url(*host, port.value_or(""));
  }
  const std::string sa = kServiceAccountDir;
  c.token_file = overrides.token_file.empty() ? sa + "/token" : overrides.token_file;
  c.ca_file = overrides.ca_file.empty() ? sa + "/ca.crt" : overrides.ca_file;
  if (!file_exists(c.token_file))
    return Error(ErrorKind::kNotFound, "no service-account token at " + c.token_file +
                                           " (is automountServiceAccountToken off?); name one with --kube-token-file");
  if (!file_exists(c.ca_file))
    return Error(ErrorKind::kNotFound, "no API server CA at " + c.ca_file + "; name the CA bundle with --kube-ca-file");
  return c;
}

Result<std::string> bearer_token(const std::string& text, const std::string& what) {
  std::string t = trim(text);
  if (t.empty()) return Error(ErrorKind::kAuth, what + " is empty");
  // A bearer token is printable ASCII without spaces (a JWT): anything else, a CR or LF above all,
  // would be written into the request's header block as it is (cpp-httplib does not check).
  for (unsigned char c : t)
    if (c < 0x21 || c > 0x7e)
      return Error(ErrorKind::kAuth, what +
                                         " holds a byte a bearer token cannot (a control character, a space or "
                                         "non-ASCII); not sent");
  log::add_secret(t);
  return t;
}

std::string object_of(const std::string& path) {
  std::string p = path.substr(0, path.find('?'));
  while (!p.empty() && p.back() == '/') p.pop_back();
  auto last = p.rfind('/');
  if (last == std::string::npos || last == 0) return p;
  auto before = p.rfind('/', last - 1);
  return p.substr(before == std::string::npos ? 0 : before + 1);
}

Error api_error(const std::string& verb, const std::string& what, const ApiResponse& r) {
  ErrorKind kind = ErrorKind::kNetwork;
  if (r.status == 401 || r.status == 403)
    kind = ErrorKind::kAuth;
  else if (r.status == 404)
    kind = ErrorKind::kNotFound;
  else if (r.status == 400 || r.status == 409 || r.status == 415 || r.status == 422)
    kind = ErrorKind::kInvalidArgument;
  std::string msg = verb + " " + what + ": the API server answered " + std::to_string(r.status);
  if (!r.reason.empty())
    msg += " " + r.reason;
  else if (auto reason = http_reason(r.status); !reason.empty())
    msg += " " + reason;
  if (!r.message.empty()) msg += ": " + r.message;
  if (r.status == 401) msg += " (the service-account token was refused)";
  if (r.status == 403) msg += " (the service account lacks the RBAC permission)";
  return Error(kind, log::redact(msg));
}

KubeClient::KubeClient(KubeConfig cfg, ClientOptions opts, net::Url base, std::unique_ptr<net::HttpClient> http)
    : cfg_(std::move(cfg)), opts_(std::move(opts)), base_(std::move(base)), http_(std::move(http)) {}

Result<std::unique_ptr<KubeClient>> KubeClient::create(KubeConfig config, ClientOptions options) {
  auto url = net::parse_url(config.server);
  if (!url) return url.error().wrap("Kubernetes API server URL");
  if (url->scheme != "https" && !net::is_loopback_host(url->host))
    return Error(ErrorKind::kInvalidArgument,
                 "Kubernetes API server " + url->display() + ": plain HTTP is allowed only on loopback");
  if (!config.ca_file.empty()) {
    auto ca = read_file_bounded(config.ca_file, kMaxCaBundleBytes, "the Kubernetes API CA file");
    if (!ca) return ca.error();
    SG_TRY(check_ca_bundle(*ca, "Kubernetes API CA file " + config.ca_file));
  }
  if (!config.ca_pem.empty()) SG_TRY(check_ca_bundle(config.ca_pem, "the Kubernetes API CA data"));
  if (config.token_file.empty() && !config.token.empty()) {
    // Checked once here: an inline token never changes, and a bad one must fail before any call.
    auto t = bearer_token(config.token, "the Kubernetes API token");
    if (!t) return t.error();
    config.token = std::move(*t);
  }
  net::HttpClientOptions ho;
  ho.ca_file = config.ca_file;
  ho.ca_pem = config.ca_pem;
  ho.connect_timeout = options.connect_timeout;
  ho.io_timeout = options.io_timeout;
  ho.user_agent = options.user_agent;
  ho.max_redirects = 0;       // the API server does not redirect; a redirect is not followed with the token
  ho.retry.max_attempts = 1;  // call() retries, so that it can tell statuses apart
  if (options.sleeper) ho.sleeper = options.sleeper;
  auto http = std::make_unique<net::HttpClient>(ho);
  return std::unique_ptr<KubeClient>(new KubeClient(std::move(config), std::move(options), *url, std::move(http)));
}

Result<std::string> KubeClient::token() {
  if (cfg_.token_file.empty()) return cfg_.token;  // inline (checked by create) or none
  std::lock_guard<std::mutex> l(token_mu_);
  struct stat st {};
  if (::stat(cfg_.token_file.c_str(), &st) != 0)
    return Error(ErrorKind::kAuth, "cannot read the service-account token " + cfg_.token_file);
  Stamp now{static_cast<unsigned long long>(st.st_ino), static_cast<long long>(st.st_size),
            static_cast<long long>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec};
  if (now == token_stamp_ && !token_.empty()) return token_;
  auto text = read_file_bounded(cfg_.token_file, kMaxTokenBytes, "the service-account token");
  if (!text) return Error(ErrorKind::kAuth, text.error().message);
  auto t = bearer_token(*text, "the service-account token " + cfg_.token_file);
  if (!t) return t.error();
  token_ = std::move(*t);
  token_stamp_ = now;
  return token_;
}

Result<ApiResponse> KubeClient::call(const std::string& method, const std::string& path, const std::string& body,
                                     const std::string& content_type, const Deadline& deadline, bool retry_statuses) {
  if (path.empty() || path.front() != '/')
    return Error(ErrorKind::kInvalidArgument, "Kubernetes API path \"" + path + "\" must start with /");
  net::Request req;
  req.method = method;
  req.url = base_;
  std::string prefix = base_.path();
  while (!prefix.empty() && prefix.back() == '/') prefix.pop_back();
  req.url.target = prefix + path;
  req.headers.emplace_back("Accept", "application/json");
  req.body = body;
  req.content_type = content_type;
  req.max_body = 8u << 20;
  req.follow_redirects = false;
  net::RetryPolicy once;
  once.max_attempts = 1;
  req.retry = once;
  req.cancel = opts_.cancel;

  const net::Sleeper sleep = opts_.sleeper ? opts_.sleeper : net::real_sleeper();
  const net::RandomSource random = net::real_random();
  const std::string what = method + " " + req.url.display();
  for (int attempt = 1;; ++attempt) {
    if (opts_.cancel != nullptr && opts_.cancel->cancelled())
      return Error(ErrorKind::kInternal, what + ": cancelled (the process is stopping)");
    auto tok = token();  // read again each try: a rotated token replaces the one that was refused
    if (!tok) return tok.error();
    req.headers.erase(std::remove_if(req.headers.begin(), req.headers.end(),
                                     [](const auto& h) { return h.first == "Authorization"; }),
                      req.headers.end());
    if (!tok->empty()) req.headers.emplace_back("Authorization", "Bearer " + *tok);

    net::Failure failure = net::Failure::kNone;
    auto r = http_->send(req, deadline, &failure);
    const bool last = attempt >= opts_.retry.max_attempts;
    std::optional<std::chrono::milliseconds> retry_after;
    if (!r) {
      if (last || !retryable_failure(failure)) return Error(r.error().kind, log::redact(r.error().message));
    } else {
      const int status = r->status;
      const bool again = status == 429 || (retry_statuses && net::is_retryable_status(status));
      if (!again || last) {
        ApiResponse out;
        out.status = status;
        out.raw = std::move(r->body);
        out.headers = std::move(r->headers);
        // Nested deeper than any Kubernetes object: not parsed (8 MiB of '[' would cost ~600 MiB).
        if (json_nesting(out.raw, kMaxJsonNesting) <= kMaxJsonNesting) out.body = json::parse(out.raw, nullptr, false);
        if (out.body.is_discarded()) out.body = nullptr;
        if (!out.ok()) {
          if (out.body.is_object() && out.body.value("kind", "") == "Status") {
            if (out.body.contains("message") && out.body["message"].is_string())
              out.message = out.body["message"].get<std::string>();
            if (out.body.contains("reason") && out.body["reason"].is_string())
              out.reason = out.body["reason"].get<std::string>();
          } else if (!out.raw.empty()) {
            out.message = excerpt(out.raw);
          }
        }
        return out;
      }
      retry_after = net::parse_retry_after(r->header("Retry-After"), std::chrono::system_clock::now());
    }
    auto delay = net::backoff_delay(opts_.retry, attempt, retry_after, random());
    if (deadline.bounded() && delay >= deadline.remaining())
      return Error(ErrorKind::kNetwork, what + ": the deadline leaves no time to retry after " +
                                            (r ? "status " + std::to_string(r->status) : r.error().message));
    sleep(delay);
  }
}

Result<nlohmann::json> KubeClient::get(const std::string& path, const Deadline& deadline) {
  auto r = call("GET", path, "", "", deadline);
  if (!r) return r.error().wrap("get " + object_of(path));
  if (!r->ok()) return api_error("get", object_of(path), *r);
  if (!r->body.is_object())
    return Error(ErrorKind::kFormat, "get " + object_of(path) + ": the API server's answer is not a JSON object");
  return std::move(r->body);
}

Result<nlohmann::json> KubeClient::apply(const std::string& path, const nlohmann::json& object,
                                         const std::string& field_manager, const Deadline& deadline) {
  if (field_manager.empty()) return Error(ErrorKind::kInvalidArgument, "server-side apply needs a field manager");
  std::string target = path + (path.find('?') == std::string::npos ? "?" : "&") +
                       "fieldManager=" + net::percent_encode(field_manager) + "&force=true";
  auto r = call("PATCH", target, object.dump(), "application/apply-patch+yaml", deadline);
  if (!r) return r.error().wrap("apply " + object_of(path));
  if (!r->ok()) return api_error("apply", object_of(path), *r);
  return std::move(r->body);
}

Result<nlohmann::json> KubeClient::create(const std::string& collection_path, const nlohmann::json& object,
                                          const Deadline& deadline) {
  std::string what = object_of(collection_path);
  if (object.contains("metadata") && object["metadata"].is_object()) {
    const auto& m = object["metadata"];
    if (m.contains("name") && m["name"].is_string())
      what = object_of(collection_path) + "/" + m["name"].get<std::string>();
  }
  auto r = call("POST", collection_path, object.dump(), "application/json", deadline, false);
  if (!r) return r.error().wrap("create " + what);
  if (!r->ok()) return api_error("create", what, *r);
  return std::move(r->body);
}

Result<void> KubeClient::remove(const std::string& path, const Deadline& deadline) {
  auto r = call("DELETE", path, "", "", deadline);
  if (!r) return r.error().wrap("delete " + object_of(path));
  if (r->status == 404 || r->ok()) return Ok();
  return api_error("delete", object_of(path), *r);
}

}  // namespace scangate::kube
