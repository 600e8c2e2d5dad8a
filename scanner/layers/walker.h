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
  uint64_t max_layer_bytes = 8ull << 30;  // uncompressed bytes one layer may expand to
  uint64_t max_entries = 2'000'000;       // tar entries in one layer
  uint64_t max_file_bytes = 32ull << 20;  // a wanted file larger than this is skipped (noted)
  size_t max_path_length = 4096;
};

enum class EntryType { kRegular, kSymlink, kHardlink, kDirectory, kWhiteout, kOpaqueWhiteout };

struct FileEntry {
  std::string path;  // normalised, relative to the image root, no leading '/', no '..'
  EntryType type = EntryType::kRegular;
  std::string link_target;  // for symlinks (as written) and hardlinks (normalised path)
  std::string content;      // for wanted regular files
  uint32_t mode = 0;
  // True when `content` holds the file's bytes. A wanted regular file larger than
  // max_file_bytes is recorded with has_content == false: it still hides the same path
  // in lower layers, but its bytes are unknown (and a warning says so). A hardlink has
  // content when its target's content was kept earlier in the same layer.
  bool has_content = false;
};

struct LayerContents {
  LayerRef layer;
  std::vector<FileEntry> files;  // wanted files, every whiteout, every symlink
  uint64_t expanded_bytes = 0;   // uncompressed tar size
  uint64_t entries = 0;
  std::string computed_diff_id;       // sha256 of the uncompressed stream
  std::vector<std::string> warnings;  // skipped entries (unsafe paths, oversize wanted files)
};

// Decides whether a regular file's content should be kept (path is normalised).
using WantFn = std::function<bool(std::string_view path, uint64_t size)>;

// Reads the blob once, to its end (so the BlobStream verifies its digest), through two
// libarchive readers: an outer "raw" reader that undoes the compression (gzip, zstd or
// none, detected from the bytes) and an inner tar reader fed from it. Every
// uncompressed byte passes through SHA-256 on the way, so computed_diff_id and
// expanded_bytes are exact.
//
// Errors (each names the layer): kLimit when the layer expands past max_layer_bytes (the
// stream, or the sum of declared entry sizes), has more than max_entries entries, or an
// entry name longer than max_path_length; kIntegrity for a corrupt or truncated stream;
// kFormat when the bytes are not a tar stream; a BlobStream error (e.g. a digest mismatch)
// is passed through with its kind.
Result<LayerContents> walk_layer(BlobStream& blob, const LayerRef& layer, const WantFn& want, const WalkLimits& limits);

// Normalises a tar entry name inside the image: strips "./" and leading "/", resolves
// "." and ".." without ever leaving the root. Returns empty for the root itself.
//
// ".." at the root stays at the root, as a chroot (and containerd's layer applier) treats it:
// "../../etc/passwd" is "etc/passwd". The walker keeps such entries under their clamped name,
// as a container runtime would have placed them, and records a warning naming the entry.
std::string normalize_entry_path(std::string_view name);
// As above; *escaped is set when the name was absolute or a ".." climbed above the root.
std::string normalize_entry_path(std::string_view name, bool* escaped);

// Resolves a symlink target written in the link at `link_path` (both inside the image):
// absolute targets from the image root, relative ones from the link's directory, ".."
// clamped at the root. Returns the normalised path (empty = the root).
std::string resolve_link_target(std::string_view link_path, std::string_view target);

}  // namespace scangate
