// The union filesystem of an image's layers, restricted to the files analyzers kept:
// whiteouts (.wh.NAME, .wh..wh..opq) applied across layers, symlinks resolved inside
// the image only.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "scanner/core/result.h"
#include "scanner/layers/walker.h"

namespace scangate {

struct OverlayFile {
  std::string path;
  const FileEntry* entry = nullptr;  // the regular file (after link resolution)
  int layer_index = -1;              // index into the layers vector that supplied it
};

class Overlay {
 public:
  // Layers base first. The Overlay keeps pointers into `layers`; keep them alive.
  explicit Overlay(const std::vector<LayerContents>& layers);

  // The final regular file at path (following symlinks inside the image, at most 40 hops).
  // OverlayFile::path is the path asked for (normalised); entry->path is where the bytes are.
  std::optional<OverlayFile> find(const std::string& path) const;
  // As find(), with the reason when there is no file: kNotFound (absent, or a link whose
  // target is absent from the image; the host is never consulted), kFormat (a symlink loop
  // or more than 40 links), kLimit (the file was over max_file_bytes so its bytes were not kept).
  Result<OverlayFile> lookup(const std::string& path) const;
  // Every final regular file kept, sorted by path (symlinked paths are listed under their own name).
  std::vector<OverlayFile> files() const;
  // The paths of the union view that are links (symlinks, and hardlinks to content not kept),
  // sorted: a caller checks that the ones it must read resolve.
  std::vector<std::string> links() const;

 private:
  struct Node {
    const FileEntry* entry;
    int layer;
  };
  std::map<std::string, Node> nodes_;  // non-directory entries of the union view
  static constexpr int kMaxHops = 40;
  Result<OverlayFile> resolve(const std::string& path) const;
  void erase_under(const std::string& dir);  // everything below dir ("" = all)
  void erase_lower_ancestors(const std::string& path, int layer);
};

}  // namespace scangate
