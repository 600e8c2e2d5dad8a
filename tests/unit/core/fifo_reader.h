// Reads a FIFO to its end on a thread without ever hanging a test: the read end is opened
// (non-blocking) before the writer runs, so the writer's open() does not wait, and each wait for
// data is bounded (10 s). A writer that never opens the FIFO (e.g. one that replaced it with a
// regular file) leaves the result empty instead of blocking the test forever.
#pragma once

#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include <cerrno>
#include <stdexcept>
#include <string>
#include <thread>

namespace scangate::test {

class FifoReader {
 public:
  explicit FifoReader(const std::string& path) : fd_(::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC)) {
    if (fd_ < 0) throw std::runtime_error("cannot open FIFO " + path + " for reading");
    thread_ = std::thread([this] { loop(); });
  }
  FifoReader(const FifoReader&) = delete;
  FifoReader& operator=(const FifoReader&) = delete;
  ~FifoReader() {
    if (thread_.joinable()) thread_.join();
    if (fd_ >= 0) ::close(fd_);
  }
  // Waits for the writer to close (or for 10 s of silence) and returns every byte read.
  std::string finish() {
    if (thread_.joinable()) thread_.join();
    return got_;
  }

 private:
  void loop() {
    char buf[65536];
    for (;;) {
      // Linux reports POLLHUP on a FIFO's read end only once a writer has come and gone.
      pollfd p{fd_, POLLIN, 0};
      int r = ::poll(&p, 1, 10000);
      if (r < 0 && errno == EINTR) continue;
      if (r <= 0) return;
      ssize_t n = ::read(fd_, buf, sizeof buf);
      if (n > 0) {
        got_.append(buf, static_cast<size_t>(n));
      } else if (n == 0) {
        return;
      } else if (errno != EAGAIN && errno != EINTR) {
        return;
      }
    }
  }

  int fd_;
  std::string got_;
  std::thread thread_;
};

}  // namespace scangate::test
