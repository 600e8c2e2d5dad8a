// Reads a saved Trivy-format JSON report (SchemaVersion 2, as `scangate image --format json` and
// Trivy write it) back into findings and secrets, for `scangate policy explain`.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "scanner/core/inventory.h"
#include "scanner/core/result.h"
#include "scanner/match/finding.h"
#include "scanner/policy/image_name.h"

namespace scangate::policy {

struct SavedReport {
  std::string artifact_name;              // ArtifactName
  std::string artifact_type;              // ArtifactType: container_image, filesystem, ...
  std::string reference;                  // Metadata.Reference (normalised reference), may be empty
  std::string image_id;                   // Metadata.ImageID (config digest)
  std::vector<std::string> repo_tags;     // Metadata.RepoTags
  std::vector<std::string> repo_digests;  // Metadata.RepoDigests ("repo@sha256:...")
  std::vector<Finding> findings;          // every Results[].Vulnerabilities[] entry
  std::vector<SecretFinding> secrets;     // every Results[].Secrets[] entry (already masked)

  // The image as the policy sees it: the repository from Metadata.Reference, else RepoTags[0],
  // else RepoDigests[0], else ArtifactName (container images only; empty for other artifacts);
  // the digest from RepoDigests[0]; the reference as ArtifactName.
  ImageIdentity image() const;
};

// A report that is not JSON, not SchemaVersion 2, or has entries of the wrong shape is an Error
// that says where (e.g. "Results[0].Vulnerabilities[3].Severity").
Result<SavedReport> read_trivy_report(std::string_view json);
Result<std::vector<Finding>> findings_from_trivy_json(std::string_view json);
Result<std::vector<SecretFinding>> secrets_from_trivy_json(std::string_view json);

}  // namespace scangate::policy
