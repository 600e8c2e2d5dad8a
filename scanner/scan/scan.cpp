#include "scanner/scan/scan.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <map>
#include <set>
#include <unordered_map>

#include "scanner/layers/overlay.h"

namespace scangate {
namespace {

void progress(const ScanOptions& o, const std::string& msg) {
  if (o.progress) o.progress(msg);
}

std::string short_digest(const std::string& d) {
  auto p = d.find(':');
  std::string hex = p == std::string::npos ? d : d.substr(p + 1);
  return (p == std::string::npos ? "" : d.substr(0, p + 1)) + hex.substr(0, 12);
}

// One version of a watched file as some layer left it; nullptr content = deleted.
struct Version {
  int layer;
  const FileEntry* entry;
};

// Each layer's kept regular files by path, and its whiteouts: built once per scan so that the
// history of a file costs a look-up per layer, not a pass over every entry.
struct LayerIndex {
  std::unordered_map<std::string_view, const FileEntry*> files;
  std::vector<const FileEntry*> whiteouts;
};

std::vector<LayerIndex> index_layers(const std::vector<LayerContents>& layers) {
  std::vector<LayerIndex> out(layers.size());
  for (size_t i = 0; i < layers.size(); ++i) {
    for (const auto& f : layers[i].files) {
      if (f.type == EntryType::kRegular || f.type == EntryType::kHardlink)
        out[i].files[f.path] = &f;
      else if (f.type == EntryType::kWhiteout || f.type == EntryType::kOpaqueWhiteout)
        out[i].whiteouts.push_back(&f);
    }
  }
  return out;
}

bool is_under(const std::string& path, const std::string& dir) {
  return path.size() > dir.size() && path.compare(0, dir.size(), dir) == 0 && path[dir.size()] == '/';
}

// Versions of `path` across layers, in order, with deletions (whiteouts, opaque dirs).
std::vector<Version> history_of(const std::string& path, const std::vector<LayerIndex>& layers) {
  std::vector<Version> out;
  for (size_t i = 0; i < layers.size(); ++i) {
    for (const FileEntry* w : layers[i].whiteouts) {
      bool deletes = w->type == EntryType::kWhiteout ? (path == w->path || is_under(path, w->path))
                                                     : (w->path.empty() || is_under(path, w->path));
      if (deletes) out.push_back({static_cast<int>(i), nullptr});
    }
    auto it = layers[i].files.find(path);
    if (it != layers[i].files.end()) {
      // A file over the size cap has no content but still hides older copies.
      out.push_back({static_cast<int>(i), it->second->has_content ? it->second : nullptr});
    }
  }
  return out;
}

}  // namespace

Result<Inventory> analyze_layers(const std::vector<LayerContents>& layers, const AnalyzerRegistry& analyzers,
                                 std::vector<std::string>& warnings, uint64_t max_file_bytes) {
  Inventory inv;
  Overlay overlay(layers);
  const std::vector<LayerIndex> index = index_layers(layers);
  std::vector<OSFinding> os_by_path;

  // A package database the walk could not keep whole (over the per-file cap) but that the image
  // still holds: reporting without it would pass an image with every package hidden.
  for (size_t i = layers.size(); i-- > 0;) {  // top layer first: the error names the copy the image shows
    for (const auto& f : layers[i].files) {
      if (f.has_content || (f.type != EntryType::kRegular && f.type != EntryType::kHardlink) ||
          !analyzers.any_essential(f.path))
        continue;
      auto seen = overlay.lookup(f.path);
      if (seen.ok() || seen.error().kind != ErrorKind::kLimit) continue;  // replaced or deleted later
      return Error(ErrorKind::kLimit,
                   f.path + " (layer " + std::to_string(i) + ") is over the per-file cap" +
                       (max_file_bytes ? " of " + std::to_string(max_file_bytes) + " bytes" : std::string()) +
                       " and was not read; a package database must be read whole, so the scan is incomplete");
    }
  }

  // A package database or release file that is a link must lead to a file the scan read: a link
  // to a path no analyzer keeps (apk's installed moved to a hidden name, a symlink left in its
  // place) would otherwise hide every package (attacker review of issue 12).
  for (const auto& link : overlay.links()) {
    if (!analyzers.any_essential(link)) continue;
    auto seen = overlay.lookup(link);
    if (seen.ok()) continue;
    return Error(seen.error().kind == ErrorKind::kLimit ? ErrorKind::kLimit : ErrorKind::kFormat,
                 link + " is a link whose target the scan did not read (" + seen.error().message +
                     "); a package database must be read whole, so the scan is incomplete");
  }

  for (const auto& file : overlay.files()) {
    if (!analyzers.any_required(file.path)) continue;
    // Every version of this file the layers hold, so each package is attributed to the layer
    // since which it has been continuously present.
    // Reached through a link (the bytes live elsewhere): what the image shows at this path is the
    // link's target, not an older copy that a lower layer kept here, so that target is the one
    // version (second attacker review: a symlink or hardlink over the apk DB got the stale lower
    // copy parsed, or the hardlink read as a deletion).
    std::vector<Version> hist;
    if (file.entry->path == file.path) hist = history_of(file.path, index);
    if (hist.empty()) hist.push_back({file.layer_index, file.entry});
    for (const auto& a : analyzers.all()) {
      if (!a->required(file.path)) continue;
      std::unordered_map<std::string, int> since;  // package key -> introducing layer
      AnalysisResult last;
      bool have_last = false;
      for (const auto& v : hist) {
        if (v.entry == nullptr) {
          since.clear();
          have_last = false;
          continue;
        }
        auto r = a->analyze(AnalysisInput{file.path, v.entry->content});
        if (!r.ok()) {
          if (v.entry == file.entry || &v == &hist.back()) {
            // The version the image ships: a package database that cannot be parsed fails the
            // scan; one language package's malformed manifest is skipped, the rest proceeds.
            if (a->essential())
              return r.error().wrap("analyzing " + file.path + " (layer " + std::to_string(v.layer) + ")");
            warnings.push_back("skipped " + file.path + " (layer " + std::to_string(v.layer) +
                               "): " + r.error().message);
            since.clear();
            have_last = false;
            continue;
          }
          warnings.push_back("skipped an older version of " + file.path + ": " + r.error().message);
          continue;
        }
        std::unordered_map<std::string, int> next;
        for (const auto& p : r->packages) {
          auto it = since.find(p.key());
          next[p.key()] = it == since.end() ? v.layer : it->second;
        }
        since = std::move(next);
        last = std::move(r.value());
        have_last = true;
      }
      if (!have_last) continue;
      for (auto& w : last.warnings) warnings.push_back(file.path + ": " + w);
      if (last.os) os_by_path.push_back(OSFinding{file.path, *last.os});
      for (auto& p : last.packages) {
        auto it = since.find(p.key());
        int li = it == since.end() ? file.layer_index : it->second;
        if (li >= 0 && static_cast<size_t>(li) < layers.size()) p.layer = layers[li].layer;
        if (p.src_name.empty()) p.src_name = p.name;
        if (p.src_version.empty()) p.src_version = p.version;
        inv.packages.push_back(std::move(p));
      }
    }
  }
  inv.os = merge_os(os_by_path);
  return inv;
}

void add_secret_scanning(ScanOptions& options, std::shared_ptr<const SecretScanner> scanner,
                         std::function<void(const std::string&)> warn) {
  options.extra_want = [scanner](std::string_view path, uint64_t size) { return scanner->wants(path, size); };
  options.per_layer = [scanner, warn = std::move(warn)](const LayerContents& layer, Inventory& inv) {
    for (const auto& f : layer.files) {
      if (f.type != EntryType::kRegular || !f.has_content || !scanner->wants(f.path, f.content.size())) continue;
      std::vector<std::string> warnings;
      for (auto& finding : scanner->scan(f.path, f.content, warnings)) {
        finding.layer = layer.layer;
        inv.secrets.push_back(std::move(finding));
      }
      if (warn)
        for (const auto& w : warnings) warn(w);
    }
  };
}

Result<ScanOutput> scan_image(ImageSource& source, const AnalyzerRegistry& analyzers, const ScanOptions& options) {
  if (options.deadline.expired()) return Error(ErrorKind::kLimit, "the deadline passed before the image was resolved");
  // The source's own deadline (SourceOptions::deadline) bounds its registry calls.
  auto resolved = source.resolve();
  if (!resolved.ok()) return resolved.error();
  ScanOutput out;
  out.meta = resolved->meta;
  progress(options, "resolved " + out.meta.normalized + " to " + out.meta.manifest_digest + " (" +
                        std::to_string(resolved->layers.size()) + " layers, " + out.meta.os + "/" +
                        out.meta.architecture + ")");

  std::vector<LayerContents> layers;
  layers.reserve(resolved->layers.size());
  WantFn want = [&](std::string_view path, uint64_t size) {
    return analyzers.any_required(path) || (options.extra_want && options.extra_want(path, size));
  };
  for (size_t i = 0; i < resolved->layers.size(); ++i) {
    const auto& ld = resolved->layers[i];
    LayerRef ref{ld.digest, ld.diff_id, static_cast<int>(i)};
    std::string label = "layer " + std::to_string(i + 1) + "/" + std::to_string(resolved->layers.size()) + " " +
                        short_digest(ld.digest);
    if (options.deadline.expired()) return Error(ErrorKind::kLimit, "the deadline passed before " + label);
    progress(options, "pulling " + label + (ld.size >= 0 ? " (" + std::to_string(ld.size) + " bytes)" : ""));
    auto blob = source.open_layer(ld);
    if (!blob.ok()) return blob.error().wrap(label);
    auto contents = walk_layer(**blob, ref, want, options.limits);
    if (!contents.ok()) return contents.error().wrap(label);
    if (!ld.diff_id.empty() && !contents->computed_diff_id.empty() && contents->computed_diff_id != ld.diff_id) {
      return Error(ErrorKind::kIntegrity, label + ": uncompressed content has diffID " + contents->computed_diff_id +
                                              " but the image config says " + ld.diff_id +
                                              "; the image is corrupt or was tampered with");
    }
    for (auto& w : contents->warnings) out.warnings.push_back(label + ": " + w);
    layers.push_back(std::move(contents.value()));
    if (options.per_layer) options.per_layer(layers.back(), out.inventory);
  }

  auto inv = analyze_layers(layers, analyzers, out.warnings, options.limits.max_file_bytes);
  if (!inv.ok()) return inv.error();
  // Secrets were collected per layer; the analyzers supply the OS and the packages.
  out.inventory.os = std::move(inv->os);
  out.inventory.packages = std::move(inv->packages);
  progress(options,
           "found " + std::to_string(out.inventory.packages.size()) + " packages" +
               (out.inventory.os.empty() ? "" : " on " + out.inventory.os.family + " " + out.inventory.os.name));
  return out;
}

namespace {

struct RootfsWalker {
  const AnalyzerRegistry& analyzers;
  const ScanOptions& options;
  LayerContents contents;
  uint64_t total = 0;

  Result<void> walk(const std::string& root, const std::string& rel, int depth) {
    if (depth > 256) return Error(ErrorKind::kLimit, "directory nesting deeper than 256 at " + rel);
    if (options.deadline.expired())
      return Error(ErrorKind::kLimit, "the deadline passed while walking " + (rel.empty() ? root : rel));
    std::string dir = rel.empty() ? root : root + "/" + rel;
    DIR* d = opendir(dir.c_str());
    if (!d) {
      if (rel.empty()) return Error(ErrorKind::kNotFound, "cannot open " + root + ": " + std::strerror(errno));
      contents.warnings.push_back("cannot read directory " + rel + ": " + std::strerror(errno));
      return Ok();
    }
    std::vector<std::string> names;
    while (dirent* e = readdir(d)) {
      std::string n = e->d_name;
      if (n != "." && n != "..") names.push_back(n);
    }
    closedir(d);
    for (const auto& n : names) {
      std::string p = rel.empty() ? n : rel + "/" + n;
      std::string full = root + "/" + p;
      struct stat st {};
      if (lstat(full.c_str(), &st) != 0) continue;
      if (++contents.entries > options.limits.max_entries) {
        return Error(ErrorKind::kLimit,
                     "more than " + std::to_string(options.limits.max_entries) + " entries under " + root);
      }
      if (S_ISDIR(st.st_mode)) {
        SG_TRY(walk(root, p, depth + 1));
      } else if (S_ISLNK(st.st_mode)) {
        char buf[4096];
        ssize_t n2 = readlink(full.c_str(), buf, sizeof buf - 1);
        if (n2 < 0) continue;
        FileEntry fe;
        fe.path = p;
        fe.type = EntryType::kSymlink;
        fe.link_target.assign(buf, static_cast<size_t>(n2));
        contents.files.push_back(std::move(fe));
      } else if (S_ISREG(st.st_mode)) {
        auto size = static_cast<uint64_t>(st.st_size);
        total += size;
        bool wanted = analyzers.any_required(p) || (options.extra_want && options.extra_want(p, size));
        if (!wanted) continue;
        // A package database must be read whole: one that is not makes the scan incomplete.
        const bool essential = analyzers.any_essential(p);
        if (size > options.limits.max_file_bytes) {
          std::string why = std::to_string(size) + " bytes is over the per-file cap of " +
                            std::to_string(options.limits.max_file_bytes) + " bytes";
          if (essential)
            return Error(ErrorKind::kLimit,
                         p + ": " + why + "; a package database must be read whole, so the scan is incomplete");
          contents.warnings.push_back("skipped " + p + ": " + why);
          continue;
        }
        int fd = open(full.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0) {
          std::string why = std::strerror(errno);
          if (essential)
            return Error(ErrorKind::kIo, "cannot read " + p + ": " + why +
                                             "; a package database must be read whole, so the scan is incomplete");
          contents.warnings.push_back("cannot read " + p + ": " + why);
          continue;
        }
        FileEntry fe;
        fe.path = p;
        fe.mode = st.st_mode;
        fe.content.resize(size);
        size_t got = 0;
        int read_err = 0;
        while (got < size) {
          ssize_t r = ::read(fd, fe.content.data() + got, size - got);
          if (r < 0 && errno == EINTR) continue;
          if (r < 0) read_err = errno;
          if (r <= 0) break;
          got += static_cast<size_t>(r);
        }
        close(fd);
        if (read_err != 0) {
          std::string why = std::strerror(read_err);
          if (essential)
            return Error(ErrorKind::kIo, "cannot read " + p + ": " + why +
                                             "; a package database must be read whole, so the scan is incomplete");
          contents.warnings.push_back("cannot read " + p + ": " + why);
          continue;
        }
        fe.content.resize(got);
        fe.has_content = true;
        contents.files.push_back(std::move(fe));
      }
    }
    return Ok();
  }
};

}  // namespace

Result<ScanOutput> scan_rootfs(const std::string& dir, const AnalyzerRegistry& analyzers, const ScanOptions& options) {
  struct stat st {};
  if (stat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
    return Error(ErrorKind::kNotFound, dir + " is not a directory; `scangate rootfs` takes an unpacked filesystem");
  }
  progress(options, "walking " + dir);
  RootfsWalker w{analyzers, options, {}, 0};
  w.contents.layer.index = 0;
  SG_TRY(w.walk(dir, "", 0));
  w.contents.expanded_bytes = w.total;
  ScanOutput out;
  out.meta.reference = dir;
  out.meta.normalized = dir;
  for (auto& warn : w.contents.warnings) out.warnings.push_back(warn);
  std::vector<LayerContents> layers;
  layers.push_back(std::move(w.contents));
  if (options.per_layer) options.per_layer(layers.back(), out.inventory);
  auto inv = analyze_layers(layers, analyzers, out.warnings, options.limits.max_file_bytes);
  if (!inv.ok()) return inv.error();
  // Secrets were collected per layer; the analyzers supply the OS and the packages.
  out.inventory.os = std::move(inv->os);
  out.inventory.packages = std::move(inv->packages);
  progress(options, "found " + std::to_string(out.inventory.packages.size()) + " packages");
  return out;
}

}  // namespace scangate
