// Read-only access to the files of an image archive: a directory (an unpacked docker save
// or OCI layout), an uncompressed tar (indexed once, members read with pread), or a
// compressed tar (read through libarchive, re-opened per member). Member names come from
// untrusted manifests, so they are checked: no absolute paths, no "..", links resolved
// only inside the archive.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "scanner/core/result.h"
#include "scanner/image/source.h"

namespace scangate {

class ArchiveFs {
 public:
  virtual ~ArchiveFs() = default;
  virtual bool exists(const std::string& name) = 0;
  // Whole member; kLimit when larger than max_bytes, kNotFound when absent.
  virtual Result<std::string> read_file(const std::string& name, size_t max_bytes) = 0;
  // Streams a member (unverified).
  virtual Result<std::unique_ptr<BlobStream>> open(const std::string& name) = 0;
  // Where the archive lives, for messages.
  virtual const std::string& location() const = 0;
};

// Picks the implementation from what `path` is (directory, tar, compressed tar).
Result<std::unique_ptr<ArchiveFs>> open_archive_fs(const std::string& path);

// Normalises a member name: strips "./" and repeated '/', rejects absolute names and "..".
Result<std::string> clean_member_name(const std::string& name);

}  // namespace scangate
