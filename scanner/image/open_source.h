// One entry point for the CLI and the webhook: turn flags into an ImageSource.
//   scangate image REF                     -> registry
//   scangate image --input FILE|DIR [REF]  -> docker save tarball / OCI layout
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "scanner/core/deadline.h"
#include "scanner/core/result.h"
#include "scanner/image/credentials.h"
#include "scanner/image/registry_client.h"
#include "scanner/image/source.h"

namespace scangate {

struct SourceOptions {
  std::string reference;                 // the image reference; with `input`, selects an image in it
  std::string input;                     // --input FILE|DIR
  std::string platform;                  // --platform os/arch[/variant]; empty = linux/amd64
  std::optional<Credential> credential;  // --username / --password-stdin
  CredentialSources credential_sources;  // --registry-config, $DOCKER_CONFIG, $HOME
  std::string ca_file;                   // --cacert
  std::vector<std::string> insecure_registries;
  RetryPolicy retry;
  Sleeper sleeper;  // empty: real sleep
  std::chrono::milliseconds connect_timeout{15000};
  std::chrono::milliseconds read_timeout{60000};
  std::function<void(const std::string&)> warn;
  std::shared_ptr<RegistryClient> client;  // optional: reuse a client (webhook) or inject a fake
  Deadline deadline = Deadline::never();   // bounds the registry calls of the source (resolve, layers)
};

Result<std::unique_ptr<ImageSource>> open_image_source(const SourceOptions& options);

// The registry client open_image_source would build from these options (credentials loaded).
Result<std::shared_ptr<RegistryClient>> make_registry_client(const SourceOptions& options);
// Its options (for a RegistryPusher, which reaches the registry the same way).
Result<RegistryClientOptions> registry_client_options(const SourceOptions& options);

}  // namespace scangate
