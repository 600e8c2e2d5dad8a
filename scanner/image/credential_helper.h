// Docker credential helpers: `docker-credential-<name> get` run as the docker-credential-helpers
// protocol says (the server URL on stdin; {"ServerURL", "Username", "Secret"} on stdout; a
// Username of "<token>" makes the Secret an identity token; "credentials not found" with a
// non-zero exit means the helper has nothing for that server).
//
// A helper is a program from the user's configuration that the scanner executes, so running one is
// held to a short leash: the name is a plain file name found in absolute directories of the search
// path (never a shell, never a path), the child gets the environment (ECR's helper reads AWS_*)
// and descriptors 0-2 only, its output is bounded, and it is killed with its whole process group
// when the timeout or the caller's deadline passes, then reaped. Errors name the helper and the
// server, never a secret; every secret obtained is registered with the logger.
#pragma once

#include <chrono>
#include <cstddef>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "scanner/core/deadline.h"
#include "scanner/core/result.h"
#include "scanner/image/credentials.h"

namespace scangate {

struct CredentialHelperOptions {
  // Directories searched for docker-credential-<name>, ':'-separated; empty and relative entries
  // are skipped (a helper is never run from the working directory). Unset: $PATH when the helper
  // is run.
  std::optional<std::string> search_path;
  // A cap under the caller's deadline.
  std::chrono::milliseconds timeout{10000};
  size_t max_stdout = 64 * 1024;  // more is an error: no real answer is that long
  size_t max_stderr = 4 * 1024;   // kept for the error message; the rest is read and dropped
  // How long an answer (a credential, or "not found") is reused; 0 disables the cache.
  std::chrono::milliseconds cache_ttl{60000};
};

// Whether `name` may follow "docker-credential-": 1 to 128 of [A-Za-z0-9._-].
bool valid_credential_helper_name(std::string_view name);

// The server URL a helper is asked about for a registry ("docker.io" -> Docker Hub's
// "https://index.docker.io/v1/", as `docker login` stored it; any other registry: its host).
std::string credential_helper_server_url(std::string_view registry);

// Runs `docker-credential-<helper> get` once for `server_url`. nullopt when the helper has no
// credential for it. Stops at `options.timeout` or `deadline`, whichever comes first.
Result<std::optional<Credential>> run_credential_helper(const std::string& helper, const std::string& server_url,
                                                        const Deadline& deadline,
                                                        const CredentialHelperOptions& options = {});

// Runs helpers and remembers their answers for `cache_ttl` per helper and server, so a burst of
// 401s (one per repository, or many scans at once) costs one process. Callers asking for the same
// helper and server at the same time share one run. Errors are not remembered. Thread-safe; a
// CredentialStore and its copies share one through a shared_ptr.
class CredentialHelpers {
 public:
  explicit CredentialHelpers(CredentialHelperOptions options = {});

  Result<std::optional<Credential>> get(const std::string& helper, const std::string& server_url,
                                        const Deadline& deadline);

  const CredentialHelperOptions& options() const { return options_; }

 private:
  struct Flight;
  struct Entry {
    std::optional<Credential> credential;
    Deadline::Clock::time_point expires;
  };

  const CredentialHelperOptions options_;
  std::mutex mu_;
  std::map<std::string, Entry> cache_;                      // helper '\n' server_url -> answer
  std::map<std::string, std::shared_ptr<Flight>> flights_;  // runs in progress
};

}  // namespace scangate
