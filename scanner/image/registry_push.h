// Pushes to an OCI registry (Distribution API v2): blobs in chunked uploads (POST a session, PATCH
// each chunk with its Content-Range, PUT the digest to close it; a blob the repository already has
// is not sent again), then the manifest under a tag. Used by `scangate db push`: a DB artifact is
// a few hundred megabytes at most, and a chunk is all that is in memory at once. Runs on the same
// transport as the registry client (credentials from the same sources, a token with push scope).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "scanner/core/deadline.h"
#include "scanner/core/result.h"
#include "scanner/image/reference.h"
#include "scanner/image/registry_client.h"

namespace scangate {

class RegistryTransport;

class RegistryPusher {
 public:
  explicit RegistryPusher(RegistryClientOptions options);
  ~RegistryPusher();
  RegistryPusher(const RegistryPusher&) = delete;
  RegistryPusher& operator=(const RegistryPusher&) = delete;

  // Called after each chunk with the bytes sent so far and the blob's size.
  using Progress = std::function<void(uint64_t sent, uint64_t total)>;

  // Uploads the file at `path`, whose content has `digest` and `size`, unless the repository has
  // the blob already. True when it was uploaded, false when it was there. The registry checks the
  // digest when the upload closes; a file that changed meanwhile is refused there.
  Result<bool> push_blob_file(const Reference& repo, const std::string& path, const std::string& digest, uint64_t size,
                              const Deadline& deadline, const Progress& progress = {});
  // The same for a small blob held in memory (a config).
  Result<bool> push_blob(const Reference& repo, const std::string& bytes, const Deadline& deadline);
  // PUT the manifest under `tag`; returns its digest (checked against Docker-Content-Digest).
  Result<std::string> put_manifest(const Reference& repo, const std::string& tag, const std::string& media_type,
                                   const std::string& body, const Deadline& deadline);

  size_t chunk_size = 8u << 20;

 private:
  Result<bool> has_blob(const Reference& repo, const std::string& digest, const Deadline& deadline);
  using ChunkReader = std::function<Result<std::string>(uint64_t offset, size_t max)>;
  Result<void> upload(const Reference& repo, const std::string& digest, uint64_t size, const ChunkReader& read,
                      const Deadline& deadline, const Progress& progress);

  std::unique_ptr<RegistryTransport> transport_;
};

}  // namespace scangate
