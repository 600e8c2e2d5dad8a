// Where image bytes come from: a registry, a docker-save tarball, an OCI layout.
// A small seam so the scan pipeline and its tests do not care which.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "scanner/core/inventory.h"
#include "scanner/core/result.h"

namespace scangate {

// A pull-based stream of one blob's bytes (as stored, usually gzip).
// Implementations verify the sha256 of everything read against the expected digest;
// the read that reaches the end returns an Error of kind kIntegrity on a mismatch.
class BlobStream {
 public:
  virtual ~BlobStream() = default;
  // Reads up to n bytes into buf. Returns 0 at the end of the blob (after verification).
  virtual Result<size_t> read(char* buf, size_t n) = 0;
};

struct LayerDescriptor {
  std::string digest;      // "sha256:<hex>" of the blob
  std::string media_type;  // e.g. application/vnd.oci.image.layer.v1.tar+gzip
  std::string diff_id;     // from the config's rootfs.diff_ids, same index
  int64_t size = -1;
};

struct ResolvedImage {
  ImageMetadata meta;
  std::vector<LayerDescriptor> layers;  // base first
};

class ImageSource {
 public:
  virtual ~ImageSource() = default;
  // Reads the manifest (choosing the platform from an index) and the config.
  virtual Result<ResolvedImage> resolve() = 0;
  virtual Result<std::unique_ptr<BlobStream>> open_layer(const LayerDescriptor& layer) = 0;
};

}  // namespace scangate
