// Content digests ("sha256:<hex>"): validation, one-shot hashing and an incremental
// verifier that every blob reader (registry, archive, layout) runs its bytes through.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "scanner/core/result.h"
#include "scanner/image/source.h"

namespace scangate {

// Accepts "sha256:<64 lowercase hex>", "sha384:<96>", "sha512:<128>". Anything else is an
// Error of kind kInvalidArgument that says what is wrong with the digest.
Result<void> validate_digest(std::string_view digest);

// "sha256:<hex>" of the bytes.
std::string sha256_digest(std::string_view data);

// Digest of the bytes computed with the algorithm named by `digest` (which must be valid).
Result<std::string> compute_digest_like(std::string_view digest, std::string_view data);

// Hashes bytes as they pass and checks them against an expected digest (and size, when
// known) at the end.
class DigestVerifier {
 public:
  // `what` names the data in error messages, e.g. "blob sha256:ab12...".
  static Result<DigestVerifier> create(const std::string& expected_digest, int64_t expected_size, std::string what);
  DigestVerifier(DigestVerifier&&) noexcept;
  DigestVerifier& operator=(DigestVerifier&&) noexcept;
  ~DigestVerifier();

  // Fails (kIntegrity) when more bytes arrive than the expected size.
  Result<void> update(const char* data, size_t n);
  // Fails with kIntegrity on a size or digest mismatch. Call once.
  Result<void> finish();
  uint64_t bytes() const { return bytes_; }

 private:
  struct Ctx;
  DigestVerifier(std::unique_ptr<Ctx> ctx, std::string expected, int64_t size, std::string what);
  std::unique_ptr<Ctx> ctx_;
  std::string expected_;
  int64_t expected_size_ = -1;
  std::string what_;
  uint64_t bytes_ = 0;
};

// Wraps an unverified stream: every byte read is hashed and the read that reaches the end
// returns kIntegrity when the digest or size does not match.
Result<std::unique_ptr<BlobStream>> make_verified_stream(std::unique_ptr<BlobStream> raw,
                                                         const std::string& expected_digest, int64_t expected_size);

}  // namespace scangate
