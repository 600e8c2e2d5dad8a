// The registry client's transport: requests to a registry's API through the shared
// net::HttpClient (pooled keep-alive connections, redirects that keep credentials on the
// registry, retries), with the registry's credentials attached, a 401 challenge answered once
// through RegistryAuth, and the plain-HTTP fallback of an --insecure-registry.
#pragma once

#include <functional>
#include <memory>
#include <mutex>
#include <set>
#include <string>

#include "scanner/core/deadline.h"
#include "scanner/core/result.h"
#include "scanner/image/reference.h"
#include "scanner/image/registry_auth.h"
#include "scanner/image/registry_client.h"
#include "scanner/net/http_client.h"

namespace scangate {

struct RegistryRequest {
  std::string method = "GET";
  std::string path;  // "/v2/<repository>/manifests/<reference>"
  net::Headers headers;
  size_t max_body = 1u << 20;
  std::function<void(int)> on_success;            // streaming: a 2xx head arrived (again on a retry)
  std::function<bool(const char*, size_t)> sink;  // streaming: the 2xx body
  net::Cancellation* cancel = nullptr;
  std::string what;  // "manifest team/app:1.0", for messages
  // Pushes (blob uploads, manifest PUTs) send a body and ask the token service for push access.
  std::string body;
  std::string content_type;
  bool push = false;
  // An upload session's Location when the registry gave an absolute URL: used instead of `path`.
  // Credentials go with it only when it is on the registry's own origin.
  std::string url;
  bool no_retry = false;  // a request that is not safe to repeat (an upload chunk)
};

class RegistryTransport {
 public:
  explicit RegistryTransport(const RegistryClientOptions& options);

  // Any answer but 401/403 (and a storage host's 401) is returned as a Response for the API
  // layer to judge; a retryable status that persisted after retries is an Error.
  Result<net::Response> request(const Reference& repo, const RegistryRequest& req, const Deadline& deadline);

  net::HttpClient& http() { return *http_; }

 private:
  std::string scheme_for(const std::string& registry) const;

  std::vector<std::string> insecure_;
  std::shared_ptr<net::HttpClient> http_;
  std::unique_ptr<RegistryAuth> auth_;
  mutable std::mutex mu_;
  std::set<std::string> plain_http_;  // insecure registries that only speak HTTP
};

}  // namespace scangate
