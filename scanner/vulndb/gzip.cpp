#include "scanner/vulndb/gzip.h"

#include <archive.h>

#include <cstdio>
#include <memory>

#include "scanner/core/sha256.h"

namespace scangate::vulndb {
namespace {

struct ArchiveFree {
  void operator()(struct archive* a) const { archive_read_free(a); }
};
using ArchivePtr = std::unique_ptr<struct archive, ArchiveFree>;

std::string gib(std::uint64_t n) {
  if (n % (1ull << 30) == 0) return std::to_string(n >> 30) + " GiB";
  if (n % (1ull << 20) == 0) return std::to_string(n >> 20) + " MiB";
  return std::to_string(n) + " bytes";
}

}  // namespace

bool has_gzip_magic(const std::string& path) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) return false;
  unsigned char m[2] = {0, 0};
  std::size_t n = std::fread(m, 1, 2, f);
  std::fclose(f);
  return n == 2 && m[0] == 0x1f && m[1] == 0x8b;
}

Result<Gunzipped> gunzip_file(const std::string& path, std::string_view name, std::uint64_t max_bytes) {
  const std::string who(name);
  if (!has_gzip_magic(path)) return Error(ErrorKind::kFormat, who + ": not a gzip file (no 1f 8b magic)");
  ArchivePtr a(archive_read_new());
  if (!a) return Error(ErrorKind::kInternal, "libarchive: out of memory");
  // In-process zlib only: a libarchive built without it would run `gzip -d` (ARCHIVE_WARN).
  if (archive_read_support_filter_gzip(a.get()) != ARCHIVE_OK)
    return Error(ErrorKind::kInternal, who + ": this build's libarchive cannot gunzip in-process");
  archive_read_support_format_raw(a.get());
  if (archive_read_open_filename(a.get(), path.c_str(), 1 << 16) != ARCHIVE_OK)
    return Error(ErrorKind::kFormat, who + ": cannot open the gzip stream: " +
                                         (archive_error_string(a.get()) ? archive_error_string(a.get()) : "unknown"));
  if (archive_filter_code(a.get(), 0) != ARCHIVE_FILTER_GZIP)
    return Error(ErrorKind::kFormat, who + ": not a gzip stream");
  struct archive_entry* entry = nullptr;
  int r = archive_read_next_header(a.get(), &entry);
  if (r != ARCHIVE_OK)
    return Error(ErrorKind::kFormat, who + ": damaged gzip data: " +
                                         (archive_error_string(a.get()) ? archive_error_string(a.get()) : "no data"));
  Gunzipped out;
  Sha256 hash;
  char buf[1 << 16];
  for (;;) {
    la_ssize_t n = archive_read_data(a.get(), buf, sizeof buf);
    if (n == 0) break;
    if (n < 0) {
      const char* why = archive_error_string(a.get());
      return Error(ErrorKind::kFormat, who + ": damaged or truncated gzip data after " +
                                           std::to_string(out.text.size()) + " bytes: " + (why ? why : "read error") +
                                           "; re-download the feed");
    }
    if (out.text.size() + static_cast<std::uint64_t>(n) > max_bytes)
      return Error(ErrorKind::kLimit, who + ": expands past " + gib(max_bytes) +
                                          " uncompressed (the cap for one feed file); refusing it as a gzip bomb");
    out.text.append(buf, static_cast<std::size_t>(n));
    hash.update(buf, static_cast<std::size_t>(n));
  }
  std::string digest = hash.finish_digest();
  out.sha256_hex = digest.substr(digest.find(':') + 1);
  return out;
}

}  // namespace scangate::vulndb
