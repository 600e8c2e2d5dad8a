// Registry credentials: Docker's config.json ("auths" entries with a base64 "auth" or an
// "identitytoken"; "credHelpers" and "credsStore", run through credential_helper.h), the legacy
// .dockercfg of kubernetes.io/dockercfg Secrets, and explicit --username / --password-stdin.
//
// A config that comes from a Kubernetes Secret is parsed with helpers disallowed: a Secret is a
// tenant's input, and a tenant must never make the webhook execute a program.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "scanner/core/deadline.h"
#include "scanner/core/result.h"

namespace scangate {

class CredentialHelpers;  // credential_helper.h

struct Credential {
  std::string username;
  std::string password;
  std::string identity_token;  // OAuth2 refresh token (Docker's "identitytoken")
  bool empty() const { return username.empty() && password.empty() && identity_token.empty(); }
};

struct CredentialStore {
  std::map<std::string, Credential> by_host;  // key: normalised registry host ("docker.io", "host:5000")
  // The same inline entries in file order, each under its key exactly as written
  // ("https://registry.example.com:5000/v2/", "*.example.com/team"), for matching rules other than
  // Docker's host-only one (the kubelet's paths and wildcards).
  std::vector<std::pair<std::string, Credential>> entries;
  std::map<std::string, std::string> cred_helpers;  // "credHelpers": host key (as by_host) -> helper name
  std::string creds_store;                          // "credsStore": the helper for every other registry
  std::vector<std::string> warnings;                // e.g. helpers named in a Secret, which are ignored
  std::string source;                               // the file read, or "" when none
  // Runs the helpers and caches their answers; copies of the store share it. parse_docker_config
  // sets one when the config names a helper; null runs helpers uncached with the default options.
  std::shared_ptr<CredentialHelpers> helpers;

  // The inline ("auths") credential for a registry as it appears in a Reference ("docker.io",
  // "localhost:5000"). Never runs a helper.
  std::optional<Credential> find(std::string_view registry) const;

  // The helper Docker would ask about `registry`: its credHelpers entry, else credsStore; "" when
  // none.
  std::string helper_for(std::string_view registry) const;

  // Docker's precedence: the registry's credHelpers entry, else credsStore, else the inline entry.
  // A helper that has nothing for the registry falls back to the inline entry; a helper that fails
  // (not installed, timed out, bad answer) is an error. Runs at most until `deadline`.
  Result<std::optional<Credential>> lookup(std::string_view registry, const Deadline& deadline) const;
};

// Where to look for config.json. The CLI fills this from flags and the environment.
struct CredentialSources {
  std::string registry_config_file;  // --registry-config FILE (must exist when set)
  std::string docker_config_dir;     // $DOCKER_CONFIG
  std::string home;                  // $HOME

  static CredentialSources from_environment(std::string registry_config_file = {});
};

// Normalises an "auths" key or a registry name to a host: strips the scheme and any path,
// lowercases, and maps Docker Hub's aliases (index.docker.io, registry-1.docker.io) to docker.io.
std::string credential_host_key(std::string_view key_or_registry);

// Parses config.json text. `path` names the file in error messages. With `allow_helpers` false (a
// config from a Kubernetes Secret) "credHelpers" and "credsStore" are not kept, and a warning says
// they are ignored; only the inline "auths" entries count.
Result<CredentialStore> parse_docker_config(std::string_view json, const std::string& path, bool allow_helpers = true);

// Parses the legacy .dockercfg of a kubernetes.io/dockercfg Secret: the top-level object is the
// "auths" map ({"host": {"auth": ..., "username": ..., "password": ..., "email": ...}}). `what`
// names the source in error messages. It has no helpers.
Result<CredentialStore> parse_dockercfg(std::string_view json, const std::string& what);

// --registry-config FILE, else $DOCKER_CONFIG/config.json, else ~/.docker/config.json.
// A missing default file yields an empty store; a missing explicit file is an error.
Result<CredentialStore> load_credentials(const CredentialSources& sources);

}  // namespace scangate
