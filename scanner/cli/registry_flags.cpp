#include "scanner/cli/registry_flags.h"

#include <iostream>

namespace scangate::cli {

const std::vector<FlagSpec>& registry_flags() {
  static const std::vector<FlagSpec> specs = {
      {"registry-config", true, false, "FILE", "Docker config.json with registry credentials",
       "$DOCKER_CONFIG/config.json, ~/.docker/config.json"},
      {"username", true, false, "USER", "registry user name (with --password-stdin)"},
      {"password-stdin", false, false, "", "read the registry password from standard input"},
      {"cacert", true, false, "FILE", "extra CA certificates (PEM) for registry TLS"},
      {"insecure-registry", true, true, "HOST[:PORT]", "allow plain HTTP or unverified TLS for this registry"},
  };
  return specs;
}

std::optional<SourceOptions> registry_source_options(const Args& args, const std::string& command, Io io) {
  SourceOptions so;
  so.credential_sources = CredentialSources::from_environment(args.get_or("registry-config", ""));
  if (args.has("username") || args.has("password-stdin")) {
    if (!args.has("username") || !args.has("password-stdin")) {
      io.err << "scangate " << command << ": --username and --password-stdin go together\n";
      return std::nullopt;
    }
    std::string password;
    std::getline(std::cin, password);
    if (!password.empty() && password.back() == '\r') password.pop_back();
    if (password.empty()) {
      io.err << "scangate " << command << ": --password-stdin read an empty password from standard input\n";
      return std::nullopt;
    }
    Credential c;
    c.username = *args.get("username");
    c.password = password;
    so.credential = c;
  }
  so.ca_file = args.get_or("cacert", "");
  so.insecure_registries = args.all("insecure-registry");
  return so;
}

}  // namespace scangate::cli
