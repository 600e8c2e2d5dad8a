// The keys of signed scan attestations: ECDSA on NIST P-256 with SHA-256, the algorithm cosign's
// key pairs use. A private key signs in the pipeline (`scangate image --attest --key`); public
// keys verify in `scangate attest verify` and in the webhook (`--attestation-key`). Keys are PEM:
// "PUBLIC KEY" (SubjectPublicKeyInfo, what cosign.pub holds), "EC PRIVATE KEY" (SEC 1) or
// "PRIVATE KEY" (PKCS #8, unencrypted). Any other curve or algorithm is refused with a message,
// never used.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "scanner/core/result.h"

namespace scangate::attest {

class PublicKey {
 public:
  // `source` names the key in messages (a path, "$SCANGATE_ATTEST_KEY").
  static Result<PublicKey> from_pem(std::string_view pem, const std::string& source);
  static Result<PublicKey> load_file(const std::string& path);

  // Whether `der_signature` (ASN.1 DER ECDSA-Sig-Value) signs SHA-256(`data`) under this key.
  bool verify(std::string_view data, std::string_view der_signature) const;
  // The same for a SHA-256 digest computed once (32 bytes): several signatures and keys over one
  // large message hash it once.
  bool verify_sha256(std::string_view digest, std::string_view der_signature) const;
  // "SHA256:" and the first 16 hex digits of the SHA-256 of the DER SubjectPublicKeyInfo: what
  // messages and logs call the key.
  const std::string& id() const { return id_; }
  const std::string& source() const { return source_; }
  std::string pem() const;

 private:
  std::shared_ptr<void> key_;  // EVP_PKEY
  std::string id_, source_;
  friend class SigningKey;
};

class SigningKey {
 public:
  static Result<SigningKey> from_pem(std::string_view pem, const std::string& source);
  static Result<SigningKey> load_file(const std::string& path);

  // ASN.1 DER ECDSA signature of SHA-256(`data`).
  Result<std::string> sign(std::string_view data) const;
  const PublicKey& public_key() const { return public_; }

 private:
  std::shared_ptr<void> key_;  // EVP_PKEY
  PublicKey public_;
};

}  // namespace scangate::attest
