// libFuzzer target: image archives (scanner/image/archive_fs.h: the plain-tar index, or
// libarchive for a compressed tar) and the docker-save / OCI-layout reader on top of them
// (scanner/image/archive_source.h), as `scangate image --input FILE` reads a file it was given.
//
// The bytes become a file (a memfd, named by its /proc/self/fd path). Properties:
//   - clean_member_name() of any name is idempotent and never absolute or climbing out;
//   - for the plain-tar index (no compression magic), each regular file libarchive reads in the
//     same bytes (a tar made only of files, directories and links, read without warnings; the
//     last member of a name wins, as with tar -x) is found by name with the same content;
//   - resolve() gives layers that open_layer() opens, and reading each to its end either ends
//     cleanly or fails with an error (a digest that does not match is kIntegrity).
#include <archive.h>
#include <archive_entry.h>
#include <sys/mman.h>
#include <unistd.h>

#include <map>
#include <optional>

#include "scanner/image/archive_fs.h"
#include "scanner/image/archive_source.h"
#include "tests/fuzz/fuzz_check.h"

using namespace scangate;

namespace {

[[noreturn]] void fail(const std::string& what, std::string_view in) { fuzz::fail("tar_index_fuzz", what, in); }

constexpr std::size_t kMaxRead = 1 << 20;

struct ArchiveFree {
  void operator()(archive* a) const { archive_read_free(a); }
};

// What libarchive reads in `in`: regular files by cleaned name (the last one wins); nullopt when
// it is not a plain tar of files, directories and links read without a warning.
std::optional<std::map<std::string, std::string>> libarchive_files(std::string_view in) {
  std::unique_ptr<archive, ArchiveFree> a(archive_read_new());
  archive_read_support_format_tar(a.get());
  if (archive_read_open_memory(a.get(), in.data(), in.size()) != ARCHIVE_OK) return std::nullopt;
  std::map<std::string, std::string> files;
  archive_entry* e = nullptr;
  while (true) {
    const int rc = archive_read_next_header(a.get(), &e);
    if (rc == ARCHIVE_EOF) break;
    if (rc != ARCHIVE_OK) return std::nullopt;
    const auto type = archive_entry_filetype(e);
    const char* name = archive_entry_pathname(e);
    if (!name || archive_entry_sparse_count(e) > 0) return std::nullopt;
    if (type != AE_IFREG && type != AE_IFDIR && type != AE_IFLNK) return std::nullopt;
    auto clean = clean_member_name(name);
    if (!clean.ok() || clean->empty()) continue;
    if (type != AE_IFREG || archive_entry_hardlink(e)) {
      files.erase(*clean);  // a later directory or link replaces the file
      continue;
    }
    std::string content;
    char buf[8192];
    while (true) {
      const la_ssize_t n = archive_read_data(a.get(), buf, sizeof buf);
      if (n < 0) return std::nullopt;
      if (n == 0) break;
      content.append(buf, static_cast<std::size_t>(n));
      if (content.size() > kMaxRead) return std::nullopt;
    }
    files[*clean] = std::move(content);
  }
  return files;
}

bool compressed(std::string_view in) {
  auto at = [&](std::size_t i) { return i < in.size() ? static_cast<unsigned char>(in[i]) : 0; };
  return (at(0) == 0x1f && at(1) == 0x8b) || (at(0) == 0x28 && at(1) == 0xb5 && at(2) == 0x2f && at(3) == 0xfd) ||
         (at(0) == 'B' && at(1) == 'Z' && at(2) == 'h') || (at(0) == 0xfd && at(1) == '7' && at(2) == 'z');
}

void check_name(const std::string& name, std::string_view in) {
  auto clean = clean_member_name(name);
  if (!clean.ok()) return;
  auto again = clean_member_name(*clean);
  if (!again.ok() || *again != *clean) fail("clean_member_name(\"" + name + "\") is not idempotent", in);
  if (!clean->empty() && (clean->front() == '/' || clean->rfind("../", 0) == 0 || *clean == ".."))
    fail("clean_member_name(\"" + name + "\") = \"" + *clean + "\"", in);
}

void drain(BlobStream& s, std::string_view in) {
  char buf[16384];
  std::size_t total = 0;
  while (total < 64 * kMaxRead) {
    auto n = s.read(buf, sizeof buf);
    if (!n.ok()) return;
    if (*n == 0) return;
    if (*n > sizeof buf) fail("a read returned more than asked", in);
    total += *n;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view in = fuzz::as_text(data, size);
  static const int fd = memfd_create("tar_index_fuzz", MFD_CLOEXEC);
  if (fd < 0 || ftruncate(fd, 0) != 0) std::abort();
  if (size > 0 && pwrite(fd, data, size, 0) != static_cast<ssize_t>(size)) std::abort();
  static const std::string path = "/proc/self/fd/" + std::to_string(fd);

  auto fsys = open_archive_fs(path);
  if (fsys.ok()) {
    for (const char* name : {"manifest.json", "index.json", "oci-layout", "a", "./a/../b", "l"}) {
      check_name(name, in);
      const bool exists = (*fsys)->exists(name);
      auto content = (*fsys)->read_file(name, kMaxRead);
      if (content.ok() != exists && !(exists && content.error().kind == ErrorKind::kLimit) &&
          !(exists && content.error().kind == ErrorKind::kFormat))
        fail(std::string("exists(\"") + name + "\") disagrees with read_file", in);
    }
    if (!compressed(in)) {
      if (auto files = libarchive_files(in)) {
        for (const auto& [name, content] : *files) {
          check_name(name, in);
          auto got = (*fsys)->read_file(name, kMaxRead);
          if (!got.ok()) fail("libarchive reads \"" + name + "\", the index does not: " + got.error().message, in);
          if (*got != content) fail("\"" + name + "\" differs from what libarchive reads", in);
        }
      }
    }
  }

  ArchiveSourceOptions o;
  o.path = path;
  o.max_json_bytes = kMaxRead;
  o.warn = [](const std::string&) {};
  auto source = open_archive_source(o);
  if (!source.ok()) return 0;
  auto image = (*source)->resolve();
  if (!image.ok()) return 0;
  for (const auto& layer : image->layers) {
    auto s = (*source)->open_layer(layer);
    if (!s.ok()) continue;
    drain(**s, in);
  }
  return 0;
}
