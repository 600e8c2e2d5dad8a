// What `image` and `rootfs` share: the report, gate and upload flags, their translation to the
// scan pipeline's options (scanner/pipeline), and the exit code of a scan. The pipeline does the
// work; this file words its errors and output as the CLI always has.
#pragma once

#include <chrono>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "scanner/cli/args.h"
#include "scanner/cli/commands.h"
#include "scanner/cli/upload_flags.h"
#include "scanner/cspm/config.h"
#include "scanner/match/finding.h"
#include "scanner/pipeline/pipeline.h"

namespace scangate::cli {

struct ScanSettings {
  std::string format = "table";
  std::string output;
  bool scan_vuln = true;
  bool scan_secret = true;
  std::string secret_config;
  bool quiet = false;
  uint64_t max_layer_bytes = 8ull << 30;
  std::chrono::milliseconds timeout{10 * 60 * 1000};  // --timeout; 0 = no limit
  std::string db_path;
  std::vector<Severity> severities;  // empty = all
  int exit_code = 0;
  bool ignore_unfixed = false;
  std::string ignorefile;
  std::string policy;  // --policy FILE: the shared gate policy (enforce/warn/audit)
  bool exit_code_given = false;
  // --upload: the report goes to CSPM through the durable spool once it is written.
  bool upload = false;
  std::optional<cspm::CspmConfig> cspm;  // resolved before the scan, so a bad setting costs no pull
  std::string upload_skipped;            // with --upload-soft-fail: why there will be no upload
  UploadTuning upload_tuning;
};

const std::vector<FlagSpec>& common_scan_flags();
// common_scan_flags() plus the upload tuning flags: what `image` and `rootfs` accept.
const std::vector<FlagSpec>& scan_and_upload_flags();
Result<ScanSettings> parse_scan_settings(const Args& args);

// The pipeline options the settings mean, with hooks that print progress (unless quiet),
// warnings (unless quiet) and notes to io.err. The caller sets the subject (source or rootfs).
pipeline::Options pipeline_options(const ScanSettings& s, Io io);

// Runs the pipeline for `command` ("image", "rootfs"), writes the report, uploads it when asked,
// prints the gate's outcome, and returns the exit code.
// `after_report` (optional) runs once the report is written, with the scan and the times it started
// and finished (`scangate image --attest`); its exit code counts as an upload failure's would.
using AfterReport =
    std::function<int(const pipeline::ScanResult& scanned, std::chrono::system_clock::time_point started,
                      std::chrono::system_clock::time_point finished)>;
int run_scan(const std::string& command, const ScanSettings& s, const pipeline::Options& options,
             const std::string& artifact_type, Io io, const AfterReport& after_report = {});

// The gate's exit code: a policy's verdict when --policy was given (denied: --exit-code N, default
// 1); otherwise --exit-code N when the report keeps secrets or vulnerabilities; else 0.
int gate_exit_code(const ScanSettings& s, const pipeline::GateResult& gate);
// The scan's exit code: the gate decides first; an upload failure (kExitUploadFailed, or 0 with
// --upload-soft-fail) is the exit code only when the gate passed: the pipeline fails either way,
// and the gate's reason is the one to act on.
int scan_exit_code(int gate_code, int upload_code);

// $XDG_CACHE_HOME/scangate/db.sqlite, else ~/.cache/scangate/db.sqlite.
std::string default_db_path();

}  // namespace scangate::cli
