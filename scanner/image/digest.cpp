#include "scanner/image/digest.h"

#include "scanner/core/sha256.h"

#include <openssl/evp.h>

#include <utility>

namespace scangate {
namespace {

const EVP_MD* md_for(std::string_view algo, size_t* hex_len) {
  if (algo == "sha256") {
    *hex_len = 64;
    return EVP_sha256();
  }
  if (algo == "sha384") {
    *hex_len = 96;
    return EVP_sha384();
  }
  if (algo == "sha512") {
    *hex_len = 128;
    return EVP_sha512();
  }
  return nullptr;
}

std::string to_hex(const unsigned char* d, unsigned n) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(n * 2);
  for (unsigned i = 0; i < n; ++i) {
    out.push_back(kHex[d[i] >> 4]);
    out.push_back(kHex[d[i] & 0xf]);
  }
  return out;
}

std::string shorten(std::string_view s) {
  if (s.size() <= 80) return std::string(s);
  return std::string(s.substr(0, 77)) + "...";
}

}  // namespace

Result<void> validate_digest(std::string_view digest) {
  auto colon = digest.find(':');
  if (digest.empty()) return Error(ErrorKind::kInvalidArgument, "digest is empty");
  if (colon == std::string_view::npos || colon == 0)
    return Error(ErrorKind::kInvalidArgument,
                 "digest \"" + shorten(digest) + "\" must have the form algorithm:hex (e.g. sha256:<64 hex>)");
  std::string_view algo = digest.substr(0, colon);
  std::string_view hex = digest.substr(colon + 1);
  size_t want = 0;
  if (!md_for(algo, &want))
    return Error(ErrorKind::kInvalidArgument,
                 "digest algorithm \"" + shorten(algo) + "\" is not supported (use sha256, sha384 or sha512)");
  if (hex.size() != want)
    return Error(ErrorKind::kInvalidArgument, "digest \"" + shorten(digest) + "\": " + std::string(algo) + " needs " +
                                                  std::to_string(want) + " hex characters, got " +
                                                  std::to_string(hex.size()));
  for (char c : hex) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
      return Error(ErrorKind::kInvalidArgument,
                   "digest \"" + shorten(digest) + "\" must use lowercase hexadecimal characters only");
  }
  return Ok();
}

struct DigestVerifier::Ctx {
  EVP_MD_CTX* md = nullptr;
  ~Ctx() { EVP_MD_CTX_free(md); }
};

namespace {
std::string hash_with(const EVP_MD* md, std::string_view data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned len = 0;
  EVP_Digest(data.data(), data.size(), out, &len, md, nullptr);
  return to_hex(out, len);
}
}  // namespace

std::string sha256_digest(std::string_view data) { return Sha256::digest(data); }

Result<std::string> compute_digest_like(std::string_view digest, std::string_view data) {
  SG_TRY(validate_digest(digest));
  std::string_view algo = digest.substr(0, digest.find(':'));
  size_t n = 0;
  return std::string(algo) + ":" + hash_with(md_for(algo, &n), data);
}

DigestVerifier::DigestVerifier(std::unique_ptr<Ctx> ctx, std::string expected, int64_t size, std::string what)
    : ctx_(std::move(ctx)), expected_(std::move(expected)), expected_size_(size), what_(std::move(what)) {}
DigestVerifier::DigestVerifier(DigestVerifier&&) noexcept = default;
DigestVerifier& DigestVerifier::operator=(DigestVerifier&&) noexcept = default;
DigestVerifier::~DigestVerifier() = default;

Result<DigestVerifier> DigestVerifier::create(const std::string& expected_digest, int64_t expected_size,
                                              std::string what) {
  SG_TRY(validate_digest(expected_digest));
  size_t n = 0;
  const EVP_MD* md = md_for(std::string_view(expected_digest).substr(0, expected_digest.find(':')), &n);
  auto ctx = std::make_unique<Ctx>();
  ctx->md = EVP_MD_CTX_new();
  if (!ctx->md || EVP_DigestInit_ex(ctx->md, md, nullptr) != 1)
    return Error(ErrorKind::kInternal, "cannot initialise the digest context");
  return DigestVerifier(std::move(ctx), expected_digest, expected_size, std::move(what));
}

Result<void> DigestVerifier::update(const char* data, size_t n) {
  bytes_ += n;
  if (expected_size_ >= 0 && bytes_ > static_cast<uint64_t>(expected_size_))
    return Error(ErrorKind::kIntegrity,
                 what_ + " is larger than the " + std::to_string(expected_size_) + " bytes its descriptor declares");
  if (n > 0) EVP_DigestUpdate(ctx_->md, data, n);
  return Ok();
}

Result<void> DigestVerifier::finish() {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned len = 0;
  EVP_DigestFinal_ex(ctx_->md, out, &len);
  if (expected_size_ >= 0 && bytes_ != static_cast<uint64_t>(expected_size_))
    return Error(ErrorKind::kIntegrity, what_ + " is truncated: got " + std::to_string(bytes_) +
                                            " bytes, its descriptor declares " + std::to_string(expected_size_));
  std::string got = expected_.substr(0, expected_.find(':')) + ":" + to_hex(out, len);
  if (got != expected_) return Error(ErrorKind::kIntegrity, what_ + " digest mismatch (got " + got + ")");
  return Ok();
}

namespace {

class VerifiedStream : public BlobStream {
 public:
  VerifiedStream(std::unique_ptr<BlobStream> raw, DigestVerifier v) : raw_(std::move(raw)), v_(std::move(v)) {}
  Result<size_t> read(char* buf, size_t n) override {
    if (failed_) return *failed_;
    if (done_) return size_t{0};
    auto r = raw_->read(buf, n);
    if (!r.ok()) return fail(r.error());
    if (*r == 0) {
      done_ = true;
      auto f = v_.finish();
      if (!f.ok()) return fail(f.error());
      return size_t{0};
    }
    auto u = v_.update(buf, *r);
    if (!u.ok()) return fail(u.error());
    return *r;
  }

 private:
  Result<size_t> fail(const Error& e) {
    failed_ = std::make_unique<Error>(e);
    return e;
  }
  std::unique_ptr<BlobStream> raw_;
  DigestVerifier v_;
  bool done_ = false;
  std::unique_ptr<Error> failed_;
};

}  // namespace

Result<std::unique_ptr<BlobStream>> make_verified_stream(std::unique_ptr<BlobStream> raw,
                                                         const std::string& expected_digest, int64_t expected_size) {
  auto v = DigestVerifier::create(expected_digest, expected_size, "blob " + expected_digest);
  if (!v.ok()) return v.error();
  return std::unique_ptr<BlobStream>(std::make_unique<VerifiedStream>(std::move(raw), std::move(v).value()));
}

}  // namespace scangate
