// What `image` and `rootfs` share: report and gate flags, and the steps after the scan.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "scanner/cli/args.h"
#include "scanner/cli/commands.h"
#include "scanner/cli/upload_flags.h"
#include "scanner/cspm/config.h"
#include "scanner/match/finding.h"
#include "scanner/scan/scan.h"
#include "scanner/vulndb/vuln_store.h"

namespace scangate::cli {

struct ScanSettings {
  std::string format = "table";
  std::string output;
  bool scan_vuln = true;
  bool scan_secret = true;
  std::string secret_config;
  bool quiet = false;
  uint64_t max_layer_bytes = 8ull << 30;
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
// Progress, limits, and the secret scanner's per-layer hook (which sees files that a later
// layer deletes: they still ship in the image).
Result<ScanOptions> make_scan_options(const ScanSettings& s, Io io);
int finish_scan(const ScanSettings& s, ScanOutput scanned, const std::string& artifact_type, Io io);

// $XDG_CACHE_HOME/scangate/db.sqlite, else ~/.cache/scangate/db.sqlite.
std::string default_db_path();
Result<std::unique_ptr<vulndb::VulnStore>> open_vuln_store(const std::string& path);

}  // namespace scangate::cli
