// Registry credentials: Docker's config.json ("auths" entries with a base64 "auth" or an
// "identitytoken") and explicit --username / --password-stdin.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "scanner/core/result.h"

namespace scangate {

struct Credential {
  std::string username;
  std::string password;
  std::string identity_token;  // OAuth2 refresh token (Docker's "identitytoken")
  bool empty() const { return username.empty() && password.empty() && identity_token.empty(); }
};

struct CredentialStore {
  std::map<std::string, Credential> by_host;  // key: normalised registry host ("docker.io", "host:5000")
  std::vector<std::string> warnings;          // e.g. credential helpers that are not supported
  std::string source;                         // the file read, or "" when none

  // Credential for a registry as it appears in a Reference ("docker.io", "localhost:5000").
  std::optional<Credential> find(std::string_view registry) const;
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

// Parses config.json text. `path` names the file in error messages.
Result<CredentialStore> parse_docker_config(std::string_view json, const std::string& path);

// --registry-config FILE, else $DOCKER_CONFIG/config.json, else ~/.docker/config.json.
// A missing default file yields an empty store; a missing explicit file is an error.
Result<CredentialStore> load_credentials(const CredentialSources& sources);

}  // namespace scangate
