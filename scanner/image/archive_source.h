// An ImageSource over local files: a `docker save` tarball (manifest.json + config +
// layers) or an OCI image layout (oci-layout + index.json + blobs/), each either as a
// directory or as a tar (plain or compressed).
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "scanner/core/result.h"
#include "scanner/image/platform.h"
#include "scanner/image/source.h"

namespace scangate {

struct ArchiveSourceOptions {
  std::string path;       // --input FILE or DIR
  std::string reference;  // optional: which image of a multi-image archive ("alpine:3.20")
  Platform platform;      // for OCI indexes
  size_t max_json_bytes = 16u << 20;
  std::function<void(const std::string&)> warn;
};

// Opens the archive and checks that it is one of the supported layouts; the manifest and
// config are read by resolve(). Blobs of an OCI layout are verified against their digests;
// docker-save layers (uncompressed layer.tar) against their diff_ids.
Result<std::unique_ptr<ImageSource>> open_archive_source(const ArchiveSourceOptions& options);

}  // namespace scangate
