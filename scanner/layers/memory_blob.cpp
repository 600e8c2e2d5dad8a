#include "scanner/layers/memory_blob.h"

#include <algorithm>
#include <cstring>

#include "scanner/core/sha256.h"

namespace scangate {

MemoryBlob::MemoryBlob(std::string data, std::string expected_digest, size_t max_chunk)
    : data_(std::move(data)), expected_(std::move(expected_digest)), max_chunk_(std::max<size_t>(max_chunk, 1)) {}

Result<size_t> MemoryBlob::read(char* buf, size_t n) {
  if (pos_ >= data_.size()) {
    if (!end_reported_) {
      end_reported_ = true;
      if (!expected_.empty()) {
        std::string got = Sha256::digest(data_);
        if (got != expected_) {
          return Error(ErrorKind::kIntegrity, "blob digest mismatch: expected " + expected_ + ", got " + got +
                                                  "; the blob is corrupt or was tampered with, pull it again");
        }
      }
    }
    return size_t{0};
  }
  size_t k = std::min({n, max_chunk_, data_.size() - pos_});
  std::memcpy(buf, data_.data() + pos_, k);
  pos_ += k;
  return k;
}

}  // namespace scangate
