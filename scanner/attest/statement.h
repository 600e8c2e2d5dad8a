// in-toto Statements (v0.1, which `cosign attest` writes, and v1) about one image digest, and the
// two predicates scangate attests:
//   - the cosign vulnerability record (COSIGN_VULN_ATTESTATION_SPEC): predicateType
//     https://cosign.sigstore.dev/attestation/vuln/v1, the scanner's report in scanner.result
//     (a Trivy JSON report, as `trivy --format cosign-vuln` and scangate write it), the DB revision
//     in scanner.db.version, and metadata.scanStartedOn / scanFinishedOn;
//   - a CycloneDX SBOM: predicateType https://cyclonedx.org/bom, the BOM as the predicate (what
//     `cosign attest --type cyclonedx` writes).
#pragma once

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "scanner/core/result.h"

namespace scangate::attest {

inline constexpr std::string_view kStatementV01 = "https://in-toto.io/Statement/v0.1";
inline constexpr std::string_view kStatementV1 = "https://in-toto.io/Statement/v1";
inline constexpr std::string_view kVulnPredicateType = "https://cosign.sigstore.dev/attestation/vuln/v1";
inline constexpr std::string_view kCycloneDxPredicateType = "https://cyclonedx.org/bom";
inline constexpr size_t kMaxSubjects = 64;

struct Subject {
  std::string name;
  std::string digest;  // "sha256:<hex>" (other algorithms are kept as "<alg>:<value>")
};

struct Statement {
  std::string type = std::string(kStatementV01);
  std::string predicate_type;
  std::vector<Subject> subjects;
  nlohmann::json predicate;

  // Whether some subject names `digest` ("sha256:<hex>").
  bool names(const std::string& digest) const;
};

std::string render_statement(const Statement& s);
// The payload of a verified envelope (the caller bounds its size). Errors are kFormat.
Result<Statement> parse_statement(std::string_view payload);

// The cosign vulnerability record, as scangate writes it and reads it back.
struct VulnRecord {
  std::string scanner_uri, scanner_version;
  std::string db_uri, db_version;
  nlohmann::json result;                // the scanner's report (Trivy JSON)
  std::string started_on, finished_on;  // RFC 3339
  std::chrono::system_clock::time_point finished;
};
nlohmann::json vuln_predicate(const VulnRecord& r);
// scangate's vulnerability records name the SBOM statement attested with them ("sha256:<hex>" of
// its payload) under predicate.scangate.sbom, an extension other readers ignore. A verifier does
// not take such a record alone: whoever can push to the repository could have removed the SBOM,
// whose findings are today's, to leave the record's, from the pipeline's older DB.
void bind_sbom(nlohmann::json& vuln_predicate, const std::string& sbom_payload_digest);
// The SBOM a record names, or "" (a record by Trivy, say).
std::string bound_sbom(const nlohmann::json& vuln_predicate);
// Errors name the field ("predicate.metadata.scanFinishedOn: not an RFC 3339 time").
Result<VulnRecord> read_vuln_predicate(const nlohmann::json& predicate);

}  // namespace scangate::attest
