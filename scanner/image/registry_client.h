// The registry seam (OCI Distribution API v2) and its HTTP implementation.
// Authentication (anonymous, basic, bearer tokens: registry_auth.h), manifests with digest checks,
// streamed and verified blobs. The transport (registry_transport.h) runs on the scanner's one HTTP
// client (scanner/net): kept-alive connections, redirects that never forward credentials to another
// origin, retries with backoff. Every call takes a Deadline; a registry that stops answering makes
// the call fail soon after it.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "scanner/core/deadline.h"
#include "scanner/core/result.h"
#include "scanner/image/credentials.h"
#include "scanner/image/reference.h"
#include "scanner/image/source.h"
#include "scanner/net/http_client.h"
#include "scanner/net/retry.h"

namespace scangate {

// The retry types of the registry options are the scanner's one implementation's.
using net::RetryPolicy;
using net::Sleeper;

struct ManifestResponse {
  std::string media_type;  // the body's mediaType or the Content-Type
  std::string digest;      // verified digest of the exact bytes
  std::string body;
};

class RegistryClient {
 public:
  virtual ~RegistryClient() = default;
  // GET /v2/<repo>/manifests/<tag_or_digest>. The digest is checked against the
  // Docker-Content-Digest header and, when tag_or_digest is a digest, against it.
  virtual Result<ManifestResponse> get_manifest(const Reference& repo, const std::string& tag_or_digest,
                                                const Deadline& deadline = Deadline::never()) = 0;
  // HEAD the manifest: the digest `ref` currently resolves to (its pinned digest if any).
  virtual Result<std::string> resolve_digest(const Reference& ref, const Deadline& deadline = Deadline::never()) = 0;
  // A small blob (an image config) read into memory and verified.
  virtual Result<std::string> get_blob(const Reference& repo, const std::string& digest, size_t max_bytes,
                                       const Deadline& deadline = Deadline::never()) = 0;
  // A blob streamed and verified; the read that reaches the end fails on a mismatch. The download
  // behind the stream stops with an error once `deadline` passes.
  virtual Result<std::unique_ptr<BlobStream>> open_blob(const Reference& repo, const std::string& digest, int64_t size,
                                                        const Deadline& deadline = Deadline::never()) = 0;
  // GET /v2/<repo>/referrers/<digest> (OCI Distribution 1.1): the image index of the manifests
  // whose subject is `digest`, filtered by `artifact_type` when the registry filters; nullopt
  // when the registry has no referrers API (it answers 404 there). The default: nullopt.
  virtual Result<std::optional<std::string>> get_referrers(const Reference& repo, const std::string& digest,
                                                           const std::string& artifact_type,
                                                           const Deadline& deadline = Deadline::never()) {
    (void)repo;
    (void)digest;
    (void)artifact_type;
    (void)deadline;
    return std::optional<std::string>();
  }
};

struct RegistryClientOptions {
  std::optional<Credential> credential;          // --username/--password-stdin: wins over the store
  CredentialStore credentials;                   // from config.json
  std::string ca_file;                           // --cacert: added to the system CAs
  std::vector<std::string> insecure_registries;  // --insecure-registry HOST[:PORT]
  RetryPolicy retry;
  Sleeper sleeper;                 // default: really sleeps
  std::function<double()> random;  // jitter source in [0,1); default: a private PRNG
  std::chrono::milliseconds connect_timeout{15000};
  std::chrono::milliseconds read_timeout{60000};  // each read or write wait
  int max_redirects = 5;
  size_t max_manifest_bytes = 4u << 20;
  size_t max_buffered_blob_bytes = 4u << 20;  // per open blob stream
  std::string user_agent = "scangate/0.1";
  std::function<void(const std::string&)> warn;
  // Optional: an HTTP client to share (its own TLS and timeout settings then apply instead of
  // ca_file, insecure_registries' TLS exemption, timeouts, retry, sleeper, random, max_redirects).
  std::shared_ptr<net::HttpClient> http;
};

std::shared_ptr<RegistryClient> make_http_registry_client(RegistryClientOptions options);
// The HTTP client make_http_registry_client builds when `options.http` is not set: share it
// (RegistryClientOptions::http) between clients that differ only in credentials, so that they
// reuse each other's warm connections.
std::shared_ptr<net::HttpClient> make_registry_http_client(const RegistryClientOptions& options);

// Registries reached over plain HTTP, as Docker does: localhost, 127.0.0.0/8, ::1.
bool is_loopback_registry(std::string_view registry);
// Whether `registry` ("host[:port]") is listed in --insecure-registry (an entry without a
// port matches every port of that host).
bool is_insecure_registry(std::string_view registry, const std::vector<std::string>& insecure);
// The host the API lives on: docker.io -> registry-1.docker.io; others unchanged.
std::string registry_api_host(std::string_view registry);

}  // namespace scangate
