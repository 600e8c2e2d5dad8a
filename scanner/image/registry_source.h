// An ImageSource over a registry: resolves the reference (choosing the platform from an
// index), reads and checks the config, and streams layers through the RegistryClient.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "scanner/core/deadline.h"
#include "scanner/core/result.h"
#include "scanner/image/platform.h"
#include "scanner/image/reference.h"
#include "scanner/image/registry_client.h"
#include "scanner/image/source.h"

namespace scangate {

struct RegistrySourceOptions {
  std::string input_reference;     // as the user typed it (ImageMetadata.reference)
  Platform platform;               // default linux/amd64
  bool platform_explicit = false;  // --platform given: warn when a single-platform image differs
  size_t max_config_bytes = 16u << 20;
  // Bounds every registry call: resolve() and each layer stream fail soon after it passes.
  Deadline deadline = Deadline::never();
  std::function<void(const std::string&)> warn;
};

// ImageMetadata: repo_digest is repository@<digest the reference resolves to> (the index
// digest for multi-arch images, as `docker pull` records it); manifest_digest is the
// digest of the platform's image manifest; config_digest is the image ID.
std::unique_ptr<ImageSource> make_registry_source(std::shared_ptr<RegistryClient> client, Reference ref,
                                                  RegistrySourceOptions options);

}  // namespace scangate
