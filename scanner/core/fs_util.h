// Small durable-file helpers (POSIX): the CSPM spool and receiver, and reports the CLI writes.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "scanner/core/deadline.h"
#include "scanner/core/result.h"

namespace scangate::fs {

// Creates `path` exclusively (O_EXCL), writes all bytes, fsyncs and closes it.
Result<void> write_new_file_synced(const std::string& path, const std::string& bytes);
// Writes `tmp` durably, renames it over `path` and fsyncs the directory of `path`.
Result<void> write_file_atomic(const std::string& tmp, const std::string& path, const std::string& bytes);
Result<void> fsync_dir(const std::string& dir);

// A path a user named for output (`--output FILE`, `db build --output`, `db update --db`): what is
// there decides how it is written, so that writing never destroys what the path points at.
enum class OutputKind {
  kNew,      // nothing there yet (or a dangling symlink's target): created by temp file + rename
  kRegular,  // a regular file, reached through any symlinks: replaced by temp file + rename
  kStream,   // a character or block device, a FIFO, a socket, a file under /proc or /sys (/dev/stdout,
             // /dev/fd/N): opened and written through, never replaced or created
};
struct OutputTarget {
  OutputKind kind = OutputKind::kNew;
  // kNew and kRegular: the path after following every symlink, the one the rename replaces (a link
  // on the way stays a link). kStream: the path to open (as given).
  std::string path;
  mode_t mode = 0600;  // kRegular: the permission bits of the file being replaced, kept
  uid_t uid = 0;       // kRegular: its owner, kept when running as root
  gid_t gid = 0;
  int fd = -1;  // kStream through /dev/fd/N, /proc/self/fd/N or /dev/stdout: our own descriptor N
};
// Follows symlinks (at most 40) to what `path` names. A directory is an error (kInvalidArgument).
Result<OutputTarget> resolve_output(const std::string& path);
// Writes `bytes` to a user-named output: a regular file or a new path is replaced atomically (a
// temporary file beside the resolved target, fsynced, renamed over it, the directory fsynced; a
// reader never sees half of it; an existing file keeps its mode); anything else is opened
// O_WRONLY|O_TRUNC (no O_CREAT) and written through, so /dev/null, a FIFO or /dev/stdout stays
// what it is. A FIFO is opened and written without blocking past `deadline`: with no reader, or a
// reader that stops reading, the write fails when the deadline passes instead of hanging the gate.
Result<void> write_output(const std::string& path, const std::string& bytes,
                          const Deadline& deadline = Deadline::never());
// For writers that build a whole file first (the vulnerability DB): where to build it (a new,
// empty directory-local temp path for kNew/kRegular; $TMPDIR for kStream)...
std::string output_temp_template(const OutputTarget& target);
// ...and how to put the finished file in place: renamed over target.path (then the directory is
// fsynced), or, for a kStream target, copied into it and removed.
Result<void> install_output(const std::string& built, const OutputTarget& target);
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
