#include "scanner/attest/keys.h"

#include <openssl/bio.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <fstream>
#include <sstream>

#include "scanner/core/sha256.h"

namespace scangate::attest {
namespace {

constexpr size_t kMaxKeyFileBytes = 64 * 1024;

std::shared_ptr<void> own(EVP_PKEY* k) {
  return {k, [](void* p) { EVP_PKEY_free(static_cast<EVP_PKEY*>(p)); }};
}
EVP_PKEY* raw(const std::shared_ptr<void>& k) { return static_cast<EVP_PKEY*>(k.get()); }

std::string openssl_reason() {
  unsigned long e = ERR_get_error();
  ERR_clear_error();
  if (e == 0) return "not a PEM key";
  char buf[256];
  ERR_error_string_n(e, buf, sizeof buf);
  return buf;
}

// A refusal callback: encrypted PEM keys are not read (no passphrase prompt in a gate).
int no_passphrase(char*, int, int, void*) { return -1; }

Result<void> check_p256(EVP_PKEY* k, const std::string& source) {
  if (EVP_PKEY_get_base_id(k) != EVP_PKEY_EC)
    return Error(ErrorKind::kInvalidArgument, source +
                                                  ": not an EC key; attestation keys are ECDSA P-256 "
                                                  "(`openssl ecparam -name prime256v1 -genkey` or cosign's)");
  char group[64] = {0};
  size_t len = 0;
  if (EVP_PKEY_get_utf8_string_param(k, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof group, &len) != 1 ||
      std::string_view(group, len) != "prime256v1")
    return Error(ErrorKind::kInvalidArgument, source + ": EC key on curve " +
                                                  (len ? std::string(group, len) : std::string("unknown")) +
                                                  "; attestation keys are on P-256 (prime256v1)");
  return Ok();
}

Result<std::string> read_key_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Error(ErrorKind::kNotFound, "cannot read key file " + path);
  std::string text(kMaxKeyFileBytes + 1, '\0');
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  text.resize(static_cast<size_t>(in.gcount()));
  if (text.size() > kMaxKeyFileBytes) return Error(ErrorKind::kLimit, "key file " + path + " is larger than 64 KiB");
  return text;
}

std::string key_id(EVP_PKEY* k) {
  unsigned char* der = nullptr;
  int n = i2d_PUBKEY(k, &der);
  if (n <= 0) return "SHA256:unknown";
  std::string d = Sha256::digest(std::string_view(reinterpret_cast<const char*>(der), static_cast<size_t>(n)));
  OPENSSL_free(der);
  return "SHA256:" + d.substr(7, 16);
}

}  // namespace

Result<PublicKey> PublicKey::from_pem(std::string_view pem, const std::string& source) {
  if (pem.find("PRIVATE KEY") != std::string_view::npos && pem.find("PUBLIC KEY") == std::string_view::npos)
    return Error(ErrorKind::kInvalidArgument,
                 source + ": is a private key; verification takes the public key (`openssl ec -pubout`, cosign.pub)");
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())), BIO_free);
  EVP_PKEY* k = PEM_read_bio_PUBKEY(bio.get(), nullptr, no_passphrase, nullptr);
  if (k == nullptr) return Error(ErrorKind::kFormat, source + ": not a PEM public key (" + openssl_reason() + ")");
  PublicKey out;
  out.key_ = own(k);
  SG_TRY(check_p256(k, source));
  out.id_ = key_id(k);
  out.source_ = source;
  return out;
}

Result<PublicKey> PublicKey::load_file(const std::string& path) {
  auto text = read_key_file(path);
  if (!text.ok()) return text.error();
  return from_pem(*text, path);
}

bool PublicKey::verify(std::string_view data, std::string_view der_signature) const {
  if (!key_ || der_signature.empty() || der_signature.size() > 256) return false;
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  if (!ctx || EVP_DigestVerifyInit(ctx.get(), nullptr, EVP_sha256(), nullptr, raw(key_)) != 1) {
    ERR_clear_error();
    return false;
  }
  const int r =
      EVP_DigestVerify(ctx.get(), reinterpret_cast<const unsigned char*>(der_signature.data()), der_signature.size(),
                       reinterpret_cast<const unsigned char*>(data.data()), data.size());
  ERR_clear_error();
  return r == 1;
}

bool PublicKey::verify_sha256(std::string_view digest, std::string_view der_signature) const {
  if (!key_ || digest.size() != 32 || der_signature.empty() || der_signature.size() > 256) return false;
  std::unique_ptr<EVP_PKEY_CTX, decltype(&EVP_PKEY_CTX_free)> ctx(EVP_PKEY_CTX_new(raw(key_), nullptr),
                                                                  EVP_PKEY_CTX_free);
  if (!ctx || EVP_PKEY_verify_init(ctx.get()) != 1 || EVP_PKEY_CTX_set_signature_md(ctx.get(), EVP_sha256()) != 1) {
    ERR_clear_error();
    return false;
  }
  const int r =
      EVP_PKEY_verify(ctx.get(), reinterpret_cast<const unsigned char*>(der_signature.data()), der_signature.size(),
                      reinterpret_cast<const unsigned char*>(digest.data()), digest.size());
  ERR_clear_error();
  return r == 1;
}

std::string PublicKey::pem() const {
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new(BIO_s_mem()), BIO_free);
  if (!bio || !key_ || PEM_write_bio_PUBKEY(bio.get(), raw(key_)) != 1) return {};
  char* data = nullptr;
  long n = BIO_get_mem_data(bio.get(), &data);
  return n > 0 ? std::string(data, static_cast<size_t>(n)) : std::string();
}

Result<SigningKey> SigningKey::from_pem(std::string_view pem, const std::string& source) {
  if (pem.find("ENCRYPTED SIGSTORE PRIVATE KEY") != std::string_view::npos ||
      pem.find("ENCRYPTED COSIGN PRIVATE KEY") != std::string_view::npos)
    return Error(ErrorKind::kInvalidArgument,
                 source +
                     ": is cosign's encrypted key format, which scangate does not read; give a PEM EC P-256 "
                     "private key (the matching public key then verifies with cosign too)");
  if (pem.find("ENCRYPTED PRIVATE KEY") != std::string_view::npos ||
      pem.find("Proc-Type: 4,ENCRYPTED") != std::string_view::npos)
    return Error(ErrorKind::kInvalidArgument,
                 source +
                     ": is an encrypted private key; scangate reads unencrypted PEM keys (keep the key in "
                     "your CI's secret store and pass it with --key or $SCANGATE_ATTEST_KEY)");
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())), BIO_free);
  EVP_PKEY* k = PEM_read_bio_PrivateKey(bio.get(), nullptr, no_passphrase, nullptr);
  if (k == nullptr) return Error(ErrorKind::kFormat, source + ": not a PEM private key (" + openssl_reason() + ")");
  SigningKey out;
  out.key_ = own(k);
  SG_TRY(check_p256(k, source));
  out.public_.key_ = out.key_;
  out.public_.id_ = key_id(k);
  out.public_.source_ = source;
  return out;
}

Result<SigningKey> SigningKey::load_file(const std::string& path) {
  auto text = read_key_file(path);
  if (!text.ok()) return text.error();
  return from_pem(*text, path);
}

Result<std::string> SigningKey::sign(std::string_view data) const {
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  size_t len = 0;
  if (!ctx || EVP_DigestSignInit(ctx.get(), nullptr, EVP_sha256(), nullptr, raw(key_)) != 1 ||
      EVP_DigestSign(ctx.get(), nullptr, &len, reinterpret_cast<const unsigned char*>(data.data()), data.size()) != 1)
    return Error(ErrorKind::kInternal, "signing failed: " + openssl_reason());
  std::string sig(len, '\0');
  if (EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(sig.data()), &len,
                     reinterpret_cast<const unsigned char*>(data.data()), data.size()) != 1)
    return Error(ErrorKind::kInternal, "signing failed: " + openssl_reason());
  sig.resize(len);
  return sig;
}

}  // namespace scangate::attest
