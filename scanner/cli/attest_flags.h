// `scangate image --attest`: the signing key, and the two signed statements a scan attaches to
// the image it scanned (the cosign vulnerability record and a CycloneDX SBOM, scanner/attest),
// pushed to the image's own repository. And `scangate attest verify`.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "scanner/attest/keys.h"
#include "scanner/cli/args.h"
#include "scanner/cli/commands.h"
#include "scanner/image/open_source.h"
#include "scanner/pipeline/pipeline.h"

namespace scangate::cli {

const std::vector<FlagSpec>& attest_flags();

struct AttestSettings {
  bool enabled = false;
  std::optional<attest::SigningKey> key;
};

// --attest with --key FILE (or --key-file FILE), else $SCANGATE_ATTEST_KEY (the PEM itself, as CI
// secrets are often given), else $SCANGATE_ATTEST_KEY_FILE. The key is read before the scan: a
// bad key costs no pull. An error names what to fix.
Result<AttestSettings> parse_attest_settings(const Args& args, const SourceOptions& source);

// Signs and pushes both statements about `scanned`'s image manifest digest (never a tag).
// Progress and what was attached go to io.err unless quiet.
Result<void> attest_scan(const AttestSettings& a, const SourceOptions& source, const pipeline::ScanResult& scanned,
                         std::chrono::system_clock::time_point started, std::chrono::system_clock::time_point finished,
                         bool quiet, const Deadline& deadline, Io io);

int cmd_attest(const std::vector<std::string>& argv, Io io);

}  // namespace scangate::cli
