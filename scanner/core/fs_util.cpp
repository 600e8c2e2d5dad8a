#include "scanner/core/fs_util.h"

#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <vector>

namespace scangate::fs {

std::string errno_text(int err) {
  char buf[256];
  // GNU strerror_r returns the message pointer (which may or may not be buf).
  return std::string(strerror_r(err, buf, sizeof buf));
}

namespace {

Error io_error(const std::string& what, const std::string& path, int err) {
  return Error(ErrorKind::kIo, what + " " + path + ": " + errno_text(err));
}

std::string parent_dir(const std::string& path) {
  auto slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

std::string base_name(const std::string& path) {
  auto slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

bool starts_with(const std::string& s, const std::string& prefix) { return s.compare(0, prefix.size(), prefix) == 0; }

// The canonical form of a directory, or "" when it cannot be resolved.
std::string canonical_dir(const std::string& dir) {
  char buf[PATH_MAX];
  if (::realpath(dir.c_str(), buf) == nullptr) return {};
  return buf;
}

// /proc/<our pid>/fd/N (what /dev/stdout, /dev/fd/N and /proc/self/fd/N resolve to): N, else -1.
int own_descriptor(const std::string& canonical_parent, const std::string& name) {
  const std::string own = "/proc/" + std::to_string(::getpid());
  if (canonical_parent != own + "/fd" &&
      !(starts_with(canonical_parent, own + "/task/") && canonical_parent.size() > 3 &&
        canonical_parent.compare(canonical_parent.size() - 3, 3, "/fd") == 0))
    return -1;
  if (name.empty() || name.size() > 9 || name.find_first_not_of("0123456789") != std::string::npos) return -1;
  return std::stoi(name);
}

Result<void> write_all(int fd, const char* data, size_t size, const std::string& path) {
  size_t done = 0;
  while (done < size) {
    ssize_t n = ::write(fd, data + done, size - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      return io_error("cannot write", path, errno);
    }
    done += static_cast<size_t>(n);
  }
  return Ok();
}

// Opens a kStream target for writing: never creates or replaces it. The caller closes the result
// unless it is the target's own descriptor.
Result<int> open_stream(const OutputTarget& t) {
  if (t.fd >= 0) return t.fd;
  int fd = ::open(t.path.c_str(), O_WRONLY | O_TRUNC | O_NOCTTY | O_CLOEXEC);
  if (fd < 0) return io_error("cannot open for writing", t.path, errno);
  return fd;
}

// A FIFO under a deadline: opened without blocking (retried while no process reads it) and
// written with poll(), so neither a missing reader nor a stalled one holds the caller past it.
Result<void> write_fifo(const std::string& path, const std::string& bytes, const Deadline& deadline) {
  int fd = -1;
  for (;;) {
    fd = ::open(path.c_str(), O_WRONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
    if (fd >= 0) break;
    if (errno == EINTR) continue;
    if (errno != ENXIO) return io_error("cannot open for writing", path, errno);
    if (deadline.expired())
      return Error(ErrorKind::kLimit, "no process opened the FIFO " + path + " for reading before the deadline");
    ::usleep(static_cast<useconds_t>(std::min<long long>(20, deadline.remaining().count()) * 1000));
  }
  size_t done = 0;
  Result<void> r = Ok();
  while (done < bytes.size()) {
    ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n >= 0) {
      done += static_cast<size_t>(n);
      continue;
    }
    if (errno == EINTR) continue;
    if (errno != EAGAIN) {
      r = io_error("cannot write", path, errno);
      break;
    }
    pollfd p{fd, POLLOUT, 0};
    const auto wait = deadline.remaining();
    if (wait.count() <= 0 || ::poll(&p, 1, static_cast<int>(std::min<long long>(wait.count(), INT_MAX))) == 0) {
      r = Error(ErrorKind::kLimit, "the reader of the FIFO " + path + " took " + std::to_string(done) + " of " +
                                       std::to_string(bytes.size()) + " bytes and stopped before the deadline");
      break;
    }
  }
  if (::close(fd) != 0 && r.ok()) return io_error("cannot close", path, errno);
  return r;
}

}  // namespace

Result<OutputTarget> resolve_output(const std::string& path) {
  if (path.empty()) return Error(ErrorKind::kInvalidArgument, "empty output path");
  std::string cur = path;
  for (int hop = 0; hop <= 40; ++hop) {
    const std::string parent = canonical_dir(parent_dir(cur));
    // What lives under /proc or /sys is the kernel's (or, for /proc/self/fd, an open descriptor):
    // written through, never renamed over.
    const bool kernel =
        parent == "/proc" || parent == "/sys" || starts_with(parent, "/proc/") || starts_with(parent, "/sys/");
    struct stat st {};
    if (::lstat(cur.c_str(), &st) != 0) {
      int err = errno;
      if (err == ENOENT && !kernel) return OutputTarget{OutputKind::kNew, cur};
      return io_error("cannot use as output", cur, err);
    }
    if (kernel) {
      OutputTarget t{OutputKind::kStream, cur};
      t.fd = own_descriptor(parent, base_name(cur));
      return t;
    }
    if (S_ISLNK(st.st_mode)) {
      std::vector<char> buf(static_cast<size_t>(st.st_size > 0 ? st.st_size : PATH_MAX) + 1);
      ssize_t n = ::readlink(cur.c_str(), buf.data(), buf.size());
      if (n < 0) return io_error("cannot read the link", cur, errno);
      if (static_cast<size_t>(n) >= buf.size()) return Error(ErrorKind::kIo, "the link " + cur + " changed while read");
      std::string target(buf.data(), static_cast<size_t>(n));
      cur = !target.empty() && target.front() == '/' ? target : parent_dir(cur) + "/" + target;
      continue;
    }
    if (S_ISDIR(st.st_mode)) return Error(ErrorKind::kInvalidArgument, cur + " is a directory, not a file");
    if (S_ISREG(st.st_mode)) {
      OutputTarget t{OutputKind::kRegular, cur};
      t.mode = st.st_mode & 07777;
      t.uid = st.st_uid;
      t.gid = st.st_gid;
      return t;
    }
    return OutputTarget{OutputKind::kStream, cur};  // devices, FIFOs, sockets
  }
  return Error(ErrorKind::kInvalidArgument, path + ": more than 40 symbolic links (a loop?)");
}

std::string output_temp_template(const OutputTarget& target) {
  if (target.kind != OutputKind::kStream) return target.path + ".tmp-XXXXXX";
  const char* tmp = std::getenv("TMPDIR");
  return std::string(tmp && *tmp ? tmp : "/tmp") + "/scangate-output-XXXXXX";
}

Result<void> install_output(const std::string& built, const OutputTarget& target) {
  if (target.kind != OutputKind::kStream) {
    if (::rename(built.c_str(), target.path.c_str()) != 0) {
      int err = errno;
      ::unlink(built.c_str());
      return io_error("cannot rename into", target.path, err);
    }
    return fsync_dir(parent_dir(target.path));
  }
  int in = ::open(built.c_str(), O_RDONLY | O_CLOEXEC);
  if (in < 0) {
    int err = errno;
    ::unlink(built.c_str());
    return io_error("cannot open", built, err);
  }
  auto out = open_stream(target);
  Result<void> r = Ok();
  if (!out.ok()) {
    r = out.error();
  } else {
    char buf[65536];
    for (;;) {
      ssize_t n = ::read(in, buf, sizeof buf);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) {
        r = io_error("cannot read", built, errno);
        break;
      }
      if (n == 0) break;
      r = write_all(*out, buf, static_cast<size_t>(n), target.path);
      if (!r.ok()) break;
    }
    if (*out != target.fd && ::close(*out) != 0 && r.ok()) r = io_error("cannot close", target.path, errno);
  }
  ::close(in);
  ::unlink(built.c_str());
  return r;
}

Result<void> write_output(const std::string& path, const std::string& bytes, const Deadline& deadline) {
  auto t = resolve_output(path);
  if (!t.ok()) return t.error();
  if (t->kind == OutputKind::kStream) {
    struct stat st {};
    if (t->fd < 0 && deadline.bounded() && ::stat(t->path.c_str(), &st) == 0 && S_ISFIFO(st.st_mode))
      return write_fifo(t->path, bytes, deadline);
    auto fd = open_stream(*t);
    if (!fd.ok()) return fd.error();
    auto w = write_all(*fd, bytes.data(), bytes.size(), t->path);
    if (*fd != t->fd && ::close(*fd) != 0 && w.ok()) return io_error("cannot close", t->path, errno);
    return w;
  }
  std::string tmpl = output_temp_template(*t);
  std::vector<char> name(tmpl.begin(), tmpl.end());
  name.push_back('\0');
  int fd = ::mkostemp(name.data(), O_CLOEXEC);  // mode 0600
  if (fd < 0) return io_error("cannot create a temporary file beside", t->path, errno);
  const std::string tmp(name.data());
  auto fail = [&](Error e) -> Result<void> {
    ::close(fd);
    ::unlink(tmp.c_str());
    return e;
  };
  if (auto w = write_all(fd, bytes.data(), bytes.size(), tmp); !w.ok()) return fail(w.error());
  if (t->kind == OutputKind::kRegular) {
    // The replacement is the same file to its readers: same permissions, and the same owner when
    // we may give it (root).
    if (::geteuid() == 0 && ::fchown(fd, t->uid, t->gid) != 0) return fail(io_error("cannot chown", tmp, errno));
    if (::fchmod(fd, t->mode) != 0) return fail(io_error("cannot chmod", tmp, errno));
  }
  if (::fsync(fd) != 0) return fail(io_error("cannot fsync", tmp, errno));
  if (::close(fd) != 0) {
    int err = errno;
    ::unlink(tmp.c_str());
    return io_error("cannot close", tmp, err);
  }
  return install_output(tmp, *t);
}

Result<void> write_new_file_synced(const std::string& path, const std::string& bytes) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) return io_error("cannot create", path, errno);
  size_t done = 0;
  while (done < bytes.size()) {
    ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      int err = errno;
      ::close(fd);
      ::unlink(path.c_str());
      return io_error("cannot write", path, err);
    }
    done += static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0) {
    int err = errno;
    ::close(fd);
    ::unlink(path.c_str());
    return io_error("cannot fsync", path, err);
  }
  if (::close(fd) != 0) {
    int err = errno;
    ::unlink(path.c_str());
    return io_error("cannot close", path, err);
  }
  return Ok();
}

Result<void> fsync_dir(const std::string& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return io_error("cannot open directory", dir, errno);
  int rc = ::fsync(fd);
  int err = errno;
  ::close(fd);
  if (rc != 0) return io_error("cannot fsync directory", dir, err);
  return Ok();
}

Result<void> write_file_atomic(const std::string& tmp, const std::string& path, const std::string& bytes) {
  ::unlink(tmp.c_str());
  SG_TRY(write_new_file_synced(tmp, bytes));
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    int err = errno;
    ::unlink(tmp.c_str());
    return io_error("cannot rename into", path, err);
  }
  return fsync_dir(parent_dir(path));
}

Result<std::string> read_file(const std::string& path, size_t max_bytes) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    int err = errno;
    if (err == ENOENT) return Error(ErrorKind::kNotFound, path + " does not exist");
    return io_error("cannot open", path, err);
  }
  std::string out;
  char buf[65536];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      int err = errno;
      ::close(fd);
      return io_error("cannot read", path, err);
    }
    if (n == 0) break;
    if (out.size() + static_cast<size_t>(n) > max_bytes) {
      ::close(fd);
      return Error(ErrorKind::kLimit, path + " is larger than " + std::to_string(max_bytes) + " bytes");
    }
    out.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  return out;
}

Result<void> make_dirs(const std::string& dir, unsigned mode) {
  if (dir.empty()) return Error(ErrorKind::kInvalidArgument, "empty directory path");
  for (size_t i = 1; i <= dir.size(); ++i) {
    if (i < dir.size() && dir[i] != '/') continue;
    std::string part = dir.substr(0, i);
    if (::mkdir(part.c_str(), static_cast<mode_t>(mode)) != 0 && errno != EEXIST)
      return io_error("cannot create directory", part, errno);
  }
  struct stat st {};
  if (::stat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) return Error(ErrorKind::kIo, dir + " is not a directory");
  return Ok();
}

Result<void> remove_file(const std::string& path) {
  if (::unlink(path.c_str()) != 0 && errno != ENOENT) return io_error("cannot remove", path, errno);
  return Ok();
}

Result<std::vector<std::string>> list_dir(const std::string& dir) {
  DIR* d = ::opendir(dir.c_str());
  if (!d) return io_error("cannot list", dir, errno);
  std::vector<std::string> names;
  while (dirent* e = ::readdir(d)) {
    std::string name = e->d_name;
    if (name == "." || name == "..") continue;
    names.push_back(std::move(name));
  }
  ::closedir(d);
  return names;
}

bool exists(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0;
}

Result<DirLock> DirLock::acquire(const std::string& lock_path) {
  int fd = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) return io_error("cannot open lock file", lock_path, errno);
  while (::flock(fd, LOCK_EX) != 0) {
    if (errno == EINTR) continue;
    int err = errno;
    ::close(fd);
    return io_error("cannot lock", lock_path, err);
  }
  return DirLock(fd);
}

DirLock::~DirLock() {
  if (fd_ >= 0) ::close(fd_);  // closing the only descriptor releases the flock
}

}  // namespace scangate::fs
