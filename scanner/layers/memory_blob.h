// A BlobStream over bytes held in memory (tests, and blobs already fetched whole).
// Optionally verifies the sha256 of the bytes: the read that reaches the end fails with
// kIntegrity on a mismatch, as real blob readers do.
#pragma once

#include <cstdint>
#include <limits>
#include <string>

#include "scanner/image/source.h"

namespace scangate {

class MemoryBlob : public BlobStream {
 public:
  // expected_digest: "sha256:<hex>" or empty (no verification). max_chunk bounds each read,
  // to exercise callers that must cope with short reads.
  explicit MemoryBlob(std::string data, std::string expected_digest = {},
                      size_t max_chunk = std::numeric_limits<size_t>::max());

  Result<size_t> read(char* buf, size_t n) override;

  size_t bytes_read() const { return pos_; }
  // True once a read returned 0 (the end, after verification) or the verification error.
  bool reached_end() const { return end_reported_; }

 private:
  std::string data_;
  std::string expected_;
  size_t max_chunk_;
  size_t pos_ = 0;
  bool end_reported_ = false;
};

}  // namespace scangate
