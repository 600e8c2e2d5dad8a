// Streams a layer tar once (gzip, zstd or plain, detected from the bytes) and keeps
// only what analyzers asked for. Layer content is never written to disk and links are
// never resolved against the host.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "scanner/core/inventory.h"
#include "scanner/core/result.h"
#include "scanner/image/source.h"

namespace scangate {

struct WalkLimits {
  uint64_t max_layer_bytes = 8ull << 30;    // uncompressed bytes one layer may expand to
  uint64_t max_entries = 2'000'000;         // tar entries in one layer
  uint64_t max_file_bytes = 32ull << 20;    // a wanted file larger than this is skipped (noted)
  size_t max_path_length = 4096;
};

enum class EntryType { kRegular, kSymlink, kHardlink, kDirectory, kWhiteout, kOpaqueWhiteout };

struct FileEntry {
  std::string path;          // normalised, relative to the image root, no leading '/', no '..'
  EntryType type = EntryType::kRegular;
  std::string link_target;   // for symlinks (as written) and hardlinks (normalised path)
  std::string content;       // for wanted regular files
  uint32_t mode = 0;
};

struct LayerContents {
  LayerRef layer;
  std::vector<FileEntry> files;       // wanted files, every whiteout, every symlink
  uint64_t expanded_bytes = 0;        // uncompressed tar size
  uint64_t entries = 0;
  std::string computed_diff_id;       // sha256 of the uncompressed stream
  std::vector<std::string> warnings;  // skipped entries (unsafe paths, oversize wanted files)
};

// Decides whether a regular file's content should be kept (path is normalised).
using WantFn = std::function<bool(std::string_view path, uint64_t size)>;

Result<LayerContents> walk_layer(BlobStream& blob, const LayerRef& layer, const WantFn& want,
                                 const WalkLimits& limits);

// Normalises a tar entry name inside the image: strips "./" and leading "/", resolves
// "." and ".." without ever leaving the root. Returns empty for the root itself.
std::string normalize_entry_path(std::string_view name);

}  // namespace scangate
