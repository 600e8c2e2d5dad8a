#include "scanner/image/registry_transport.h"

#include "scanner/core/text_safe.h"

#include <cctype>

namespace scangate {
namespace {}  // namespace

std::shared_ptr<net::HttpClient> make_registry_http_client(const RegistryClientOptions& o) {
  net::HttpClientOptions h;
  h.ca_file = o.ca_file;
  h.insecure = [list = o.insecure_registries](const net::Url& u) { return is_insecure_registry(u.host_port(), list); };
  h.connect_timeout = o.connect_timeout;
  h.io_timeout = o.read_timeout;
  h.max_redirects = o.max_redirects;
  h.retry = o.retry;
  h.sleeper = o.sleeper;
  h.random = o.random;
  h.user_agent = o.user_agent;
  return std::make_shared<net::HttpClient>(std::move(h));
}

namespace {

std::shared_ptr<net::HttpClient> make_http(const RegistryClientOptions& o) {
  return o.http ? o.http : make_registry_http_client(o);
}

// Failures where a registry named in --insecure-registry may simply not speak TLS.
bool may_be_plain_http(net::Failure f) {
  return f == net::Failure::kConnect || f == net::Failure::kTls || f == net::Failure::kTlsUntrusted ||
         f == net::Failure::kIo || f == net::Failure::kTimeout;
}

}  // namespace

RegistryTransport::RegistryTransport(const RegistryClientOptions& o)
    : insecure_(o.insecure_registries), http_(make_http(o)) {
  auth_ = std::make_unique<RegistryAuth>(*http_, o.credential, o.credentials, o.insecure_registries);
}

std::string RegistryTransport::scheme_for(const std::string& registry) const {
  if (is_loopback_registry(registry)) return "http";
  if (is_insecure_registry(registry, insecure_)) {
    std::lock_guard<std::mutex> lock(mu_);
    if (plain_http_.count(registry)) return "http";
  }
  return "https";
}

Result<net::Response> RegistryTransport::request(const Reference& repo, const RegistryRequest& rq,
                                                 const Deadline& deadline) {
  const std::string& registry = repo.registry;
  bool authenticated = false;
  bool fell_back = false;
  for (int round = 0; round < 4; ++round) {
    auto base = net::parse_url(scheme_for(registry) + "://" + registry_api_host(registry) + rq.path);
    if (!base.ok()) return Error(ErrorKind::kInvalidArgument, "registry " + registry + ": " + base.error().message);
    net::Request req;
    req.method = rq.method;
    req.url = *base;
    bool own_origin = true;
    if (!rq.url.empty()) {
      auto u = net::parse_url(rq.url);
      if (!u.ok()) return Error(ErrorKind::kFormat, "registry " + registry + " gave an unusable upload location");
      own_origin = u->same_origin(*base);
      req.url = *u;
    }
    req.body = rq.body;
    req.content_type = rq.content_type;
    if (rq.no_retry) {
      net::RetryPolicy once;
      once.max_attempts = 1;
      req.retry = once;
    }
    req.headers = rq.headers;
    req.max_body = rq.max_body;
    req.on_success = rq.on_success;
    req.sink = rq.sink;
    req.cancel = rq.cancel;
    // Credentials go only to the registry itself: the client drops Authorization on a redirect
    // to another origin (a blob's storage host gets the signed URL alone).
    if (std::string authz = auth_->cached(repo, rq.push); !authz.empty() && own_origin)
      req.headers.emplace_back("Authorization", authz);
    net::Failure failure = net::Failure::kNone;
    auto r = http_->send(req, deadline, &failure);
    if (!r.ok()) {
      if (base->scheme == "https" && !fell_back && is_insecure_registry(registry, insecure_) &&
          may_be_plain_http(failure)) {
        std::lock_guard<std::mutex> lock(mu_);
        plain_http_.insert(registry);
        fell_back = true;
        continue;
      }
      if (failure == net::Failure::kCancelled) return Error(ErrorKind::kInternal, "download cancelled");
      if (failure == net::Failure::kTlsUntrusted)
        return Error(r.error().kind, r.error().message +
                                         " (add its CA with --cacert FILE, or use --insecure-registry for a "
                                         "test registry)");
      return r.error();
    }
    if (net::is_retryable_status(r->status) && r->attempts > 1)
      return Error(ErrorKind::kNetwork,
                   with_registry_detail(r->url.display() + " answered HTTP " + std::to_string(r->status) + " for " +
                                            rq.what + " after " + std::to_string(r->attempts) + " attempts",
                                        r->body) +
                       "; the registry is overloaded or down, try again later");
    const bool at_registry = r->url.same_origin(*base);
    if (r->status == 401 && !at_registry)
      return Error(ErrorKind::kAuth, "the storage host " + r->url.display() + " refused the redirected request for " +
                                         rq.what + " (HTTP 401)");
    if (r->status == 401) {
      if (authenticated) return auth_->rejected(repo, r->body);
      auto a = auth_->authenticate(repo, r->header("WWW-Authenticate"), deadline, rq.push);
      if (!a.ok()) return a.error();
      authenticated = true;
      continue;
    }
    if (r->status == 403)
      return Error(
          ErrorKind::kAuth,
          with_registry_detail("access to " + repo.name() + " was denied by " + registry + " (HTTP 403)", r->body) +
              (rq.push ? "; check that the credentials may push to this repository"
                       : "; check that the credentials may pull this repository"));
    return r;
  }
  return Error(ErrorKind::kAuth, "authentication to " + registry + " did not settle; giving up");
}

bool is_loopback_registry(std::string_view registry) { return net::is_loopback_host(registry); }

bool is_insecure_registry(std::string_view registry, const std::vector<std::string>& insecure) {
  std::string reg = ascii_lower(registry);
  std::string_view host, port;
  net::split_host_port(reg, &host, &port);
  for (const auto& entry : insecure) {
    std::string e = ascii_lower(entry);
    for (std::string_view scheme : {"http://", "https://"})
      if (e.rfind(scheme, 0) == 0) e = e.substr(scheme.size());
    while (!e.empty() && e.back() == '/') e.pop_back();
    if (e == reg) return true;
    std::string_view eh, ep;
    net::split_host_port(e, &eh, &ep);
    if (ep.empty() && eh == host) return true;
  }
  return false;
}

std::string registry_api_host(std::string_view registry) {
  if (registry == kDockerHubDomain) return "registry-1.docker.io";
  return std::string(registry);
}

}  // namespace scangate
