// Small durable-file helpers (POSIX): the CSPM spool and receiver, and reports the CLI writes.
#pragma once

#include <string>
#include <vector>

#include "scanner/core/result.h"

namespace scangate::fs {

// Creates `path` exclusively (O_EXCL), writes all bytes, fsyncs and closes it.
Result<void> write_new_file_synced(const std::string& path, const std::string& bytes);
// Writes `tmp` durably, renames it over `path` and fsyncs the directory of `path`.
Result<void> write_file_atomic(const std::string& tmp, const std::string& path, const std::string& bytes);
Result<void> fsync_dir(const std::string& dir);
Result<std::string> read_file(const std::string& path, size_t max_bytes);
// mkdir -p; existing directories are fine.
Result<void> make_dirs(const std::string& dir, unsigned mode = 0700);
// unlink that treats "already gone" as success.
Result<void> remove_file(const std::string& path);
// Names in a directory (no "." or "..").
Result<std::vector<std::string>> list_dir(const std::string& dir);
bool exists(const std::string& path);
std::string errno_text(int err);

// An exclusive flock on a lock file, held until destruction (blocking acquire).
class DirLock {
 public:
  static Result<DirLock> acquire(const std::string& lock_path);
  DirLock(DirLock&& other) noexcept : fd_(other.fd_) { other.fd_ = -1; }
  DirLock& operator=(DirLock&&) = delete;
  DirLock(const DirLock&) = delete;
  ~DirLock();

 private:
  explicit DirLock(int fd) : fd_(fd) {}
  int fd_;
};

}  // namespace scangate::fs
