#include "scanner/image/registry_client.h"

#include <httplib.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include <algorithm>
#include <cctype>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <random>
#include <set>

#include "scanner/image/digest.h"
#include "scanner/image/manifest.h"
#include "scanner/image/producer_stream.h"
#include "scanner/image/www_authenticate.h"

namespace scangate {
namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// Splits "host[:port]" / "[v6][:port]" into host and port text.
void split_host_port(std::string_view hp, std::string_view* host, std::string_view* port) {
  *port = {};
  if (!hp.empty() && hp.front() == '[') {
    auto close = hp.find(']');
    if (close == std::string_view::npos) {
      *host = hp;
      return;
    }
    *host = hp.substr(0, close + 1);
    if (close + 1 < hp.size() && hp[close + 1] == ':') *port = hp.substr(close + 2);
    return;
  }
  auto colon = hp.rfind(':');
  if (colon == std::string_view::npos) {
    *host = hp;
    return;
  }
  *host = hp.substr(0, colon);
  *port = hp.substr(colon + 1);
}

struct Url {
  std::string scheme;  // "http" | "https"
  std::string host;    // "[::1]" for IPv6
  int port = 0;
  std::string target;  // "/path?query"

  std::string origin() const { return scheme + "://" + host + ":" + std::to_string(port); }
  // For messages: no query string (it may carry tokens).
  std::string display() const {
    auto q = target.find('?');
    return scheme + "://" + host +
           ((scheme == "https" && port == 443) || (scheme == "http" && port == 80) ? std::string()
                                                                                   : ":" + std::to_string(port)) +
           target.substr(0, q);
  }
};

Result<Url> parse_url(std::string_view s) {
  auto bad = [&](const std::string& why) {
    return Error(ErrorKind::kFormat, "invalid URL \"" + std::string(s.substr(0, 200)) + "\": " + why);
  };
  auto sep = s.find("://");
  if (sep == std::string_view::npos) return bad("no scheme");
  Url u;
  u.scheme = lower(s.substr(0, sep));
  if (u.scheme != "http" && u.scheme != "https") return bad("only http and https are supported");
  std::string_view rest = s.substr(sep + 3);
  auto end = rest.find_first_of("/?#");
  std::string_view authority = rest.substr(0, end);
  std::string_view tail = end == std::string_view::npos ? std::string_view() : rest.substr(end);
  if (authority.find('@') != std::string_view::npos) return bad("user information in URLs is not supported");
  std::string_view host, port;
  split_host_port(authority, &host, &port);
  if (host.empty()) return bad("no host");
  for (char c : host)
    if (std::isspace(static_cast<unsigned char>(c)) || static_cast<unsigned char>(c) < 0x21) return bad("bad host");
  u.host = std::string(host);
  if (!port.empty()) {
    if (port.size() > 5 || port.find_first_not_of("0123456789") != std::string_view::npos) return bad("bad port");
    u.port = std::stoi(std::string(port));
    if (u.port <= 0 || u.port > 65535) return bad("port out of range");
  } else {
    u.port = u.scheme == "https" ? 443 : 80;
  }
  if (auto hash = tail.find('#'); hash != std::string_view::npos) tail = tail.substr(0, hash);
  if (tail.empty())
    u.target = "/";
  else if (tail.front() == '?')
    u.target = "/" + std::string(tail);
  else
    u.target = std::string(tail);
  for (char c : u.target)
    if (static_cast<unsigned char>(c) < 0x21 || c == 0x7f) return bad("control characters or spaces in the path");
  return u;
}

Result<Url> resolve_location(const Url& base, std::string_view loc) {
  if (loc.find("://") != std::string_view::npos) return parse_url(loc);
  if (loc.substr(0, 2) == "//") return parse_url(base.scheme + ":" + std::string(loc));
  Url u = base;
  if (!loc.empty() && loc.front() == '/') {
    u.target = std::string(loc);
  } else {
    std::string path = base.target.substr(0, base.target.find('?'));
    u.target = path.substr(0, path.rfind('/') + 1) + std::string(loc);
  }
  for (char c : u.target)
    if (static_cast<unsigned char>(c) < 0x21 || c == 0x7f)
      return Error(ErrorKind::kFormat, "redirect location contains control characters or spaces");
  return u;
}

std::string pct_encode(std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 0xf];
    }
  }
  return out;
}

std::string base64(std::string_view in) {
  std::string out(4 * ((in.size() + 2) / 3) + 1, '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(in.data()), static_cast<int>(in.size()));
  out.resize(static_cast<size_t>(n));
  return out;
}

// "CODE: message" from a registry error body, or "".
std::string registry_error_detail(const std::string& body) {
  auto j = nlohmann::json::parse(body, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return {};
  auto errs = j.find("errors");
  if (errs == j.end() || !errs->is_array()) return {};
  std::string out;
  for (const auto& e : *errs) {
    if (!e.is_object()) continue;
    std::string code = e.contains("code") && e["code"].is_string() ? e["code"].get<std::string>() : "";
    std::string msg = e.contains("message") && e["message"].is_string() ? e["message"].get<std::string>() : "";
    std::string one = code.empty() ? msg : (msg.empty() ? code : code + ": " + msg);
    if (one.size() > 300) one = one.substr(0, 300) + "...";
    if (!one.empty()) out += (out.empty() ? "" : "; ") + one;
  }
  return out;
}

std::string with_detail(const std::string& msg, const std::string& body) {
  std::string d = registry_error_detail(body);
  return d.empty() ? msg : msg + " (" + d + ")";
}

std::string header(const httplib::Headers& h, const char* name) {
  auto it = h.find(name);
  return it == h.end() ? std::string() : it->second;
}

bool is_redirect(int status) {
  return status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
}

bool is_loopback_host(std::string_view host);

// Plain HTTP to a host that is not loopback.
bool url_is_plain_remote(const Url& u) { return u.scheme == "http" && !is_loopback_host(u.host); }

bool looks_like_digest(std::string_view s) { return s.find(':') != std::string_view::npos; }

struct Exchange {
  std::string method = "GET";
  httplib::Headers headers;
  std::string body;
  std::string content_type;
  size_t body_limit = 1u << 20;                   // for bodies kept in memory
  std::function<void(int)> on_success;            // streaming: a 2xx header arrived
  std::function<bool(const char*, size_t)> sink;  // streaming: the 2xx body
  ProducerSink* cancel = nullptr;
};

struct Response {
  int status = 0;
  httplib::Headers headers;
  std::string body;
  bool truncated = false;  // body_limit exceeded
};

class HttpRegistryClient final : public RegistryClient, public std::enable_shared_from_this<HttpRegistryClient> {
 public:
  explicit HttpRegistryClient(RegistryClientOptions o) : opts_(std::move(o)), rng_(std::random_device{}()) {
    if (!opts_.sleeper) opts_.sleeper = real_sleeper();
    for (const auto& w : opts_.credentials.warnings) warn(w);
    if (!opts_.ca_file.empty()) {
      ca_store_ = X509_STORE_new();
      if (!ca_store_ || X509_STORE_set_default_paths(ca_store_) != 1 ||
          X509_STORE_load_file(ca_store_, opts_.ca_file.c_str()) != 1) {
        ca_error_ = "cannot load CA certificates from --cacert " + opts_.ca_file + " (it must be a readable PEM file)";
      }
    }
  }
  ~HttpRegistryClient() override {
    if (ca_store_) X509_STORE_free(ca_store_);
  }

  Result<ManifestResponse> get_manifest(const Reference& repo, const std::string& ref) override {
    std::string shown = repo.name() + (looks_like_digest(ref) ? "@" : ":") + ref;
    if (looks_like_digest(ref)) SG_TRY(validate_digest(ref));
    Exchange e;
    e.headers.emplace("Accept", manifest_accept_header());
    e.body_limit = opts_.max_manifest_bytes;
    auto r = registry_request(repo, "/v2/" + repo.repository + "/manifests/" + ref, e, "manifest " + shown);
    if (!r.ok()) return r.error();
    if (r->truncated)
      return Error(ErrorKind::kLimit,
                   "manifest " + shown + " is larger than " + std::to_string(opts_.max_manifest_bytes) + " bytes");
    if (r->status == 404)
      return Error(ErrorKind::kNotFound, with_detail("image " + shown + " not found in " + repo.registry, r->body) +
                                             "; check the repository name and tag");
    if (r->status != 200)
      return Error(ErrorKind::kNetwork, with_detail("registry " + repo.registry + " returned HTTP " +
                                                        std::to_string(r->status) + " for manifest " + shown,
                                                    r->body));
    ManifestResponse out;
    out.body = std::move(r->body);
    out.media_type = header(r->headers, "Content-Type");
    out.digest = sha256_digest(out.body);
    std::string claimed = header(r->headers, "Docker-Content-Digest");
    if (!claimed.empty() && validate_digest(claimed).ok()) {
      auto got = compute_digest_like(claimed, out.body);
      if (got.ok() && *got != claimed)
        return Error(ErrorKind::kIntegrity, "manifest " + shown + " digest mismatch: the registry says " + claimed +
                                                " but the content is " + *got);
    }
    if (looks_like_digest(ref)) {
      auto got = compute_digest_like(ref, out.body);
      if (!got.ok()) return got.error();
      if (*got != ref) return Error(ErrorKind::kIntegrity, "manifest " + shown + " digest mismatch (got " + *got + ")");
      out.digest = ref;
    }
    return out;
  }

  Result<std::string> resolve_digest(const Reference& ref) override {
    if (!ref.digest.empty()) return ref.digest;
    std::string tag = ref.effective_tag();
    Exchange e;
    e.method = "HEAD";
    e.headers.emplace("Accept", manifest_accept_header());
    auto r = registry_request(ref, "/v2/" + ref.repository + "/manifests/" + tag, e, "manifest " + ref.normalized());
    if (!r.ok()) return r.error();
    if (r->status == 404)
      return Error(ErrorKind::kNotFound, "image " + ref.normalized() + " not found in " + ref.registry +
                                             "; check the repository name and tag");
    if (r->status == 200) {
      std::string d = header(r->headers, "Docker-Content-Digest");
      if (!d.empty() && validate_digest(d).ok()) return d;
    }
    // No usable HEAD answer: fetch the manifest and hash it.
    auto m = get_manifest(ref, tag);
    if (!m.ok()) return m.error();
    return m->digest;
  }

  Result<std::string> get_blob(const Reference& repo, const std::string& digest, size_t max_bytes) override {
    auto v = DigestVerifier::create(digest, -1, "blob " + digest);
    if (!v.ok()) return v.error();
    Exchange e;
    e.body_limit = max_bytes;
    auto r = registry_request(repo, "/v2/" + repo.repository + "/blobs/" + digest, e, "blob " + digest);
    if (!r.ok()) return r.error();
    if (r->truncated)
      return Error(ErrorKind::kLimit,
                   "blob " + digest + " of " + repo.name() + " is larger than " + std::to_string(max_bytes) + " bytes");
    if (r->status == 404)
      return Error(ErrorKind::kNotFound, with_detail("blob " + digest + " not found in " + repo.name(), r->body));
    if (r->status != 200)
      return Error(ErrorKind::kNetwork, with_detail("registry " + repo.registry + " returned HTTP " +
                                                        std::to_string(r->status) + " for blob " + digest,
                                                    r->body));
    SG_TRY(v->update(r->body.data(), r->body.size()));
    SG_TRY(v->finish());
    return std::move(r->body);
  }

  Result<std::unique_ptr<BlobStream>> open_blob(const Reference& repo, const std::string& digest,
                                                int64_t size) override {
    SG_TRY(validate_digest(digest));
    auto self = shared_from_this();
    Producer produce = [self, repo, digest](ProducerSink& sink) -> Result<void> {
      uint64_t delivered = 0, skip = 0;
      Exchange e;
      e.cancel = &sink;
      e.body_limit = 64u << 10;
      // A retried request starts from byte 0 again: drop what was already delivered.
      e.on_success = [&](int) {
        skip = delivered;
        sink.started();
      };
      e.sink = [&](const char* d, size_t n) {
        if (skip > 0) {
          size_t k = static_cast<size_t>(std::min<uint64_t>(skip, n));
          skip -= k;
          d += k;
          n -= k;
          if (n == 0) return true;
        }
        if (!sink.write(d, n)) return false;
        delivered += n;
        return true;
      };
      auto r = self->registry_request(repo, "/v2/" + repo.repository + "/blobs/" + digest, e, "blob " + digest);
      if (!r.ok()) return r.error();
      if (r->status == 404)
        return Error(ErrorKind::kNotFound, with_detail("blob " + digest + " not found in " + repo.name(), r->body));
      if (r->status < 200 || r->status >= 300)
        return Error(ErrorKind::kNetwork, with_detail("registry " + repo.registry + " returned HTTP " +
                                                          std::to_string(r->status) + " for blob " + digest,
                                                      r->body));
      return Ok();
    };
    auto s = start_producer_stream(std::move(produce), opts_.max_buffered_blob_bytes);
    if (!s.ok()) return s.error();
    return make_verified_stream(std::move(s).value(), digest, size);
  }

 private:
  void warn(const std::string& msg) const {
    if (opts_.warn) opts_.warn(msg);
  }

  double next_random() {
    if (opts_.random) return opts_.random();
    std::lock_guard<std::mutex> lock(mu_);
    return std::uniform_real_distribution<double>(0.0, 1.0)(rng_);
  }

  std::optional<Credential> credential_for(const std::string& registry) const {
    if (opts_.credential && !opts_.credential->empty()) return opts_.credential;
    return opts_.credentials.find(registry);
  }

  bool insecure(const std::string& registry) const { return is_insecure_registry(registry, opts_.insecure_registries); }

  std::string scheme_for(const std::string& registry) const {
    if (is_loopback_registry(registry)) return "http";
    if (insecure(registry)) {
      std::lock_guard<std::mutex> lock(mu_);
      if (plain_http_.count(registry)) return "http";
    }
    return "https";
  }

  // One HTTP exchange. `retryable` tells whether a failure may be retried.
  Result<Response> exchange_once(const Url& url, const Exchange& ex, bool verify_tls, bool* retryable) {
    *retryable = false;
    auto cli = std::make_unique<httplib::Client>(url.scheme + "://" + url.host + ":" + std::to_string(url.port));
    if (!cli->is_valid()) return Error(ErrorKind::kInvalidArgument, "cannot connect to " + url.display());
    auto ms = [](std::chrono::milliseconds d) { return std::chrono::duration_cast<std::chrono::microseconds>(d); };
    cli->set_connection_timeout(ms(opts_.connect_timeout));
    cli->set_read_timeout(ms(opts_.read_timeout));
    cli->set_write_timeout(ms(opts_.read_timeout));
    cli->set_follow_location(false);
    cli->set_decompress(false);
    cli->set_url_encode(false);
    cli->set_keep_alive(false);
    if (url.scheme == "https") {
      if (!verify_tls) {
        cli->enable_server_certificate_verification(false);
      } else if (ca_store_) {
        if (!ca_error_.empty()) return Error(ErrorKind::kInvalidArgument, ca_error_);
        X509_STORE_up_ref(ca_store_);
        cli->set_ca_cert_store(ca_store_);
      }
    }
    httplib::Request req;
    req.method = ex.method;
    req.path = url.target;
    req.headers = ex.headers;
    req.headers.emplace("User-Agent", opts_.user_agent);
    req.headers.emplace("Accept-Encoding", "identity");
    if (ex.method == "POST") {
      req.body = ex.body;
      req.headers.emplace("Content-Type", ex.content_type);
    }
    Response out;
    bool success = false;
    req.response_handler = [&](const httplib::Response& r) {
      out.status = r.status;
      out.headers = r.headers;
      success = r.status >= 200 && r.status < 300;
      if (success && ex.on_success) ex.on_success(r.status);
      return !(ex.cancel && ex.cancel->cancelled());
    };
    req.content_receiver = [&](const char* d, size_t n, uint64_t, uint64_t) {
      if (success && ex.sink) return ex.sink(d, n);
      if (out.body.size() + n > ex.body_limit) {
        out.truncated = true;
        return false;
      }
      out.body.append(d, n);
      return true;
    };
    if (ex.cancel) ex.cancel->set_interrupt([c = cli.get()] { c->stop(); });
    httplib::Response res;
    httplib::Error err = httplib::Error::Success;
    bool ok = cli->send(req, res, err);
    if (ex.cancel) ex.cancel->set_interrupt(nullptr);
    if (out.truncated) return out;
    if (ex.cancel && ex.cancel->cancelled()) return Error(ErrorKind::kInternal, "download cancelled");
    if (!ok) {
      std::string msg = ex.method + " " + url.display() + " failed: " + httplib::to_string(err);
      if (err == httplib::Error::SSLServerVerification)
        return Error(ErrorKind::kNetwork, msg +
                                              " (the server certificate is not trusted; add its CA with "
                                              "--cacert FILE, or use --insecure-registry for a test registry)");
      if (err == httplib::Error::SSLLoadingCerts) return Error(ErrorKind::kNetwork, msg);
      *retryable = true;
      return Error(ErrorKind::kNetwork, msg);
    }
    return out;
  }

  Result<Response> exchange_retrying(const Url& url, const Exchange& ex, bool verify_tls, const std::string& what) {
    const int max_attempts = std::max(1, opts_.retry.max_attempts);
    for (int attempt = 1;; ++attempt) {
      bool retryable = false;
      auto r = exchange_once(url, ex, verify_tls, &retryable);
      bool last = attempt >= max_attempts || (ex.cancel && ex.cancel->cancelled());
      if (!r.ok()) {
        if (!retryable || last) {
          if (attempt > 1 && retryable)
            return Error(r.error().kind,
                         r.error().message + " (" + what + ", gave up after " + std::to_string(attempt) + " attempts)");
          return r.error();
        }
        opts_.sleeper(backoff_delay(opts_.retry, attempt, std::nullopt, next_random()));
        continue;
      }
      if (!r->truncated && is_retryable_status(r->status) && !last) {
        auto ra = parse_retry_after(header(r->headers, "Retry-After"), std::chrono::system_clock::now());
        opts_.sleeper(backoff_delay(opts_.retry, attempt, ra, next_random()));
        continue;
      }
      if (is_retryable_status(r->status) && attempt > 1) {
        return Error(ErrorKind::kNetwork,
                     with_detail(url.display() + " answered HTTP " + std::to_string(r->status) + " for " + what +
                                     " after " + std::to_string(attempt) + " attempts",
                                 r->body) +
                         "; the registry is overloaded or down, try again later");
      }
      return r;
    }
  }

  Result<Response> registry_request(const Reference& repo, const std::string& path, const Exchange& ex,
                                    const std::string& what) {
    const std::string& registry = repo.registry;
    const std::string scope_key = registry + "|" + repo.repository;
    bool authenticated = false;
    bool fell_back = false;
    for (int round = 0; round < 4; ++round) {
      auto base = parse_url(scheme_for(registry) + "://" + registry_api_host(registry) + path);
      if (!base.ok()) return Error(ErrorKind::kInvalidArgument, "registry " + registry + ": " + base.error().message);
      std::string authz;
      {
        std::lock_guard<std::mutex> lock(mu_);
        if (auto it = auth_cache_.find(scope_key); it != auth_cache_.end()) authz = it->second;
      }
      Url url = *base;
      const std::string origin = url.origin();
      Result<Response> r = Error(ErrorKind::kInternal, "no request made");
      int redirects = 0;
      bool restart = false;
      while (true) {
        Exchange e = ex;
        bool same_origin = url.origin() == origin;
        // Credentials go only to the registry itself, never to a redirect target elsewhere.
        if (!authz.empty() && same_origin) e.headers.emplace("Authorization", authz);
        r = exchange_retrying(url, e, same_origin ? !insecure(registry) : true, what);
        if (!r.ok()) {
          if (same_origin && url.scheme == "https" && insecure(registry) && !fell_back &&
              r.error().kind == ErrorKind::kNetwork) {
            std::lock_guard<std::mutex> lock(mu_);
            plain_http_.insert(registry);
            fell_back = true;
            restart = true;
            break;
          }
          return r.error();
        }
        if (is_redirect(r->status)) {
          std::string loc = header(r->headers, "Location");
          if (loc.empty())
            return Error(ErrorKind::kNetwork, "registry " + registry + " redirected " + what + " without a Location");
          if (++redirects > opts_.max_redirects)
            return Error(ErrorKind::kNetwork, "too many redirects for " + what + " from registry " + registry);
          auto next = resolve_location(url, loc);
          if (!next.ok()) return next.error().wrap("redirect for " + what);
          if (url.scheme == "https" && next->scheme == "http" && !is_loopback_registry(next->host))
            return Error(ErrorKind::kNetwork, "registry " + registry + " redirected " + what +
                                                  " from HTTPS to plain HTTP; refusing the downgrade");
          url = *next;
          continue;
        }
        if (r->status == 401 && !same_origin)
          return Error(ErrorKind::kAuth, "the storage host " + url.display() + " refused the redirected request for " +
                                             what + " (HTTP 401)");
        break;
      }
      if (restart) continue;
      if (r->status == 401) {
        auto cred = credential_for(registry);
        if (authenticated) return auth_failed(repo, cred, r->body);
        auto token = authenticate(repo, header(r->headers, "WWW-Authenticate"), cred);
        if (!token.ok()) return token.error();
        {
          std::lock_guard<std::mutex> lock(mu_);
          auth_cache_[scope_key] = *token;
        }
        authenticated = true;
        continue;
      }
      if (r->status == 403)
        return Error(ErrorKind::kAuth,
                     with_detail("access to " + repo.name() + " was denied by " + registry + " (HTTP 403)", r->body) +
                         "; check that the credentials may pull this repository");
      return r;
    }
    return Error(ErrorKind::kAuth, "authentication to " + registry + " did not settle; giving up");
  }

  Error auth_failed(const Reference& repo, const std::optional<Credential>& cred, const std::string& body) const {
    std::string why =
        cred ? "the registry rejected the credentials" +
                   (cred->username.empty() ? std::string() : " for user \"" + cred->username + "\"")
             : "the registry requires credentials for " + repo.repository + " (or the repository does not exist)";
    return Error(ErrorKind::kAuth, with_detail("authentication to " + repo.registry + " failed: " + why, body) +
                                       "; check --username/--password-stdin or the registry config");
  }

  Result<std::string> authenticate(const Reference& repo, const std::string& www_authenticate,
                                   const std::optional<Credential>& cred) {
    if (www_authenticate.empty())
      return Error(ErrorKind::kAuth,
                   "authentication to " + repo.registry + " failed: HTTP 401 without a WWW-Authenticate challenge");
    auto challenges = parse_www_authenticate(www_authenticate);
    if (!challenges.ok())
      return Error(ErrorKind::kAuth, "authentication to " + repo.registry + " failed: " + challenges.error().message);
    const AuthChallenge* bearer = nullptr;
    const AuthChallenge* basic = nullptr;
    for (const auto& c : *challenges) {
      if (c.scheme == "bearer" && !bearer) bearer = &c;
      if (c.scheme == "basic" && !basic) basic = &c;
    }
    if (bearer) return fetch_token(repo, *bearer, cred);
    if (basic) {
      if (!cred || cred->username.empty())
        return Error(ErrorKind::kAuth, "authentication to " + repo.registry +
                                           " failed: the registry requires a "
                                           "username and password; pass --username/--password-stdin or add " +
                                           repo.registry + " to the registry config");
      return "Basic " + base64(cred->username + ":" + cred->password);
    }
    return Error(ErrorKind::kAuth, "authentication to " + repo.registry + " failed: unsupported scheme \"" +
                                       (*challenges)[0].scheme + "\" (only Basic and Bearer are supported)");
  }

  Result<std::string> fetch_token(const Reference& repo, const AuthChallenge& ch,
                                  const std::optional<Credential>& cred) {
    std::string realm = ch.param("realm");
    auto realm_url = parse_url(realm);
    if (!realm_url.ok())
      return Error(ErrorKind::kAuth, "authentication to " + repo.registry +
                                         " failed: the token realm is not usable: " + realm_url.error().message);
    if (url_is_plain_remote(*realm_url) && cred && !insecure(repo.registry))
      return Error(ErrorKind::kAuth, "authentication to " + repo.registry +
                                         " failed: refusing to send credentials "
                                         "to the token service " +
                                         realm_url->display() + " over plain HTTP");
    std::string service = ch.param("service");
    std::string scope = "repository:" + repo.repository + ":pull";
    Exchange e;
    e.body_limit = 1u << 20;
    Url url = *realm_url;
    if (cred && !cred->identity_token.empty()) {
      e.method = "POST";
      e.content_type = "application/x-www-form-urlencoded";
      e.body = "grant_type=refresh_token&client_id=scangate&service=" + pct_encode(service) +
               "&scope=" + pct_encode(scope) + "&refresh_token=" + pct_encode(cred->identity_token);
    } else {
      std::string q = "scope=" + pct_encode(scope);
      if (!service.empty()) q = "service=" + pct_encode(service) + "&" + q;
      url.target += (url.target.find('?') == std::string::npos ? "?" : "&") + q;
      if (cred && !cred->username.empty())
        e.headers.emplace("Authorization", "Basic " + base64(cred->username + ":" + cred->password));
    }
    std::string realm_hostport = url.host + ":" + std::to_string(url.port);
    bool verify = !(insecure(repo.registry) && (url.host == repo.registry || realm_hostport == repo.registry));
    auto r = exchange_retrying(url, e, verify, "token for " + repo.name());
    if (!r.ok()) return r.error().wrap("authentication to " + repo.registry + " failed");
    if (r->status == 401 || r->status == 403) {
      std::string who =
          cred ? (cred->username.empty() ? "the identity token" : "the credentials for user \"" + cred->username + "\"")
               : std::string("anonymous access");
      return Error(ErrorKind::kAuth,
                   with_detail("authentication to " + repo.registry + " failed: the token service " + url.display() +
                                   " rejected " + who + " (HTTP " + std::to_string(r->status) + ")",
                               r->body) +
                       "; check --username/--password-stdin or the registry config");
    }
    if (r->truncated || r->status != 200)
      return Error(ErrorKind::kAuth, "authentication to " + repo.registry + " failed: the token service " +
                                         url.display() + " answered HTTP " + std::to_string(r->status));
    auto j = nlohmann::json::parse(r->body, nullptr, false);
    std::string token;
    if (j.is_object()) {
      for (const char* key : {"token", "access_token"}) {
        auto it = j.find(key);
        if (it != j.end() && it->is_string() && !it->get<std::string>().empty()) {
          token = it->get<std::string>();
          break;
        }
      }
    }
    if (token.empty())
      return Error(ErrorKind::kAuth, "authentication to " + repo.registry + " failed: the token service " +
                                         url.display() + " returned no token");
    for (char c : token)
      if (static_cast<unsigned char>(c) < 0x21 || c == 0x7f)
        return Error(ErrorKind::kAuth,
                     "authentication to " + repo.registry + " failed: the token service returned a malformed token");
    return "Bearer " + token;
  }

  RegistryClientOptions opts_;
  X509_STORE* ca_store_ = nullptr;
  std::string ca_error_;
  mutable std::mutex mu_;
  std::map<std::string, std::string> auth_cache_;  // registry|repository -> Authorization value
  std::set<std::string> plain_http_;               // insecure registries that only speak HTTP
  std::mt19937_64 rng_;
};

}  // namespace

bool is_loopback_registry(std::string_view registry) {
  std::string_view host, port;
  split_host_port(registry, &host, &port);
  std::string h = lower(host);
  if (h == "localhost" || h == "[::1]" || h == "::1") return true;
  // 127.0.0.0/8 as a dotted quad
  int parts = 0;
  size_t start = 0;
  std::string_view hv = h;
  while (true) {
    auto dot = hv.find('.', start);
    std::string_view p = hv.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start);
    if (p.empty() || p.size() > 3 || p.find_first_not_of("0123456789") != std::string_view::npos) return false;
    if (std::stoi(std::string(p)) > 255) return false;
    if (parts == 0 && p != "127") return false;
    ++parts;
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  return parts == 4;
}

bool is_insecure_registry(std::string_view registry, const std::vector<std::string>& insecure) {
  std::string reg = lower(registry);
  std::string_view host, port;
  split_host_port(reg, &host, &port);
  for (const auto& entry : insecure) {
    std::string e = lower(entry);
    for (std::string_view scheme : {"http://", "https://"})
      if (e.rfind(scheme, 0) == 0) e = e.substr(scheme.size());
    while (!e.empty() && e.back() == '/') e.pop_back();
    if (e == reg) return true;
    std::string_view eh, ep;
    split_host_port(e, &eh, &ep);
    if (ep.empty() && eh == host) return true;
  }
  return false;
}

namespace {
bool is_loopback_host(std::string_view host) { return is_loopback_registry(host); }
}  // namespace

std::string registry_api_host(std::string_view registry) {
  if (registry == kDockerHubDomain) return "registry-1.docker.io";
  return std::string(registry);
}

std::shared_ptr<RegistryClient> make_http_registry_client(RegistryClientOptions options) {
  return std::make_shared<HttpRegistryClient>(std::move(options));
}

}  // namespace scangate
