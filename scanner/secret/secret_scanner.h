// The secret scanner: finds credentials in the text files of an image, Trivy-compatibly
// (same rule ids, config format, masking and code context).
//
// Per file: global allow paths -> size cap -> binary check -> CR removal -> one keyword
// pass over the file (all rules at once) -> per rule whose keyword occurs: path and allow
// paths, regex matches, allow regexes (on the whole match), exclude blocks -> the secret
// (the secret group, or the whole match) is masked with '*' everywhere it is shown.
// Findings are sorted by rule id, then match line, then offset.
//
// Nothing this unit returns holds a found secret in clear: match and code lines are
// built from the masked text, and warnings name only the rule, the path and an offset.
//
// A SecretScanner is immutable after create(); scan() may run on many threads at once.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "scanner/core/inventory.h"
#include "scanner/core/result.h"
#include "scanner/secret/secret_config.h"

namespace scangate {

struct SecretScanOptions {
  // Larger files are skipped (wants() false; scan() returns nothing and warns).
  std::uint64_t max_file_size = 10 * 1024 * 1024;
  // Smaller files are skipped (as Trivy does: nothing that short is a credential).
  std::uint64_t min_file_size = 10;
};

class SecretScanner {
 public:
  // Part of any per-layer cache key that includes secret results.
  static constexpr int kVersion = 1;

  // The built-in rules and allow rules, adjusted by config (a default SecretConfig means
  // built-ins only). Errors (kInvalidArgument) name the rule and the key: a regex that
  // does not compile, a secret-group-name the regex lacks, a missing id or regex.
  static Result<SecretScanner> create(const SecretConfig& config = {}, const SecretScanOptions& options = {});

  // Cheap pre-read filter: size bounds, skipped directories (.git, node_modules),
  // extensions of binary formats, global allow paths. path is relative to the image
  // root ("etc/app/config.yml"); a leading '/' is accepted too.
  bool wants(std::string_view path, std::uint64_t size) const;

  // Scans one file's content. Binary content and oversized files yield nothing. The
  // findings carry file_path = path; their layer is left for the caller to fill.
  std::vector<SecretFinding> scan(std::string_view path, std::string_view content) const;
  // Same, adding to warnings when a rule gave up on this file (a regex limit hit).
  std::vector<SecretFinding> scan(std::string_view path, std::string_view content,
                                  std::vector<std::string>& warnings) const;

  // Non-fatal problems met in create(): a severity that is not one of LOW, MEDIUM, HIGH,
  // CRITICAL, UNKNOWN (the rule gets UNKNOWN), ids in enable/disable lists that name
  // nothing. Safe to log: they hold no file content.
  const std::vector<std::string>& warnings() const;

  // The ids of the active rules, in evaluation order.
  std::vector<std::string> rule_ids() const;

 private:
  struct Impl;
  explicit SecretScanner(std::shared_ptr<const Impl> impl) : impl_(std::move(impl)) {}
  std::shared_ptr<const Impl> impl_;
};

}  // namespace scangate
