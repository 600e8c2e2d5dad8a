#include "scanner/image/archive_fs.h"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <map>
#include <system_error>

namespace scangate {
namespace {

namespace fs = std::filesystem;

constexpr int kMaxLinkDepth = 16;

Error not_found(const std::string& where, const std::string& name) {
  return Error(ErrorKind::kNotFound, where + " has no file \"" + name + "\"");
}

// Resolves a link target relative to the directory of `from` (both archive member names).
Result<std::string> resolve_link(const std::string& from, const std::string& target) {
  if (!target.empty() && target.front() == '/') return clean_member_name(target);
  auto slash = from.rfind('/');
  std::string dir = slash == std::string::npos ? "" : from.substr(0, slash + 1);
  return clean_member_name(dir + target);
}

// ---------- a member of a plain tar, read with pread ----------

struct Fd {
  int fd = -1;
  explicit Fd(int f) : fd(f) {}
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
};

class RangeStream : public BlobStream {
 public:
  RangeStream(std::shared_ptr<Fd> fd, uint64_t offset, uint64_t size, std::string what)
      : fd_(std::move(fd)), pos_(offset), end_(offset + size), what_(std::move(what)) {}
  Result<size_t> read(char* buf, size_t n) override {
    if (pos_ >= end_) return size_t{0};
    size_t want = static_cast<size_t>(std::min<uint64_t>(n, end_ - pos_));
    while (true) {
      ssize_t got = ::pread(fd_->fd, buf, want, static_cast<off_t>(pos_));
      if (got < 0 && errno == EINTR) continue;
      if (got < 0) return Error(ErrorKind::kIo, "reading " + what_ + ": " + std::strerror(errno));
      if (got == 0) return Error(ErrorKind::kIntegrity, what_ + " is truncated");
      pos_ += static_cast<uint64_t>(got);
      return static_cast<size_t>(got);
    }
  }

 private:
  std::shared_ptr<Fd> fd_;
  uint64_t pos_, end_;
  std::string what_;
};

Result<std::string> read_all(BlobStream& s, size_t max_bytes, const std::string& what) {
  std::string out;
  char buf[65536];
  while (true) {
    auto r = s.read(buf, sizeof buf);
    if (!r.ok()) return r.error();
    if (*r == 0) return out;
    if (out.size() + *r > max_bytes)
      return Error(ErrorKind::kLimit, what + " is larger than " + std::to_string(max_bytes) + " bytes");
    out.append(buf, *r);
  }
}

// ---------- directory ----------

class DirFs : public ArchiveFs {
 public:
  explicit DirFs(std::string root) : root_(std::move(root)) {
    std::error_code ec;
    canon_ = fs::canonical(root_, ec).string();
  }
  bool exists(const std::string& name) override { return locate(name).ok(); }
  Result<std::string> read_file(const std::string& name, size_t max_bytes) override {
    auto s = open(name);
    if (!s.ok()) return s.error();
    return read_all(**s, max_bytes, root_ + "/" + name);
  }
  Result<std::unique_ptr<BlobStream>> open(const std::string& name) override {
    auto p = locate(name);
    if (!p.ok()) return p.error();
    int fd = ::open(p->c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return Error(ErrorKind::kIo, "cannot open " + *p + ": " + std::strerror(errno));
    auto holder = std::make_shared<Fd>(fd);
    struct stat st {};
    if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) return Error(ErrorKind::kFormat, *p + " is not a regular file");
    return std::unique_ptr<BlobStream>(std::make_unique<RangeStream>(holder, 0, static_cast<uint64_t>(st.st_size), *p));
  }
  const std::string& location() const override { return root_; }

 private:
  Result<std::string> locate(const std::string& name) {
    auto clean = clean_member_name(name);
    if (!clean.ok()) return clean.error();
    std::error_code ec;
    fs::path p = fs::path(root_) / *clean;
    fs::path real = fs::canonical(p, ec);
    if (ec) return not_found(root_, *clean);
    std::string r = real.string();
    if (canon_.empty() || r.compare(0, canon_.size(), canon_) != 0 ||
        (r.size() > canon_.size() && r[canon_.size()] != '/'))
      return Error(ErrorKind::kFormat, root_ + ": \"" + *clean + "\" points outside the image directory");
    if (!fs::is_regular_file(real, ec)) return not_found(root_, *clean);
    return r;
  }
  std::string root_, canon_;
};

// ---------- plain tar, indexed once ----------

struct Member {
  uint64_t offset = 0;
  uint64_t size = 0;
  char type = '0';   // '0' regular, '1' hardlink, '2' symlink, '5' dir
  std::string link;  // cleaned link target (for '1' absolute within archive; for '2' as written)
};

uint64_t parse_octal(const char* p, size_t n, bool* ok) {
  // GNU base-256 for large values
  if (n > 0 && (static_cast<unsigned char>(p[0]) & 0x80)) {
    uint64_t v = static_cast<unsigned char>(p[0]) & 0x7f;
    for (size_t i = 1; i < n; ++i) {
      if (v > (UINT64_MAX >> 8)) {
        *ok = false;
        return 0;
      }
      v = (v << 8) | static_cast<unsigned char>(p[i]);
    }
    return v;
  }
  uint64_t v = 0;
  size_t i = 0;
  while (i < n && (p[i] == ' ' || p[i] == '\0')) ++i;
  bool any = false;
  for (; i < n && p[i] >= '0' && p[i] <= '7'; ++i) {
    if (v > (UINT64_MAX >> 3)) {
      *ok = false;
      return 0;
    }
    v = v * 8 + static_cast<uint64_t>(p[i] - '0');
    any = true;
  }
  for (; i < n; ++i)
    if (p[i] != ' ' && p[i] != '\0') *ok = false;
  if (!any) return 0;
  return v;
}

std::string field(const char* p, size_t n) { return std::string(p, strnlen(p, n)); }

// Parses pax records "LEN key=value\n" and returns path/linkpath/size overrides.
bool parse_pax(const std::string& data, std::map<std::string, std::string>* out) {
  size_t pos = 0;
  while (pos < data.size()) {
    size_t sp = data.find(' ', pos);
    if (sp == std::string::npos) return false;
    uint64_t len = 0;
    for (size_t i = pos; i < sp; ++i) {
      if (data[i] < '0' || data[i] > '9' || len > 1'000'000'000) return false;
      len = len * 10 + static_cast<uint64_t>(data[i] - '0');
    }
    if (len == 0 || pos + len > data.size() || data[pos + len - 1] != '\n') return false;
    std::string rec = data.substr(sp + 1, pos + len - sp - 2);
    auto eq = rec.find('=');
    if (eq == std::string::npos) return false;
    (*out)[rec.substr(0, eq)] = rec.substr(eq + 1);
    pos += len;
  }
  return true;
}

class TarFs : public ArchiveFs {
 public:
  static Result<std::unique_ptr<ArchiveFs>> open_tar(const std::string& path) {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return Error(ErrorKind::kIo, "cannot open " + path + ": " + std::strerror(errno));
    auto holder = std::make_shared<Fd>(fd);
    struct stat st {};
    if (::fstat(fd, &st) != 0) return Error(ErrorKind::kIo, "cannot stat " + path);
    auto tfs = std::unique_ptr<TarFs>(new TarFs(path, holder));
    auto r = tfs->index(static_cast<uint64_t>(st.st_size));
    if (!r.ok()) return r.error();
    return std::unique_ptr<ArchiveFs>(std::move(tfs));
  }

  bool exists(const std::string& name) override { return find(name).ok(); }
  Result<std::string> read_file(const std::string& name, size_t max_bytes) override {
    auto s = open(name);
    if (!s.ok()) return s.error();
    return read_all(**s, max_bytes, path_ + ":" + name);
  }
  Result<std::unique_ptr<BlobStream>> open(const std::string& name) override {
    auto m = find(name);
    if (!m.ok()) return m.error();
    return std::unique_ptr<BlobStream>(
        std::make_unique<RangeStream>(fd_, (*m)->offset, (*m)->size, path_ + ":" + name));
  }
  const std::string& location() const override { return path_; }

 private:
  TarFs(std::string path, std::shared_ptr<Fd> fd) : path_(std::move(path)), fd_(std::move(fd)) {}

  Result<const Member*> find(const std::string& name) {
    auto clean = clean_member_name(name);
    if (!clean.ok()) return clean.error();
    std::string cur = *clean;
    for (int depth = 0; depth < kMaxLinkDepth; ++depth) {
      auto it = members_.find(cur);
      if (it == members_.end()) return not_found(path_, *clean);
      const Member& m = it->second;
      if (m.type == '0') return &m;
      if (m.type != '1' && m.type != '2') return not_found(path_, *clean);
      auto next = m.type == '1' ? clean_member_name(m.link) : resolve_link(cur, m.link);
      if (!next.ok()) return next.error().wrap(path_ + ": link \"" + cur + "\"");
      cur = *next;
    }
    return Error(ErrorKind::kFormat, path_ + ": too many levels of links at \"" + *clean + "\"");
  }

  Result<std::string> pread_exact(uint64_t off, size_t n) {
    std::string out(n, '\0');
    size_t done = 0;
    while (done < n) {
      ssize_t got = ::pread(fd_->fd, out.data() + done, n - done, static_cast<off_t>(off + done));
      if (got < 0 && errno == EINTR) continue;
      if (got < 0) return Error(ErrorKind::kIo, "reading " + path_ + ": " + std::strerror(errno));
      if (got == 0) return Error(ErrorKind::kFormat, path_ + " is a truncated tar archive");
      done += static_cast<size_t>(got);
    }
    return out;
  }

  Result<void> index(uint64_t file_size) {
    constexpr uint64_t kBlock = 512;
    constexpr size_t kMaxMembers = 1'000'000;
    constexpr uint64_t kMaxMetaBytes = 1u << 20;
    uint64_t pos = 0;
    std::map<std::string, std::string> pax;
    std::string long_name, long_link;
    auto bad = [&](const std::string& why) {
      return Error(ErrorKind::kFormat,
                   path_ + " is not a valid tar archive: " + why + " (at byte " + std::to_string(pos) + ")");
    };
    while (true) {
      if (pos + kBlock > file_size) {
        if (members_.empty()) return bad("no tar header found");
        return Ok();  // lenient about a missing end-of-archive marker
      }
      auto hdr = pread_exact(pos, kBlock);
      if (!hdr.ok()) return hdr.error();
      const char* h = hdr->data();
      bool zero = true;
      for (size_t i = 0; i < kBlock && zero; ++i) zero = h[i] == 0;
      if (zero) {
        if (members_.empty() && pos == 0) return bad("the archive is empty");
        return Ok();
      }
      bool ok = true;
      uint64_t stored = parse_octal(h + 148, 8, &ok);
      uint64_t sum = 0;
      for (size_t i = 0; i < kBlock; ++i) sum += (i >= 148 && i < 156) ? ' ' : static_cast<unsigned char>(h[i]);
      if (!ok || stored != sum) return bad("header checksum mismatch");
      uint64_t size = parse_octal(h + 124, 12, &ok);
      if (!ok) return bad("bad size field");
      char type = h[156] == '\0' ? '0' : h[156];
      if (auto it = pax.find("size"); it != pax.end()) {
        bool pok = !it->second.empty() && it->second.size() < 20 &&
                   it->second.find_first_not_of("0123456789") == std::string::npos;
        if (!pok) return bad("bad pax size");
        size = std::stoull(it->second);
      }
      uint64_t data = pos + kBlock;
      uint64_t padded = (size + kBlock - 1) / kBlock * kBlock;
      if (size > file_size || data + size > file_size) return bad("member data runs past the end of the file");
      if (type == 'x' || type == 'g' || type == 'L' || type == 'K') {
        if (size > kMaxMetaBytes) return bad("oversized extended header");
        auto meta = pread_exact(data, static_cast<size_t>(size));
        if (!meta.ok()) return meta.error();
        if (type == 'x') {
          if (!parse_pax(*meta, &pax)) return bad("malformed pax header");
        } else if (type == 'L') {
          long_name = meta->substr(0, strnlen(meta->data(), meta->size()));
        } else if (type == 'K') {
          long_link = meta->substr(0, strnlen(meta->data(), meta->size()));
        }
        pos = data + padded;
        continue;
      }
      std::string name = field(h, 100);
      if (std::memcmp(h + 257, "ustar\0", 6) == 0) {  // POSIX ustar; GNU tar uses this area otherwise
        std::string prefix = field(h + 345, 155);
        if (!prefix.empty()) name = prefix + "/" + name;
      }
      std::string link = field(h + 157, 100);
      if (!long_name.empty()) name = long_name;
      if (!long_link.empty()) link = long_link;
      if (auto it = pax.find("path"); it != pax.end()) name = it->second;
      if (auto it = pax.find("linkpath"); it != pax.end()) link = it->second;
      pax.clear();
      long_name.clear();
      long_link.clear();
      if (type == '7') type = '0';
      auto clean = clean_member_name(name);
      if (clean.ok() && !clean->empty() && (type == '0' || type == '1' || type == '2')) {
        if (members_.size() >= kMaxMembers) return bad("too many members");
        Member m;
        m.offset = data;
        m.size = type == '0' ? size : 0;
        m.type = type;
        m.link = link;
        members_[*clean] = m;  // a later member of the same name wins, as with tar -x
      }
      pos = data + padded;
    }
  }

  std::string path_;
  std::shared_ptr<Fd> fd_;
  std::map<std::string, Member> members_;
};

// ---------- compressed tar through libarchive ----------

struct ArchiveDeleter {
  void operator()(archive* a) const { archive_read_free(a); }
};
using ArchivePtr = std::unique_ptr<archive, ArchiveDeleter>;

Result<ArchivePtr> open_libarchive(const std::string& path) {
  ArchivePtr a(archive_read_new());
  if (!a) return Error(ErrorKind::kInternal, "libarchive: out of memory");
  archive_read_support_filter_all(a.get());
  archive_read_support_format_tar(a.get());
  if (archive_read_open_filename(a.get(), path.c_str(), 1 << 16) != ARCHIVE_OK)
    return Error(ErrorKind::kFormat, "cannot read " + path + " as a tar archive: " +
                                         (archive_error_string(a.get()) ? archive_error_string(a.get()) : "unknown"));
  return a;
}

class LibarchiveStream : public BlobStream {
 public:
  LibarchiveStream(ArchivePtr a, std::string what) : a_(std::move(a)), what_(std::move(what)) {}
  Result<size_t> read(char* buf, size_t n) override {
    la_ssize_t got = archive_read_data(a_.get(), buf, n);
    if (got < 0)
      return Error(ErrorKind::kFormat, "reading " + what_ + ": " +
                                           (archive_error_string(a_.get()) ? archive_error_string(a_.get()) : "error"));
    return static_cast<size_t>(got);
  }

 private:
  ArchivePtr a_;
  std::string what_;
};

class CompressedTarFs : public ArchiveFs {
 public:
  static Result<std::unique_ptr<ArchiveFs>> open_tar(const std::string& path) {
    auto fsys = std::unique_ptr<CompressedTarFs>(new CompressedTarFs(path));
    auto a = open_libarchive(path);
    if (!a.ok()) return a.error();
    archive_entry* e = nullptr;
    while (true) {
      int rc = archive_read_next_header(a->get(), &e);
      if (rc == ARCHIVE_EOF) break;
      if (rc != ARCHIVE_OK && rc != ARCHIVE_WARN)
        return Error(ErrorKind::kFormat,
                     path + " is not a valid tar archive: " +
                         (archive_error_string(a->get()) ? archive_error_string(a->get()) : "error"));
      const char* pn = archive_entry_pathname(e);
      if (!pn) continue;
      auto clean = clean_member_name(pn);
      if (!clean.ok() || clean->empty()) continue;
      Member m;
      auto ft = archive_entry_filetype(e);
      if (archive_entry_hardlink(e)) {
        m.type = '1';
        m.link = archive_entry_hardlink(e);
      } else if (ft == AE_IFLNK) {
        m.type = '2';
        m.link = archive_entry_symlink(e) ? archive_entry_symlink(e) : "";
      } else if (ft == AE_IFREG) {
        m.type = '0';
      } else {
        continue;
      }
      fsys->members_[*clean] = m;
    }
    return std::unique_ptr<ArchiveFs>(std::move(fsys));
  }

  bool exists(const std::string& name) override { return target(name).ok(); }
  Result<std::string> read_file(const std::string& name, size_t max_bytes) override {
    auto s = open(name);
    if (!s.ok()) return s.error();
    return read_all(**s, max_bytes, path_ + ":" + name);
  }
  Result<std::unique_ptr<BlobStream>> open(const std::string& name) override {
    auto t = target(name);
    if (!t.ok()) return t.error();
    auto a = open_libarchive(path_);
    if (!a.ok()) return a.error();
    archive_entry* e = nullptr;
    while (true) {
      int rc = archive_read_next_header(a->get(), &e);
      if (rc == ARCHIVE_EOF) break;
      if (rc != ARCHIVE_OK && rc != ARCHIVE_WARN) break;
      const char* pn = archive_entry_pathname(e);
      if (!pn || archive_entry_hardlink(e) || archive_entry_filetype(e) != AE_IFREG) continue;
      auto clean = clean_member_name(pn);
      if (clean.ok() && *clean == *t)
        return std::unique_ptr<BlobStream>(std::make_unique<LibarchiveStream>(std::move(*a), path_ + ":" + name));
    }
    return not_found(path_, name);
  }
  const std::string& location() const override { return path_; }

 private:
  explicit CompressedTarFs(std::string path) : path_(std::move(path)) {}
  Result<std::string> target(const std::string& name) {
    auto clean = clean_member_name(name);
    if (!clean.ok()) return clean.error();
    std::string cur = *clean;
    for (int depth = 0; depth < kMaxLinkDepth; ++depth) {
      auto it = members_.find(cur);
      if (it == members_.end()) return not_found(path_, *clean);
      if (it->second.type == '0') return cur;
      auto next = it->second.type == '1' ? clean_member_name(it->second.link) : resolve_link(cur, it->second.link);
      if (!next.ok()) return next.error();
      cur = *next;
    }
    return Error(ErrorKind::kFormat, path_ + ": too many levels of links at \"" + *clean + "\"");
  }
  std::string path_;
  std::map<std::string, Member> members_;
};

}  // namespace

Result<std::string> clean_member_name(const std::string& name) {
  if (!name.empty() && name.front() == '/')
    return Error(ErrorKind::kFormat, "archive member name \"" + name.substr(0, 200) + "\" is absolute");
  std::vector<std::string> parts;
  size_t start = 0;
  while (start <= name.size()) {
    auto slash = name.find('/', start);
    std::string comp = name.substr(start, slash == std::string::npos ? std::string::npos : slash - start);
    if (comp == "..") {
      if (parts.empty())
        return Error(ErrorKind::kFormat, "archive member name \"" + name.substr(0, 200) + "\" leaves the archive");
      parts.pop_back();
    } else if (!comp.empty() && comp != ".") {
      if (comp.find('\0') != std::string::npos)
        return Error(ErrorKind::kFormat, "archive member name contains a NUL byte");
      parts.push_back(comp);
    }
    if (slash == std::string::npos) break;
    start = slash + 1;
  }
  std::string out;
  for (const auto& p : parts) out += (out.empty() ? "" : "/") + p;
  return out;
}

Result<std::unique_ptr<ArchiveFs>> open_archive_fs(const std::string& path) {
  std::error_code ec;
  auto st = fs::status(path, ec);
  if (ec || !fs::exists(st)) return Error(ErrorKind::kNotFound, "image input " + path + " does not exist");
  if (fs::is_directory(st)) return std::unique_ptr<ArchiveFs>(std::make_unique<DirFs>(path));
  if (!fs::is_regular_file(st))
    return Error(ErrorKind::kInvalidArgument, "image input " + path + " is not a file or directory");
  unsigned char magic[6] = {};
  {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return Error(ErrorKind::kIo, "cannot open " + path + ": " + std::strerror(errno));
    Fd holder(fd);
    ssize_t got = ::read(fd, magic, sizeof magic);
    if (got < 0) return Error(ErrorKind::kIo, "cannot read " + path + ": " + std::strerror(errno));
  }
  bool compressed = (magic[0] == 0x1f && magic[1] == 0x8b) ||                                          // gzip
                    (magic[0] == 0x28 && magic[1] == 0xb5 && magic[2] == 0x2f && magic[3] == 0xfd) ||  // zstd
                    (magic[0] == 'B' && magic[1] == 'Z' && magic[2] == 'h') ||                         // bzip2
                    (magic[0] == 0xfd && magic[1] == '7' && magic[2] == 'z' && magic[3] == 'X');       // xz
  if (compressed) return CompressedTarFs::open_tar(path);
  return TarFs::open_tar(path);
}

}  // namespace scangate
