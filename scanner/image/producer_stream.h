// A BlobStream fed by a producer thread through a bounded buffer. This turns push-style
// HTTP clients (content receivers) into the pull-style BlobStream without holding a whole
// blob in memory. Destroying the stream early cancels the producer and joins it.
#pragma once

#include <functional>
#include <memory>

#include "scanner/core/result.h"
#include "scanner/image/source.h"

namespace scangate {

class ProducerSink {
 public:
  virtual ~ProducerSink() = default;
  // Blocks while the buffer is full. Returns false once the consumer has gone away.
  virtual bool write(const char* data, size_t n) = 0;
  // The producer calls this once the data is known to be coming (e.g. after a 2xx header).
  virtual void started() = 0;
  virtual bool cancelled() const = 0;
  // Installs (or clears, with nullptr) a hook that interrupts blocking I/O on cancel.
  virtual void set_interrupt(std::function<void()> interrupt) = 0;
};

using Producer = std::function<Result<void>(ProducerSink&)>;

// Starts `produce` on a thread and waits until it calls started() or returns. An error
// returned before started() is returned from here; later errors surface from read().
Result<std::unique_ptr<BlobStream>> start_producer_stream(Producer produce, size_t max_buffered = 4u << 20);

}  // namespace scangate
