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
#include "scanner/kube/pull_secrets.h"
#include "scanner/match/finding.h"
#include "scanner/policy/policy.h"
#include "scanner/policy/verdict.h"

namespace scangate::verdict {

// What a scan read of an image that the vulnerability DB does not decide: enough to match it again
// against another DB (ImageScanner::rematch) and to write that match's report, without the image.
// Compact: the OS and the packages with the layer each came from, the secrets without their code
// lines, and the image's metadata with its config only when that is small (kMaxKeptConfigBytes).
struct KeptInventory {
  static constexpr size_t kMaxKeptConfigBytes = 16 * 1024;
  ImageMetadata meta;
  Inventory inventory;  // os, packages (+ layer), secrets (SecretFinding::code_lines left out)

  // What `meta` and `inventory` (a finished scan's) keep.
  static std::shared_ptr<const KeptInventory> keep(const ImageMetadata& meta, const Inventory& inventory);
};

// What one scan of one digest produced.
struct ScanRecord {
  ImageMetadata meta;
  std::vector<Finding> findings;
  std::vector<policy::CountedFinding> counted;  // the verdict cache's compact form of `findings`
  std::vector<SecretFinding> secrets;
  std::string report_json;  // Trivy-compatible report, for CSPM
  // When the image's content was read (a rematch keeps its scan's).
  std::chrono::system_clock::time_point scanned_at;
  // The revision of the DB `findings` were matched against (empty: the scanner does not say). The
  // engine caches the record under this revision, not under the one it read when the request came:
  // a DB swapped in between (or a rollback after it) must not leave one DB's verdict keyed by another.
  std::string db_revision;
  // What a rematch against another DB needs; null when the scanner kept nothing (no rematch: the
  // image is scanned again). Shared: the cache's slim form keeps the same one.
  std::shared_ptr<const KeptInventory> kept;
  // Whether the image was read with credentials every pod has (anonymous or the webhook's own),
  // rather than with one pod's pull secret. When false, a pod of another scope must first reach
  // the image with its own credentials before this record decides for it (engine.h). False
  // unless the scanner says so: not knowing fails closed (one more manifest read, never a leak).
  bool shared_reach = false;
  // What the findings rest on: "sbom" (the pipeline's signed SBOM matched against this webhook's
  // DB), "vuln" (the pipeline's signed vulnerability record), or "" (scanned here). `basis` says
  // it in words for the denial message, with the reason when no attestation could be used.
  std::string attested;
  std::string basis;
  // When the scanner last looked for attestations (epoch: never): a namespace that requires one
  // asks again only EngineOptions::attestation_recheck later, and then without a scan.
  std::chrono::system_clock::time_point attestation_checked_at{};
};

// Who pulls (the pod's namespace, pull secrets and ServiceAccount); empty: the webhook's own
// credentials only.
using PullContext = kube::PullContext;

// ImageScanner::rematch of a scanner that cannot: the engine scans instead.
inline constexpr const char* kRematchUnsupported = "this scanner cannot match a kept inventory again";
inline bool is_rematch_unsupported(const Error& e) {
  return e.kind == ErrorKind::kInvalidArgument && e.message == kRematchUnsupported;
}

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
  // The same with the credentials of the pod `who` (pull_access.h); the record says whether they
  // were the webhook's own. The default ignores `who`.
  virtual Result<ScanRecord> scan_as(const std::string& pinned_reference, const PullContext& who,
                                     const Deadline& deadline) {
    (void)who;
    return scan(pinned_reference, deadline);
  }
  // The images `pinned_reference` stands for: when it is an image index, the image manifests it
  // lists (attestations left out, nested indexes flattened); otherwise the one entry
  // {"", its own digest}. The default (a scanner that knows no indexes) is that one entry.
  virtual Result<std::vector<PlatformImage>> images(const std::string& pinned_reference, const Deadline& deadline) {
    (void)deadline;
    const auto at = pinned_reference.rfind('@');
    return std::vector<PlatformImage>{{"", at == std::string::npos ? std::string() : pinned_reference.substr(at + 1)}};
  }
  virtual Result<std::vector<PlatformImage>> images_as(const std::string& pinned_reference, const PullContext& who,
                                                       const Deadline& deadline) {
    (void)who;
    return images(pinned_reference, deadline);
  }
  // Decides `pinned_reference` (the image `previous` was scanned from) again against the DB in
  // force now, from `previous.kept` alone: nothing is read from the registry. The new record keeps
  // the secrets, the kept inventory and the scan time of `previous`, with today's findings and
  // report. The default (a scanner that keeps no inventory) returns kRematchUnsupported.
  virtual Result<ScanRecord> rematch(const ScanRecord& previous, const std::string& pinned_reference,
                                     const Deadline& deadline) {
    (void)previous;
    (void)pinned_reference;
    (void)deadline;
    return Error(ErrorKind::kInvalidArgument, kRematchUnsupported);
  }
};

// Resolves a tag to the digest the registry serves (a HEAD of the manifest), giving up at
// `deadline`.
class DigestResolver {
 public:
  virtual ~DigestResolver() = default;
  virtual Result<std::string> resolve(const std::string& reference, const Deadline& deadline) = 0;
  struct Resolution {
    std::string digest;
    bool shared_reach = true;  // reached with credentials every pod has
  };
  // The same with the credentials of the pod `who`: a success proves that pod reaches the image.
  // The default ignores `who`.
  virtual Result<Resolution> resolve_as(const std::string& reference, const PullContext& who,
                                        const Deadline& deadline) {
    (void)who;
    auto d = resolve(reference, deadline);
    if (!d.ok()) return d.error();
    return Resolution{std::move(d).value(), true};
  }
};

struct PolicySnapshot {
  policy::Policy policy;
  std::string revision;
};

}  // namespace scangate::verdict
