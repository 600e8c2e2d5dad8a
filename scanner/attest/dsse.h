// DSSE v1.0 envelopes (Dead Simple Signing Envelope, secure-systems-lab/dsse): the signature is
// over PAE(payloadType, payload) = "DSSEv1" SP LEN(type) SP type SP LEN(body) SP body, with
// lengths as ASCII decimals; payload and sig are base64 in the JSON (standard or URL-safe on
// input, standard on output). cosign stores its attestations this way, with the payload type
// application/vnd.in-toto+json and an in-toto Statement as the payload.
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "scanner/attest/keys.h"
#include "scanner/core/result.h"

namespace scangate::attest {

inline constexpr std::string_view kInTotoPayloadType = "application/vnd.in-toto+json";
inline constexpr std::string_view kDsseMediaType = "application/vnd.dsse.envelope.v1+json";

// Envelopes are untrusted input until verified: these bound what is parsed.
inline constexpr size_t kMaxEnvelopeBytes = 32u << 20;
inline constexpr size_t kMaxSignatures = 16;

struct Signature {
  std::string keyid;  // a hint only: verification tries every trusted key
  std::string sig;    // raw bytes (DER for ECDSA)
};

struct Envelope {
  std::string payload_type;
  std::string payload;  // decoded bytes
  std::vector<Signature> signatures;
};

// The Pre-Authentication Encoding that is signed.
std::string pae(std::string_view payload_type, std::string_view payload);

// Errors (kFormat, kLimit) say what is wrong: not JSON, a field missing or mistyped, base64 that
// does not decode, too many signatures, too large.
Result<Envelope> parse_envelope(std::string_view json);
std::string render_envelope(const Envelope& e);

// One signature by `key` (its keyid left empty, as cosign leaves it).
Result<Envelope> sign_envelope(std::string payload_type, std::string payload, const SigningKey& key);

// The first of `trusted` under which some signature of `e` verifies over PAE; nullptr when none
// does (no signatures, a tampered payload or type, another key).
const PublicKey* verify_envelope(const Envelope& e, std::span<const PublicKey> trusted);

}  // namespace scangate::attest
