// The union filesystem of an image's layers, restricted to the files analyzers kept:
// whiteouts (.wh.NAME, .wh..wh..opq) applied across layers, symlinks resolved inside
// the image only.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

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
  std::optional<OverlayFile> find(const std::string& path) const;
  // Every final regular file kept, sorted by path (symlinked paths are listed under their own name).
  std::vector<OverlayFile> files() const;

 private:
  struct Node { const FileEntry* entry; int layer; };
  std::map<std::string, Node> nodes_;
  std::optional<OverlayFile> resolve(const std::string& path, int depth) const;
};

}  // namespace scangate
