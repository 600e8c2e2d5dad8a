#include "scanner/image/producer_stream.h"

#include <condition_variable>
#include <cstring>
#include <deque>
#include <exception>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

namespace scangate {
namespace {

struct State : ProducerSink {
  explicit State(size_t cap) : max_buffered(cap) {}

  bool write(const char* data, size_t n) override {
    std::unique_lock<std::mutex> lock(mu);
    while (n > 0) {
      cv.wait(lock, [&] { return cancel || buffered < max_buffered; });
      if (cancel) return false;
      size_t k = std::min(n, max_buffered - buffered);
      chunks.emplace_back(data, k);
      buffered += k;
      data += k;
      n -= k;
      cv.notify_all();
    }
    return !cancel;
  }
  void started() override {
    std::lock_guard<std::mutex> lock(mu);
    is_started = true;
    cv.notify_all();
  }
  bool cancelled() const override {
    std::lock_guard<std::mutex> lock(mu);
    return cancel;
  }
  void set_interrupt(std::function<void()> fn) override {
    std::lock_guard<std::mutex> lock(mu);
    interrupt = std::move(fn);
  }

  const size_t max_buffered;
  mutable std::mutex mu;
  std::condition_variable cv;
  std::deque<std::string> chunks;
  size_t front_offset = 0;
  size_t buffered = 0;
  bool is_started = false;
  bool finished = false;
  bool cancel = false;
  std::optional<Error> error;
  std::function<void()> interrupt;
};

class ProducerStream : public BlobStream {
 public:
  ProducerStream(std::shared_ptr<State> st, std::thread t) : st_(std::move(st)), thread_(std::move(t)) {}
  ~ProducerStream() override {
    {
      std::lock_guard<std::mutex> lock(st_->mu);
      st_->cancel = true;
      if (st_->interrupt) st_->interrupt();
      st_->cv.notify_all();
    }
    if (thread_.joinable()) thread_.join();
  }

  Result<size_t> read(char* buf, size_t n) override {
    std::unique_lock<std::mutex> lock(st_->mu);
    st_->cv.wait(lock, [&] { return !st_->chunks.empty() || st_->finished; });
    if (!st_->chunks.empty()) {
      size_t copied = 0;
      while (copied < n && !st_->chunks.empty()) {
        std::string& front = st_->chunks.front();
        size_t k = std::min(n - copied, front.size() - st_->front_offset);
        std::memcpy(buf + copied, front.data() + st_->front_offset, k);
        copied += k;
        st_->front_offset += k;
        st_->buffered -= k;
        if (st_->front_offset == front.size()) {
          st_->chunks.pop_front();
          st_->front_offset = 0;
        }
      }
      st_->cv.notify_all();
      return copied;
    }
    if (st_->error) return *st_->error;
    return size_t{0};
  }

 private:
  std::shared_ptr<State> st_;
  std::thread thread_;
};

}  // namespace

Result<std::unique_ptr<BlobStream>> start_producer_stream(Producer produce, size_t max_buffered) {
  auto st = std::make_shared<State>(max_buffered == 0 ? 1 : max_buffered);
  std::thread t([st, produce = std::move(produce)]() {
    std::optional<Error> err;
    try {
      auto r = produce(*st);
      if (!r.ok()) err = r.error();
    } catch (const std::exception& e) {
      err = Error(ErrorKind::kInternal, std::string("blob download failed: ") + e.what());
    }
    std::lock_guard<std::mutex> lock(st->mu);
    st->finished = true;
    st->interrupt = nullptr;
    if (err) st->error = std::move(err);
    st->cv.notify_all();
  });
  {
    std::unique_lock<std::mutex> lock(st->mu);
    st->cv.wait(lock, [&] { return st->is_started || st->finished; });
    if (!st->is_started && st->error) {
      Error e = *st->error;
      lock.unlock();
      t.join();
      return e;
    }
  }
  return std::unique_ptr<BlobStream>(std::make_unique<ProducerStream>(st, std::move(t)));
}

}  // namespace scangate
