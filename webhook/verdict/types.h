// What the verdict engine's parts share: the record of one scan, the seams that produce records
// and digests (the registry in production, fakes in tests), and the policy in force.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "scanner/core/deadline.h"
#include "scanner/core/inventory.h"
#include "scanner/core/result.h"
#include "scanner/match/finding.h"
#include "scanner/policy/policy.h"
#include "scanner/policy/verdict.h"

namespace scangate::verdict {

// What one scan of one digest produced.
struct ScanRecord {
  ImageMetadata meta;
  std::vector<Finding> findings;
  std::vector<policy::CountedFinding> counted;  // the verdict cache's compact form of `findings`
  std::vector<SecretFinding> secrets;
  std::string report_json;  // Trivy-compatible report, for CSPM
  std::chrono::system_clock::time_point scanned_at;
};

// One image an image index points to.
struct PlatformImage {
  std::string platform;  // as the index names it ("linux/arm64/v8"); empty: the entry names none
  std::string digest;    // of the platform's image manifest
  bool operator==(const PlatformImage&) const = default;
};

// Scans `image` (a reference pinned to its digest: "registry/repo@sha256:..."), giving up at
// `deadline`.
class ImageScanner {
 public:
  virtual ~ImageScanner() = default;
  virtual Result<ScanRecord> scan(const std::string& pinned_reference, const Deadline& deadline) = 0;
  // The images `pinned_reference` stands for: when it is an image index, the image manifests it
  // lists (attestations left out, nested indexes flattened); otherwise the one entry
  // {"", its own digest}. The default (a scanner that knows no indexes) is that one entry.
  virtual Result<std::vector<PlatformImage>> images(const std::string& pinned_reference, const Deadline& deadline) {
    (void)deadline;
    const auto at = pinned_reference.rfind('@');
    return std::vector<PlatformImage>{{"", at == std::string::npos ? std::string() : pinned_reference.substr(at + 1)}};
  }
};

// Resolves a tag to the digest the registry serves (a HEAD of the manifest), giving up at
// `deadline`.
class DigestResolver {
 public:
  virtual ~DigestResolver() = default;
  virtual Result<std::string> resolve(const std::string& reference, const Deadline& deadline) = 0;
};

struct PolicySnapshot {
  policy::Policy policy;
  std::string revision;
};

}  // namespace scangate::verdict
