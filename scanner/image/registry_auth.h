// Registry authentication: a 401's WWW-Authenticate challenge turned into an Authorization value
// (a bearer token from the challenge's token service, or Basic credentials), cached per
// registry and repository. The token service is reached through the shared HttpClient.
#pragma once

#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "scanner/core/deadline.h"
#include "scanner/core/result.h"
#include "scanner/image/credentials.h"
#include "scanner/image/reference.h"
#include "scanner/image/www_authenticate.h"
#include "scanner/net/http_client.h"

namespace scangate {

class RegistryAuth {
 public:
  // `insecure_registries` (--insecure-registry) allows credentials to a plain-HTTP token service
  // of such a registry.
  RegistryAuth(net::HttpClient& http, std::optional<Credential> credential, CredentialStore store,
               std::vector<std::string> insecure_registries);

  // The cached Authorization value for `repo`'s registry and repository, or "". A token for a
  // push (pull and push access) is cached apart from a pull token.
  std::string cached(const Reference& repo, bool push = false) const;

  // Answers a 401 with `www_authenticate`: fetches a token (Bearer) or uses the credentials
  // (Basic), caches the result and returns the Authorization value.
  Result<std::string> authenticate(const Reference& repo, const std::string& www_authenticate, const Deadline& deadline,
                                   bool push = false);

  // The error for a 401 that persists after authenticating; `body` is the registry's answer.
  Error rejected(const Reference& repo, const std::string& body) const;

  // --username/--password-stdin wins over the credential store.
  std::optional<Credential> credential_for(const std::string& registry) const;

 private:
  Result<std::string> fetch_token(const Reference& repo, const AuthChallenge& challenge,
                                  const std::optional<Credential>& cred, const Deadline& deadline, bool push);

  net::HttpClient& http_;
  std::optional<Credential> credential_;
  CredentialStore store_;
  std::vector<std::string> insecure_;
  mutable std::mutex mu_;
  std::map<std::string, std::string> cache_;  // registry|repository -> Authorization value
};

// "CODE: message; CODE: message" from an OCI registry error body, or "".
std::string registry_error_detail(const std::string& body);
// `msg` with the registry's error detail appended in parentheses, when the body has one.
std::string with_registry_detail(const std::string& msg, const std::string& body);

}  // namespace scangate
