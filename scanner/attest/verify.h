// Checks the attestations fetched for one image digest (store.h) and says which may be trusted:
//   - the DSSE signature over PAE verifies under one of the trusted keys;
//   - the payload is an in-toto Statement whose subject names the image digest;
//   - the predicate type is one scangate reads (the cosign vulnerability record, CycloneDX);
//   - a vulnerability record finished its scan within `max_age`.
// Anything else is rejected with its reason and never used. Pure: the clock is an input.
#pragma once

#include <chrono>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "scanner/attest/keys.h"
#include "scanner/attest/statement.h"
#include "scanner/attest/store.h"

namespace scangate::attest {

// What became of one envelope; the metric label scangate_attestations_total{result} uses these.
enum class Outcome {
  kVerified,         // "verified"
  kBadSignature,     // "bad_signature": no trusted key verifies any of its signatures
  kUnsigned,         // "unsigned": the envelope has no signatures
  kWrongSubject,     // "wrong_subject": signed, but about another digest
  kStale,            // "stale": signed vulnerability record older than max_age
  kUnsupportedType,  // "unsupported_type": signed, of a predicate type scangate does not read
  kMalformed,        // "malformed": not a DSSE envelope, not an in-toto statement, a bad predicate
};
const char* to_string(Outcome o);

struct Checked {
  std::string where, predicate_type;
  Outcome outcome = Outcome::kMalformed;
  std::string detail;                  // why, in words
  std::string key_id;                  // the trusted key that verified it
  std::string payload_digest;          // "sha256:<hex>" of the signed payload (with kVerified)
  std::optional<Statement> statement;  // with kVerified (and kStale: for messages)
  std::optional<VulnRecord> vuln;      // vulnerability records that parsed
};

struct Evaluation {
  std::vector<Checked> checked;
  std::vector<std::string> notes;  // from the fetch

  // The verified SBOM to re-match, or the freshest verified vulnerability record; null if none.
  const Checked* sbom() const;
  const Checked* vuln() const;
  // Why nothing can be trusted, in words: "no attestation is attached", "the vulnerability
  // record is stale (scanned 2026-10-01T00:00:00Z, scan.maxAge 1d)", "the signature of the SBOM
  // does not verify with any trusted key"...; empty when sbom() or vuln() is set.
  std::string why_none() const;
};

struct VerifyOptions {
  std::span<const PublicKey> keys;
  std::string digest;  // the image's manifest digest, "sha256:<hex>"
  std::chrono::system_clock::time_point now;
  std::chrono::seconds max_age{24 * 3600};
};

Evaluation evaluate(const FetchResult& fetched, const VerifyOptions& options);

bool is_cyclonedx_type(const std::string& predicate_type);

}  // namespace scangate::attest
