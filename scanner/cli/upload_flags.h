// What `scangate upload` and `scangate image|rootfs --upload` share: the delivery tuning flags,
// the upload's logger, and the one-line outcome of an upload with its exit code.
#pragma once

#include <chrono>
#include <cstdint>
#include <iosfwd>
#include <string>
#include <vector>

#include "scanner/cli/args.h"
#include "scanner/core/result.h"
#include "scanner/cspm/config.h"
#include "scanner/cspm/upload.h"

namespace scangate::cli {

// --spool-dir, --spool-max-reports, --spool-max-mb, --upload-timeout, --upload-retries,
// --upload-max-time, --upload-soft-fail.
const std::vector<FlagSpec>& upload_tuning_flags();

struct UploadTuning {
  cspm::UploadOptions options;  // spool dir, caps and retry policy filled in; deps left to the caller
  std::chrono::milliseconds read_timeout{60000};
  bool soft_fail = false;
};
Result<UploadTuning> parse_upload_tuning(const Args& args, const cspm::EnvLookup& env);

// The core logger for the command named `prefix` ("scangate upload" -> component "upload"), from
// `min_level` up. Its lines reach `err` because run() points the logger at the command's error
// stream; the parameter stays for the callers' sake.
cspm::Logger stderr_logger(std::ostream& err, std::string prefix, cspm::LogLevel min_level);

// Logs `message` as an error and returns `code`, or, with `soft_fail`, warns that it continues
// and returns 0.
int upload_failure(const cspm::Logger& log, const std::string& message, int code, bool soft_fail);

// Logs the outcome of an upload (already redacted) and returns the exit code it means:
// 0 delivered, kExitUploadFailed otherwise (0 again with `soft_fail`, after a warning).
int report_upload_outcome(const cspm::UploadReport& r, const std::string& what, const std::string& destination,
                          const std::string& spool_dir, bool soft_fail, const cspm::Logger& log);

}  // namespace scangate::cli
