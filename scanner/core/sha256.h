// Incremental SHA-256 (OpenSSL EVP) for diffIDs and in-memory blob verification.
#pragma once

#include <memory>
#include <string>
#include <string_view>

namespace scangate {

class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(Sha256&&) noexcept;
  Sha256& operator=(Sha256&&) noexcept;
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;

  void update(const void* data, size_t n);
  // "sha256:<64 lowercase hex>". Call once; the hasher is spent afterwards.
  std::string finish_digest();

  // One-shot: "sha256:<hex>" of data.
  static std::string digest(std::string_view data);

 private:
  struct Ctx;
  std::unique_ptr<Ctx> ctx_;
};

}  // namespace scangate
