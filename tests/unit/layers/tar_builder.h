// Builds tar / tar.gz / tar.zst bytes in memory with libarchive's write API, for layer tests,
// plus a raw ustar header writer for entries libarchive would not write (huge declared sizes).
#pragma once

#include <archive.h>
#include <archive_entry.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <stdexcept>
#include <string>
#include <vector>

namespace scangate::test {

struct TarEntry {
  enum Kind { kFile, kDir, kSymlink, kHardlink } kind = kFile;
  std::string name;
  std::string content;  // kFile
  std::string link;     // kSymlink / kHardlink target, as written
};

inline TarEntry file(std::string name, std::string content) {
  return {TarEntry::kFile, std::move(name), std::move(content), {}};
}
inline TarEntry dir(std::string name) { return {TarEntry::kDir, std::move(name), {}, {}}; }
inline TarEntry slink(std::string name, std::string target) {
  return {TarEntry::kSymlink, std::move(name), {}, std::move(target)};
}
inline TarEntry hlink(std::string name, std::string target) {
  return {TarEntry::kHardlink, std::move(name), {}, std::move(target)};
}

enum class Compression { kNone, kGzip, kZstd };

inline la_ssize_t append_cb(struct archive*, void* ud, const void* buf, size_t n) {
  static_cast<std::string*>(ud)->append(static_cast<const char*>(buf), n);
  return static_cast<la_ssize_t>(n);
}

// Compresses bytes as one gzip or zstd stream (libarchive's "raw" writer), with no padding
// after the compressed data.
inline std::string compress(const std::string& data, Compression c) {
  if (c == Compression::kNone) return data;
  std::string out;
  struct archive* a = archive_write_new();
  archive_write_set_format_raw(a);
  int rc = c == Compression::kGzip ? archive_write_add_filter_gzip(a) : archive_write_add_filter_zstd(a);
  if (rc != ARCHIVE_OK) {
    archive_write_free(a);
    throw std::runtime_error("libarchive cannot write this compression");
  }
  archive_write_set_bytes_in_last_block(a, 1);
  if (archive_write_open(a, &out, nullptr, append_cb, nullptr) != ARCHIVE_OK) {
    archive_write_free(a);
    throw std::runtime_error("archive_write_open failed");
  }
  struct archive_entry* ae = archive_entry_new();
  archive_entry_set_pathname(ae, "data");
  archive_entry_set_filetype(ae, AE_IFREG);
  archive_entry_set_size(ae, static_cast<la_int64_t>(data.size()));
  archive_write_header(a, ae);
  for (size_t off = 0; off < data.size(); off += 1 << 20) {
    size_t n = std::min<size_t>(1 << 20, data.size() - off);
    archive_write_data(a, data.data() + off, n);
  }
  archive_entry_free(ae);
  archive_write_close(a);
  archive_write_free(a);
  return out;
}

// A tar stream (pax, padded to 10 KiB records as tar writes it), optionally compressed.
inline std::string build_tar(const std::vector<TarEntry>& entries, Compression c = Compression::kNone) {
  std::string out;
  struct archive* a = archive_write_new();
  archive_write_set_format_pax_restricted(a);
  if (archive_write_open(a, &out, nullptr, append_cb, nullptr) != ARCHIVE_OK) {
    archive_write_free(a);
    throw std::runtime_error("archive_write_open failed");
  }
  for (const auto& e : entries) {
    struct archive_entry* ae = archive_entry_new();
    archive_entry_set_pathname(ae, e.name.c_str());
    archive_entry_set_mtime(ae, 1700000000, 0);
    switch (e.kind) {
      case TarEntry::kFile:
        archive_entry_set_filetype(ae, AE_IFREG);
        archive_entry_set_perm(ae, 0644);
        archive_entry_set_size(ae, static_cast<la_int64_t>(e.content.size()));
        break;
      case TarEntry::kDir:
        archive_entry_set_filetype(ae, AE_IFDIR);
        archive_entry_set_perm(ae, 0755);
        break;
      case TarEntry::kSymlink:
        archive_entry_set_filetype(ae, AE_IFLNK);
        archive_entry_set_perm(ae, 0777);
        archive_entry_set_symlink(ae, e.link.c_str());
        break;
      case TarEntry::kHardlink:
        archive_entry_set_filetype(ae, AE_IFREG);
        archive_entry_set_perm(ae, 0644);
        archive_entry_set_hardlink(ae, e.link.c_str());
        archive_entry_set_size(ae, 0);
        break;
    }
    if (archive_write_header(a, ae) != ARCHIVE_OK) {
      std::string msg = archive_error_string(a) ? archive_error_string(a) : "?";
      archive_entry_free(ae);
      archive_write_free(a);
      throw std::runtime_error("archive_write_header " + e.name + ": " + msg);
    }
    for (size_t off = 0; off < e.content.size(); off += 1 << 20) {
      size_t n = std::min<size_t>(1 << 20, e.content.size() - off);
      archive_write_data(a, e.content.data() + off, n);
    }
    archive_entry_free(ae);
  }
  archive_write_close(a);
  archive_write_free(a);
  return compress(out, c);
}

// One 512-byte ustar header, written by hand (POSIX.1-1988 layout), for sizes libarchive's
// writer would insist on backing with real data.
inline std::string ustar_header(const std::string& name, unsigned long long size, char typeflag = '0') {
  std::string h(512, '\0');
  std::memcpy(&h[0], name.data(), std::min<size_t>(name.size(), 100));
  std::snprintf(&h[100], 8, "%07o", 0644);
  std::snprintf(&h[108], 8, "%07o", 0);
  std::snprintf(&h[116], 8, "%07o", 0);
  std::snprintf(&h[124], 12, "%011llo", size);
  std::snprintf(&h[136], 12, "%011o", 1700000000u);
  h[156] = typeflag;
  std::memcpy(&h[257], "ustar", 6);
  h[263] = '0';
  h[264] = '0';
  std::memset(&h[148], ' ', 8);
  unsigned sum = 0;
  for (unsigned char ch : h) sum += ch;
  std::snprintf(&h[148], 8, "%06o", sum);
  h[155] = ' ';
  return h;
}

}  // namespace scangate::test
