// A minimal Kubernetes API client on the project's one HTTP client (scanner/net).
//
// - Configuration: in-cluster (the pod's service-account token, its CA, KUBERNETES_SERVICE_HOST /
//   KUBERNETES_SERVICE_PORT, an IPv6 host bracketed), every part overridable for tests and for
//   out-of-cluster use. The token file is read again whenever its stamp (inode, size, mtime)
//   changes: the kubelet rotates projected tokens by swapping the file. Every token read is
//   registered with the logger's redaction and sent only to the API server's origin.
// - Calls: get, server-side apply, create, delete, and `call` for callers that want the answer
//   whatever its status (admission-test expects a 403). Paths are API paths ("/api/v1/...",
//   "/apis/GROUP/VERSION/..."), with an optional query.
// - Retries: 429 (with Retry-After), 5xx and connection failures through scanner/net's retry
//   policy; every call takes a Deadline and never sleeps past it.
// - Errors name the object ("get clusterroles/scangate") and carry the API server's Status
//   message and reason; 401/403 are ErrorKind::kAuth, 404 kNotFound, 409/422 kInvalidArgument.
//
// Out of a cluster, scanner/kube/kubeconfig.h reads a kubeconfig into the same KubeConfig (an
// inline token and CA stay in memory). A later change extends it (Secrets, ServiceAccounts); keep
// it free of any one resource's knowledge.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "scanner/core/deadline.h"
#include "scanner/core/result.h"
#include "scanner/net/http_client.h"
#include "scanner/net/retry.h"
#include "scanner/net/url.h"

namespace scangate::kube {

inline constexpr const char* kServiceAccountDir = "/var/run/secrets/kubernetes.io/serviceaccount";
// The largest token file read (a projected service-account token is ~1 KiB).
inline constexpr size_t kMaxTokenBytes = 64 * 1024;
// Answers nested deeper are not parsed (body null): no Kubernetes object nests this deep.
inline constexpr size_t kMaxJsonNesting = 128;

struct KubeConfig {
  std::string server;      // "https://10.96.0.1:443"
  std::string token_file;  // bearer token; empty: `token`, else no Authorization header
  std::string ca_file;     // PEM CA bundle that signed the API server's certificate
  // Inline values from a kubeconfig (scanner/kube/kubeconfig.h), kept in memory only: a token or
  // CA written to a temporary file could outlive the process or be read by another user.
  std::string token;   // bearer token used when token_file is empty
  std::string ca_pem;  // PEM CA bundle, trusted with ca_file (a kubeconfig gives one or the other)
};

// What a command line may override of the in-cluster configuration (empty: the in-cluster value).
struct ConfigOverrides {
  std::string server;      // --kube-api-server URL
  std::string token_file;  // --kube-token-file FILE
  std::string ca_file;     // --kube-ca-file FILE
};

// The environment, injectable for tests (default: getenv).
using GetEnv = std::function<std::optional<std::string>(const std::string& name)>;
GetEnv process_env();

// The in-cluster configuration, with `overrides` applied. An error names what is missing
// (KUBERNETES_SERVICE_HOST outside a pod, a token file that does not exist) and how to override it.
Result<KubeConfig> in_cluster_config(const ConfigOverrides& overrides = {}, const GetEnv& env = process_env());

// "https://HOST:PORT" for KUBERNETES_SERVICE_HOST / _PORT, an IPv6 host in brackets.
std::string service_url(const std::string& host, const std::string& port);

// `text` with surrounding whitespace trimmed, when it is a usable bearer token: not empty, and
// printable ASCII without spaces. Registered with the logger's redaction. `what` names its source
// in the error ("the service-account token FILE"), which never quotes the token.
Result<std::string> bearer_token(const std::string& text, const std::string& what);

// A Kubernetes API answer whatever its status. For a non-2xx answer that is a Status object,
// `message` and `reason` are its fields (else the body's first bytes).
struct ApiResponse {
  int status = 0;
  nlohmann::json body;  // the parsed body (null when not JSON)
  std::string raw;      // the body as received
  std::string message;  // Status.message, for non-2xx
  std::string reason;   // Status.reason ("NotFound", "Forbidden", "AlreadyExists", ...)
  net::Headers headers;
  bool ok() const { return status >= 200 && status < 300; }
};

struct ClientOptions {
  std::string user_agent = "scangate/0.1";
  std::chrono::milliseconds connect_timeout{10000};
  std::chrono::milliseconds io_timeout{30000};
  // 429 + Retry-After, 5xx and connection failures; never past the call's deadline.
  net::RetryPolicy retry = [] {
    net::RetryPolicy p;
    p.max_attempts = 5;
    p.initial_delay = std::chrono::milliseconds(200);
    p.max_delay = std::chrono::seconds(5);
    p.max_retry_after = std::chrono::seconds(30);
    return p;
  }();
  net::Sleeper sleeper;  // default: really sleeps (tests inject)
  // Aborts every call in flight and every later one once cancelled (a stopping process).
  net::Cancellation* cancel = nullptr;
};

class KubeClient {
 public:
  // Checks the server URL, the CA file or PEM and an inline token up front; a token file is read
  // on the first call.
  static Result<std::unique_ptr<KubeClient>> create(KubeConfig config, ClientOptions options = {});

  // GET path: the object, or an error naming `what` ("clusterroles/NAME").
  Result<nlohmann::json> get(const std::string& path, const Deadline& deadline);
  // Server-side apply: PATCH path?fieldManager=FM&force=true with
  // Content-Type: application/apply-patch+yaml (JSON is YAML). Creates the object when missing.
  Result<nlohmann::json> apply(const std::string& path, const nlohmann::json& object, const std::string& field_manager,
                               const Deadline& deadline);
  // POST collection_path (query allowed, e.g. "?dryRun=All").
  Result<nlohmann::json> create(const std::string& collection_path, const nlohmann::json& object,
                                const Deadline& deadline);
  // DELETE path; a missing object is not an error.
  Result<void> remove(const std::string& path, const Deadline& deadline);

  // One request whatever the answer's status; errors only for answers that never came.
  // `retry_statuses`: false retries only connection failures and 429 (for non-idempotent calls).
  Result<ApiResponse> call(const std::string& method, const std::string& path, const std::string& body,
                           const std::string& content_type, const Deadline& deadline, bool retry_statuses = true);

  const KubeConfig& config() const { return cfg_; }

 private:
  KubeClient(KubeConfig cfg, ClientOptions opts, net::Url base, std::unique_ptr<net::HttpClient> http);
  Result<std::string> token();

  KubeConfig cfg_;
  ClientOptions opts_;
  net::Url base_;
  std::unique_ptr<net::HttpClient> http_;
  std::mutex token_mu_;
  std::string token_;
  struct Stamp {
    unsigned long long ino = 0;
    long long size = -1;
    long long mtime_ns = 0;
    bool operator==(const Stamp&) const = default;
  } token_stamp_;
};

// The error for a non-2xx answer to `verb` of `what`: "apply validatingwebhookconfigurations/x:
// 403 Forbidden: <Status.message>", with the kind following the status.
Error api_error(const std::string& verb, const std::string& what, const ApiResponse& response);

// "clusterroles/NAME" from an API path (the last two segments, the query dropped), for messages.
std::string object_of(const std::string& path);

}  // namespace scangate::kube
