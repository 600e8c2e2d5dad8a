// The one scan pipeline: open the source -> pull and walk the layers -> analyze (packages, OS,
// secrets) -> match against the vulnerability store -> filter for the report -> gate. `scangate
// image|rootfs` and the webhook's scanner both run it; the callers only word its errors, print
// what it reports through the hooks, and choose the report format and the exit code.
//
// The inputs that come from files (secret config, vulnerability DB, ignore file, policy) may be
// given ready (the webhook loads them once at start-up) or as paths that the pipeline reads at the
// stage that needs them, in the order `scangate image` always has: a bad DB, ignore file or
// policy is reported after the pull, as before.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "scanner/core/deadline.h"
#include "scanner/core/inventory.h"
#include "scanner/core/result.h"
#include "scanner/image/open_source.h"
#include "scanner/layers/walker.h"
#include "scanner/match/finding.h"
#include "scanner/policy/gate.h"
#include "scanner/policy/policy.h"
#include "scanner/report/report.h"
#include "scanner/secret/secret_scanner.h"
#include "scanner/vulndb/vuln_store.h"

namespace scangate::pipeline {

// Where run() stopped. The CLI names its command before the first four ("scangate image: ...")
// and "scangate" before the others, as it always has.
enum class Stage {
  kSource,        // opening the image: reference, archive, credentials
  kSecretConfig,  // reading the secret config file
  kSecretRules,   // compiling the secret rules (built-in ones plus the config's)
  kScan,          // pull, walk, analyze; the deadline is checked between layers
  kVulnStore,     // opening the vulnerability DB
  kMatch,         // inventory -> findings
  kIgnoreFile,    // reading the ignore file
  kPolicy,        // reading the policy file
};
const char* to_string(Stage s);

// What to look for. Packages (and the OS) are always listed.
struct Scanners {
  bool vuln = true;
  bool secret = true;
};

// Where the pipeline's side output goes; every hook may be empty.
struct Hooks {
  std::function<void(const std::string&)> progress;  // "pulling layer 1/3 ...": as it happens
  // Things worth a "warning:" line, in order: secret config warnings ("secret config: ..."),
  // per-file secret scanner warnings (during the walk), the walk's and the analyzers' warnings
  // (after the scan), then the matcher's.
  std::function<void(const std::string&)> warning;
  // Things the user should know even when quiet: ignore file entries that expired.
  std::function<void(const std::string&)> note;
};

struct Options {
  // The subject: the image `source` names (a registry reference or --input archive), or the
  // unpacked root filesystem in `rootfs` when that is set.
  SourceOptions source;
  std::string rootfs;

  Scanners scanners;
  // Secret rules: `secret_scanner` when set, else built from `secret_config_file` (empty: the
  // built-in rules alone).
  std::shared_ptr<const SecretScanner> secret_scanner;
  std::string secret_config_file;
  WalkLimits limits;

  // The vulnerability store (needed with scanners.vuln): `store` when set, else `db_path`, opened
  // once the scan is done.
  std::shared_ptr<const vulndb::VulnStore> store;
  std::string db_path;

  // What the report (and the severity gate) keeps; the policy always sees every finding.
  std::vector<Severity> severities;  // empty: all
  bool ignore_unfixed = false;
  std::string ignore_file;  // .trivyignore format; empty: none

  // The policy gate: `policy` when set, else `policy_file` when not empty, else no policy gate.
  std::optional<policy::Policy> policy;
  std::string policy_file;
  int deny_exit_code = 1;  // GateOutcome::exit_code of a denying verdict
  std::string today;       // YYYY-MM-DD (UTC) for expiry dates; empty: the system clock

  // Checked before each stage and between layers. The registry client does not take it yet, so
  // one stalled registry read may still overrun it by that client's own read timeout.
  Deadline deadline = Deadline::never();
  Hooks hooks;
};

// What the report calls the scan; the rest of the report comes from the result.
struct ReportInfo {
  std::string artifact_type = "container_image";  // or "filesystem"
  std::string created_at;                         // RFC 3339
  std::string tool_version;
  bool include_vulnerabilities = true;  // CycloneDX: the vulnerabilities section
};

enum class ReportFormat { kTable, kJson, kSarif, kCycloneDx };
// "table", "json", "sarif", "cyclonedx"; nullopt for anything else.
std::optional<ReportFormat> parse_report_format(const std::string& name);

// What the gate decides on: the policy's verdict when a policy was given; otherwise the counts
// that a severity gate (`--exit-code N` without `--policy`) fails on.
struct GateResult {
  std::optional<policy::GateOutcome> policy;         // with a policy: its verdict and exit code
  size_t reported_secrets = 0;                       // secrets at the report's severities
  std::map<Severity, int> reported_vulnerabilities;  // findings the report keeps, per severity
  size_t reported_vulnerability_count() const;
};

struct ScanResult {
  ImageMetadata meta;
  Inventory inventory;            // OS, packages, and every secret found
  std::vector<Finding> findings;  // every finding: what the policy saw
  std::vector<Finding> reported;  // after --severity, --ignore-unfixed and the ignore file
  GateResult gate;
  std::string db_revision;  // of the vulnerability store `findings` were matched against ("" without vuln)

  // The report's input: the inventory with the reported findings grouped per target.
  ReportInput report_input(const ReportInfo& info) const;
  // The report text, on demand.
  std::string report(ReportFormat format, const ReportInfo& info) const;
};

std::string write_report(const ReportInput& in, ReportFormat format);

// Runs the pipeline. On an error, `*stopped_at` (when given) says which stage failed.
Result<ScanResult> run(const Options& options, Stage* stopped_at = nullptr);

// The stages after the scan (match, the report's filters, the gate) on an image some earlier run
// scanned: `meta` and `inventory` as that run's ScanResult had them. Nothing is opened or pulled:
// `options.source`, `rootfs`, the secret options and the walk limits are not used, and the
// inventory's secrets are kept as they are. The stages start at kVulnStore (with scanners.vuln)
// or kIgnoreFile.
Result<ScanResult> run_from_inventory(const Options& options, ImageMetadata meta, Inventory inventory,
                                      Stage* stopped_at = nullptr);

}  // namespace scangate::pipeline
