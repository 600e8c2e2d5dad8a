#include "scanner/layers/overlay.h"

namespace scangate {

// Layer order, per the OCI image spec (layer.md, "Whiteouts"): a layer's whiteouts apply to
// the layers below it only, so each layer first deletes (.wh.NAME removes NAME and all
// below it; .wh..wh..opq removes what lower layers had inside that directory), then adds its
// own entries. An added entry replaces the same path and whatever lower layers had below
// it (a file or link replacing a directory), and lower-layer links or files on its
// ancestors (the layer made them directories).
Overlay::Overlay(const std::vector<LayerContents>& layers) {
  for (size_t li = 0; li < layers.size(); ++li) {
    const int layer = static_cast<int>(li);
    for (const auto& f : layers[li].files) {
      if (f.type == EntryType::kWhiteout) {
        nodes_.erase(f.path);
        erase_under(f.path);
      } else if (f.type == EntryType::kOpaqueWhiteout) {
        erase_under(f.path);
        erase_lower_ancestors(f.path, layer);
        if (!f.path.empty()) {
          auto it = nodes_.find(f.path);
          if (it != nodes_.end() && it->second.layer < layer) nodes_.erase(it);
        }
      }
    }
    for (const auto& f : layers[li].files) {
      if (f.type == EntryType::kWhiteout || f.type == EntryType::kOpaqueWhiteout || f.type == EntryType::kDirectory)
        continue;
      if (f.path.empty()) continue;
      erase_under(f.path);
      erase_lower_ancestors(f.path, layer);
      nodes_[f.path] = Node{&f, layer};
    }
  }
}

void Overlay::erase_under(const std::string& dir) {
  if (dir.empty()) {
    nodes_.clear();
    return;
  }
  const std::string prefix = dir + "/";
  auto it = nodes_.lower_bound(prefix);
  while (it != nodes_.end() && it->first.compare(0, prefix.size(), prefix) == 0) it = nodes_.erase(it);
}

void Overlay::erase_lower_ancestors(const std::string& path, int layer) {
  for (size_t pos = path.find('/'); pos != std::string::npos; pos = path.find('/', pos + 1)) {
    auto it = nodes_.find(path.substr(0, pos));
    if (it != nodes_.end() && it->second.layer < layer) nodes_.erase(it);
  }
}

Result<OverlayFile> Overlay::resolve(const std::string& asked) const {
  const std::string norm = normalize_entry_path(asked);
  std::string cur = norm;
  std::string trail;  // "a -> b -> c", for messages
  int hops = 0;
  for (;;) {
    bool restarted = false;
    std::string prefix;
    size_t start = 0;
    while (start <= cur.size() && !cur.empty()) {
      size_t end = cur.find('/', start);
      if (end == std::string::npos) end = cur.size();
      const bool last = end == cur.size();
      std::string candidate = cur.substr(0, end);
      auto it = nodes_.find(candidate);
      if (it == nodes_.end()) {
        if (last) break;
        start = end + 1;  // a directory (not recorded) or a path the analyzers did not keep
        continue;
      }
      const FileEntry* e = it->second.entry;
      const bool link = e->type == EntryType::kSymlink || (e->type == EntryType::kHardlink && !e->has_content);
      if (!link) {
        if (!last) {
          return Error(ErrorKind::kNotFound, "'" + norm + "': '" + candidate + "' is a file, not a directory" +
                                                 (trail.empty() ? "" : " (via " + trail + ")"));
        }
        if (!e->has_content) {
          return Error(ErrorKind::kLimit, "'" + norm + "': the file '" + candidate +
                                              "' was larger than max_file_bytes, so its content was not kept");
        }
        return OverlayFile{norm, e, it->second.layer};
      }
      if (++hops > kMaxHops) {
        return Error(ErrorKind::kFormat, "'" + norm + "': symlink loop or more than " + std::to_string(kMaxHops) +
                                             " links (" + trail + " -> ...); resolved to nothing");
      }
      std::string target = e->type == EntryType::kSymlink ? resolve_link_target(candidate, e->link_target)
                                                          : e->link_target;  // hardlinks: from the root
      if (trail.size() < 512) trail += (trail.empty() ? "" : ", ") + candidate + " -> " + e->link_target;
      std::string rest = last ? std::string() : cur.substr(end + 1);
      cur = target.empty() ? rest : (rest.empty() ? target : target + "/" + rest);
      restarted = true;
      break;
    }
    if (!restarted) break;
  }
  return Error(ErrorKind::kNotFound, "'" + norm + "' is not in the image" +
                                         (trail.empty() ? std::string()
                                                        : " (via " + trail + ", resolved inside the image as '" + cur +
                                                              "'; the host filesystem is never consulted)") +
                                         " or its content was not kept");
}

Result<OverlayFile> Overlay::lookup(const std::string& path) const { return resolve(path); }

std::optional<OverlayFile> Overlay::find(const std::string& path) const {
  auto r = resolve(path);
  if (!r.ok()) return std::nullopt;
  return std::move(r.value());
}

std::vector<OverlayFile> Overlay::files() const {
  std::vector<OverlayFile> out;
  for (const auto& [path, node] : nodes_) {
    const FileEntry* e = node.entry;
    if (e->type == EntryType::kRegular || (e->type == EntryType::kHardlink && e->has_content)) {
      if (e->has_content) out.push_back(OverlayFile{path, e, node.layer});
      continue;
    }
    auto r = resolve(path);  // a link: listed under its own name when it reaches a kept file
    if (r.ok()) out.push_back(std::move(r.value()));
  }
  return out;
}

std::vector<std::string> Overlay::links() const {
  std::vector<std::string> out;
  for (const auto& [path, node] : nodes_) {
    const FileEntry* e = node.entry;
    if (e->type == EntryType::kSymlink || (e->type == EntryType::kHardlink && !e->has_content)) out.push_back(path);
  }
  return out;
}

}  // namespace scangate
