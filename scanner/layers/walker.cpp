#include "scanner/layers/walker.h"

#include <archive.h>
#include <archive_entry.h>

#include <algorithm>
#include <cerrno>
#include <memory>
#include <optional>
#include <unordered_map>
#include <vector>

#include "scanner/core/sha256.h"

namespace scangate {

// ---------------------------------------------------------------------------------------
// Paths

std::string normalize_entry_path(std::string_view name, bool* escaped) {
  bool esc = !name.empty() && name.front() == '/';
  std::vector<std::string_view> parts;
  size_t i = 0;
  while (i <= name.size()) {
    size_t j = name.find('/', i);
    if (j == std::string_view::npos) j = name.size();
    std::string_view part = name.substr(i, j - i);
    if (part.empty() || part == ".") {
      // skip
    } else if (part == "..") {
      if (parts.empty()) {
        esc = true;  // clamped at the root
      } else {
        parts.pop_back();
      }
    } else {
      parts.push_back(part);
    }
    i = j + 1;
  }
  std::string out;
  for (auto p : parts) {
    if (!out.empty()) out.push_back('/');
    out.append(p);
  }
  if (escaped) *escaped = esc;
  return out;
}

std::string normalize_entry_path(std::string_view name) { return normalize_entry_path(name, nullptr); }

std::string resolve_link_target(std::string_view link_path, std::string_view target) {
  if (!target.empty() && target.front() == '/') return normalize_entry_path(target);
  std::string norm_link = normalize_entry_path(link_path);
  size_t slash = norm_link.rfind('/');
  std::string dir = slash == std::string::npos ? std::string() : norm_link.substr(0, slash);
  std::string joined = dir.empty() ? std::string(target) : dir + "/" + std::string(target);
  return normalize_entry_path(joined);
}

namespace {

// ---------------------------------------------------------------------------------------
// libarchive plumbing

struct ArchiveFree {
  void operator()(struct archive* a) const { archive_read_free(a); }
};
using ArchivePtr = std::unique_ptr<struct archive, ArchiveFree>;

constexpr size_t kChunk = 64 * 1024;

// Outer reader: pulls compressed bytes from the BlobStream.
struct OuterCtx {
  BlobStream* blob = nullptr;
  std::vector<char> buf = std::vector<char>(kChunk);
  std::optional<Error> err;
  bool eof = false;
};

la_ssize_t outer_read(struct archive* a, void* ud, const void** out) {
  auto* c = static_cast<OuterCtx*>(ud);
  *out = c->buf.data();
  if (c->eof) return 0;
  if (c->err) return -1;
  auto r = c->blob->read(c->buf.data(), c->buf.size());
  if (!r.ok()) {
    c->err = r.error();
    archive_set_error(a, EIO, "%s", "reading the blob failed");
    return -1;
  }
  if (*r == 0) c->eof = true;
  return static_cast<la_ssize_t>(*r);
}

// Inner reader: pulls uncompressed bytes out of the outer reader, hashing and counting them.
struct InnerCtx {
  struct archive* outer = nullptr;
  std::vector<char> buf = std::vector<char>(kChunk);
  Sha256 hash;
  uint64_t total = 0;
  uint64_t limit = 0;
  bool eof = false;
  std::optional<Error> err;
};

// Reads the next piece of the uncompressed stream into c->buf. Returns bytes, 0 at the end,
// -1 on error (c->err set).
la_ssize_t pull_uncompressed(InnerCtx* c) {
  if (c->eof) return 0;
  if (c->err) return -1;
  la_ssize_t n = archive_read_data(c->outer, c->buf.data(), c->buf.size());
  if (n < 0) {
    const char* msg = archive_error_string(c->outer);
    c->err = Error(ErrorKind::kIntegrity, std::string("the compressed stream is corrupt or truncated (") +
                                              (msg ? msg : "decompression failed") + ")");
    return -1;
  }
  if (n == 0) {
    c->eof = true;
    return 0;
  }
  c->hash.update(c->buf.data(), static_cast<size_t>(n));
  c->total += static_cast<uint64_t>(n);
  if (c->total > c->limit) {
    c->err = Error(ErrorKind::kLimit, "it expands past the limit of " + std::to_string(c->limit) +
                                          " uncompressed bytes (a decompression bomb, or raise max_layer_bytes)");
    return -1;
  }
  return n;
}

la_ssize_t inner_read(struct archive* a, void* ud, const void** out) {
  auto* c = static_cast<InnerCtx*>(ud);
  *out = c->buf.data();
  la_ssize_t n = pull_uncompressed(c);
  if (n < 0) archive_set_error(a, EIO, "%s", "reading the uncompressed stream failed");
  return n;
}

// Built by appends, not `" " + x` temporaries: GCC 12 at -O3 reports those as overlapping
// memcpy (-Wrestrict false positive, GCC bug 105329), which broke Release builds with -Werror.
std::string layer_label(const LayerRef& l) {
  std::string s = "layer";
  if (l.index >= 0) s.append(" ").append(std::to_string(l.index));
  if (!l.digest.empty()) {
    s.append(" (").append(l.digest).append(")");
  } else if (!l.diff_id.empty()) {
    s.append(" (diffID ").append(l.diff_id).append(")");
  }
  return s;
}

const char* entry_name(struct archive_entry* e) {
  const char* p = archive_entry_pathname(e);
  if (p == nullptr) p = archive_entry_pathname_utf8(e);
  return p;
}

const char* entry_symlink(struct archive_entry* e) {
  const char* p = archive_entry_symlink(e);
  if (p == nullptr) p = archive_entry_symlink_utf8(e);
  return p;
}

const char* entry_hardlink(struct archive_entry* e) {
  const char* p = archive_entry_hardlink(e);
  if (p == nullptr) p = archive_entry_hardlink_utf8(e);
  return p;
}

class Walk {
 public:
  Walk(BlobStream& blob, const LayerRef& layer, const WantFn& want, const WalkLimits& limits)
      : want_(want), limits_(limits), label_(layer_label(layer)) {
    octx_.blob = &blob;
    ictx_.limit = limits.max_layer_bytes;
    out_.layer = layer;
  }

  Result<LayerContents> run() {
    ArchivePtr outer(archive_read_new());
    ArchivePtr inner(archive_read_new());
    if (!outer || !inner) return fail(Error(ErrorKind::kInternal, "libarchive: out of memory"));
    // gzip and zstd (the OCI layer media types), in-process only: a decoder that libarchive
    // would run as an external program (ARCHIVE_WARN from the support call, when built
    // without the library) is left out rather than spawn a process on untrusted bytes.
    for (auto support : {archive_read_support_filter_gzip, archive_read_support_filter_zstd}) {
      ArchivePtr probe(archive_read_new());
      if (probe && support(probe.get()) == ARCHIVE_OK) support(outer.get());
    }
    archive_read_support_format_raw(outer.get());
    archive_read_support_format_tar(inner.get());

    if (archive_read_open(outer.get(), &octx_, nullptr, outer_read, nullptr) != ARCHIVE_OK) {
      return fail(archive_failure(outer.get(), "opening the layer stream"));
    }
    struct archive_entry* raw_entry = nullptr;
    int r = archive_read_next_header(outer.get(), &raw_entry);
    if (r == ARCHIVE_EOF) return fail(Error(ErrorKind::kFormat, "the layer is empty: no tar stream in it"));
    if (r < ARCHIVE_WARN) return fail(archive_failure(outer.get(), "reading the layer stream"));

    ictx_.outer = outer.get();
    if (archive_read_open(inner.get(), &ictx_, nullptr, inner_read, nullptr) != ARCHIVE_OK) {
      return fail(archive_failure(inner.get(), "reading the tar stream"));
    }
    for (;;) {
      struct archive_entry* e = nullptr;
      r = archive_read_next_header(inner.get(), &e);
      if (r == ARCHIVE_EOF) break;
      if (r == ARCHIVE_WARN) {
        const char* msg = archive_error_string(inner.get());
        out_.warnings.push_back(std::string("tar: ") + (msg ? msg : "warning"));
      } else if (r != ARCHIVE_OK) {
        return fail(archive_failure(inner.get(), "reading the tar stream"));
      }
      auto ok = on_entry(inner.get(), e);
      if (!ok.ok()) return fail(ok.error());
    }

    // The tar end marker is not the end of the stream: hash the rest (padding), then read
    // the blob itself to its end so that its digest is verified.
    for (;;) {
      la_ssize_t n = pull_uncompressed(&ictx_);
      if (n < 0) return fail(archive_failure(inner.get(), "reading past the tar end"));
      if (n == 0) break;
    }
    while (!octx_.eof && !octx_.err) {
      const void* ignored = nullptr;
      if (outer_read(outer.get(), &octx_, &ignored) < 0) break;
    }
    if (octx_.err) return fail(*octx_.err);

    out_.expanded_bytes = ictx_.total;
    out_.computed_diff_id = ictx_.hash.finish_digest();
    return std::move(out_);
  }

 private:
  // Picks the most specific cause: the blob's own error, then our stream checks, then
  // libarchive's message.
  Error archive_failure(struct archive* a, const std::string& doing) {
    if (octx_.err) return *octx_.err;
    if (ictx_.err) return *ictx_.err;
    const char* msg = archive_error_string(a);
    std::string m = msg ? msg : "unknown libarchive error";
    if (m.find("Unrecognized archive format") != std::string::npos) {
      return Error(ErrorKind::kFormat, doing + ": not a tar stream (expected tar, tar+gzip or tar+zstd): " + m);
    }
    return Error(ErrorKind::kIntegrity, doing + ": the layer is corrupt or truncated: " + m);
  }

  Error fail(const Error& e) const {
    return Error(e.kind, label_ + ": " + e.message + "; the scan stopped at this layer");
  }

  Result<void> on_entry(struct archive* a, struct archive_entry* e) {
    ++out_.entries;
    if (out_.entries > limits_.max_entries) {
      return Error(ErrorKind::kLimit, "more than " + std::to_string(limits_.max_entries) +
                                          " entries (raise max_entries if the image is legitimate)");
    }
    const char* raw = entry_name(e);
    if (raw == nullptr) {
      out_.warnings.push_back("skipped entry #" + std::to_string(out_.entries) + ": its name is not readable");
      return Ok();
    }
    std::string_view raw_name(raw);
    if (raw_name.size() > limits_.max_path_length) {
      return Error(ErrorKind::kLimit, "entry #" + std::to_string(out_.entries) + " has a name of " +
                                          std::to_string(raw_name.size()) + " bytes, longer than max_path_length " +
                                          std::to_string(limits_.max_path_length));
    }
    int64_t declared = archive_entry_size_is_set(e) ? archive_entry_size(e) : 0;
    if (declared < 0) declared = 0;
    declared_ += static_cast<uint64_t>(declared);
    if (declared_ > limits_.max_layer_bytes) {
      return Error(ErrorKind::kLimit, "entry '" + std::string(raw_name) + "' declares " + std::to_string(declared) +
                                          " bytes, which takes the layer past the limit of " +
                                          std::to_string(limits_.max_layer_bytes) +
                                          " uncompressed bytes (raise max_layer_bytes if the image is legitimate)");
    }

    bool escaped = false;
    std::string path = normalize_entry_path(raw_name, &escaped);
    if (escaped) {
      out_.warnings.push_back("entry '" + std::string(raw_name) + "' points outside the image root; kept as '" + path +
                              "' (clamped at the root, never written to the host)");
    }
    if (path.empty()) return Ok();  // the root directory itself

    size_t slash = path.rfind('/');
    std::string dir = slash == std::string::npos ? std::string() : path.substr(0, slash);
    std::string base = slash == std::string::npos ? path : path.substr(slash + 1);
    uint32_t mode = static_cast<uint32_t>(archive_entry_mode(e));

    if (base.rfind(".wh.", 0) == 0) {
      if (base == ".wh..wh..opq") {
        add(FileEntry{dir, EntryType::kOpaqueWhiteout, {}, {}, mode, false});
      } else if (base.rfind(".wh..wh.", 0) == 0) {
        // aufs bookkeeping (.wh..wh.plnk, .wh..wh.aufs): not part of the image's files
      } else {
        std::string name = base.substr(4);
        std::string target = dir.empty() ? name : dir + "/" + name;
        add(FileEntry{target, EntryType::kWhiteout, {}, {}, mode, false});
      }
      return Ok();
    }

    if (const char* hl = entry_hardlink(e)) {
      bool hl_escaped = false;
      std::string target = normalize_entry_path(hl, &hl_escaped);
      if (hl_escaped) {
        out_.warnings.push_back("hardlink '" + path + "' -> '" + hl + "' points outside the image root; kept as '" +
                                target + "'");
      }
      FileEntry f{path, EntryType::kHardlink, target, {}, mode, false};
      auto it = kept_.find(target);
      if (it != kept_.end() && out_.files[it->second].has_content) {
        f.content = out_.files[it->second].content;
        f.has_content = true;
      }
      add(std::move(f));
      return Ok();
    }

    switch (archive_entry_filetype(e)) {
      case AE_IFLNK: {
        const char* t = entry_symlink(e);
        add(FileEntry{path, EntryType::kSymlink, t ? t : "", {}, mode, false});
        return Ok();
      }
      case AE_IFREG: return on_regular(a, path, static_cast<uint64_t>(declared), mode);
      default: return Ok();  // directories, devices, fifos: nothing an analyzer reads
    }
  }

  Result<void> on_regular(struct archive* a, const std::string& path, uint64_t size, uint32_t mode) {
    if (!want_ || !want_(path, size)) {
      kept_.erase(path);  // a later unwanted copy (same path, same layer) is not the kept one
      return Ok();
    }
    FileEntry f{path, EntryType::kRegular, {}, {}, mode, false};
    if (size > limits_.max_file_bytes) {
      out_.warnings.push_back("'" + path + "' is " + std::to_string(size) + " bytes, over max_file_bytes " +
                              std::to_string(limits_.max_file_bytes) + "; not analyzed");
      add(std::move(f));
      return Ok();
    }
    f.content.reserve(static_cast<size_t>(size));
    char buf[16 * 1024];
    for (;;) {
      la_ssize_t n = archive_read_data(a, buf, sizeof buf);
      if (n < 0) return archive_failure(a, "reading '" + path + "'");
      if (n == 0) break;
      if (f.content.size() + static_cast<size_t>(n) > limits_.max_file_bytes) {
        out_.warnings.push_back("'" + path + "' holds more than max_file_bytes " +
                                std::to_string(limits_.max_file_bytes) + "; not analyzed");
        f.content.clear();
        f.content.shrink_to_fit();
        add(std::move(f));
        return Ok();
      }
      f.content.append(buf, static_cast<size_t>(n));
    }
    f.has_content = true;
    add(std::move(f));
    return Ok();
  }

  // Records an entry; keeps kept_ pointing at the latest entry with content for each path.
  void add(FileEntry f) {
    kept_.erase(f.path);
    bool content = f.has_content;
    std::string path = f.path;
    out_.files.push_back(std::move(f));
    if (content) kept_[path] = out_.files.size() - 1;
  }

  const WantFn& want_;
  const WalkLimits& limits_;
  std::string label_;
  OuterCtx octx_;
  InnerCtx ictx_;
  LayerContents out_;
  uint64_t declared_ = 0;
  std::unordered_map<std::string, size_t> kept_;  // path -> index in out_.files with content
};

}  // namespace

Result<LayerContents> walk_layer(BlobStream& blob, const LayerRef& layer, const WantFn& want,
                                 const WalkLimits& limits) {
  Walk w(blob, layer, want, limits);
  return w.run();
}

}  // namespace scangate
